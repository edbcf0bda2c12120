"""The attenuation (HU) of a structure, and where it was measured: :class:`RegionHU`, from a mask
(:func:`region_hu`) or found automatically (:func:`find_aorta`, :func:`find_liver`; the search on
each slice is in :mod:`response_tool.io.phase_regions`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .phase_regions import MAX_SLICES, _aorta_on_slice, _Found, _liver_on_slice


@dataclass(frozen=True)
class RegionHU:
    """The attenuation of one structure, and where it was measured."""

    name: str                    # "aorta", "portal vein", "liver"
    median_hu: float
    mean_hu: float
    sd_hu: float
    n_voxels: int
    slices: tuple[int, ...]      # slice indices (z) it was measured on
    where: str                   # how it was found and where (rows / columns on the first slice)
    #: where it was measured: (slice, row, column) of its centre (voxel indices; for several
    #: slices, on the first)
    centre_zyx: tuple[float, float, float] | None = None

    def text(self) -> str:
        on = (f"slice {self.slices[0]}" if len(self.slices) == 1
              else f"{len(self.slices)} slices ({self.slices[0]}–{self.slices[-1]})")
        return (f"{self.name} {self.median_hu:.0f} HU (median; mean {self.mean_hu:.0f}, "
                f"SD {self.sd_hu:.0f}, {self.n_voxels} voxels on {on}; {self.where})")


# -- measuring ------------------------------------------------------------------------------------
def _region(name: str, found: Sequence[_Found]) -> RegionHU:
    values = np.concatenate([f.values for f in found]).astype(np.float64)
    first = min(found, key=lambda f: f.z)
    where = first.how + (f" (slice {first.z}" + (f" and {len(found) - 1} more)"
                                                 if len(found) > 1 else ")"))
    return RegionHU(name, float(np.median(values)), float(values.mean()), float(values.std()),
                    int(values.size), tuple(sorted(f.z for f in found)), where,
                    (float(first.z), *first.centre))


def _consistent(found: list[_Found], spacing_yx: Sequence[float], tolerance_mm: float
                ) -> list[_Found]:
    """Keep the findings near the median position (a vessel or an organ moves little from slice
    to slice; an odd one out is something else)."""
    if len(found) < 3:
        return found
    dy, dx = spacing_yx
    rows = np.median([f.centre[0] for f in found])
    cols = np.median([f.centre[1] for f in found])
    return [f for f in found
            if math.hypot((f.centre[0] - rows) * dy, (f.centre[1] - cols) * dx) <= tolerance_mm]


def region_hu(volume_hu: np.ndarray, mask: np.ndarray, name: str,
              where: str = "given mask") -> RegionHU | None:
    """The attenuation of ``volume_hu`` inside ``mask`` (same shape); None if the mask is empty."""
    volume_hu = np.asarray(volume_hu)
    mask = np.asarray(mask).astype(bool)
    if mask.shape != volume_hu.shape:
        raise ValueError(f"{name} mask {mask.shape} is not on the image grid {volume_hu.shape}")
    if not mask.any():
        return None
    values = volume_hu[mask].astype(np.float64)
    index = np.nonzero(mask)
    z = np.unique(index[0])
    centre = tuple(float(np.mean(i)) for i in index)
    return RegionHU(name, float(np.median(values)), float(values.mean()), float(values.std()),
                    int(values.size), tuple(int(v) for v in z), where,
                    centre)  # type: ignore[arg-type]


def _slices(n: int, limit: int = MAX_SLICES) -> list[int]:
    if n <= limit:
        return list(range(n))
    return sorted({int(round(v)) for v in np.linspace(0, n - 1, limit)})


def find_aorta(volume_hu: np.ndarray, spacing_zyx_mm: Sequence[float],
               max_slices: int = MAX_SLICES) -> RegionHU | None:
    """The aorta's attenuation, found automatically on (up to ``max_slices``) axial slices;
    None when no slice shows it (no spine, or no round structure beside it)."""
    volume_hu = np.asarray(volume_hu)
    spacing_yx = (float(spacing_zyx_mm[1]), float(spacing_zyx_mm[2]))
    found = [f for z in _slices(volume_hu.shape[0], max_slices)
             if (f := _aorta_on_slice(volume_hu[z], z, spacing_yx)) is not None]
    found = _consistent(found, spacing_yx, 20.0)
    return _region("aorta", found) if found else None


def find_liver(volume_hu: np.ndarray, spacing_zyx_mm: Sequence[float],
               max_slices: int = MAX_SLICES) -> RegionHU | None:
    """The liver's attenuation (median over its homogeneous part, lesions mostly excluded by the
    band and the median), found automatically; None when no slice shows it."""
    volume_hu = np.asarray(volume_hu)
    spacing_yx = (float(spacing_zyx_mm[1]), float(spacing_zyx_mm[2]))
    found = [f for z in _slices(volume_hu.shape[0], max_slices)
             if (f := _liver_on_slice(volume_hu[z], z, spacing_yx)) is not None]
    found = _consistent(found, spacing_yx, 60.0)
    return _region("liver", found) if found else None


__all__ = ["RegionHU", "find_aorta", "find_liver", "region_hu"]
