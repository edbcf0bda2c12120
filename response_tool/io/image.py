"""Open an image from a path: a DICOM series folder/file, or a NIfTI / NRRD / MHA file."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import SimpleITK as sitk

from response_tool.domain.errors import DicomInputError

from .dicom import load_series, scan_dicom, single_series
from .dicom_scan import PERMISSION_DENIED
from .volume import Volume

#: File name endings read with SimpleITK rather than as DICOM.
ITK_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd")


def is_itk_file(path: Path) -> bool:
    name = path.name.lower()
    return path.is_file() and name.endswith(ITK_SUFFIXES)


def check_readable(path: Path, missing: str = "no such file or folder; check the path") -> None:
    """A one-line :class:`DicomInputError` when ``path`` does not exist (``missing``) or cannot be
    read (permission denied is said as such, not as "does not exist")."""
    try:
        if path.is_dir():
            with os.scandir(path):
                pass
        else:
            with open(path, "rb"):
                pass
    except PermissionError as exc:
        raise DicomInputError(f"{path}: {PERMISSION_DENIED}") from exc
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            raise DicomInputError(f"{path}: {missing}") from exc
        raise DicomInputError(f"{path}: cannot be read ({exc.strerror or exc}); check the file "
                              "and the disk") from exc


def read_itk(path: Path) -> sitk.Image:
    check_readable(path)
    try:
        return sitk.ReadImage(str(path))
    except RuntimeError as exc:
        text = " ".join(str(exc).split())
        first = str(exc).strip().splitlines()[-1].strip() if text else "unreadable"
        raise DicomInputError(f"{path}: cannot read as NIfTI/NRRD ({first}); check the file") from exc


def as_3d(image: sitk.Image, path: Path, what: str) -> sitk.Image:
    """``image`` as a 3-D image: a 4-D one with a single volume is reduced; 2-D and 4-D images
    with several volumes are one-line errors naming ``path``."""
    size = image.GetSize()
    if image.GetDimension() == 4 and size[3] == 1:
        return sitk.Extract(image, [*size[:3], 0], [0, 0, 0, 0])
    if image.GetDimension() != 3:
        shape = " × ".join(str(v) for v in size)
        extra = (f" with {size[3]} volumes (a time series or one channel per label?); give one "
                 f"3-D {what}" if image.GetDimension() == 4 else
                 f"; {'an' if what[0] in 'aeiou' else 'a'} {what} is 3-D (x, y, slices) — save "
                 "the whole volume, not one slice")
        raise DicomInputError(f"{path}: the {what} is {image.GetDimension()}-D ({shape}){extra}")
    return image


def load_image(path: str | os.PathLike[str]) -> Volume:
    """Load the image at ``path``: one DICOM series (folder or file) or a NIfTI/NRRD file."""
    p = Path(path)
    check_readable(p)
    if is_itk_file(p):
        image = as_3d(read_itk(p), p, "image")
        if image.GetNumberOfComponentsPerPixel() != 1:
            raise DicomInputError(f"{p}: the image has {image.GetNumberOfComponentsPerPixel()} "
                                  "values per voxel (colour or vector); give a grey-scale CT/MR "
                                  "volume")
        spacing = image.GetSpacing()
        if any(not s > 0 for s in spacing):
            raise DicomInputError(f"{p}: voxel spacing {spacing} is not positive millimetres; "
                                  "fix the file's header")
        return Volume.from_sitk(image)
    scan = scan_dicom(p)
    denied = [f for f, reason in scan.skipped if reason.endswith(PERMISSION_DENIED)]
    if denied:  # it may be a slice of the series: loading without it would be a silent gap
        raise DicomInputError(f"{denied[0]}: {PERMISSION_DENIED} (it may be a slice of this series"
                              f"{f'; {len(denied) - 1} more such file(s)' if len(denied) > 1 else ''})")
    return load_series(single_series(scan))
