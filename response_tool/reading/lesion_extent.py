"""The lesion in 3-D, from its section on the clicked slice (:mod:`.click_segmentation`).

On the slices above and below, each section is seeded by the one before: the flood level is
measured again on that slice, from the section before, when the lesion floods a neighbour there
(a vessel or organ it touches on that slice only), and the section grows no more than
``GROW_PER_SLICE_MM`` from the one before nor far beyond the clicked one's outline (a reader
clicks a lesion where it looks largest). Thin slices are followed every ``Z_STEP_MM``, the
slices between filled from the two around them, and a large lesion on coarser pixels: a click on
a 512 x 512 x 300 CT stays under half a second (benchmarks/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from .click_segmentation import (
    EDGE_BACK_OFF,
    MIN_CONTRAST_NOISE,
    SliceSegmentation,
    _binned,
    _edge_region,
    _Extent,
    _flood_level,
    _flooding,
    _radius_mm,
    _seeded,
    _within,
    segment_slice,
)

#: A lesion's section grows at most this much (mm) from one slice to the next (or half a slice
#: thickness, if larger: a sphere's section grows by less than that near its largest one).
GROW_PER_SLICE_MM = 1.5
#: Slices are followed every this many mm (the ones between filled from them), and a lesion of
#: at least ``BIN_ABOVE_MM`` radius on pixels ``BIN_FACTOR`` times coarser (while they stay at
#: most ``BIN_MAX_PIXEL_MM``): speed on thin slices and large lesions, for a section's edge
#: within one coarse pixel.
Z_STEP_MM = 3.0
BIN_FACTOR, BIN_ABOVE_MM, BIN_MAX_PIXEL_MM = 2, 12.0, 1.6
#: Sections above and below stay within the clicked one's outline grown by this much (mm, or
#: this share of its equivalent radius if more).
CAP_MM, CAP_SHARE = 3.0, 0.3
#: The 3-D search stops this far (multiples of the clicked section's equivalent radius) above and
#: below the click.
Z_REACH = 2.5


@dataclass(frozen=True)
class ClickSegmentation:
    """The lesion in 3-D: ``mask`` (bool, z y x) at ``offset_zyx`` of the series, and the figures
    its confidence is judged from."""

    mask: np.ndarray
    offset_zyx: tuple[int, int, int]
    seed_zyx: tuple[int, int, int]
    clicked: SliceSegmentation
    band: tuple[float, float]
    stopped_by_box: bool


def _unbinned(mask: np.ndarray, factor: int, shape: tuple[int, int]) -> np.ndarray:
    if factor == 1:
        return mask
    return np.repeat(np.repeat(mask, factor, axis=0), factor, axis=1)[:shape[0], :shape[1]]


def _propagate(volume: np.ndarray, z0: int, first: np.ndarray, box: tuple[slice, slice],
               clicked: SliceSegmentation, pixel_yx: np.ndarray, dz_mm: float, reach: int
               ) -> dict[int, np.ndarray]:
    """The lesion's sections on the slices above and below ``z0``.

    Every ``Z_STEP_MM`` (and on the last slices) the flood level is measured again from the
    section before, so a neighbour that touches the lesion on that slice floods it there; the
    region is no larger than that section grown by ``GROW_PER_SLICE_MM`` per slice. The slices
    between are the band within the two sections around them. A large lesion is followed on
    pixels ``BIN_FACTOR`` times coarser (its sections then have that resolution; the clicked
    one keeps the image's)."""
    radius = _radius_mm(first, pixel_yx)
    factor = BIN_FACTOR if radius >= BIN_ABOVE_MM and float(pixel_yx.max()) * BIN_FACTOR <= \
        BIN_MAX_PIXEL_MM else 1
    pix = pixel_yx * factor
    sigma = tuple(s / factor for s in clicked.smooth_px)
    shape = (box[0].stop - box[0].start, box[1].stop - box[1].start)
    cache: dict[int, np.ndarray] = {}

    def smooth_at(z: int) -> np.ndarray:
        if z not in cache:
            cache[z] = ndi.gaussian_filter(_binned(volume[z][box], factor), sigma)
        return cache[z]

    band = (1.0 - EDGE_BACK_OFF) * clicked.contrast
    start = _binned(first.astype(np.float32), factor) >= 0.5 if factor > 1 else first
    # no section reaches far beyond the clicked one's outline (a reader clicks a lesion where it
    # looks largest): what does is a neighbour the lesion touches on that slice
    cap = _within(start, max(CAP_MM, CAP_SHARE * radius), pix)
    step_z = max(1, int(round(Z_STEP_MM / dz_mm)))
    grow = max(GROW_PER_SLICE_MM * step_z, 0.5 * dz_mm * step_z, float(pix.max()))
    found: dict[int, np.ndarray] = {z0: start}
    for direction in (-1, 1):
        previous, z = start, z0 + direction * step_z
        while 0 <= z < volume.shape[0] and abs(z - z0) <= reach:
            smooth = smooth_at(z)
            seeds = previous & (np.abs(smooth - clicked.lesion_level) <= clicked.contrast)
            if not seeds.any():
                break
            # the clicked slice's contrast holds unless the lesion floods a neighbour here
            flood: float | None = clicked.contrast
            at_contrast = _seeded(np.abs(smooth - clicked.lesion_level) <= clicked.contrast, seeds)
            # (thin bridges are cut by the limit to the section before, not judged again)
            if at_contrast is None or _flooding(at_contrast, seeds, _Extent.of(previous),
                                                clicked.contrast, clicked.noise, pix, False)[0]:
                flood, _ = _flood_level(smooth, seeds, clicked.lesion_level, clicked.noise,
                                        pix, below=clicked.contrast, bridges=False)
            if flood is None or flood < MIN_CONTRAST_NOISE * clicked.noise:
                break
            region = _edge_region(smooth, seeds, clicked.lesion_level, min(flood, clicked.contrast),
                                  pix)
            if region is None:
                break
            region &= _within(previous, grow, pix) & cap
            if region.sum() < 2:
                break
            found[z] = region
            previous, z = region, z + direction * step_z
    # the slices between two followed ones: the band within their union
    done = sorted(found)
    for a, b in zip(done, done[1:], strict=False):
        union = found[a] | found[b]
        for z in range(a + 1, b):
            between = union & (np.abs(smooth_at(z) - clicked.lesion_level) <= band)
            found[z] = ndi.binary_fill_holes(between)
    out = {z: _unbinned(m, factor, shape) for z, m in found.items() if m.any()}
    out[z0] = first
    return out


def segment_lesion(array: np.ndarray, spacing_zyx_mm: tuple[float, float, float],
                   seed_zyx: tuple[int, int, int]) -> ClickSegmentation:
    """The lesion at voxel ``seed_zyx`` of a (z, y, x) array, in 3-D."""
    z0, sy, sx = seed_zyx
    pix = np.asarray(spacing_zyx_mm[1:], float)
    clicked = segment_slice(array[z0], (sy, sx), tuple(pix))  # type: ignore[arg-type]
    box = clicked.box
    # a box around the clicked section, wide enough for a section that grows above or below it
    radius = _radius_mm(clicked.region, pix)
    ys, xs = np.nonzero(clicked.region)
    margin = [int(np.ceil(max(10.0, radius) / p)) for p in pix]
    y0 = max(box[0].start + ys.min() - margin[0], 0)
    y1 = min(box[0].start + ys.max() + margin[0] + 1, array.shape[1])
    x0 = max(box[1].start + xs.min() - margin[1], 0)
    x1 = min(box[1].start + xs.max() + margin[1] + 1, array.shape[2])
    inner = (slice(y0, y1), slice(x0, x1))
    first = np.zeros((y1 - y0, x1 - x0), bool)
    first[box[0].start - y0 + ys, box[1].start - x0 + xs] = True
    band = (clicked.lesion_level - (1.0 - EDGE_BACK_OFF) * clicked.contrast,
            clicked.lesion_level + (1.0 - EDGE_BACK_OFF) * clicked.contrast)
    reach = int(np.ceil(Z_REACH * max(radius, 2.0) / float(spacing_zyx_mm[0])))
    sections = _propagate(array, z0, first, inner, clicked, pix, float(spacing_zyx_mm[0]), reach)
    zs = sorted(sections)
    empty = np.zeros_like(first)
    mask = np.stack([sections.get(z, empty) for z in range(zs[0], zs[-1] + 1)])
    stopped = bool(abs(zs[0] - z0) >= reach or abs(zs[-1] - z0) >= reach)
    return ClickSegmentation(mask, (zs[0], y0, x0), (z0, sy, sx), clicked, band, stopped)


__all__ = ["ClickSegmentation", "segment_lesion"]
