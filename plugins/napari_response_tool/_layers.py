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
#: metastases from parenchyma; abdomen: the usual soft-tissue window.
WINDOW_PRESETS: dict[str, WindowPreset] = {
    p.name: p
    for p in (
        WindowPreset("liver", level_hu=80.0, width_hu=180.0),
        WindowPreset("abdomen", level_hu=40.0, width_hu=400.0),
        WindowPreset("bone", level_hu=400.0, width_hu=1800.0),
    )
}
DEFAULT_WINDOW = "liver"


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
    """napari ``LayerDataTuple`` for one loaded series, in millimetres, with a CT window."""
    preset = WINDOW_PRESETS[window]
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
        }
    }
    kwargs: dict[str, Any] = {
        "name": name or layer_name(volume),
        "colormap": "gray",
        "contrast_limits": preset.contrast_limits,
        "metadata": metadata,
        **placement_kwargs(volume),
    }
    return volume.array, kwargs, "image"
