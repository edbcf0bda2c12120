"""Reading images and masks: DICOM series (with contrast phase), NIfTI/NRRD, DICOM SEG.

The names below are loaded on first use (PEP 562), so that importing a light submodule —
``response_tool.io.output``, ``.csv_out``, ``.measurements_csv``, ``.export`` — does not import
pydicom or SimpleITK: ``response-tool assess``, a CSV job, never loads an imaging library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: public name → the submodule that defines it
_WHERE = {
    "DicomScan": "dicom", "SeriesInfo": "dicom", "SliceHeader": "dicom", "StudyInfo": "dicom",
    "load_series": "dicom", "scan_dicom": "dicom", "single_series": "dicom",
    "load_image": "image",
    "load_label_map": "masks", "load_mask": "masks",
    "PHASES": "phase", "PhaseGuess": "phase", "guess_phase": "phase",
    "Volume": "volume",
}

__all__ = [
    "PHASES", "DicomScan", "PhaseGuess", "SeriesInfo", "SliceHeader", "StudyInfo", "Volume",
    "guess_phase", "load_image", "load_label_map", "load_mask", "load_series", "scan_dicom",
    "single_series",
]


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{where}"), name)
    globals()[name] = value  # loaded once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, eagerly
    from .dicom import DicomScan, SeriesInfo, SliceHeader, StudyInfo, load_series, scan_dicom, single_series
    from .image import load_image
    from .masks import load_label_map, load_mask
    from .phase import PHASES, PhaseGuess, guess_phase
    from .volume import Volume
