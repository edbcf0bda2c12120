"""A mask (DICOM SEG, NIfTI, NRRD) opened as a labels layer on the series it belongs to.

The core aligns the mask onto the series' grid by physical coordinates
(:func:`response_tool.io.masks.read_label_map`: a SEG with overlapping segments — a tumour inside
its liver — is read per segment), and the layer gets the series' own placement, so the labels lie
on the image voxel for voxel. Which image layer: the one of the series a SEG references, else the
one given, else the selected or first image layer. Qt-free apart from the viewer it is given.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from response_tool.domain.errors import ResponseToolError
from response_tool.io.masks import read_label_map

from ._layers import META, ImageRecord, placement_kwargs

#: the outline width (screen pixels) a mask opens with (0: the segments filled)
CONTOUR_PX = 2


def referenced_series(path: str | os.PathLike[str]) -> str | None:
    """The series a DICOM SEG was drawn on (None: not a SEG, or it does not say)."""
    import pydicom

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True,
                             specific_tags=["Modality", "ReferencedSeriesSequence"])
    except Exception:  # not DICOM (NIfTI, NRRD): no reference to follow
        return None
    refs = ds.get("ReferencedSeriesSequence") or []
    return str(refs[0].SeriesInstanceUID) if ds.get("Modality") == "SEG" and refs else None


def _image_layers(viewer: Any) -> list[Any]:
    """Image layers loaded from DICOM with their volume (however they were opened)."""
    return [layer for layer in viewer.layers
            if (record := ImageRecord.of(layer)) is not None and record.volume is not None]


def _series_uid(image_layer: Any) -> str | None:
    record = ImageRecord.of(image_layer)
    return record.series_instance_uid if record is not None else None


def series_shown(viewer: Any, series_uid: str | None) -> bool:
    """Whether an image layer of the series is in the viewer."""
    return series_uid is not None and any(
        _series_uid(x) == series_uid for x in _image_layers(viewer))


MASK_FILTER = "Masks (*.dcm *.nii *.nii.gz *.nrrd *.seg.nrrd);;All files (*)"


def mask_layer_data(path: str | os.PathLike[str], image_layer: Any) -> tuple[Any, dict, str]:
    """napari ``LayerDataTuple`` of the mask at ``path`` on ``image_layer``'s series."""
    record = ImageRecord.of(image_layer)
    if record is None or record.volume is None:
        raise ResponseToolError(f"{path}: {image_layer.name} is not a series loaded from DICOM; "
                                "open the mask on one (the Patient panel or File ▸ Open)")
    volume = record.volume
    lm = read_label_map(path, volume, coverage=False)
    kwargs = {"name": f"{Path(path).name} on {image_layer.name}", "opacity": 0.5,
              "metadata": {META: {"mask": str(path), "notes": list(lm.notes),
                                  "series_instance_uid": record.series_instance_uid}},
              **placement_kwargs(volume)}
    return lm.labels, kwargs, "labels"


def open_mask(viewer: Any, path: str | os.PathLike[str], image_layer: Any = None) -> Any:
    """Add the mask at ``path`` as a labels layer on its series' image layer; returns it."""
    images = _image_layers(viewer)
    if not images:
        raise ResponseToolError(f"{path}: open its series first (no image layer to place the "
                                "mask on)")
    series = referenced_series(path)
    on_series = [x for x in images if _series_uid(x) == series]
    if image_layer is None:
        selected = [x for x in viewer.layers.selection if x in images]
        image_layer = (on_series or selected or images)[0]
    data, kwargs, _ = mask_layer_data(path, image_layer)
    kwargs["metadata"][META]["referenced_series_uid"] = series
    layer = viewer.add_labels(data, **kwargs)
    layer.contour = CONTOUR_PX  # outlines: the lesion under a segment stays visible
    layer.opacity = 0.9
    return layer


def opened_text(layer: Any) -> str:
    """The status line of a mask opened by :func:`open_mask`: where it lies, what it holds."""
    import numpy as np

    meta = layer.metadata[META]
    values = [int(v) for v in np.unique(np.asarray(layer.data)) if v]
    text = (f"{Path(meta['mask']).name}: labels {', '.join(map(str, values)) or 'none'} on "
            f"{layer.name.rsplit(' on ', 1)[-1]}.")
    ref = meta.get("referenced_series_uid")
    if ref is not None and ref != meta.get("series_instance_uid"):
        text += (f" The SEG was drawn on series {ref}, which is not open: placed on this image by "
                 "patient coordinates.")
    return " ".join([text, *meta["notes"]])
