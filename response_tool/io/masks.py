"""Masks and label maps (NIfTI, NRRD, DICOM SEG) aligned onto a loaded series' grid.

Alignment is by physical coordinates: the mask is resampled (nearest neighbour) onto the reference
volume's voxel centres, so a mask stored in another orientation (e.g. NIfTI LAS vs DICOM LPS), a
sub-volume, or a SEG with frames in reverse order lands on the right voxels.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from response_tool.domain.errors import DicomInputError, MaskAlignmentError

from .image import is_itk_file, read_itk
from .volume import Volume


def _is_dicom_seg(path: Path) -> bool:
    if not path.is_file():
        return False
    with open(path, "rb") as fh:
        head = fh.read(132)
    if head[128:132] != b"DICM":
        return False
    import pydicom

    ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["Modality"])
    return str(ds.get("Modality", "")) == "SEG"


def _read_seg(path: Path) -> sitk.Image:
    import highdicom as hd

    try:
        seg = hd.seg.segread(str(path))
        volume = seg.get_volume(combine_segments=True, relabel=False)
    except Exception as exc:  # highdicom raises many types for malformed SEGs
        raise DicomInputError(f"{path}: cannot read this DICOM SEG ({exc}); check the file") from exc
    return volume.to_simpleitk()


def read_label_image(path: str | os.PathLike[str]) -> sitk.Image:
    """Read a label map as a SimpleITK image in its own geometry."""
    p = Path(path)
    if not p.exists():
        raise DicomInputError(f"{p}: no such mask file; check the path")
    if is_itk_file(p):
        return read_itk(p)
    if _is_dicom_seg(p):
        return _read_seg(p)
    raise DicomInputError(
        f"{p}: not a mask file this tool reads; use NIfTI (.nii/.nii.gz), NRRD (.nrrd) or DICOM SEG")


def _corners_text(corners: np.ndarray) -> str:
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    return f"x {lo[0]:.1f}..{hi[0]:.1f}, y {lo[1]:.1f}..{hi[1]:.1f}, z {lo[2]:.1f}..{hi[2]:.1f} mm"


def _image_extent(image: sitk.Image) -> str:
    size = image.GetSize()
    return _corners_text(np.array([
        image.TransformContinuousIndexToPhysicalPoint((a, b, c))
        for a in (-0.5, size[0] - 0.5) for b in (-0.5, size[1] - 0.5) for c in (-0.5, size[2] - 0.5)]))


def _volume_extent(volume: Volume) -> str:
    nz, ny, nx = volume.shape_zyx
    idx = np.array([(c, b, a) for a in (-0.5, nx - 0.5) for b in (-0.5, ny - 0.5)
                    for c in (-0.5, nz - 0.5)])
    return _corners_text(volume.index_zyx_to_xyz_mm(idx))


def resample_labels(labels: sitk.Image, reference: Volume) -> np.ndarray:
    """Nearest-neighbour resampling of ``labels`` onto ``reference``'s grid → (z, y, x) array."""
    f = sitk.ResampleImageFilter()
    f.SetSize([int(v) for v in reference.shape_zyx[::-1]])
    f.SetOutputSpacing([float(v) for v in reference.spacing_zyx_mm[::-1]])
    f.SetOutputOrigin([float(v) for v in reference.origin_xyz_mm])
    f.SetOutputDirection([float(v) for v in np.asarray(reference.direction_xyz).ravel()])
    f.SetInterpolator(sitk.sitkNearestNeighbor)
    f.SetDefaultPixelValue(0)
    return sitk.GetArrayFromImage(f.Execute(labels))


def load_label_map(path: str | os.PathLike[str], reference: Volume) -> np.ndarray:
    """Integer labels of the mask at ``path`` on ``reference``'s grid (z, y, x)."""
    image = read_label_image(path)
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise DicomInputError(f"{path}: a label map has one value per voxel, this has "
                              f"{image.GetNumberOfComponentsPerPixel()}")
    out = resample_labels(image, reference)
    if not out.any() and sitk.GetArrayViewFromImage(image).any():
        raise MaskAlignmentError(
            f"{path}: the mask does not overlap the image (mask covers {_image_extent(image)}; "
            f"image covers {_volume_extent(reference)}); check that both belong to the same series "
            "and frame of reference")
    return out


def present_labels(path: str | os.PathLike[str]) -> list[int]:
    """Non-zero label values in the mask file (in its own grid)."""
    return [int(v) for v in np.unique(sitk.GetArrayFromImage(read_label_image(path))) if v]


def load_mask(path: str | os.PathLike[str], reference: Volume, label: int | None = None) -> np.ndarray:
    """Boolean mask (z, y, x) of ``label`` (any non-zero voxel when ``None``) on ``reference``'s grid."""
    labels = load_label_map(path, reference)
    if label is None:
        return labels != 0
    mask = labels == label
    if not mask.any():
        present = present_labels(path)
        if label not in present:
            raise MaskAlignmentError(
                f"{path}: label {label} is not in this mask (labels present: "
                f"{', '.join(map(str, present)) or 'none'}); choose one of those")
        raise MaskAlignmentError(
            f"{path}: label {label} lies entirely outside the image grid; check the pairing of "
            "mask and image")
    return mask
