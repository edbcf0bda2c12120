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

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from response_tool.domain.errors import ResponseToolError

from .images import ImageIndex

LIVER, TUMOUR = 1, 2


def _descriptions() -> list[Any]:
    import highdicom as hd
    from pydicom.sr.codedict import codes

    algo = hd.seg.SegmentAlgorithmTypeValues.MANUAL
    return [
        hd.seg.SegmentDescription(1, "Liver", codes.SCT.AnatomicalStructure, codes.SCT.Liver,
                                  algo),
        hd.seg.SegmentDescription(2, "Liver tumour", codes.SCT.MorphologicallyAbnormalStructure,
                                  codes.SCT.Tumor, algo),
    ]


def outline_slices(labels: np.ndarray) -> list[int]:
    """The slices of a label array that hold any outline."""
    return [int(z) for z in np.flatnonzero(np.asarray(labels).reshape(labels.shape[0], -1).any(1))]


def outlines_seg(labels: np.ndarray, series_uid: str, images: ImageIndex, *,
                 slices: Sequence[int] | None = None, description: str = "HTB outlines") -> Any:
    """A DICOM SEG dataset of ``labels`` (on the loaded grid of ``series_uid``)."""
    import highdicom as hd
    from pydicom.uid import generate_uid

    series = images.series(series_uid, "burden outlines")
    info = series.info
    if tuple(labels.shape) != (info.n_planes, info.rows, info.columns):
        raise ResponseToolError(f"burden outlines of shape {tuple(labels.shape)} do not lie on "
                                f"series {series_uid} ({info.n_planes} x {info.rows} x "
                                f"{info.columns}); they cannot be exported on it")
    drawn = list(slices) if slices is not None else outline_slices(labels)
    if not drawn:
        raise ResponseToolError(f"burden outlines on series {series_uid} are empty; nothing to "
                                "export")
    # every slice from the first outlined to the last (the empty ones too): frames on a regular
    # grid, which readers that rebuild a volume (highdicom, Slicer) need
    ks = list(range(min(drawn), max(drawn) + 1))
    normal = series.images[0].normal
    origin = np.asarray(info.origin_xyz_mm, float)
    sources, frames = [], []
    for k in ks:
        point_xyz = origin + k * float(info.spacing_zyx_mm[0]) * normal
        ref, on_plane = images.nearest_image(series_uid, point_xyz[::-1], f"outline slice {k}")
        if not on_plane:
            raise ResponseToolError(f"burden outline slice {k} of series {series_uid} is an "
                                    "interpolated plane (the series has missing slices): a SEG "
                                    "frame needs an acquired image; export it as NIfTI")
        sources.append(images.header(ref.sop_instance_uid))
        plane = np.asarray(labels[k])
        frames.append(np.stack([(plane == LIVER) | (plane == TUMOUR), plane == TUMOUR], axis=-1))
    return hd.seg.Segmentation(
        source_images=sources, pixel_array=np.asarray(frames, dtype=bool),
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=_descriptions(), series_instance_uid=generate_uid(),
        series_number=950, sop_instance_uid=generate_uid(), instance_number=1,
        manufacturer="response-tool", manufacturer_model_name="response-tool",
        software_versions="response-tool", device_serial_number="0",
        series_description=description, omit_empty_frames=False)


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
