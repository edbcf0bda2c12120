"""One click inside a lesion → its section on the clicked slice, on real CT and MR.

The method (measured on real lesions against expert outlines: ``benchmarks/bench_measure_real.py``;
docs/reading.md says what else was tried and how it did):

1. **The lesion's level and the image's noise**: the smoothed intensity at the click
   (``SMOOTH_MM`` Gaussian) and the noise of the raw slice around it (median absolute deviation
   of the pixel-to-neighbourhood residual). Nothing assumes Hounsfield units: every threshold
   below is in units of that noise or of the lesion's own contrast, so MR works as CT.
2. **The surroundings' level, from the click outwards** (a component-tree sweep, as in
   maximally stable extremal regions, Matas et al. 2002, and the region growing with leakage
   detection of Moltz et al. 2009): the region of tissue within ±d of the lesion's level,
   connected to the click (holes filled), grows as d grows; it stays the lesion while d is below
   the contrast to the tissue around it, and **floods** the surroundings once d reaches it — it
   touches the edge of the searched region, covers most of it, or jumps in size into an
   irregular shape or to one side (a thin bridge to a vessel does not count: the region is
   judged again after an opening). The d at which it floods is the lesion's contrast to its own
   surroundings, measured locally (liver, lung, muscle or brain, whichever is there) and not
   from a whole box — the cause of the earlier failures next to the chest wall and in livers
   full of metastases. The searched region starts at ``ROI_HALF_MM[0]`` and grows while the
   lesion fills it.
3. **The edge**: the region at ``1 - EDGE_BACK_OFF`` of that contrast, holes filled (necrosis,
   vessels inside; not those a one-pixel ring of partial volume encloses), opened (thin
   protrusions: vessels, spicules) and cut at its necks (distance-transform watershed) when it
   is not compact (a node against a vessel, a lesion against the bowel).

The lesion's other sections follow from this one (:mod:`.lesion_extent`). What it cannot see,
it says: a contrast to the surroundings below ``MIN_CONTRAST_NOISE`` noise units is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from response_tool.domain.errors import ResponseToolError

#: Smoothing before the sweep (mm, Gaussian sigma): removes pixel noise, keeps a 5 mm lesion.
SMOOTH_MM = 1.0
#: Half-widths (mm, in-plane) of the region searched, tried in turn while the lesion fills most
#: of it: small lesions are found in a small region, a 12 cm mass in the last.
ROI_HALF_MM = (50.0, 110.0)
#: The sweep runs on pixels binned to at most this many a side.
SWEEP_MAX_PX = 240
#: The lesion "fills" the searched region when it covers this share of it (it needs room around
#: it to show where it floods): search a larger one.
ROI_FULL_SHARE = 0.05
#: The region floods its surroundings when it covers this share of the searched region.
FLOOD_SHARE = 0.25
#: ...or grows this many times at one step of the sweep into an irregular shape (solidity below
#: ``FLOOD_SOLIDITY``) or to one side (its centre moving ``FLOOD_SHIFT`` of its radius): a jump
#: into a neighbour, not the steady growth of a lesion's edge nor its own parts joining.
FLOOD_JUMP = 3.0
FLOOD_SOLIDITY, FLOOD_SHIFT = 0.9, 0.35
#: The sweep's step (ratio of successive band widths, at least half a noise unit) and the
#: halvings of the last step that place the flood level between two steps.
SCAN_STEP, REFINE_STEPS = 1.15, 5
#: Jumps are judged only once the band is wider than this many noise units (below, the region is
#: noise speckle that joins up as it grows).
NOISE_REGIME = 3.0
#: The edge is placed this fraction of the contrast back from the surroundings' level (0.5 would
#: be half-contrast): a lesion's transition zone (the halo of a metastasis) is part of it, as in
#: the expert outlines the method was measured on (docs/reading.md).
EDGE_BACK_OFF = 0.3
#: Opening radius: this share of the lesion's equivalent radius, at most ``OPEN_MAX_MM``.
OPEN_SHARE, OPEN_MAX_MM = 0.25, 4.0
#: Holes adding more than this share of a region's area are checked: enclosed by a thin ring?
HOLE_GAIN = 1.5
#: A region whose area is below this share of its convex hull is cut at its necks: where they
#: are narrower than ``NECK_SHARE`` of the smaller bulge they join (both as inscribed radii).
SPLIT_SOLIDITY, NECK_SHARE = 0.85, 0.6
#: Below this contrast to its surroundings (noise units) nothing at the click stands out.
MIN_CONTRAST_NOISE = 2.5


@dataclass(frozen=True)
class SliceSegmentation:
    """The lesion on one slice: ``region`` (bool) in the slice's box ``box``, the levels found."""

    region: np.ndarray
    box: tuple[slice, slice]
    lesion_level: float
    contrast: float
    noise: float
    smooth_px: tuple[float, float]
    reached_edge: bool
    #: the raw image's pixel noise (before smoothing)
    noise_raw: float

    @property
    def contrast_to_noise(self) -> float:
        return self.contrast / self.noise if self.noise > 0 else float("inf")


