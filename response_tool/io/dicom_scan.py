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

It also detects each series' contrast phase. The per-header checks live in :mod:`.dicom_checks`,
the stacking plan and its tolerances in :mod:`.dicom_geometry`; both are re-exported here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

from response_tool.domain.errors import DicomInputError

from ._header import Header, read_header  # noqa: F401  (re-exported)
from .dicom_checks import (  # noqa: F401  (re-exported)
    _DICOMDIR_SOP_CLASS,
    _SUPPORTED_BITS,
    ENHANCED_SOP_CLASSES,
    NON_IMAGE_MODALITIES,
    PERMISSION_DENIED,
    _finite,
    _geometry_problem,
    _pixel_problem,
    _read_header,
    _size,
    _text,
)
from .dicom_geometry import (  # noqa: F401  (re-exported)
    DUPLICATE_FRACTION,
    DUPLICATE_POSITION_MM,
    JITTER_FRACTION,
    MAX_GAP_FACTOR,
    MISSING_SLICE_FACTOR,
    ORIENTATION_DECIMALS,
    TILT_TOLERANCE_MM,
    UNIFORM_SPACING_TOLERANCE,
    _duplicates,
    _geometry,
    _geometry_key,
    _normal,
    _orientation,
    _pixel_bytes,
    _plan,
    _ranges,
    _same_image,
    _split_by_acquisition,
    _Stack,
)
from .dicom_series import (  # noqa: F401  (SlicePlan re-exported)
    DicomScan,
    Progress,
    SeriesInfo,
    SliceHeader,
    SlicePlan,
    StudyInfo,
)
from .phase import PhaseInput, guess_phase, refine_with_study_order


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



def describe_object(path: Path, reason: str) -> str:
    """What a non-image object (SR, SEG, …) skipped by the scan is, for ``inspect``: its SOP
    class, title or segments, series and date, and which command reads it; ``reason`` unchanged
    when it is not such an object or its header says no more."""
    modality = reason.split(" ", 1)[0]
    if modality not in NON_IMAGE_MODALITIES or "(not an image)" not in reason:
        return reason
    import pydicom

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    except Exception:  # it was read once already; a second failure only loses the details
        return reason
    parts = [str(getattr(ds.get("SOPClassUID"), "name", "") or ds.get("SOPClassUID", ""))]
    title = ds.get("ConceptNameCodeSequence")
    if title:
        parts.append(repr(str(title[0].get("CodeMeaning", ""))))
    segments = ds.get("SegmentSequence")
    if segments:
        labels = ", ".join(str(s.get("SegmentLabel", "?")) for s in segments[:10])
        parts.append(f"{len(segments)} segment(s): {labels}")
    if ds.get("SeriesDescription"):
        parts.append(f"series {str(ds.SeriesDescription)!r}")
    date = _date(ds.get("ContentDate") or ds.get("SeriesDate") or ds.get("StudyDate"))
    if date is not None:
        parts.append(date.isoformat())
    hint = {"SR": "; `response-tool dicom-import` reads a TID 1500 measurement report",
            "SEG": "; `response-tool burden --liver-mask` reads it"}.get(modality, "")
    what = ", ".join(p for p in parts if p)
    return f"{modality} {NON_IMAGE_MODALITIES[modality]} (not an image): {what}{hint}; skipped"


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
        study_description=str(ds.get("StudyDescription", "")),
        image_type=tuple(str(v) for v in (ds.get("ImageType") or ())),
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
        if header is None or reason is not None:  # non-image objects say what they are
            skipped.append((path, describe_object(path, reason) if header is None and reason
                            else reason or "skipped"))
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
