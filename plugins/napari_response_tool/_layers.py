"""Volumes to napari layer data (no Qt here; testable without a viewer).

napari speaks z, y, x; the core's :class:`~response_tool.io.Volume` keeps ``spacing_zyx_mm`` and
``origin_xyz_mm`` (patient LPS). The conversion happens once, here: an axis-aligned axial series gets
``scale`` = spacing and ``translate`` = origin (so lengths drawn on the layer are millimetres and the
arterial and portal-venous series of a study overlay in patient space); any other orientation gets the
full ``affine``.

What the plugin knows of such a layer is one :class:`ImageRecord` in ``layer.metadata["response_tool"]``,
written only here (:func:`volume_layer_data`, and :func:`complete_layer` once a series loaded
slice-first is whole) and read back with :meth:`ImageRecord.of`. The File ▸ Open reader and the
Patient panel both make their layers with :func:`volume_layer_data`, so click-to-measure, masks, the
hanging protocol, registration and the burden find a series whichever way it was opened.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from response_tool.domain.vocabulary import Phase
from response_tool.io import Volume


@dataclass(frozen=True)
class WindowPreset:
    """A CT display window (level/width in HU)."""

    name: str
    level_hu: float
    width_hu: float

    @property
    def contrast_limits(self) -> tuple[float, float]:
        return (self.level_hu - self.width_hu / 2.0, self.level_hu + self.width_hu / 2.0)


#: Display windows readers use for liver CT. Liver: narrow window to separate hypervascular
#: metastases from parenchyma; abdomen: the usual soft-tissue window; lung: for lung
#: metastases and the bases (L −600 / W 1500); bone.
WINDOW_PRESETS: dict[str, WindowPreset] = {
    p.name: p
    for p in (
        WindowPreset("liver", level_hu=80.0, width_hu=180.0),
        WindowPreset("abdomen", level_hu=40.0, width_hu=400.0),
        WindowPreset("lung", level_hu=-600.0, width_hu=1500.0),
        WindowPreset("bone", level_hu=400.0, width_hu=1800.0),
    )
}
DEFAULT_WINDOW = "liver"
#: the window of a series that is not CT (MR signal has no fixed scale): from its statistics
AUTO_WINDOW = "auto"
#: at most this many voxels are sampled for the automatic window
_AUTO_SAMPLE = 1_000_000


def auto_window(array: np.ndarray) -> WindowPreset:
    """A window from the series' own statistics (for MR): the 1st to 99.5th percentile of the
    voxels above the background (below a tenth of the 99.5th percentile: air, outside the body)."""
    flat = np.asarray(array).ravel()
    sample = flat[:: max(1, flat.size // _AUTO_SAMPLE)].astype(np.float64)
    if sample.size == 0 or not np.isfinite(sample).any():
        return WindowPreset(AUTO_WINDOW, 0.0, 1.0)
    sample = sample[np.isfinite(sample)]
    top = float(np.percentile(sample, 99.5))
    body = sample[sample > top / 10.0] if top > 0 else sample
    lo, hi = (float(v) for v in np.percentile(body if body.size else sample, [1.0, 99.5]))
    if hi <= lo:
        hi = lo + 1.0
    return WindowPreset(AUTO_WINDOW, level_hu=(lo + hi) / 2.0, width_hu=hi - lo)


def is_ct(volume: Volume) -> bool:
    """Whether the series is CT (fixed Hounsfield windows apply); unknown counts as CT."""
    info = volume.series
    return info is None or (getattr(info, "modality", "") or "CT").upper() == "CT"


def window_for(volume: Volume, name: str = DEFAULT_WINDOW) -> WindowPreset:
    """The CT preset ``name`` for a CT series; the automatic window for MR and others."""
    return WINDOW_PRESETS[name] if is_ct(volume) and name in WINDOW_PRESETS \
        else auto_window(volume.array)


def _is_axis_aligned_identity(direction_xyz: np.ndarray, tol: float = 1e-4) -> bool:
    return bool(np.allclose(np.asarray(direction_xyz, dtype=float), np.eye(3), atol=tol))


def placement_kwargs(volume: Volume) -> dict[str, Any]:
    """``scale``/``translate`` (or ``affine``) that put ``volume`` in patient millimetres (z, y, x)."""
    spacing_zyx = np.asarray(volume.spacing_zyx_mm, dtype=float)
    origin_zyx = np.asarray(volume.origin_xyz_mm, dtype=float)[::-1]
    if _is_axis_aligned_identity(volume.direction_xyz):
        return {"scale": tuple(spacing_zyx), "translate": tuple(origin_zyx)}
    # General orientation: physical_xyz = origin + D @ diag(spacing_xyz) @ index_xyz, in zyx order.
    d_zyx = np.asarray(volume.direction_xyz, dtype=float)[::-1, ::-1]
    affine = np.eye(4)
    affine[:3, :3] = d_zyx @ np.diag(spacing_zyx)
    affine[:3, 3] = origin_zyx
    return {"affine": affine}


#: the key of the plugin's record in a layer's ``metadata``
META = "response_tool"
#: a series whose loader warned (missing slices resampled, tilt, …) is marked in its layer name
WARNED = "⚠"
#: stacking order of the phases in the layer list (the last layer added is drawn on top:
#: arterial above portal-venous; other phases below both, in the order given)
_STACKING = {Phase.PORTAL_VENOUS: 0, Phase.ARTERIAL: 1}


def stacking_key(phase: str | None) -> int:
    """Sort key that stacks the series of a study as both loaders do (arterial on top)."""
    return _STACKING.get(phase, -1)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ImageRecord:
    """What the plugin knows of an image layer loaded from DICOM (its series, study and phase; the
    loaded :class:`~response_tool.io.Volume` that click-to-measure, masks and registration work
    on), stored as a dict under ``layer.metadata["response_tool"]`` (:meth:`to_metadata`; the
    keys are the field names). Written only by :func:`volume_layer_data` and
    :func:`complete_layer`; read with :meth:`of`.

    Two records are equal when they describe the same series the same way; the volume is not
    compared (it is the same series' voxels, and arrays have no single truth value)."""

    series_instance_uid: str | None
    study_instance_uid: str | None
    #: the contrast phase (``Phase``; the reader's override when one was set in the Patient panel)
    phase: str | None
    phase_evidence: tuple[str, ...]
    series_description: str | None
    modality: str | None
    #: the study date (ISO), which names the read's time point
    study_date: str | None
    spacing_zyx_mm: tuple[float, float, float]
    #: what every number measured on this series must carry (``Volume.warnings``)
    warnings: tuple[str, ...]
    #: the window preset the layer opened with (``auto`` for MR)
    window: str
    #: only the displayed slice is in yet (the Patient panel's slice-first load): nothing
    #: measures or registers on it until :func:`complete_layer`
    partial: bool = False
    volume: Volume | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of_volume(cls, volume: Volume, window: str, *, partial: bool = False) -> ImageRecord:
        """The record of a loaded series (``window``: the preset name it is shown with)."""
        info = volume.series
        return cls(
            series_instance_uid=info.series_instance_uid if info else None,
            study_instance_uid=info.study_instance_uid if info else None,
            phase=info.phase.phase if info else None,
            phase_evidence=tuple(info.phase.evidence) if info else (),
            series_description=info.description if info else None,
            modality=getattr(info, "modality", None) if info else None,
            study_date=info.study_date.isoformat() if info and info.study_date else None,
            spacing_zyx_mm=tuple(float(s) for s in volume.spacing_zyx_mm),  # type: ignore[arg-type]
            warnings=tuple(volume.warnings),
            window=window,
            partial=partial,
            volume=volume,
        )

    @property
    def is_ct(self) -> bool:
        """CT (fixed Hounsfield windows apply); an unknown modality counts as CT."""
        return (self.modality or "CT").upper() == "CT"

    def to_metadata(self) -> dict[str, Any]:
        """The dict stored under ``layer.metadata["response_tool"]`` (sequences as lists)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["phase_evidence"] = list(self.phase_evidence)
        out["warnings"] = list(self.warnings)
        return out

    @classmethod
    def from_metadata(cls, meta: Mapping[str, Any]) -> ImageRecord | None:
        """The record stored as ``meta`` (None when ``meta`` is not an image record: a mask's
        metadata, or a layer the plugin did not make)."""
        names = [f.name for f in dataclasses.fields(cls)]
        if not isinstance(meta, Mapping) or any(n not in meta for n in names):
            return None
        values = {n: meta[n] for n in names}
        values["phase_evidence"] = tuple(values["phase_evidence"])
        values["warnings"] = tuple(values["warnings"])
        values["spacing_zyx_mm"] = tuple(float(v) for v in values["spacing_zyx_mm"])
        values["partial"] = bool(values["partial"])
        return cls(**values)

    @classmethod
    def of(cls, layer: Any) -> ImageRecord | None:
        """The record of an image layer loaded from DICOM, or None for any other layer."""
        if layer.__class__.__name__ != "Image":
            return None
        return cls.from_metadata(getattr(layer, "metadata", {}).get(META, {}))


def layer_name(volume: Volume) -> str:
    """``<study date> <phase>``, marked ⚠ when the loader warned."""
    info = volume.series
    if info is None:
        name = "image"
    else:
        date = info.study_date.isoformat() if info.study_date else "undated"
        name = f"{date} {info.phase.phase}"
    return f"{name} {WARNED}" if volume.warnings else name


def volume_layer_data(
    volume: Volume, *, window: str = DEFAULT_WINDOW, name: str | None = None,
    partial: bool = False,
) -> tuple[np.ndarray, dict[str, Any], str]:
    """napari ``LayerDataTuple`` for one loaded series, in millimetres, with a CT window (an MR
    series gets the automatic window of :func:`auto_window`) and its :class:`ImageRecord` in the
    metadata. The one maker of image layers: the File ▸ Open reader and the Patient panel both
    call it. ``partial``: ``volume`` holds only the displayed slice so far."""
    preset = window_for(volume, window)
    record = ImageRecord.of_volume(volume, preset.name, partial=partial)
    kwargs: dict[str, Any] = {
        "name": name or layer_name(volume),
        "colormap": "gray",
        "contrast_limits": preset.contrast_limits,
        "metadata": {META: record.to_metadata()},
        "units": ("mm", "mm", "mm"),  # the scale bar reads millimetres
        **placement_kwargs(volume),
    }
    return volume.array, kwargs, "image"


def complete_layer(layer: Any, volume: Volume) -> ImageRecord:
    """The whole series ``volume`` in place of the displayed slice ``layer`` was opened with (by
    :func:`volume_layer_data` with ``partial=True``): its data, and its record now complete."""
    before = ImageRecord.of(layer)
    window = before.window if before is not None else DEFAULT_WINDOW
    record = ImageRecord.of_volume(volume, window)
    layer.metadata[META] = record.to_metadata()  # first: whoever hears of the new data sees it whole
    layer.data = volume.array
    return record