def noise_level(values: np.ndarray) -> float:
    """The pixel noise of a 2-D image: the robust spread of each pixel's difference from its 3x3
    mean (edges and texture are a minority of pixels), corrected to the pixel's own noise."""
    residual = values - ndi.uniform_filter(values, 3)
    mad = float(np.median(np.abs(residual - np.median(residual))))
    # residual = x - mean of 9 (itself included): variance (8/9) sigma^2 for white noise
    return max(1.4826 * mad / np.sqrt(8.0 / 9.0), 1e-6)


def _smoothed_noise(noise: float, sigma_px: tuple[float, float]) -> float:
    """The noise left after a 2-D Gaussian of ``sigma_px``: sigma / (2 sqrt(pi) s) for white noise
    (never more than it was)."""
    s = float(np.sqrt(sigma_px[0] * sigma_px[1]))
    return noise / max(1.0, 2.0 * np.sqrt(np.pi) * s)


def _within(mask: np.ndarray, distance_mm: float, pixel_yx: np.ndarray) -> np.ndarray:
    """``mask`` dilated by a disk of ``distance_mm`` (Euclidean, in millimetres: right on
    anisotropic pixels too; one distance transform, however large the disk)."""
    if not mask.any():
        return mask
    return ndi.distance_transform_edt(~mask, sampling=pixel_yx) <= distance_mm


def _open_mm(mask: np.ndarray, radius_mm: float, pixel_yx: np.ndarray) -> np.ndarray:
    """Morphological opening by a disk of ``radius_mm``: the union of the disks that fit inside."""
    core = ndi.distance_transform_edt(mask, sampling=pixel_yx) > radius_mm
    return _within(core, radius_mm, pixel_yx) & mask


def _seeded(mask: np.ndarray, seeds: np.ndarray) -> np.ndarray | None:
    """The connected parts of ``mask`` that hold a seed (4-connected: a diagonal touch between
    two noisy pixels is no passage); None when none does."""
    labels, _ = ndi.label(mask)
    ks = np.unique(labels[seeds & mask])
    ks = ks[ks > 0]
    return None if not len(ks) else np.isin(labels, ks)


