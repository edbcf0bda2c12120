"""Burden outlines (and any liver / tumour label array on a series' grid) as DICOM SEG and NIfTI.

The outlines of the semi-quantitative HTB are a ``(z, y, x)`` label array on the loaded grid of one
series (:data:`~response_tool.burden.outline.LIVER_LABEL` 1 = liver, ``TUMOUR_LABEL`` 2 = tumour
inside it). As a SEG (highdicom, BINARY) they are two segments that **overlap**, as a liver and its
tumours do: segment 1 "Liver" is liver ∪ tumour (SCT 10200004, anatomical structure), segment 2
"Liver tumour" the tumour (SCT 108369006 Tumor, morphologically abnormal structure). Frames are
written from the first outlined slice to the last (the slices between too, empty: a regular
grid of frames), each referencing its acquired source image. The NIfTI is the
label array itself on the series' geometry (labels 1, 2 as drawn).
"""

from __future__ import annotations

import copy
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from response_tool.domain.errors import ResponseToolError

from .images import ImageIndex

LIVER, TUMOUR = 1, 2



def _descriptions(with_tumour: bool = True) -> list[Any]:
    import highdicom as hd
    from pydicom.sr.codedict import codes

    algo = hd.seg.SegmentAlgorithmTypeValues.MANUAL
    found = [
        hd.seg.SegmentDescription(1, "Liver", codes.SCT.AnatomicalStructure, codes.SCT.Liver,
                                  algo),
        hd.seg.SegmentDescription(2, "Liver tumour", codes.SCT.MorphologicallyAbnormalStructure,
                                  codes.SCT.Tumor, algo),
    ]
    return found if with_tumour else found[:1]


def _source_header(ds: Any) -> Any:
    """The image header as highdicom takes it: an empty Specific Character Set (as GE writes it,
    e.g. dcmqi's CT) means the default repertoire, which is the attribute absent (PS3.3 C.12.1.1.2);
    highdicom refuses the empty value."""
    if "SpecificCharacterSet" in ds and not ds.SpecificCharacterSet:
        ds = copy.deepcopy(ds)
        del ds.SpecificCharacterSet
    return ds


def outline_slices(labels: np.ndarray) -> list[int]:
    """The slices of a label array that hold any outline."""
    return [int(z) for z in np.flatnonzero(np.asarray(labels).reshape(labels.shape[0], -1).any(1))]


def check_grid(shape_zyx: Sequence[int], series_uid: str, images: ImageIndex, what: str) -> None:
    """Refuse labels that do not lie on the loaded grid of ``series_uid``."""
    info = images.series(series_uid, what).info
    if tuple(shape_zyx) != (info.n_planes, info.rows, info.columns):
        raise ResponseToolError(f"{what} of shape {tuple(shape_zyx)} do not lie on "
                                f"series {series_uid} ({info.n_planes} x {info.rows} x "
                                f"{info.columns}); they cannot be exported on it")


def slice_images(series_uid: str, images: ImageIndex, ks: Sequence[int], what: str
                 ) -> list[tuple[Any, bool]]:
    """For each slice ``ks`` of the loaded grid of ``series_uid``: the acquired image nearest to
    it (what a SEG frame on that slice references) and whether the slice is that image's plane
    (False: an interpolated plane, where the series has a missing slice)."""
    series = images.series(series_uid, what)
    info = series.info
    normal = series.images[0].normal
    origin = np.asarray(info.origin_xyz_mm, float)
    return [images.nearest_image(series_uid, (origin + k * float(info.spacing_zyx_mm[0])
                                              * normal)[::-1], f"{what}, slice {k}") for k in ks]


def source_images(series_uid: str, images: ImageIndex, ks: Sequence[int], what: str,
                  instead: str) -> list[Any]:
    """The image headers SEG frames on slices ``ks`` reference; an interpolated plane is
    refused, saying what to do ``instead``."""
    found = slice_images(series_uid, images, ks, what)
    for k, (_, on_plane) in zip(ks, found, strict=True):
        if not on_plane:
            raise ResponseToolError(f"{what}: slice {k} of series {series_uid} is an "
                                    "interpolated plane (the series has missing slices): a SEG "
                                    f"frame needs an acquired image; {instead}")
    return [_source_header(images.header(ref.sop_instance_uid)) for ref, _ in found]


def binary_seg(sources: Sequence[Any], frames: np.ndarray, descriptions: Sequence[Any],
               description: str, series_number: int) -> Any:
    """A BINARY DICOM SEG (highdicom) of ``frames`` ((frame, rows, columns, segment) booleans, one
    frame per source image, empty frames kept) with its segments ``descriptions``."""
    import highdicom as hd
    from pydicom.uid import generate_uid

    with warnings.catch_warnings():  # the patient's name is the images' own, copied as it is
        warnings.filterwarnings("ignore", message=".*unlikely to represent the intended person")
        return hd.seg.Segmentation(
            source_images=list(sources), pixel_array=np.asarray(frames, dtype=bool),
            segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
            segment_descriptions=list(descriptions), series_instance_uid=generate_uid(),
            series_number=series_number, sop_instance_uid=generate_uid(), instance_number=1,
            manufacturer="response-tool", manufacturer_model_name="response-tool",
            software_versions="response-tool", device_serial_number="0",
            series_description=description, omit_empty_frames=False)


