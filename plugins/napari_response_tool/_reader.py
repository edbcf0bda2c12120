"""npe2 reader for DICOM folders and files (File ▸ Open, drag and drop, ``viewer.open(path,
plugin="response-tool")``).

The manifest claims folders and DICOM file names only (``*.dcm``, ``*.dicom``, ``*.ima``,
``DICOMDIR``; npe2 lower-cases the extension, so ``*.DCM`` and ``*.IMA`` match too): napari's own
readers keep every other file. A folder cannot be told apart by its name (npe2 offers every reader
that accepts folders), so ``napari_get_reader`` answers quickly from the first bytes of a few files
and returns ``None`` (never raises) for anything that is not DICOM, so napari can try its other
readers. A ``DICOMDIR`` opens the folder it indexes. For a folder holding several series, the reader
opens the reading pair of the earliest study — the arterial and portal-venous series when the phases
are detected, otherwise every series of that study — with the layers made exactly as the Patient
panel makes them (:func:`~napari_response_tool._layers.volume_layer_data`: the same
:class:`~napari_response_tool._layers.ImageRecord`, volume included), and, in a viewer, docks the
Patient panel with the folder open: its tree is the series picker (every study and series with its
detected phase; double-click or "Load selected" opens others).
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from response_tool.domain.vocabulary import Phase
from response_tool.io import StudyInfo, load_series, scan_dicom

from ._layers import stacking_key, volume_layer_data

ReaderFunction = Callable[[Any], list[tuple[Any, dict[str, Any], str]]]

#: Phases opened by default from a multi-series study, in display order.
READING_PHASES = (Phase.ARTERIAL, Phase.PORTAL_VENOUS)
_SNIFF_FILES = 50


def _looks_like_dicom_file(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:132] == b"DICM"


def _is_dicomdir(path: Path) -> bool:
    return path.name.upper() == "DICOMDIR" and path.is_file()


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
    root = Path(os.fspath(path))
    if _is_dicomdir(root):  # the index of a medium: open the folder it indexes
        root = root.parent
    scan = scan_dicom(root)
    study = min(scan.studies, key=lambda s: (s.study_date is None, s.study_date or 0))
    chosen = reading_series(study)
    # stacked as the Patient panel stacks them: the arterial phase on top for reading
    layers = [volume_layer_data(load_series(s))
              for s in sorted(chosen, key=lambda s: stacking_key(s.phase.phase))]
    if sum(len(s.series) for s in scan.studies) > len(chosen):
        show_series_picker(root)
    return layers


def show_series_picker(path: Any) -> Any:
    """Dock the Patient panel of the current viewer with ``path`` open, so the reader can pick the
    series not opened by default. Returns the panel, or None without a viewer (a script, a test
    calling the reader directly); never raises — the layers are opened either way."""
    if "napari" not in sys.modules:
        return None
    try:
        import napari

        viewer = napari.current_viewer()
        if viewer is None:
            return None
        _, panel = viewer.window.add_plugin_dock_widget("response-tool", "Patient")
        if panel.scan is None or panel.folder != Path(path):
            panel.open_folder(path)
        return panel
    except Exception:  # noqa: BLE001 - the picker is a convenience; opening must not fail
        return None