def _nearest_part(mask: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """The parts of ``mask`` holding a seed, else the one nearest to the seeds."""
    found = _seeded(mask, seeds)
    if found is not None:
        return found
    labels, _ = ndi.label(mask)
    _, (iy, ix) = ndi.distance_transform_edt(labels == 0, return_indices=True)
    sy, sx = np.argwhere(seeds)[0]
    return labels == labels[iy[sy, sx], ix[sy, sx]]


def _radius_mm(region: np.ndarray, pixel_yx: np.ndarray) -> float:
    return float(np.sqrt(region.sum() * pixel_yx.prod() / np.pi))


def _opened(region: np.ndarray, seeds: np.ndarray, pixel_yx: np.ndarray) -> np.ndarray:
    """``region`` without parts thinner than its opening disk (vessels, spicules, bridges)."""
    radius = min(OPEN_SHARE * _radius_mm(region, pixel_yx), OPEN_MAX_MM)
    if radius < float(pixel_yx.mean()):
        return region
    opened = _open_mm(region, radius, pixel_yx)
    return _nearest_part(opened, seeds) if opened.any() else region


def _solidity(region: np.ndarray) -> float:
    from skimage.morphology import convex_hull_image

    return float(region.sum()) / max(float(convex_hull_image(region).sum()), 1.0)


def _cut_at_necks(region: np.ndarray, seeds: np.ndarray, pixel_yx: np.ndarray) -> np.ndarray:
    """A region that is not compact, cut where it narrows: the watershed of the distance to its
    edge splits it into bulges; starting from the seeds' bulge, a neighbouring bulge is kept
    when the neck between them is at least ``NECK_SHARE`` as wide as the smaller of the two (a
    lobulated lesion), and cut off when narrower (a node against a vessel, a lesion against
    the bowel)."""
    if region.sum() < 30 or _solidity(region) > SPLIT_SOLIDITY:
        return region
    from skimage.morphology import h_maxima
    from skimage.segmentation import watershed

    depth = ndi.distance_transform_edt(region, sampling=pixel_yx)
    markers, n = ndi.label(h_maxima(depth, float(pixel_yx.mean())))
    if n < 2:
        return region
    basins = watershed(-depth, markers, mask=region)
    peaks = ndi.maximum(depth, basins, index=np.arange(n + 1))
    keep = set(int(k) for k in np.unique(basins[seeds & region]) if k > 0)
    if not keep:
        return region
    while True:
        kept = np.isin(basins, list(keep))
        rim = ndi.binary_dilation(kept) & region & ~kept
        added = False
        for b in (int(k) for k in np.unique(basins[rim]) if k > 0):
            neck = float(depth[rim & (basins == b)].max())
            if neck >= NECK_SHARE * min(float(peaks[b]), max(float(peaks[k]) for k in keep)):
                keep.add(b)
                added = True
        if not added:
            return ndi.binary_fill_holes(kept)


def _touches_edge(region: np.ndarray) -> bool:
    return bool(region[0].any() or region[-1].any() or region[:, 0].any() or region[:, -1].any())


@dataclass(frozen=True)
class _Extent:
    """What the sweep remembers of the region one step before: its area (pixels) and centre."""

    area: int
    centre: tuple[float, float]

    @classmethod
    def of(cls, region: np.ndarray) -> _Extent:
        ys, xs = np.nonzero(region)
        return cls(len(ys), (float(ys.mean()), float(xs.mean())) if len(ys) else (0.0, 0.0))


def _floods(region: np.ndarray, previous: _Extent | None, d: float, noise: float,
            pixel_yx: np.ndarray) -> bool:
    """The region has flooded its surroundings: it touches the edge of the searched region,
    covers ``FLOOD_SHARE`` of it, or has jumped ``FLOOD_JUMP`` times in area at one step into
    something irregular (solidity below ``FLOOD_SOLIDITY``) or off to one side (its centre moved
    by ``FLOOD_SHIFT`` of its radius: a neighbour joined, not the lesion's own parts around it)."""
    area = int(region.sum())
    if _touches_edge(region) or area > FLOOD_SHARE * region.size:
        return True
    if not (d >= NOISE_REGIME * noise and previous and previous.area > 20
            and area > FLOOD_JUMP * previous.area):
        return False
    now = _Extent.of(region)
    shift = float(np.hypot(*((np.subtract(now.centre, previous.centre)) * pixel_yx)))
    radius = float(np.sqrt(area * pixel_yx.prod() / np.pi))
    return _solidity(region) < FLOOD_SOLIDITY or shift > FLOOD_SHIFT * radius


def _flooding(region: np.ndarray, seeds: np.ndarray, previous: _Extent | None, d: float,
              noise: float, pixel_yx: np.ndarray, bridges: bool = True) -> tuple[bool, _Extent]:
    """Whether ``region`` (the band of half-width ``d`` around the seeds) floods its surroundings,
    and its extent (after the opening that judged it): a thin bridge to a neighbour is not the
    surroundings, so a flooding region is judged again once opened (``bridges`` False: not)."""
    if not _floods(region, previous, d, noise, pixel_yx):
        return False, _Extent.of(region)
    if not bridges:
        return True, _Extent.of(region)
    opened = _opened(region, seeds, pixel_yx)
    return _floods(opened, previous, d, noise, pixel_yx), _Extent.of(opened)


def _flood_level(smooth: np.ndarray, seeds: np.ndarray, level: float, noise: float,
                 pixel_yx: np.ndarray, below: float | None = None, bridges: bool = True
                 ) -> tuple[float | None, int]:
    """The band half-width d at which the seeds' region floods its surroundings (None: it never
    does within the values present), and the area it had just before: a coarse scan of d
    (``SCAN_STEP``), then halving the last step ``REFINE_STEPS`` times. Knowing it floods at
    ``below`` (another slice of the same lesion), the level is found by halving alone."""
    deviation = np.abs(smooth - level)
    top = float(deviation.max())

    def state(d: float, previous: _Extent | None) -> tuple[bool, _Extent | None]:
        region = _seeded(deviation <= d, seeds)
        if region is None:
            return False, previous
        # holes filled: a region that has surrounded something is that large (a necrotic centre
        # inside a lesion; the lesion inside an organ once the band reaches the organ); not on
        # the slices above and below, where the section before bounds it
        if bridges:
            region = ndi.binary_fill_holes(region)
        flooded, extent = _flooding(region, seeds, previous, d, noise, pixel_yx, bridges)
        return flooded, previous if flooded else extent

    low, d, previous = 0.0, min(0.5 * noise, top), None
    if below is not None:
        d, top = below, below  # skip the scan: halve [0, below]
    while True:
        flooded, extent = state(d, previous)
        if flooded:
            break
        if d >= top:  # every value in the region searched: it never floods
            return None, previous.area if previous else 0
        low, previous = d, extent
        d = min(max(d + 0.5 * noise, d * SCAN_STEP), top)
    high = d
    for _ in range(REFINE_STEPS if below is None else REFINE_STEPS - 2):
        mid = 0.5 * (low + high)
        flooded, extent = state(mid, previous)
        if flooded:
            high = mid
        else:
            low, previous = mid, extent
    return high, previous.area if previous else 0


def _binned(image: np.ndarray, factor: int) -> np.ndarray:
    """Block means of ``factor`` x ``factor`` pixels (the edge repeated to a whole block)."""
    if factor == 1:
        return np.asarray(image, np.float32)
    h, w = image.shape
    padded = np.pad(np.asarray(image, np.float32), ((0, -h % factor), (0, -w % factor)), "edge")
    return padded.reshape(padded.shape[0] // factor, factor, -1, factor).mean(axis=(1, 3))


def segment_slice(image: np.ndarray, seed_yx: tuple[int, int], pixel_yx: tuple[float, float],
                  noise: float | None = None, size_mm: float | None = None) -> SliceSegmentation:
    """The lesion at ``seed_yx`` on one 2-D image (any intensity scale); ``size_mm``: its radius
    if known (the search then starts with a region that fits it)."""
    pix = np.asarray(pixel_yx, float)
    sy, sx = seed_yx
    halves = ROI_HALF_MM if size_mm is None else \
        tuple(h for h in ROI_HALF_MM if h >= 2.5 * size_mm) or ROI_HALF_MM[-1:]
    for k, half_mm in enumerate(halves):
        hy, hx = (int(np.ceil(half_mm / p)) for p in pix)
        box = (slice(max(sy - hy, 0), min(sy + hy + 1, image.shape[0])),
               slice(max(sx - hx, 0), min(sx + hx + 1, image.shape[1])))
        raw = np.asarray(image[box], np.float32)
        local = (sy - box[0].start, sx - box[1].start)
        sigma_px = tuple(max(0.6, SMOOTH_MM / p) for p in pix)
        smooth = ndi.gaussian_filter(raw, sigma_px)
        pixel_noise = noise if noise is not None else noise_level(raw)
        s_noise = _smoothed_noise(pixel_noise, sigma_px)  # type: ignore[arg-type]
        seeds = np.zeros(raw.shape, bool)
        seeds[max(local[0] - 1, 0):local[0] + 2, max(local[1] - 1, 0):local[1] + 2] = True
        level = float(np.median(smooth[seeds]))
        # the sweep on at most SWEEP_MAX_PX pixels a side (the flood level needs no finer grid)
        factor = max(1, int(np.ceil(max(raw.shape) / SWEEP_MAX_PX)))
        coarse = _binned(smooth, factor)
        coarse_seeds = np.zeros(coarse.shape, bool)
        coarse_seeds[local[0] // factor, local[1] // factor] = True
        flood, area_before = _flood_level(coarse, coarse_seeds, level, s_noise, pix * factor)
        whole = box[0].stop - box[0].start == image.shape[0] and \
            box[1].stop - box[1].start == image.shape[1]
        fills = area_before > ROI_FULL_SHARE * coarse.size or (
            flood is not None and flood < NOISE_REGIME * s_noise)
        if fills and k + 1 < len(halves) and not whole:
            # the lesion fills the region searched (or the click is in tissue that runs to its
            # edge at the noise's level): search a larger one
            continue
        break
    if flood is None or flood < MIN_CONTRAST_NOISE * s_noise:
        contrast = 0.0 if flood is None else flood
        raise ResponseToolError(
            "click-to-measure: nothing at the click stands out from the tissue around it "
            f"(contrast {contrast / s_noise:.1f} times the image noise); click inside the lesion, "
            "on the series where it is best seen, or draw its lines")
    region = _edge_region(smooth, seeds, level, flood, pix)
    if region is None:
        raise ResponseToolError("click-to-measure: the click is on a speck, not a lesion; click "
                                "nearer the lesion's centre, or draw its lines")
    return SliceSegmentation(region, box, level, flood, s_noise, sigma_px,  # type: ignore[arg-type]
                             _touches_edge(region), pixel_noise)


def _edge_region(smooth: np.ndarray, seeds: np.ndarray, level: float, flood: float,
                 pixel_yx: np.ndarray) -> np.ndarray | None:
    """The lesion's region once its surroundings' level is known: the band back from them,
    holes filled, opened, cut at its necks (None: the seeds are not in the band). Lines a pixel
    or two thin go before the holes are filled: the ring of partial-volume pixels around a
    bright vessel next to the lesion is in the band too, and would enclose the vessel."""
    region = _seeded(np.abs(smooth - level) <= (1.0 - EDGE_BACK_OFF) * flood, seeds)
    if region is None:
        return None
    filled = ndi.binary_fill_holes(region)
    if filled.sum() > HOLE_GAIN * region.sum():
        # much of it is holes: were they enclosed by a ring a pixel or two thin (partial volume
        # around something bright or dark), the holes are not the lesion's
        thin = ndi.binary_opening(region, structure=np.ones((3, 3), bool))
        if thin.any():
            refilled = ndi.binary_fill_holes(_nearest_part(thin, seeds))
            if refilled.sum() < HOLE_GAIN * thin.sum():
                filled = refilled
    return _cut_at_necks(_opened(filled, seeds, pixel_yx), seeds, pixel_yx)


#: the connected parts of a mask that hold a seed (for the proposal's checks)
seeded_region = _seeded

__all__ = ["SliceSegmentation", "noise_level", "seeded_region", "segment_slice"]
