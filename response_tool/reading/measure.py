"""Click-to-measure: a click inside a lesion proposes its long axis, short axis and viable
(arterially enhancing) diameter — as ordinary lines the reader accepts, edits or redraws.

The method, on a region of interest around the click (``ROI_HALF_MM``):

1. **Surrounding liver**: the intensity of the tissue around the lesion is the mode of the ROI's
   soft-tissue voxels (a lesion is a minority of a 12 cm box of liver), with its spread from the
   median absolute deviation around that mode. Each series (portal-venous, arterial) gets its own.
2. **Lesion**: voxels that differ from that liver by more than ``k`` spreads (darker — necrosis,
   hypodense metastases — or brighter — hypervascular tumour) in any series given, above fat, and
   connected to the click after a small opening (so a thin bridge to a vessel or the bowel does
   not join them); holes filled slice by slice.
3. **Long axis** (RECIST 1.1 section 3.1.1: the longest diameter in the axial plane): on the axial
   slice where the lesion is largest, the longest distance between two of its voxels, extended by
   one pixel (each voxel covers half a pixel beyond its centre on either side). **Short axis**: the
   longest chord perpendicular to it.
4. **Viable diameter** (mRECIST, Lencioni & Llovet 2010: the longest diameter of the arterially
   enhancing part, necrosis excluded): the lesion voxels of the arterial series brighter than the
   surrounding liver by ``viable_k`` spreads; the longest diameter of the largest enhancing
   region on the slice where it is longest. None without an arterial series; 0 mm when nothing
   enhances.

Nothing is stored: :class:`Proposal` holds lines in patient millimetres (z, y, x) that the panel
shows as editable lines; the session records them only when the reader accepts
(``ReadingSession.record_line``), with their origin (proposed / edited / drawn). Its ``warnings``
say when a proposal should not be trusted (the lesion touches the ROI's edge: it may have leaked
into a neighbour; the click was not in anything that differs from the liver).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import SimpleITK as sitk

from response_tool.domain.errors import ResponseToolError
from response_tool.io.volume import Volume

#: Half size of the region of interest around the click (mm): in-plane and along z.
ROI_HALF_MM = (40.0, 60.0, 60.0)
#: A voxel belongs to the lesion when it differs from the surrounding liver by more than this many
#: spreads (robust standard deviations) in any series.
LESION_K = 3.0
#: The viable part: arterial HU above the surrounding liver by more than this many spreads.
VIABLE_K = 3.0
#: Below this (HU) a voxel is fat or air, never lesion.
FAT_HU = -30.0
#: Soft tissue for the liver estimate (HU).
SOFT_TISSUE_HU = (0.0, 250.0)


#: Labels of a lesion's segmentation (:class:`LesionMask`): the lesion without arterial
#: enhancement, and its viable (arterially enhancing) part. The lesion is every voxel > 0.
LESION_LABEL, ENHANCING_LABEL = 1, 2


@dataclass(frozen=True, eq=False)
class LesionMask:
    """A lesion's 3-D segmentation on the grid of the series it was found on, kept as the box
    that holds it: ``labels`` (uint8, z y x: 0 outside, :data:`LESION_LABEL`,
    :data:`ENHANCING_LABEL`) with its first voxel at ``offset_zyx`` of a series of
    ``shape_zyx`` voxels of ``spacing_zyx_mm``."""

    labels: np.ndarray
    offset_zyx: tuple[int, int, int]
    shape_zyx: tuple[int, int, int]
    spacing_zyx_mm: tuple[float, float, float]

    @property
    def box(self) -> tuple[slice, slice, slice]:
        """Where ``labels`` lie in the series' array."""
        return tuple(slice(o, o + n) for o, n in zip(self.offset_zyx, self.labels.shape,
                                                    strict=True))  # type: ignore[return-value]

    def full(self) -> np.ndarray:
        """The labels on the whole series grid (uint8, ``shape_zyx``)."""
        out = np.zeros(self.shape_zyx, np.uint8)
        out[self.box] = self.labels
        return out

    def volume_mm3(self, label: int | None = None) -> float:
        """The lesion's volume (every label), or that of one label, in mm³."""
        n = int((self.labels > 0).sum() if label is None else (self.labels == label).sum())
        return n * float(np.prod(self.spacing_zyx_mm))


