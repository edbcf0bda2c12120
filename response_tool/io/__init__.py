"""Reading images and masks: DICOM series (with contrast phase), NIfTI/NRRD, DICOM SEG."""

from .dicom import (
    DicomScan,
    SeriesInfo,
    SliceHeader,
    StudyInfo,
    load_series,
    scan_dicom,
    single_series,
)
from .image import load_image
from .masks import load_label_map, load_mask
from .phase import PHASES, PhaseGuess, guess_phase
from .volume import Volume

__all__ = [
    "PHASES", "DicomScan", "PhaseGuess", "SeriesInfo", "SliceHeader", "StudyInfo", "Volume",
    "guess_phase", "load_image", "load_label_map", "load_mask", "load_series", "scan_dicom",
    "single_series",
]
