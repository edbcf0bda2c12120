"""Scanning a folder tree for DICOM image series (headers only).

:func:`scan_dicom` walks the tree (any file names, no extension needed), reads headers only, groups
files into studies (StudyInstanceUID) and series (SeriesInstanceUID, split further when a series
mixes orientations, image sizes or acquisitions), skips non-image objects with a note, sorts each
series' slices along the slice normal with the spacing from their positions (warning on gaps,
irregular steps, tilt and duplicates), and detects each series' contrast phase.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.errors import InvalidDicomError

from response_tool.domain.errors import DicomInputError

from ._header import Header, read_header
from .dicom_series import DicomScan, Progress, SeriesInfo, SliceHeader, StudyInfo
from .phase import PhaseInput, guess_phase, refine_with_study_order

#: Modalities that are not images we can read, and why we skip them.
NON_IMAGE_MODALITIES = {
    "SR": "structured report", "SEG": "segmentation object", "PR": "presentation state",
    "RTSTRUCT": "RT structure set", "KO": "key object selection", "REG": "registration",
    "RTPLAN": "RT plan", "RTDOSE": "RT dose", "DOC": "encapsulated document",
}
_DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"

#: Geometry tolerances (mm, or fraction of the usual step) used for the loader's warnings.
DUPLICATE_POSITION_MM = 1e-3
UNIFORM_SPACING_TOLERANCE = 0.01  # relative deviation of one step from the median step
MISSING_SLICE_FACTOR = 1.5  # a step this many times the median step means missing slice(s)
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



def _read_header(path: Path) -> tuple[Header | None, str | None]:
    try:
        h = read_header(path)
    except InvalidDicomError:
        return None, "not a DICOM file"
    except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return None, f"unreadable DICOM header ({type(exc).__name__}: {exc})"
    if h.media_sop_class_uid == _DICOMDIR_SOP_CLASS or "DirectoryRecordSequence" in h:
        return None, "DICOMDIR (index file), skipped"
    modality = h.get("Modality", "")
    if modality in NON_IMAGE_MODALITIES:
        return None, f"{modality} {NON_IMAGE_MODALITIES[modality]} (not an image), skipped"
    if "LOCALIZER" in (h.get("ImageType") or ()):
        return None, "localizer (scout) image, skipped"
    if "Rows" not in h or "Columns" not in h:
        return None, "no image pixel module (Rows/Columns), skipped"
    if "ImagePositionPatient" not in h or "ImageOrientationPatient" not in h:
        return None, ("no ImagePositionPatient/ImageOrientationPatient: cannot place the slice "
                      "in 3-D; export the series with its geometry")
    if len(h.get("PixelSpacing") or ()) != 2:
        return None, ("no PixelSpacing: cannot measure in millimetres; re-export the series from "
                      "the scanner or PACS with PixelSpacing")
    return h, None


def _iter_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
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


def _geometry(headers: list[Header]) -> tuple[list[Header], tuple[float, float, float],
                                                np.ndarray, list[str]]:
    """Sort along the normal; spacing from positions; warnings for gaps, tilt, duplicates."""
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
    z = float("nan")
    if len(headers) == 1:
        thickness = h0.get("SliceThickness")
        z = float(thickness) if thickness else 1.0
        warnings.append(
            f"single slice: no slice spacing from positions; using "
            f"{'SliceThickness ' if thickness else 'a nominal '}{z:g} mm for display only "
            "(volumes from this series are not meaningful)")
    else:
        steps = np.diff(along)
        dup = steps < DUPLICATE_POSITION_MM
        if dup.any():
            warnings.append(f"{int(dup.sum())} duplicate slice position(s) (same position along "
                            "the normal); the series may hold two acquisitions — check it")
        good = steps[~dup]
        z = float(np.median(good)) if good.size else 1.0
        if good.size:
            gaps = good > MISSING_SLICE_FACTOR * z
            if gaps.any():
                missing = int(np.sum(np.round(good[gaps] / z) - 1))
                where = ", ".join(f"{along[i]:.1f}→{along[i + 1]:.1f} mm"
                                  for i in np.flatnonzero(~dup)[gaps][:3])
                warnings.append(f"missing slice(s): about {missing} slice(s) absent "
                                f"(gaps at {where}; usual step {z:.2f} mm)")
            irregular = np.abs(good - z) > UNIFORM_SPACING_TOLERANCE * z
            if (irregular & ~gaps).any():
                warnings.append(f"non-uniform slice spacing: steps {good.min():.3f}–"
                                f"{good.max():.3f} mm (median {z:.3f} mm is used)")
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
    return headers, (z, row_mm, col_mm), direction, warnings


def _series_info(headers: list[Header], sub: int, extra_warnings: list[str]) -> SeriesInfo:
    headers, spacing, direction, warnings = _geometry(headers)
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
    )


def _split_series(headers: list[Header]) -> list[SeriesInfo]:
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
        return [_series_info(parts[0], 0, notes)]
    return [_series_info(p, i + 1, notes) for i, p in enumerate(parts)]


def scan_dicom(root: str | os.PathLike[str], progress: Progress | None = None) -> DicomScan:
    """Find the DICOM image series under ``root`` (headers only).

    Raises
    ------
    DicomInputError
        If ``root`` does not exist or holds no readable DICOM image series.
    """
    root_path = Path(root)
    if not root_path.exists():
        raise DicomInputError(f"{root_path}: no such file or folder; check the path")
    files = _iter_files(root_path)
    if not files:
        raise DicomInputError(f"{root_path}: the folder is empty; point to a folder of DICOM files")
    skipped: list[tuple[Path, str]] = []
    by_series: dict[tuple[str, str], list[Header]] = defaultdict(list)
    for i, path in enumerate(files):
        header, reason = _read_header(path)
        if header is None:
            skipped.append((path, reason or "skipped"))
        else:
            by_series[(header.get("StudyInstanceUID", ""),
                       header.get("SeriesInstanceUID", ""))].append(header)
        if progress is not None:
            progress(i + 1, len(files))
    if not by_series:
        reasons = sorted({r for _, r in skipped})
        raise DicomInputError(
            f"{root_path}: no DICOM image series found in {len(files)} file(s) "
            f"({'; '.join(reasons[:3])}); point to a folder that holds CT/MR image files")
    series_by_study: dict[str, list[SeriesInfo]] = defaultdict(list)
    for (study_uid, _), headers in by_series.items():
        series_by_study[study_uid].extend(_split_series(headers))
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