@dataclass(frozen=True)
class Proposal:
    """Proposed lines in patient mm (z, y, x), and what they were found from.

    ``mask`` is the lesion's segmentation on ``volume``'s grid (with its enhancing part when an
    arterial series was given); ``volume_mm3`` / ``enhancing_volume_mm3`` its volumes
    (``enhancing_volume_mm3`` None without an arterial series). ``confidence`` is ``high``,
    ``moderate`` or ``low`` (a low one always comes with a warning saying why) and ``quality``
    the figures it was judged from."""

    long: list[list[float]]
    short: list[list[float]] | None
    viable: list[list[float]] | None
    long_mm: float
    short_mm: float | None
    viable_mm: float | None
    slice_index: int
    viable_slice_index: int | None
    lesion_voxels: int
    liver_hu: dict[str, tuple[float, float]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    mask: LesionMask | None = None
    volume_mm3: float | None = None
    enhancing_volume_mm3: float | None = None
    confidence: str = "high"
    quality: dict[str, float] = field(default_factory=dict)


def _roi(volume: Volume, seed_index: np.ndarray) -> tuple[slice, slice, slice]:
    half = np.ceil(np.asarray(ROI_HALF_MM) / np.asarray(volume.spacing_zyx_mm)).astype(int)
    lo = np.maximum(np.floor(seed_index).astype(int) - half, 0)
    hi = np.minimum(np.floor(seed_index).astype(int) + half + 1, volume.shape_zyx)
    return tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))  # type: ignore[return-value]


def _liver_level(values: np.ndarray) -> tuple[float, float]:
    """The mode of the soft-tissue voxels (5 HU bins, then refined) and a robust spread."""
    tissue = values[(values > SOFT_TISSUE_HU[0]) & (values < SOFT_TISSUE_HU[1])]
    if tissue.size < 50:
        raise ResponseToolError("click-to-measure: no soft tissue around the click; click inside "
                                "a liver lesion on a CT or MR series of the abdomen")
    hist, edges = np.histogram(tissue, bins=np.arange(SOFT_TISSUE_HU[0], SOFT_TISSUE_HU[1] + 5, 5))
    peak = 0.5 * (edges[np.argmax(hist)] + edges[np.argmax(hist) + 1])
    near = tissue[np.abs(tissue - peak) < 30]
    level = float(np.median(near))
    spread = float(1.4826 * np.median(np.abs(near - level)))
    return level, max(spread, 1.0)


def _smooth(a: np.ndarray, spacing_zyx: tuple[float, float, float]) -> np.ndarray:
    image = sitk.GetImageFromArray(a.astype(np.float32))
    image.SetSpacing(tuple(float(s) for s in spacing_zyx[::-1]))
    out = sitk.SmoothingRecursiveGaussian(image, [min(1.0, s) for s in spacing_zyx[::-1]])
    return sitk.GetArrayFromImage(out)


def _component(mask: np.ndarray, seed: tuple[int, int, int], spacing_zyx: Any) -> np.ndarray:
    """The opened region of ``mask`` that holds the seed (or its nearest voxel), holes filled."""
    image = sitk.GetImageFromArray(mask.astype(np.uint8))
    radius = [max(1, int(round(1.0 / s))) if s < 1.5 else 0 for s in spacing_zyx[::-1]]
    opened = sitk.BinaryMorphologicalOpening(image, radius)
    labels = sitk.GetArrayFromImage(sitk.ConnectedComponent(opened))
    value = labels[seed]
    if value == 0:  # the click was on a thin bit the opening removed: the nearest region
        near = np.argwhere(labels > 0)
        if not len(near):
            return np.zeros_like(mask)
        d = (((near - np.asarray(seed)) * np.asarray(spacing_zyx)) ** 2).sum(axis=1)
        if d.min() > 25.0:  # more than 5 mm away: not the lesion clicked
            return np.zeros_like(mask)
        value = labels[tuple(near[np.argmin(d)])]
    region = labels == value
    for z in range(region.shape[0]):  # holes (necrosis already counted; vessels inside) filled
        if region[z].any():
            region[z] = sitk.GetArrayFromImage(sitk.BinaryFillhole(
                sitk.GetImageFromArray(region[z].astype(np.uint8)))).astype(bool)
    return region


