"""How one DICOM series' slices are stacked (docs/io.md, "Geometry").

Grouping keys (orientation, size, pixel spacing; acquisitions at repeated positions), the slices'
positions along the slice normal, duplicates, gaps, jitter and tilt, and the
:class:`~.dicom_series.SlicePlan` that resamples them onto a regular grid — with the tolerances
used for these decisions.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from typing import Any

import numpy as np

from ._header import Header
from .dicom_series import SlicePlan

#: Geometry tolerances (mm, or fraction of the usual step) used for the loader's decisions.
DUPLICATE_POSITION_MM = 1e-3
DUPLICATE_FRACTION = 0.2  # two slices closer than this × the usual step are at one position
UNIFORM_SPACING_TOLERANCE = 0.01  # relative deviation of one step from the median step
MISSING_SLICE_FACTOR = 1.5  # a step this many times the median step means missing slice(s)
JITTER_FRACTION = 0.2  # a slice this close (× step) to its place on the regular grid is on it
MAX_GAP_FACTOR = 6.0  # a gap wider than this × the usual step (6+ slices in a row) is refused
TILT_TOLERANCE_MM = 0.01  # in-plane drift of slice origins along the stack
ORIENTATION_DECIMALS = 4


def _orientation(h: Header) -> tuple[float, ...]:
    return tuple(round(float(v), ORIENTATION_DECIMALS) + 0.0 for v in h.get("ImageOrientationPatient"))


def _geometry_key(h: Header) -> tuple[Any, ...]:
    spacing = tuple(round(float(v), 4) for v in h.get("PixelSpacing"))
    return (_orientation(h), int(h.get("Rows")), int(h.get("Columns")), spacing)


def _normal(orientation: tuple[float, ...]) -> np.ndarray:
    row = np.asarray(orientation[:3], dtype=float)
    col = np.asarray(orientation[3:], dtype=float)
    n = np.cross(row, col)
    return n / np.linalg.norm(n)


def _split_by_acquisition(headers: list[Header]) -> list[list[Header]]:
    """Split a same-geometry group by acquisition when positions repeat across acquisitions."""
    normal = _normal(_orientation(headers[0]))
    proj = [round(float(np.dot(normal, np.asarray(h.get("ImagePositionPatient"), float))), 3)
            for h in headers]
    if len(set(proj)) == len(proj):
        return [headers]
    by_acq: dict[Any, list[Header]] = defaultdict(list)
    for h in headers:
        key = (h.get("AcquisitionNumber"), str(h.get("AcquisitionTime", ""))[:6])
        by_acq[key].append(h)
    if len(by_acq) < 2:
        return [headers]
    return [by_acq[k] for k in sorted(by_acq, key=lambda k: (k[1], k[0] or 0))]


@dataclasses.dataclass
class _Stack:
    """How one (sub-)series' slices are stacked (see the module's docstring)."""

    headers: list[Header]
    spacing: tuple[float, float, float]
    direction: np.ndarray
    warnings: list[str]
    plan: SlicePlan | None = None
    refusal: str | None = None


def _pixel_bytes(h: Header) -> bytes:
    if h.pixel_offset is not None and h.pixel_length is not None:
        with open(h.path, "rb") as fh:
            fh.seek(h.pixel_offset)
            return fh.read(h.pixel_length)
    import pydicom

    return bytes(pydicom.dcmread(h.path).get("PixelData", b""))


def _same_image(a: Header, b: Header) -> bool:
    """Two files at one position hold the same image (a copy: same pixels and rescale)."""
    if (a.get("RescaleSlope", 1.0), a.get("RescaleIntercept", 0.0)) != \
            (b.get("RescaleSlope", 1.0), b.get("RescaleIntercept", 0.0)):
        return False
    try:
        return _pixel_bytes(a) == _pixel_bytes(b)
    except Exception:  # unreadable pixels: not provably a copy
        return False


def _duplicates(headers: list[Header], along: np.ndarray
                ) -> tuple[list[int], float, list[str], str | None]:
    """(indices to keep, the duplicate tolerance in mm, warnings, refusal). Copies of one image at
    one position are dropped with a warning; two different images at one position are refused."""
    steps = np.diff(along)
    apart = steps[steps > DUPLICATE_POSITION_MM]
    if not apart.size:
        return (list(range(len(headers))), DUPLICATE_POSITION_MM, [],
                f"all {len(headers)} images lie at one position ({along[0]:.2f} mm along the slice "
                f"normal; e.g. {headers[0].path} and {headers[1].path}): a time series or repeated "
                "scans of one slab, not a volume; export one image per position")
    tol = max(DUPLICATE_POSITION_MM, DUPLICATE_FRACTION * float(np.median(apart)))
    if bool(np.all(steps >= tol)):  # the usual case: no two slices at one position
        return list(range(len(headers))), tol, [], None
    keep, copies, different = [0], [], []
    for i in range(1, len(headers)):
        if along[i] - along[keep[-1]] >= tol:
            keep.append(i)
        elif _same_image(headers[keep[-1]], headers[i]):
            copies.append((keep[-1], i))
        else:
            different.append((keep[-1], i))
            keep.append(i)
    warnings, refusal = [], None
    if copies:
        a, b = copies[0]
        warnings.append(f"{len(copies)} file(s) are copies of another slice (same position and "
                        f"pixels, e.g. {headers[b].path.name} = {headers[a].path.name}); one of "
                        "each is used")
    if different:
        a, b = different[0]
        more = f", and {len(different) - 1} more such pair(s)" if len(different) > 1 else ""
        refusal = (f"two different images at one position ({along[a]:.2f} mm along the slice "
                   f"normal): {headers[a].path} and {headers[b].path}{more}; the series mixes two "
                   "reconstructions or acquisitions — remove the wrong file(s), or export them as "
                   "separate series")
    return keep, tol, warnings, refusal


def _plan(along: np.ndarray, usual: float) -> tuple[SlicePlan | None, float]:
    """The regular grid from the first to the last slice with about the usual step: None when
    the slices lie on it (within :data:`JITTER_FRACTION` of the step), else how to resample."""
    extent = float(along[-1] - along[0])
    n_out = max(int(round(extent / usual)) + 1, 2)
    step = extent / (n_out - 1)
    grid = along[0] + step * np.arange(n_out)
    tol = JITTER_FRACTION * step
    if n_out == len(along) and float(np.max(np.abs(along - grid))) <= tol:
        return None, usual
    j = np.clip(np.searchsorted(along, grid, side="right") - 1, 0, len(along) - 2)
    lo, hi, weight = [], [], []
    for k, zk in enumerate(grid):
        i = int(j[k])
        a, b = float(along[i]), float(along[i + 1])
        if abs(zk - a) <= tol:
            lo.append(i), hi.append(i), weight.append(0.0)
        elif abs(b - zk) <= tol:
            lo.append(i + 1), hi.append(i + 1), weight.append(0.0)
        else:
            lo.append(i), hi.append(i + 1), weight.append(float((zk - a) / (b - a)))
    return SlicePlan(tuple(lo), tuple(hi), tuple(weight)), step


def _ranges(indices: tuple[int, ...], positions: np.ndarray, limit: int = 4) -> str:
    runs: list[list[int]] = []
    for k in indices:
        if runs and k == runs[-1][-1] + 1:
            runs[-1].append(k)
        else:
            runs.append([k])
    text = [f"{r[0]} ({positions[r[0]]:.1f} mm)" if len(r) == 1 else
            f"{r[0]}–{r[-1]} ({positions[r[0]]:.1f}…{positions[r[-1]]:.1f} mm)" for r in runs[:limit]]
    return ", ".join(text) + (f" and {len(runs) - limit} more run(s)" if len(runs) > limit else "")


def _geometry(headers: list[Header]) -> _Stack:
    """Sort along the normal; spacing from positions; duplicates, gaps, jitter, tilt."""
    h0 = headers[0]
    orientation = _orientation(h0)
    normal = _normal(orientation)
    positions = np.array([h.get("ImagePositionPatient") for h in headers], dtype=float)
    along = positions @ normal
    order = np.argsort(along, kind="stable")
    headers = [headers[i] for i in order]
    positions, along = positions[order], along[order]
    row_mm, col_mm = (float(v) for v in h0.get("PixelSpacing"))  # row spacing (y), column (x)
    warnings: list[str] = []
    plan, refusal = None, None
    z = float("nan")
    if len(headers) > 1:
        keep, tol, dup_warnings, refusal = _duplicates(headers, along)
        warnings += dup_warnings
        headers = [headers[i] for i in keep]
        positions, along = positions[keep], along[keep]
    if len(headers) == 1:
        thickness = h0.get("SliceThickness")
        z = float(thickness) if thickness and math.isfinite(thickness) and thickness > 0 else 1.0
        warnings.append(
            f"single slice: no slice spacing from positions; using "
            f"{'SliceThickness ' if thickness else 'a nominal '}{z:g} mm for display only "
            "(volumes from this series are not meaningful)")
    else:
        steps = np.diff(along)
        good_at = np.flatnonzero(steps >= tol)
        good = steps[good_at]
        z = float(np.median(good)) if good.size else 1.0
        gap_text = irregular_text = ""
        if good.size:
            gaps = good > MISSING_SLICE_FACTOR * z
            if gaps.any():
                missing = int(np.sum(np.round(good[gaps] / z) - 1))
                where = ", ".join(f"{along[i]:.1f}→{along[i + 1]:.1f} mm"
                                  for i in good_at[gaps][:3])
                gap_text = (f"missing slice(s): about {missing} slice(s) absent "
                            f"(gaps at {where}; usual step {z:.2f} mm)")
            irregular = np.abs(good - z) > UNIFORM_SPACING_TOLERANCE * z
            if (irregular & ~gaps).any():
                irregular_text = (f"non-uniform slice spacing: steps {good.min():.3f}–"
                                  f"{good.max():.3f} mm")
            if refusal is None and good.max() > MAX_GAP_FACTOR * z:
                i = int(good_at[int(np.argmax(good))])
                refusal = (f"a gap of {along[i + 1] - along[i]:.1f} mm between the slices at "
                           f"{along[i]:.1f} and {along[i + 1]:.1f} mm ({headers[i].path} and "
                           f"{headers[i + 1].path}; usual step {z:.2f} mm): more than "
                           f"{MAX_GAP_FACTOR - 1:g} slices missing in a row, too many to "
                           "interpolate; load the complete series, or export each part as its "
                           "own series")
        if refusal is None and good.size:
            plan, step = _plan(along, z)
            used = set(plan.lo) | set(plan.hi) if plan is not None else set()
            if plan is not None and not plan.interpolated and used == set(range(len(along))):
                plan = None  # every slice on its place after all: stacked as acquired
        if plan is not None:
            grid = along[0] + step * np.arange(plan.n_slices)
            done = f"resampled onto a regular {step:.2f} mm grid of {plan.n_slices} slices"
            if plan.interpolated:
                done += (f": slice(s) {_ranges(plan.interpolated, grid)} are interpolated between "
                         "their neighbours, not acquired — do not measure on them")
            unused = sorted(set(range(len(along))) - used)
            if unused:
                done += (f"; {len(unused)} acquired slice(s) off the grid not used (at "
                         f"{', '.join(f'{along[i]:.1f}' for i in unused[:4])} mm)")
            first = gap_text or irregular_text or "irregular slice positions"
            warnings.append(f"{first}; {done}")
            z = step
        else:
            if gap_text:
                warnings.append(gap_text)
            if irregular_text:
                warnings.append(f"{irregular_text} (median {z:.3f} mm is used)")
        drift = (positions - positions[0]) - np.outer(along - along[0], normal)
        shift = float(np.max(np.linalg.norm(drift, axis=1)))
        if shift > TILT_TOLERANCE_MM:
            extent = float(along[-1] - along[0]) or 1.0
            angle = float(np.degrees(np.arctan2(shift, extent)))
            warnings.append(f"gantry tilt / sheared stack: slice origins drift {shift:.2f} mm "
                            f"off the normal (≈{angle:.1f}°); the volume is not resampled")
    row = np.asarray(orientation[:3], float)
    col = np.asarray(orientation[3:], float)
    direction = np.column_stack([row, col, normal])
    return _Stack(headers, (z, row_mm, col_mm), direction, warnings, plan, refusal)