def outlines_seg(labels: np.ndarray, series_uid: str, images: ImageIndex, *,
                 slices: Sequence[int] | None = None, description: str = "HTB outlines",
                 with_tumour: bool = True, what: str = "burden outlines",
                 instead: str = "export it as NIfTI") -> Any:
    """A DICOM SEG dataset of ``labels`` (on the loaded grid of ``series_uid``); without
    ``with_tumour`` only the liver segment (a liver mask with no tumour)."""
    check_grid(labels.shape, series_uid, images, what)
    drawn = list(slices) if slices is not None else outline_slices(labels)
    if not drawn:
        raise ResponseToolError(f"{what} on series {series_uid} are empty; nothing to export")
    # every slice from the first outlined to the last (the empty ones too): frames on a regular
    # grid, which readers that rebuild a volume (highdicom, Slicer) need
    ks = list(range(min(drawn), max(drawn) + 1))
    sources = source_images(series_uid, images, ks, what, instead)
    frames = []
    for k in ks:
        plane = np.asarray(labels[k])
        planes = [(plane == LIVER) | (plane == TUMOUR), plane == TUMOUR]
        frames.append(np.stack(planes if with_tumour else planes[:1], axis=-1))
    return binary_seg(sources, np.asarray(frames), _descriptions(with_tumour), description, 950)


def write_nifti(labels: np.ndarray, series_uid: str, images: ImageIndex,
                path: str | os.PathLike[str]) -> Path:
    """The label array as NIfTI on the series' geometry (written to ``path``)."""
    import SimpleITK as sitk

    info = images.series(series_uid, "burden outlines").info
    img = sitk.GetImageFromArray(np.asarray(labels, dtype=np.uint8))
    img.SetSpacing(tuple(float(s) for s in info.spacing_zyx_mm[::-1]))
    img.SetOrigin(tuple(float(v) for v in info.origin_xyz_mm))
    img.SetDirection(tuple(float(v) for row in info.direction_xyz for v in row))
    sitk.WriteImage(img, str(path), useCompression=True)
    return Path(path)


def mask_labels(liver: np.ndarray, tumour: np.ndarray) -> np.ndarray:
    """The label array of a volumetric burden: 1 liver (outside the tumour), 2 tumour — the
    liver of the HTB is the union of the two, as :func:`outlines_seg` writes segment 1."""
    labels = np.zeros(np.shape(liver), np.uint8)
    labels[np.asarray(liver, bool)] = LIVER
    labels[np.asarray(tumour, bool)] = TUMOUR
    return labels


def _nifti_bytes(labels: np.ndarray, volume: Any, suffix: str) -> bytes:
    """The label array as NIfTI (``suffix`` .nii or .nii.gz) on the geometry of ``volume``."""
    import SimpleITK as sitk

    img = sitk.GetImageFromArray(np.asarray(labels, dtype=np.uint8))
    volume.copy_geometry_to(img)
    with tempfile.TemporaryDirectory(prefix="response-tool-") as tmp:
        path = Path(tmp) / f"labels{suffix}"
        sitk.WriteImage(img, str(path), useCompression=suffix.endswith(".gz"))
        return path.read_bytes()


def write_burden_masks(labels: np.ndarray, volume: Any, image_path: str | os.PathLike[str], *,
                       seg: Path | None = None, nifti: Path | None = None,
                       with_tumour: bool = True) -> list[Path]:
    """The masks a volumetric ``burden`` measured, as a DICOM SEG referencing the series'
    images (``seg``) and / or a NIfTI label map (``nifti``), written as a set: both or neither.

    ``volume`` is the loaded image (``labels`` lie on its grid); the SEG needs it to be a DICOM
    series (``image_path`` is scanned for its images). The paths are checked by the caller."""
    from response_tool.io.output import FileSet

    seg_ds = None
    if seg is not None:
        if volume.series is None:
            raise ResponseToolError(f"--seg {seg}: the image {image_path} is not DICOM, and a "
                                    "DICOM SEG references the DICOM images it lies on; give the "
                                    "DICOM series as --image, or write the masks with --nifti")
        seg_ds = outlines_seg(labels, volume.series.series_instance_uid, ImageIndex(image_path),
                              description="HTB masks (volumetric)", with_tumour=with_tumour,
                              what=f"--seg {seg}", instead="drop --seg and write the masks "
                              "with --nifti (nothing was written)")
    nifti_data = (_nifti_bytes(labels, volume, ".nii.gz" if nifti.name.endswith(".gz")
                               else ".nii") if nifti is not None else None)
    with FileSet() as files:  # both or neither
        if seg is not None:
            with files.open(seg, "wb") as fh:
                seg_ds.save_as(fh, enforce_file_format=True)
        if nifti is not None:
            with files.open(nifti, "wb") as fh:
                fh.write(nifti_data)
    return [p for p in (seg, nifti) if p is not None]
