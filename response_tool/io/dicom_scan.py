"""Scanning a folder tree for DICOM image series (headers only).

:func:`scan_dicom` walks the tree (any file names, no extension needed), reads headers only, groups
files into studies (StudyInstanceUID) and series (SeriesInstanceUID, split further when a series
mixes orientations, image sizes or acquisitions), skips non-image objects with a note, sorts each
series' slices along the slice normal and decides how they are stacked (docs/io.md, "Geometry"):

- on a regular grid (steps equal within :data:`JITTER_FRACTION` of the usual step): stacked as
  they are, the spacing from their positions;
- with missing slices (a step over :data:`MISSING_SLICE_FACTOR` × the usual step) or positions off
  the grid: a :class:`~.dicom_series.SlicePlan` resamples them onto a regular grid (the acquired
  slices kept as they are, the missing ones interpolated), with a warning naming the interpolated
  slices that every result carries;
- refused (:attr:`~.dicom_series.SeriesInfo.refusal`, the reason naming the file): an image of the
  series that cannot be placed (no or broken ImagePositionPatient / ImageOrientationPatient /
  PixelSpacing), pixel data shorter than the header says, two different images at one position,
  or a gap over :data:`MAX_GAP_FACTOR` × the usual step.

It also detects each series' contrast phase.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import math
import os
import zlib
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.errors import InvalidDicomError

from response_tool.domain.errors import DicomInputError

from ._header import Header, read_header
from .dicom_series import DicomScan, Progress, SeriesInfo, SliceHeader, SlicePlan, StudyInfo
from .phase import PhaseInput, guess_phase, refine_with_study_order

#: Modalities that are not images we can read, and why we skip them.
NON_IMAGE_MODALITIES = {
    "SR": "structured report", "SEG": "segmentation object", "PR": "presentation state",
    "RTSTRUCT": "RT structure set", "KO": "key object selection", "REG": "registration",
    "RTPLAN": "RT plan", "RTDOSE": "RT dose", "DOC": "encapsulated document",
}
#: Multi-frame ("enhanced") image storage classes: one file holds the whole series, with the
#: geometry of each frame in functional groups. Not read yet.
ENHANCED_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.2.1": "Enhanced CT", "1.2.840.10008.5.1.4.1.1.2.2":
    "Legacy Converted Enhanced CT", "1.2.840.10008.5.1.4.1.1.4.1": "Enhanced MR",
    "1.2.840.10008.5.1.4.1.1.4.3": "Enhanced MR Color", "1.2.840.10008.5.1.4.1.1.4.4":
    "Legacy Converted Enhanced MR", "1.2.840.10008.5.1.4.1.1.130": "Enhanced PET",
    "1.2.840.10008.5.1.4.1.1.128.1": "Legacy Converted Enhanced PET",
}
_DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
_SUPPORTED_BITS = (8, 16, 32)

#: Geometry tolerances (mm, or fraction of the usual step) used for the loader's decisions.
DUPLICATE_POSITION_MM = 1e-3
DUPLICATE_FRACTION = 0.2  # two slices closer than this × the usual step are at one position
UNIFORM_SPACING_TOLERANCE = 0.01  # relative deviation of one step from the median step
MISSING_SLICE_FACTOR = 1.5  # a step this many times the median step means missing slice(s)
JITTER_FRACTION = 0.2  # a slice this close (× step) to its place on the regular grid is on it
MAX_GAP_FACTOR = 6.0  # a gap wider than this × the usual step (6+ slices in a row) is refused
TILT_TOLERANCE_MM = 0.01  # in-plane drift of slice origins along the stack
ORIENTATION_DECIMALS = 4


# -- header helpers ------------------------------------------------------------------------------
def _date(value: Any) -> dt.date | None:
    try:
        return dt.datetime.strptime(str(value)[:8], "%Y%m%d").date() if value else None
    except ValueError:
        return None


def _time(value: Any) -> dt.time | None:
    text = str(value or "").strip()
    if not text:
        return None
    main, _, frac = text.partition(".")
    main = main.replace(":", "")
    try:
        t = dt.datetime.strptime(main[:6].ljust(6, "0"), "%H%M%S").time()
    except ValueError:
        return None
    micro = int((frac + "000000")[:6]) if frac.isdigit() else 0
    return t.replace(microsecond=micro)



def _size(n: float) -> str:
    for unit, k in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= k:
            return f"{n / k:.1f} {unit}"
    return f"{int(n)} bytes"


def _text(values: Any) -> str:
    return "\\".join(f"{v:g}" for v in values) if isinstance(values, tuple) else str(values)


def _finite(values: Any, n: int) -> bool:
    return isinstance(values, tuple) and len(values) == n and all(map(math.isfinite, values))


PERMISSION_DENIED = ("cannot be read: permission denied; give your user read permission on it "
                     "(or copy it somewhere you may read)")


def _geometry_problem(h: Header) -> str | None:
    """Why the slice cannot be placed and measured in millimetres (None: it can)."""
    ipp, iop = h.get("ImagePositionPatient"), h.get("ImageOrientationPatient")
    if ipp is None or iop is None:
        return ("no ImagePositionPatient/ImageOrientationPatient: cannot place the slice "
                "in 3-D; export the series with its geometry")
    if not _finite(ipp, 3):
        return (f"ImagePositionPatient '{_text(ipp)}' is not three finite numbers (mm): cannot "
                "place the slice in 3-D; export the series with its geometry")
    if not _finite(iop, 6):
        return (f"ImageOrientationPatient '{_text(iop)}' is not six finite numbers: cannot place "
                "the slice in 3-D; export the series with its geometry")
    rx, ry, rz, cx, cy, cz = (float(v) for v in iop)
    if (abs(math.hypot(rx, ry, rz) - 1) > 0.01 or abs(math.hypot(cx, cy, cz) - 1) > 0.01
            or abs(rx * cx + ry * cy + rz * cz) > 0.01):
        return (f"ImageOrientationPatient '{_text(iop)}' is not two perpendicular unit vectors: "
                "cannot place the slice in 3-D; export the series with its geometry")
    spacing = h.get("PixelSpacing")
    if spacing is None or len(spacing) != 2:
        return ("no PixelSpacing: cannot measure in millimetres; re-export the series from "
                "the scanner or PACS with PixelSpacing")
    if not _finite(spacing, 2) or min(spacing) <= 0:
        return (f"PixelSpacing '{_text(spacing)}' is not a positive size in mm: cannot measure in "
                "millimetres; re-export the series from the scanner or PACS with its PixelSpacing")
    return None


def _pixel_problem(h: Header) -> str | None:
    """Why the pixels of this image cannot be read as its header describes them (None: they can)."""
    rows, cols = int(h.get("Rows")), int(h.get("Columns"))
    bits = h.get("BitsAllocated", 16)
    if rows <= 0 or cols <= 0:
        return f"Rows {rows} × Columns {cols}: an image without pixels; re-export or remove it"
    if bits not in _SUPPORTED_BITS:
        return (f"BitsAllocated {bits} is not supported (8, 16 or 32); re-export the series "
                "uncompressed or with a standard compression")
    if h.pixel_length is not None:
        need = rows * cols * bits // 8
        if h.pixel_length < need:
            return (f"pixel data holds {_size(h.pixel_length)}, but Rows {rows} × Columns {cols} × "
                    f"{bits} bits need {_size(need)}: the header or the file is damaged; re-export "
                    "the series or remove this file")
    return None


def _read_header(path: Path) -> tuple[Header | None, str | None]:
    """(header, reason): no header — skipped for ``reason``; a header and no reason — an image
    of a series; both — an image of a series that cannot be used for ``reason``."""
    try:
        h = read_header(path)
    except InvalidDicomError:
        return None, "not a DICOM file"
    except PermissionError:
        return None, PERMISSION_DENIED
    except zlib.error:
        return None, ("its transfer syntax says Deflated Explicit VR Little Endian but the data "
                      "set is not deflated: the file is damaged or mislabelled; re-export it")
    except Exception as exc:  # pydicom raises many types on damaged headers: say which, skip
        return None, (f"unreadable DICOM header ({type(exc).__name__}: {exc}); the file is damaged "
                      "— re-export or remove it").replace("\n", " ")
    if h.media_sop_class_uid == _DICOMDIR_SOP_CLASS or "DirectoryRecordSequence" in h:
        return None, "DICOMDIR (index file), skipped"
    modality = h.get("Modality", "")
    if modality in NON_IMAGE_MODALITIES:
        return None, f"{modality} {NON_IMAGE_MODALITIES[modality]} (not an image), skipped"
    if "LOCALIZER" in (h.get("ImageType") or ()):
        return None, "localizer (scout) image, skipped"
    sop_class = h.get("SOPClassUID") or h.media_sop_class_uid
    frames = h.get("NumberOfFrames") or 1
    if sop_class in ENHANCED_SOP_CLASSES or frames > 1:
        kind = ENHANCED_SOP_CLASSES.get(sop_class, "multi-frame")
        return None, (f"{kind} image ({frames} frame(s) in one file): multi-frame images are not "
                      "supported yet; export the series as single-frame images (one file per "
                      "slice, e.g. classic CT/MR Image Storage)")
    if "Rows" not in h or "Columns" not in h:
        if not any(k in h for k in ("SOPClassUID", "Modality", "SeriesInstanceUID")):
            return None, ("no DICOM data elements could be read after the preamble: the file is "
                          "damaged — re-export or remove it")
        return None, "no image pixel module (Rows/Columns), skipped"
    samples = h.get("SamplesPerPixel") or 1
    if samples != 1:
        return None, (f"colour image ({samples} samples per pixel, a screenshot or secondary "
                      "capture?): not a CT/MR grey-scale image, skipped")
    problem = _geometry_problem(h) or _pixel_problem(h)
    return h, problem


def _iter_files(root: Path, skipped: list[tuple[Path, str]]) -> list[Path]:
    if root.is_file():
        return [root]
    files: list[Path] = []

    def unreadable(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else root
        if where == root:
            raise exc
        skipped.append((where, "folder " + (PERMISSION_DENIED if isinstance(exc, PermissionError)
                                            else f"cannot be read ({exc.strerror or exc})")))

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
        dirnames.sort()
        files.extend(Path(dirpath) / f for f in sorted(filenames) if not f.startswith("."))
    return files


# -- grouping and geometry -----------------------------------------------------------------------
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
        if plan is not None:
            grid = along[0] + step * np.arange(plan.n_slices)
            done = (f"resampled onto a regular {step:.2f} mm grid of {plan.n_slices} slices: "
                    f"slice(s) {_ranges(plan.interpolated, grid)} are interpolated between their "
                    "neighbours, not acquired — do not measure on them")
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


def _unusable_refusal(unusable: list[tuple[Path, str]], n_usable: int) -> str:
    path, reason = unusable[0]
    n = len(unusable)
    others = f" and {n - 1} other file(s)" if n > 1 else ""
    return (f"{path}{others} ({n} of {n + n_usable} files of this series): {reason} (without "
            f"{'them' if n > 1 else 'it'} the rest of the series loads, the slice counted as "
            "missing)")


def _series_info(headers: list[Header], sub: int, extra_warnings: list[str],
                 unusable: list[tuple[Path, str]] | None = None) -> SeriesInfo:
    n_files = len(headers)
    stack = _geometry(headers)
    headers, spacing, direction, warnings = stack.headers, stack.spacing, stack.direction, \
        stack.warnings
    refusal = _unusable_refusal(unusable, n_files) if unusable else stack.refusal
    if refusal is not None:
        warnings = [*warnings, f"cannot be loaded: {refusal}"]
    ds = headers[0]
    agent = ds.get("ContrastBolusAgent")
    acq = _time(ds.get("AcquisitionTime") or ds.get("SeriesTime") or ds.get("ContentTime"))
    phase = guess_phase(PhaseInput(
        description=str(ds.get("SeriesDescription", "")),
        protocol_name=str(ds.get("ProtocolName", "")),
        modality=str(ds.get("Modality", "")),
        contrast_agent=None if agent is None else str(agent),
        contrast_start=_time(ds.get("ContrastBolusStartTime")),
        acquisition_time=acq,
    ))
    slices = tuple(
        SliceHeader(
            path=h.path,
            position_xyz_mm=tuple(float(v) for v in h.get("ImagePositionPatient")),  # type: ignore[arg-type]
            pixel_offset=h.pixel_offset, pixel_length=h.pixel_length,
            rescale_slope=float(h.get("RescaleSlope", 1.0)),
            rescale_intercept=float(h.get("RescaleIntercept", 0.0)),
            instance_number=h.get("InstanceNumber"),
        )
        for h in headers
    )
    return SeriesInfo(
        study_instance_uid=str(ds.get("StudyInstanceUID", "")),
        series_instance_uid=str(ds.get("SeriesInstanceUID", "")),
        sub_series=sub,
        patient_id=str(ds.get("PatientID", "")),
        study_date=_date(ds.get("StudyDate") or ds.get("SeriesDate")),
        modality=str(ds.get("Modality", "")),
        description=str(ds.get("SeriesDescription", "")).strip(),
        protocol_name=str(ds.get("ProtocolName", "")).strip(),
        series_number=ds.get("SeriesNumber"),
        acquisition_time=acq,
        files=tuple(h.path for h in headers),
        n_slices=len(headers),
        rows=int(ds.get("Rows")),
        columns=int(ds.get("Columns")),
        spacing_zyx_mm=spacing,
        origin_xyz_mm=slices[0].position_xyz_mm,
        direction_xyz=tuple(tuple(float(v) for v in r) for r in direction),  # type: ignore[misc]
        phase=phase,
        warnings=tuple(extra_warnings + warnings),
        contrast_agent=None if agent is None else str(agent),
        study_description=str(ds.get("StudyDescription", "")).strip(),
        transfer_syntax_uid=ds.transfer_syntax_uid,
        bits_allocated=int(ds.get("BitsAllocated", 16)),
        pixel_representation=int(ds.get("PixelRepresentation", 0)),
        slices=slices,
        plan=stack.plan,
        refusal=refusal,
    )


def _split_series(headers: list[Header], unusable: list[tuple[Path, str]]) -> list[SeriesInfo]:
    groups: dict[tuple[Any, ...], list[Header]] = defaultdict(list)
    for h in headers:
        groups[_geometry_key(h)].append(h)
    parts: list[list[Header]] = []
    for key in sorted(groups, key=lambda k: -len(groups[k])):
        parts.extend(_split_by_acquisition(groups[key]))
    notes = []
    if len(groups) > 1:
        notes.append(f"series mixed {len(groups)} orientations/sizes/pixel spacings; "
                     f"split into {len(parts)} sub-series")
    elif len(parts) > 1:
        notes.append(f"series held {len(parts)} acquisitions at the same positions; split")
    if len(parts) == 1:
        return [_series_info(parts[0], 0, notes, unusable)]
    return [_series_info(p, i + 1, notes, unusable) for i, p in enumerate(parts)]


def _nothing_found(root: Path, n_files: int, skipped: list[tuple[Path, str]]) -> str:
    """The one-line message when ``root`` holds no usable image: the file and its reason when
    there is one file, else the first file of each reason."""
    if root.is_file() and len(skipped) == 1:
        path, reason = skipped[0]
        return f"{path}: {reason}"
    by_reason: dict[str, list[Path]] = defaultdict(list)
    for path, reason in skipped:
        by_reason[reason].append(path)
    parts = [f"{paths[0].name}{f' and {len(paths) - 1} more' if len(paths) > 1 else ''}: {reason}"
             for reason, paths in list(by_reason.items())[:2]]
    if len(by_reason) > 2:
        parts.append(f"{len(by_reason) - 2} other reason(s)")
    hint = ("; point to a folder that holds CT/MR image files"
            if set(by_reason) <= {"not a DICOM file"} else "")
    return (f"{root}: no DICOM image series found in {n_files} file(s) ({' | '.join(parts)})"
            f"{hint}")


def scan_dicom(root: str | os.PathLike[str], progress: Progress | None = None) -> DicomScan:
    """Find the DICOM image series under ``root`` (headers only).

    Raises
    ------
    DicomInputError
        If ``root`` does not exist or holds no readable DICOM image series.
    """
    root_path = Path(root)
    try:
        os.stat(root_path)
    except PermissionError as exc:
        raise DicomInputError(f"{root_path}: {PERMISSION_DENIED}") from exc
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            raise DicomInputError(f"{root_path}: no such file or folder; check the path") from exc
        raise DicomInputError(f"{root_path}: cannot be read ({exc.strerror or exc}); check the "
                              "path and the disk") from exc
    skipped: list[tuple[Path, str]] = []
    try:
        files = _iter_files(root_path, skipped)
    except PermissionError as exc:
        raise DicomInputError(f"{root_path}: {PERMISSION_DENIED}") from exc
    except OSError as exc:
        raise DicomInputError(f"{root_path}: cannot be read ({exc.strerror or exc}); check the "
                              "path and the disk") from exc
    if not files and not skipped:
        raise DicomInputError(f"{root_path}: the folder is empty; point to a folder of DICOM files")
    by_series: dict[tuple[str, str], list[Header]] = defaultdict(list)
    unusable: dict[tuple[str, str], list[tuple[Path, str]]] = defaultdict(list)
    for i, path in enumerate(files):
        header, reason = _read_header(path)
        if header is None or reason is not None:
            skipped.append((path, reason or "skipped"))
        key = ("", "") if header is None else (header.get("StudyInstanceUID", ""),
                                                header.get("SeriesInstanceUID", ""))
        if header is not None and reason is None:
            by_series[key].append(header)
        elif header is not None:
            unusable[key].append((path, reason or ""))
        if progress is not None:
            progress(i + 1, len(files))
    if not by_series:
        raise DicomInputError(_nothing_found(root_path, len(files), skipped))
    series_by_study: dict[str, list[SeriesInfo]] = defaultdict(list)
    for (study_uid, series_uid), headers in by_series.items():
        series_by_study[study_uid].extend(
            _split_series(headers, unusable.get((study_uid, series_uid), [])))
    studies = []
    for study_uid, series in series_by_study.items():
        series = _refine_phases(series)
        series.sort(key=lambda s: (s.acquisition_time or dt.time(0), s.series_number or 0,
                                   s.sub_series))
        first = series[0]
        studies.append(StudyInfo(study_uid, first.study_date, first.patient_id,
                                 first.study_description, tuple(series)))
    studies.sort(key=lambda s: (s.study_date is None, s.study_date or dt.date.min))
    return DicomScan(root_path, tuple(studies), tuple(skipped))


def _refine_phases(series: list[SeriesInfo]) -> list[SeriesInfo]:
    has_agent = [bool(s.contrast_agent) and s.contrast_agent.strip().lower() not in ("none", "no")
                 for s in series]
    refined = refine_with_study_order([s.phase for s in series],
                                      [s.acquisition_time for s in series], has_agent)
    return [dataclasses.replace(s, phase=p) for s, p in zip(series, refined, strict=True)]