def _at_edge(region: np.ndarray) -> bool:
    """The region reaches the in-plane edge of the region of interest."""
    return bool(any(region.take(0, axis=a).any() or region.take(-1, axis=a).any() for a in (1, 2)))


def _similar(image: np.ndarray, seed: tuple[int, int, int], spacing_zyx: Any) -> np.ndarray:
    """Voxels connected to the seed with intensities like the seed's neighbourhood
    (SimpleITK's confidence-connected region growing)."""
    itk = sitk.GetImageFromArray(image.astype(np.float32))
    grown = sitk.ConfidenceConnected(itk, seedList=[tuple(int(v) for v in seed[::-1])],
                                     numberOfIterations=3, multiplier=2.5,
                                     initialNeighborhoodRadius=1, replaceValue=1)
    region = _component(sitk.GetArrayFromImage(grown).astype(bool), seed, spacing_zyx)
    if not region.any():
        return region
    radius = [max(1, int(round(3.0 / s))) for s in spacing_zyx[::-1]]
    shell = sitk.GetArrayFromImage(sitk.BinaryDilate(
        sitk.GetImageFromArray(region.astype(np.uint8)), radius)).astype(bool) & ~region
    inside, outside = float(np.median(image[region])), float(np.median(image[shell]))
    noise = float(1.4826 * np.median(np.abs(image[region] - inside)))
    if abs(inside - outside) < LESION_K * max(noise, 1.0):
        return region
    # the edge at half the contrast to the surroundings, as for a lesion in the liver
    sign = 1.0 if inside > outside else -1.0
    candidate = ((image - outside) * sign > 0.5 * abs(inside - outside)) & (
        np.abs(image - inside) < max(4 * noise, 0.5 * abs(inside - outside)))
    return _component(candidate, seed, spacing_zyx)


