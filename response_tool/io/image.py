"""Open an image from a path: a DICOM series folder/file, or a NIfTI / NRRD / MHA file."""

from __future__ import annotations

import os
from pathlib import Path

import SimpleITK as sitk

from response_tool.domain.errors import DicomInputError

from .dicom import load_series, scan_dicom, single_series
from .volume import Volume

#: File name endings read with SimpleITK rather than as DICOM.
ITK_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd")


def is_itk_file(path: Path) -> bool:
    name = path.name.lower()
    return path.is_file() and name.endswith(ITK_SUFFIXES)


def read_itk(path: Path) -> sitk.Image:
    try:
        return sitk.ReadImage(str(path))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unreadable"
        raise DicomInputError(f"{path}: cannot read as NIfTI/NRRD ({first}); check the file") from exc


def load_image(path: str | os.PathLike[str]) -> Volume:
    """Load the image at ``path``: one DICOM series (folder or file) or a NIfTI/NRRD file."""
    p = Path(path)
    if not p.exists():
        raise DicomInputError(f"{p}: no such file or folder; check the path")
    if is_itk_file(p):
        return Volume.from_sitk(read_itk(p))
    return load_series(single_series(scan_dicom(p)))
