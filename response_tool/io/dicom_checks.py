"""Per-header checks while scanning DICOM files: what is skipped and why, what cannot be used.

:func:`_read_header` reads one file's header and says whether it is an image of a series, skipped
(not DICOM, DICOMDIR, non-image modality, localizer, multi-frame, colour…) or an image that cannot
be used (no or broken geometry or pixel spacing, pixel data shorter than the header says).
"""

from __future__ import annotations

import math
import zlib
from pathlib import Path
from typing import Any

from pydicom.errors import InvalidDicomError

from ._header import Header, read_header

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
    values = h.values
    ipp, iop = values.get("ImagePositionPatient"), values.get("ImageOrientationPatient")
    if not ipp or not iop:
        return ("no ImagePositionPatient/ImageOrientationPatient: cannot place the slice "
                "in 3-D; export the series with its geometry")
    if not _finite(ipp, 3):
        return (f"ImagePositionPatient '{_text(ipp)}' is not three finite numbers (mm): cannot "
                "place the slice in 3-D; export the series with its geometry")
    if not _finite(iop, 6):
        return (f"ImageOrientationPatient '{_text(iop)}' is not six finite numbers: cannot place "
                "the slice in 3-D; export the series with its geometry")
    rx, ry, rz, cx, cy, cz = iop
    if (abs(rx * rx + ry * ry + rz * rz - 1) > 0.02 or abs(cx * cx + cy * cy + cz * cz - 1) > 0.02
            or abs(rx * cx + ry * cy + rz * cz) > 0.01):
        return (f"ImageOrientationPatient '{_text(iop)}' is not two perpendicular unit vectors: "
                "cannot place the slice in 3-D; export the series with its geometry")
    spacing = values.get("PixelSpacing")
    if not spacing or len(spacing) != 2:
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
