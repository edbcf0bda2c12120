"""Volumes to napari layer data (no Qt here; testable without a viewer).

napari speaks z, y, x; the core's :class:`~response_tool.io.Volume` keeps ``spacing_zyx_mm`` and
``origin_xyz_mm`` (patient LPS). The conversion happens once, here: an axis-aligned axial series gets
``scale`` = spacing and ``translate`` = origin (so lengths drawn on the layer are millimetres and the
arterial and portal-venous series of a study overlay in patient space); any other orientation gets the
full ``affine``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

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


def layer_name(volume: Volume) -> str:
    info = volume.series
    if info is None:
        return "image"
    date = info.study_date.isoformat() if info.study_date else "undated"
    return f"{date} {info.phase.phase}"


def volume_layer_data(
    volume: Volume, *, window: str = DEFAULT_WINDOW, name: str | None = None
) -> tuple[np.ndarray, dict[str, Any], str]:
    """napari ``LayerDataTuple`` for one loaded series, in millimetres, with a CT window (an MR
    series gets the automatic window of :func:`auto_window`)."""
    preset = window_for(volume, window)
    info = volume.series
    metadata: dict[str, Any] = {
        "response_tool": {
            "series_instance_uid": info.series_instance_uid if info else None,
            "study_instance_uid": info.study_instance_uid if info else None,
            "phase": info.phase.phase if info else None,
            "phase_evidence": list(info.phase.evidence) if info else [],
            "series_description": info.description if info else None,
            "spacing_zyx_mm": tuple(float(s) for s in volume.spacing_zyx_mm),
            "warnings": list(volume.warnings),
            "modality": getattr(info, "modality", None) if info else None,
            "window": preset.name,
            "study_date": info.study_date.isoformat() if info and info.study_date else None,
        }
    }
    kwargs: dict[str, Any] = {
        "name": name or layer_name(volume),
        "colormap": "gray",
        "contrast_limits": preset.contrast_limits,
        "metadata": metadata,
        "units": ("mm", "mm", "mm"),  # the scale bar reads millimetres
        **placement_kwargs(volume),
    }
    return volume.array, kwargs, "image"
