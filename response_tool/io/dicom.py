"""Find, group and load DICOM image series.

* :func:`scan_dicom` walks a folder tree (any file names, no extension needed), reads headers only,
  groups files into studies (StudyInstanceUID) and series (SeriesInstanceUID, split further when a
  series mixes orientations, image sizes or acquisitions), skips non-image objects with a note, and
  detects each series' contrast phase.
* :func:`load_series` reads one series into a ``(z, y, x)`` volume in Hounsfield units (int16 when
  the rescale is lossless), sorted by ImagePositionPatient projected on the slice normal — never by
  InstanceNumber — with the slice spacing taken from those positions — never from SliceThickness.
  Missing slices are resampled onto a regular grid (the warning on the volume); a series whose
  geometry cannot be trusted is refused with the reason, naming the file (docs/io.md).

Uncompressed little-endian pixel data is read straight from each file into a preallocated, sorted
volume (the byte offset of PixelData is recorded while scanning), which is close to the cost of
reading the bytes at all; compressed transfer syntaxes (JPEG 2000, JPEG-LS, JPEG lossless, RLE) go
through pydicom's pixel handlers (pylibjpeg plugins).

One module per concern, all re-exported here: :mod:`.dicom_series` (what a scan finds: study,
series and slice headers), :mod:`.dicom_scan` (scanning and grouping, geometry checks) and
:mod:`.dicom_load` (pixels into a :class:`~.volume.Volume`).
"""

from __future__ import annotations

from .dicom_load import load_series
from .dicom_scan import (
    DUPLICATE_FRACTION,
    DUPLICATE_POSITION_MM,
    ENHANCED_SOP_CLASSES,
    JITTER_FRACTION,
    MAX_GAP_FACTOR,
    MISSING_SLICE_FACTOR,
    NON_IMAGE_MODALITIES,
    ORIENTATION_DECIMALS,
    TILT_TOLERANCE_MM,
    UNIFORM_SPACING_TOLERANCE,
    scan_dicom,
)
from .dicom_series import (
    DicomScan,
    Progress,
    SeriesInfo,
    SliceHeader,
    SlicePlan,
    StudyInfo,
    single_series,
)

__all__ = [
    "DUPLICATE_FRACTION", "DUPLICATE_POSITION_MM", "ENHANCED_SOP_CLASSES", "JITTER_FRACTION",
    "MAX_GAP_FACTOR", "MISSING_SLICE_FACTOR", "NON_IMAGE_MODALITIES", "ORIENTATION_DECIMALS",
    "TILT_TOLERANCE_MM", "UNIFORM_SPACING_TOLERANCE", "DicomScan", "Progress", "SeriesInfo",
    "SliceHeader", "SlicePlan", "StudyInfo", "load_series", "scan_dicom", "single_series",
]