def _longest(points_yx_mm: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The two farthest points (on the convex hull: few points, all pairs)."""
    pts = np.unique(points_yx_mm, axis=0)
    if len(pts) > 400:  # the hull's candidates: extremes along 64 directions
        angles = np.linspace(0, np.pi, 64, endpoint=False)
        proj = pts @ np.stack([np.cos(angles), np.sin(angles)])
        pts = pts[np.unique(np.r_[proj.argmin(axis=0), proj.argmax(axis=0)])]
    d = np.linalg.norm(pts[:, None, :] - pts[None, :, :], axis=2)
    i, j = np.unravel_index(np.argmax(d), d.shape)
    return pts[i], pts[j], float(d[i, j])


def _extend(a: np.ndarray, b: np.ndarray, by: float) -> tuple[np.ndarray, np.ndarray]:
    u = (b - a) / max(np.linalg.norm(b - a), 1e-9)
    return a - u * by / 2, b + u * by / 2


def _slice_lines(region2d: np.ndarray, pixel_yx: np.ndarray, with_short: bool
                 ) -> tuple[np.ndarray, np.ndarray, float, tuple[np.ndarray, np.ndarray, float] | None]:
    """Long axis (and the longest perpendicular chord) of a 2-D region, in slice mm (y, x)."""
    idx = np.argwhere(region2d)
    pts = idx * pixel_yx
    a, b, _ = _longest(pts)
    a, b = _extend(a, b, float(np.mean(pixel_yx)))  # each end voxel covers half a pixel more
    long_mm = float(np.linalg.norm(b - a))
    if not with_short:
        return a, b, long_mm, None
    u = (b - a) / long_mm
    v = np.array([-u[1], u[0]])
    along, across = pts @ u, pts @ v
    step = float(np.mean(pixel_yx))
    bins = np.floor((along - along.min()) / step).astype(int)
    best = (-1.0, 0, 0.0, 0.0)
    for k in np.unique(bins):
        sel = bins == k
        lo, hi = float(across[sel].min()), float(across[sel].max())
        if hi - lo > best[0]:
            best = (hi - lo, k, lo, hi)
    width, k, lo, hi = best
    at = along.min() + (k + 0.5) * step
    c = np.array([at * u[0], at * u[1]])
    p, q = c + v * (lo - step / 2), c + v * (hi + step / 2)
    return a, b, long_mm, (p, q, width + step)


def _to_patient_zyx(volume: Volume, z_index: int, yx_mm: np.ndarray, origin_index: np.ndarray,
                    pixel_yx: np.ndarray) -> list[float]:
    index = np.array([z_index, *(yx_mm / pixel_yx)]) + origin_index
    return [float(v) for v in volume.index_zyx_to_xyz_mm(index)[::-1]]


def propose(volume: Volume, seed_zyx_mm: Any, arterial: Volume | None = None, *,
            lesion_k: float = LESION_K, viable_k: float = VIABLE_K) -> Proposal:
    """Proposed diameters of the lesion clicked at ``seed_zyx_mm`` (patient mm, z y x) on
    ``volume``; ``arterial``: the arterial series of the same study (resampled onto ``volume``'s
    grid when it has another) for the lesion's extent and its viable diameter."""
    seed_xyz = np.asarray(seed_zyx_mm, float)[::-1]
    seed_index = volume.xyz_mm_to_index_zyx(seed_xyz)
    if np.any(seed_index < -0.5) or np.any(seed_index > np.asarray(volume.shape_zyx) - 0.5):
        raise ResponseToolError("click-to-measure: the click is outside the series; click inside "
                                "the lesion on the image")
    box = _roi(volume, seed_index)
    series = {"main": volume.array[box].astype(np.float32)}
    if arterial is not None:
        series["arterial"] = _on_grid(arterial, volume)[box].astype(np.float32)
    spacing = volume.spacing_zyx_mm
    seed = tuple(int(round(s)) - b.start for s, b in zip(seed_index, box, strict=True))
    smooth = {name: _smooth(values, spacing) for name, values in series.items()}
    levels = {name: _liver_level(values) for name, values in smooth.items()}
    deviation = {name: np.abs(smooth[name] - levels[name][0]) for name in series}
    differs = np.zeros(series["main"].shape, bool)
    for name in series:
        differs |= deviation[name] > lesion_k * levels[name][1]
    differs &= series["main"] > FAT_HU
    if differs[seed]:  # a lesion that differs from the liver around it
        region = _component(differs, seed, spacing)  # type: ignore[arg-type]
        if region.any():  # its boundary at half its contrast, as a reader's eye puts it
            half = np.zeros_like(region)
            for name in series:
                contrast = float(np.percentile(deviation[name][region], 90))
                if contrast > lesion_k * levels[name][1]:
                    half |= deviation[name] > 0.5 * contrast
            region = _component(half & (series["main"] > FAT_HU), seed, spacing)  # type: ignore[arg-type]
    else:  # like the liver: not a liver lesion (a node in fat): the tissue like the click's
        region = _similar(smooth["main"], seed, spacing)  # type: ignore[arg-type]
        levels = {"main": (round(float(smooth["main"][seed]), 1), levels["main"][1])}
        if _at_edge(region):
            raise ResponseToolError(
                "click-to-measure: the tissue at the click is not distinct from the liver on "
                "this series (it spreads across the region around the click); measure on the "
                "arterial series, or draw the lines")
    levels = {k: (round(v[0], 1), round(v[1], 1)) for k, v in levels.items()}
    warnings = []
    if not region.any():
        raise ResponseToolError("click-to-measure: nothing at the click differs from the "
                                "surrounding liver; click inside the lesion, or draw its lines")
    if _at_edge(region):
        warnings.append("the lesion found reaches the edge of the 12 cm region around the click: "
                        "it may have leaked into a neighbouring structure; check the lines")
    pixel_yx = np.asarray(spacing[1:], float)
    origin = np.array([b.start for b in box], float)
    areas = region.sum(axis=(1, 2))
    z = int(np.argmax(areas))
    a, b, long_mm, short = _slice_lines(region[z], pixel_yx, with_short=True)
    assert short is not None
    to_mm = lambda zz, p: _to_patient_zyx(volume, zz, p, origin, pixel_yx)  # noqa: E731
    viable = viable_mm = viable_z = None
    if "arterial" in series and "arterial" in levels:
        level, spread = levels["arterial"]
        enhancing = region & (smooth["arterial"] > level + viable_k * spread)
        if enhancing.any():  # the enhancing part's edge at half its enhancement
            top = float(np.percentile(smooth["arterial"][enhancing], 90))
            enhancing = region & (smooth["arterial"] > level + 0.5 * (top - level))
        viable_mm, viable_z = 0.0, None
        for zz in np.flatnonzero(enhancing.any(axis=(1, 2))):
            labels = sitk.GetArrayFromImage(sitk.ConnectedComponent(
                sitk.GetImageFromArray(enhancing[zz].astype(np.uint8))))
            biggest = np.bincount(labels.ravel())[1:].argmax() + 1
            va, vb, vmm, _ = _slice_lines(labels == biggest, pixel_yx, with_short=False)
            if vmm > viable_mm:
                viable_mm, viable_z, viable = vmm, int(zz), (va, vb)
        viable = None if viable is None else [to_mm(viable_z, viable[0]), to_mm(viable_z, viable[1])]
    labels = region.astype(np.uint8) * LESION_LABEL
    if "arterial" in series and "arterial" in levels:
        labels[enhancing] = ENHANCING_LABEL
    mask = LesionMask(labels, tuple(int(v) for v in origin), volume.shape_zyx,  # type: ignore[arg-type]
                      tuple(float(v) for v in spacing))  # type: ignore[arg-type]
    return Proposal(
        mask=mask, volume_mm3=round(mask.volume_mm3(), 1),
        enhancing_volume_mm3=(round(mask.volume_mm3(ENHANCING_LABEL), 1)
                              if "arterial" in series and "arterial" in levels else None),
        long=[to_mm(z, a), to_mm(z, b)], short=[to_mm(z, short[0]), to_mm(z, short[1])],
        viable=viable, long_mm=round(long_mm, 1), short_mm=round(short[2], 1),
        viable_mm=None if viable_mm is None else round(viable_mm, 1),
        slice_index=int(z + origin[0]),
        viable_slice_index=None if viable_z is None else int(viable_z + origin[0]),
        lesion_voxels=int(region.sum()), liver_hu=levels, warnings=tuple(warnings))


def _on_grid(other: Volume, grid: Volume) -> np.ndarray:
    """``other``'s voxels on ``grid``'s (the same array when the grids agree)."""
    same = (other.shape_zyx == grid.shape_zyx
            and np.allclose(other.spacing_zyx_mm, grid.spacing_zyx_mm)
            and np.allclose(other.origin_xyz_mm, grid.origin_xyz_mm)
            and np.allclose(other.direction_xyz, grid.direction_xyz))
    if same:
        return other.array
    reference = grid.to_sitk()
    moved = sitk.Resample(other.to_sitk(), reference, sitk.Transform(), sitk.sitkLinear, -1000.0)
    return sitk.GetArrayFromImage(moved)


__all__ = ["ENHANCING_LABEL", "LESION_LABEL", "LesionMask", "Proposal", "propose"]
