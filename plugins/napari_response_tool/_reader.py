"""npe2 reader for DICOM folders and files.

``napari_get_reader`` answers quickly from the first bytes of a few files and returns ``None`` (never
raises) for anything that is not DICOM, so napari can try its other readers. For a folder holding
several series, the reader opens the reading pair of the earliest study — the arterial and
portal-venous series when the phases are detected, otherwise every series of that study — and the
Patient panel lists the rest.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from response_tool.io import StudyInfo, load_series, scan_dicom

from ._layers import volume_layer_data

ReaderFunction = Callable[[Any], list[tuple[Any, dict[str, Any], str]]]

#: Phases opened by default from a multi-series study, in display order.
READING_PHASES = ("arterial", "portal-venous")
_SNIFF_FILES = 50


def _looks_like_dicom_file(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:132] == b"DICM"


def _looks_like_dicom(path: Path) -> bool:
    if path.is_file():
        return _looks_like_dicom_file(path)
    if path.is_dir():
        files = (p for p in path.rglob("*") if p.is_file())
        return any(_looks_like_dicom_file(p) for p in itertools.islice(files, _SNIFF_FILES))
    return False


def napari_get_reader(path: str | Sequence[str]) -> ReaderFunction | None:
    """Return a reader for a DICOM folder or file, or ``None`` if ``path`` is not DICOM."""
    if isinstance(path, (list, tuple)):
        if len(path) != 1:
            return None
        path = path[0]
    try:
        candidate = Path(os.fspath(path))
        if not _looks_like_dicom(candidate):
            return None
    except (OSError, TypeError, ValueError):
        return None
    return read_dicom


def reading_series(study: StudyInfo) -> list:
    """The series of ``study`` to open for reading: arterial + portal-venous if present, else all."""
    by_phase = {s.phase.phase: s for s in study.series}
    chosen = [by_phase[p] for p in READING_PHASES if p in by_phase]
    return chosen or list(study.series)


def read_dicom(path: Any) -> list[tuple[Any, dict[str, Any], str]]:
    """Load the reading series of the earliest study under ``path`` as image layers in millimetres."""
    if isinstance(path, (list, tuple)):
        path = path[0]
    scan = scan_dicom(path)
    study = min(scan.studies, key=lambda s: (s.study_date is None, s.study_date or 0))
    layers = [volume_layer_data(load_series(s)) for s in reading_series(study)]
    # the last layer added is drawn on top: keep the arterial phase on top for reading.
    return layers[::-1]
