"""Click-to-measure: a click inside a lesion proposes its long axis, short axis and viable
(arterially enhancing) diameter — as ordinary lines the reader accepts, edits or redraws — with
the lesion's 3-D segmentation, its volume and its enhancing volume.

1. **The lesion** is segmented in 3-D from the click (:mod:`.click_segmentation`: its contrast
   to its own surroundings measured from the click outwards, the edge placed back from them,
   thin protrusions and necks cut, followed slice by slice). No Hounsfield unit is assumed: CT
   and MR alike.
2. **Its lines** (:mod:`.diameters`): the long axis on the axial slice where it is longest
   (RECIST 1.1 section 3.1.1), the longest chord perpendicular to it.
3. **Its viable part** (mRECIST, Lencioni & Llovet 2010), with the arterial series of the same
   study: the lesion's voxels brighter on the arterial series than the tissue around the lesion
   (a ring 1.5–6 mm outside it, not a whole box) by more than ``viable_k`` times the arterial
   image's noise, the edge of that enhancement at half its height; the viable diameter is the
   long axis of its largest part, 0 mm when nothing enhances. None without an arterial series.
4. **How sure** (:func:`_judged`): the lesion's contrast to its surroundings in noise units;
   whether its edge moves when placed a little farther out; a speck, or a long thin region (a
   vessel or duct joined); a second segmentation from the middle of the first (a reader's next
   click) must agree within ``AGREE_SHARE``; a lesion running to the edge of the region
   searched, or on and on through the slices, may have leaked. Each doubt is a warning, and the
   confidence (``high``, ``moderate``, ``low``) says how serious they are. What cannot be
   measured is refused with what to do.

Nothing is stored: :class:`Proposal` holds lines in patient millimetres (z, y, x) that the panel
shows as editable lines; the session records them, with the mask and volumes, only when the
reader accepts (``ReadingSession.accept_proposal``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import SimpleITK as sitk
from scipy import ndimage as ndi

from response_tool.domain.errors import ResponseToolError
from response_tool.io.volume import Volume

from .click_segmentation import noise_level, seeded_region, segment_slice
from .diameters import largest_part_lines, longest_slice, slice_lines
from .lesion_extent import ClickSegmentation, segment_lesion

#: The viable part: arterial intensity above the tissue around the lesion by more than this many
#: times the arterial image's noise (the panel's "viable >" box).
VIABLE_K = 3.0
#: The ring around the lesion the arterial reference is taken from (mm outside its edge): close
#: enough to be the organ it lies in, clear of the lesion's own partial-volume edge.
VIABLE_RING_MM = (1.5, 6.0)
#: On CT, a lesion whose surroundings are below ``FAT_HU`` lies in fat (a node), where arterial
#: enhancement has no organ to be judged against; ``AIR_HU``: a series without a header whose
#: values reach this is taken as CT.
FAT_HU, AIR_HU = -30.0, -500.0
#: Enhancing tissue within this distance (mm) of the lesion found on the main series, touching
#: it, belongs to it (a viable nodule that shows on the arterial phase only).
VIABLE_EXTEND_MM = 5.0
#: The edge placed at these shares of the lesion's contrast, for its stability.
STABILITY_BANDS = (0.5, 0.9)
#: A second segmentation from the middle of the first must give a long axis within this share.
AGREE_SHARE = 0.2
#: Contrast to the surroundings (noise units) below which a proposal is only moderately sure;
#: below ``LOW_CONTRAST`` a warning says the lesion is faint.
CLEAR_CONTRAST, LOW_CONTRAST = 10.0, 6.0
#: A section found smaller than this radius (mm) is a speck or a part of a lesion, and an edge
#: whose region grows more than ``UNSTABLE_EDGE`` times between ``STABILITY_BANDS`` is not sharp:
#: on the real-lesion benchmark most proposals more than 50 % off had one or the other
#: (benchmarks/README.md).
SPECK_MM, UNSTABLE_EDGE = 2.0, 4.5
#: Nothing narrower than this (mm, equivalent diameter on the clicked slice) is proposed: a speck
#: of noise or texture, not a lesion (RECIST 1.1 counts lesions under 5 mm as too small).
NO_LESION_MM = 3.0
#: Long axis over short axis above which the lesion found is suspect: the expert outlines of the
#: 57 real lesions measured are at most 3.8, 95 % of them below 2.2.
THIN_ASPECT = 3.0

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
    (``enhancing_volume_mm3`` None without an arterial series; ``volume_mm3`` None on a series
    of one slice). ``levels``: the lesion's level on the main series and its contrast to its
    surroundings; the arterial level of the tissue around it and the viable threshold used.
    ``confidence`` is ``high``, ``moderate`` or ``low`` (anything below high comes with a
    warning saying why) and ``quality`` the figures it was judged from."""

    long: list[list[float]]
    short: list[list[float]] | None
    viable: list[list[float]] | None
    long_mm: float
    short_mm: float | None
    viable_mm: float | None
    slice_index: int
    viable_slice_index: int | None
    lesion_voxels: int
    levels: dict[str, tuple[float, float]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    mask: LesionMask | None = None
    volume_mm3: float | None = None
    enhancing_volume_mm3: float | None = None
    confidence: str = "high"
    quality: dict[str, float] = field(default_factory=dict)


def _seed_index(volume: Volume, seed_zyx_mm: Any) -> tuple[int, int, int]:
    index = volume.xyz_mm_to_index_zyx(np.asarray(seed_zyx_mm, float)[::-1])
    if np.any(index < -0.5) or np.any(index > np.asarray(volume.shape_zyx) - 0.5):
        raise ResponseToolError("click-to-measure: the click is outside the series; click inside "
                                "the lesion on the image")
    return tuple(int(v) for v in np.clip(np.round(index), 0,  # type: ignore[return-value]
                                         np.asarray(volume.shape_zyx) - 1))


def _agreement(volume: Volume, seg: ClickSegmentation) -> float | None:
    """The long axis found from the middle of the clicked section over the one found from the
    click (None when the click already was its middle)."""
    clicked = seg.clicked
    pix = tuple(float(v) for v in volume.spacing_zyx_mm[1:])
    ys, xs = np.nonzero(clicked.region)
    my, mx = int(round(ys.mean())), int(round(xs.mean()))
    sy, sx = seg.seed_zyx[1] - clicked.box[0].start, seg.seed_zyx[2] - clicked.box[1].start
    radius_px = float(np.sqrt(clicked.region.sum() / np.pi))
    if not clicked.region[my, mx] or np.hypot(my - sy, mx - sx) < max(2.0, 0.2 * radius_px):
        return None  # the click was its middle already
    try:
        radius = float(np.sqrt(clicked.region.sum() * np.prod(pix) / np.pi))
        again = segment_slice(volume.array[seg.seed_zyx[0]],
                              (my + clicked.box[0].start, mx + clicked.box[1].start), pix,
                              clicked.noise_raw, size_mm=radius)
    except ResponseToolError:
        return 0.0
    first = slice_lines(clicked.region, pix).long_mm  # type: ignore[arg-type]
    return slice_lines(again.region, pix).long_mm / first  # type: ignore[arg-type]


def _edge_stability(volume: Volume, seg: ClickSegmentation) -> float:
    """The clicked section's area with its edge placed farther out over its area with the edge
    placed farther in (``STABILITY_BANDS`` of the contrast): near 1 for a lesion with a clear edge;
    large when the region found depends on where the edge is put (a faint edge, a leak)."""
    clicked = seg.clicked
    smooth = ndi.gaussian_filter(np.asarray(volume.array[seg.seed_zyx[0]][clicked.box],
                                            np.float32), clicked.smooth_px)
    seeds = clicked.region
    areas = []
    for share in STABILITY_BANDS:
        found = seeded_region(np.abs(smooth - clicked.lesion_level) <= share * clicked.contrast,
                               seeds)
        areas.append(int(found.sum()) if found is not None else 0)
    return areas[1] / max(areas[0], 1)


def _judged(volume: Volume, seg: ClickSegmentation, z_index: int, full_slices: bool,
            aspect: float) -> tuple[list[str], str, dict[str, float]]:
    """Warnings, confidence and the figures they come from. Each doubt is said; one makes the
    proposal ``moderate``, two (or one that goes with proposals far off on the real-lesion
    benchmark: a speck, a faint or moving edge, another answer from the middle) ``low``."""
    warnings: list[str] = []
    doubts = 0
    pix = np.asarray(volume.spacing_zyx_mm[1:], float)
    cnr = seg.clicked.contrast_to_noise
    radius = float(np.sqrt(seg.clicked.region.sum() * pix.prod() / np.pi))
    stability = _edge_stability(volume, seg)
    agree = _agreement(volume, seg)
    if radius < SPECK_MM:
        warnings.append(f"the lesion found is only {2 * radius:.1f} mm across on the clicked "
                        "slice: a speck or a part of the lesion; click nearer its centre, or draw "
                        "its lines")
        doubts += 2
    if cnr < LOW_CONTRAST:
        warnings.append(f"the lesion hardly differs from the tissue around it (contrast "
                        f"{cnr:.1f} times the image noise): check its edges")
        doubts += 1
    elif cnr < CLEAR_CONTRAST:
        warnings.append(f"the lesion differs only moderately from the tissue around it (contrast "
                        f"{cnr:.1f} times the image noise): check its edges")
    if stability > UNSTABLE_EDGE:
        warnings.append(f"its edge is not sharp: placed a little farther out, the lesion found "
                        f"is {stability:.1f} times as large; check the lines")
        doubts += 2
    if agree == 0.0:
        warnings.append("a click in the middle of the lesion found finds nothing that stands out: "
                        "its edge is uncertain; check the lines")
        doubts += 2
    elif agree is not None and abs(agree - 1.0) > AGREE_SHARE:
        warnings.append(f"a click in the middle of the lesion gives a long axis "
                        f"{100 * (agree - 1):+.0f} %: its edge is uncertain; check the lines")
        doubts += 2
    if aspect > THIN_ASPECT:
        warnings.append(f"the lesion found is {aspect:.1f} times as long as it is wide: it may "
                        "include a vessel or a duct; check the long axis")
        doubts += 1
    if seg.clicked.reached_edge:
        warnings.append("the lesion found reaches the edge of the region searched around the "
                        "click: it may have leaked into a neighbouring structure; check the lines")
        doubts += 2
    if seg.stopped_by_box:
        warnings.append("the lesion found goes on through many slices above or below the click: "
                        "it may have leaked along a vessel or organ; check its extent")
        doubts += 1
    first, last = seg.offset_zyx[0], seg.offset_zyx[0] + seg.mask.shape[0] - 1
    if full_slices and (first == 0 or last == volume.shape_zyx[0] - 1):
        warnings.append("the lesion reaches the first or last slice of the series: it may go on "
                        "beyond it, and its volume be larger")
    if z_index in volume.interpolated_slices:
        warnings.append(f"the long axis lies on slice {z_index + 1}, interpolated between acquired "
                        "slices (the series has a gap): measure on an acquired slice")
        doubts += 1
    confidence = "low" if doubts >= 2 else "moderate" if doubts or cnr < CLEAR_CONTRAST else "high"
    quality = {"contrast_noise": round(cnr, 2), "edge_stability": round(stability, 3),
               "radius_mm": round(radius, 2), "aspect": round(aspect, 2),
               "click_agreement": float("nan") if agree is None else round(agree, 3),
               "slices": float(seg.mask.shape[0])}
    return warnings, confidence, quality


def _to_patient(volume: Volume, z: int, yx_mm: np.ndarray, origin_yx: tuple[int, int]
                ) -> list[float]:
    pix = np.asarray(volume.spacing_zyx_mm[1:], float)
    index = np.array([z, *(np.asarray(yx_mm) / pix + np.asarray(origin_yx))])
    return [float(v) for v in volume.index_zyx_to_xyz_mm(index)[::-1]]


def _on_grid(other: Volume, grid: Volume) -> np.ndarray:
    """``other``'s voxels on ``grid``'s (the same array when the grids agree)."""
    same = (other.shape_zyx == grid.shape_zyx
            and np.allclose(other.spacing_zyx_mm, grid.spacing_zyx_mm)
            and np.allclose(other.origin_xyz_mm, grid.origin_xyz_mm)
            and np.allclose(other.direction_xyz, grid.direction_xyz))
    if same:
        return other.array
    moved = sitk.Resample(other.to_sitk(), grid.to_sitk(), sitk.Transform(), sitk.sitkLinear,
                          float(np.min(other.array)))
    return sitk.GetArrayFromImage(moved)


def _enhancing(arterial: np.ndarray, lesion: np.ndarray, box: tuple[slice, ...],
               pixel_yx: np.ndarray, smooth_px: tuple[float, float], viable_k: float
               ) -> tuple[np.ndarray, np.ndarray, float]:
    """The lesion with the arterially enhancing tissue that touches it (bool, like ``lesion``),
    its enhancing voxels, and the arterial level of the tissue around it.

    After embolisation the viable tumour may show only on the arterial series: enhancing tissue
    within ``VIABLE_EXTEND_MM`` of the lesion found on the main series, touching it on its
    slice, is part of the lesion."""
    z0, y0, x0 = (s.start for s in box)
    pad = int(np.ceil(VIABLE_RING_MM[1] / float(pixel_yx.min()))) + 1
    ys = slice(max(y0 - pad, 0), min(y0 + lesion.shape[1] + pad, arterial.shape[1]))
    xs = slice(max(x0 - pad, 0), min(x0 + lesion.shape[2] + pad, arterial.shape[2]))
    zs = slice(z0, z0 + lesion.shape[0])
    inner = (slice(None), slice(y0 - ys.start, y0 - ys.start + lesion.shape[1]),
             slice(x0 - xs.start, x0 - xs.start + lesion.shape[2]))
    values = np.asarray(arterial[zs, ys, xs], np.float32)
    inside = np.zeros(values.shape, bool)
    inside[inner] = lesion
    smooth = np.stack([ndi.gaussian_filter(v, smooth_px) for v in values])
    distance = np.stack([ndi.distance_transform_edt(~o, sampling=pixel_yx) for o in inside])
    ring = (distance >= VIABLE_RING_MM[0]) & (distance <= VIABLE_RING_MM[1])
    noise = noise_level(values[values.shape[0] // 2])
    level = float(np.median(smooth[ring])) if ring.any() else float(np.median(smooth[~inside]))
    s_noise = noise / max(1.0, 2.0 * np.sqrt(np.pi) * float(np.sqrt(np.prod(smooth_px))))
    near = distance <= VIABLE_EXTEND_MM
    enhancing = near & (smooth > level + viable_k * s_noise)
    if enhancing.any():  # the enhancement's edge at half its height
        top = float(np.percentile(smooth[enhancing], 90))
        enhancing = near & (smooth > level + 0.5 * (top - level))
    grown = inside.copy()
    for k in range(len(grown)):  # enhancing tissue touching the lesion on its slice joins it
        labels, _ = ndi.label(enhancing[k] | inside[k])
        touching = np.unique(labels[inside[k]])
        grown[k] = np.isin(labels, touching[touching > 0]) & (enhancing[k] | inside[k])
    return grown[inner], (enhancing & grown)[inner], level


def _hounsfield(volume: Volume | None) -> bool:
    """The series is CT (its header says so; without one, its values reach the air's)."""
    if volume is None:
        return False
    modality = getattr(volume.series, "modality", None)
    if modality:
        return str(modality).upper() == "CT"
    return bool(np.min(volume.array) <= AIR_HU)


def propose(volume: Volume, seed_zyx_mm: Any, arterial: Volume | None = None, *,
            viable_k: float = VIABLE_K) -> Proposal:
    """Proposed diameters of the lesion clicked at ``seed_zyx_mm`` (patient mm, z y x) on
    ``volume`` (CT or MR); ``arterial``: the arterial series of the same study (resampled onto
    ``volume``'s grid when it has another) for the viable diameter and enhancing volume."""
    seed = _seed_index(volume, seed_zyx_mm)
    seg = segment_lesion(volume.array, volume.spacing_zyx_mm, seed)
    pix = np.asarray(volume.spacing_zyx_mm[1:], float)
    across = 2.0 * float(np.sqrt(seg.clicked.region.sum() * pix.prod() / np.pi))
    if across < NO_LESION_MM:
        raise ResponseToolError(
            f"click-to-measure: only a speck {across:.1f} mm across stands out at the click: no "
            "lesion there; click inside the lesion, nearer its centre, or draw its lines (RECIST "
            "1.1 counts a lesion under 5 mm as too small)")
    z_local, lines = longest_slice(seg.mask, tuple(pix))  # type: ignore[arg-type]
    z = z_local + seg.offset_zyx[0]
    origin_yx = seg.offset_zyx[1:]
    full_slices = volume.shape_zyx[0] > 1
    labels = seg.mask.astype(np.uint8) * LESION_LABEL
    box = tuple(slice(o, o + n) for o, n in zip(seg.offset_zyx, seg.mask.shape, strict=True))
    levels = {"main": (round(seg.clicked.lesion_level, 1), round(seg.clicked.contrast, 1))}
    notes: list[str] = []  # what the proposal says without doubting its lines
    viable = viable_mm = viable_z = enhancing_mm3 = None
    on_grid = None if arterial is None else _on_grid(arterial, volume)
    found_viable = None if on_grid is None else _enhancing(on_grid, seg.mask, box, pix,
                                                           seg.clicked.smooth_px, viable_k)
    if found_viable is not None and _hounsfield(arterial) and found_viable[2] < FAT_HU:
        notes.append(f"the tissue around the lesion is fat ({found_viable[2]:.0f} HU on the "
                     "arterial series; a node?): no organ to judge its enhancement against, no "
                     "viable diameter")
        found_viable = None
    if found_viable is not None:
        lesion, enhancing, level = found_viable
        if lesion.sum() > seg.mask.sum():  # viable tissue seen on the arterial series only
            labels = lesion.astype(np.uint8) * LESION_LABEL
            z_local, lines = longest_slice(lesion, tuple(pix))  # type: ignore[arg-type]
            z = z_local + seg.offset_zyx[0]
        labels[enhancing] = ENHANCING_LABEL
        levels["arterial"] = (round(level, 1), round(float(viable_k), 1))
        found = largest_part_lines(enhancing, tuple(pix))  # type: ignore[arg-type]
        viable_mm = 0.0
        if found is not None:
            vz, vlines = found
            viable_z = vz + seg.offset_zyx[0]
            viable_mm = round(vlines.long_mm, 1)
            viable = [_to_patient(volume, viable_z, vlines.a, origin_yx),
                      _to_patient(volume, viable_z, vlines.b, origin_yx)]
    warnings, confidence, quality = _judged(volume, seg, z, full_slices,
                                            lines.long_mm / max(lines.short_mm, 1e-6))
    warnings += notes
    mask = LesionMask(labels, seg.offset_zyx, volume.shape_zyx,
                      tuple(float(v) for v in volume.spacing_zyx_mm))  # type: ignore[arg-type]
    volume_mm3 = round(mask.volume_mm3(), 1) if full_slices else None
    if not full_slices:
        warnings.append("the series has one slice: no volume")
    elif seg.mask.shape[0] == 1:
        warnings.append("the lesion is seen on one slice: its volume is that section times the "
                        "slice spacing")
    if found_viable is not None and full_slices:
        enhancing_mm3 = round(mask.volume_mm3(ENHANCING_LABEL), 1)
    return Proposal(
        long=[_to_patient(volume, z, lines.a, origin_yx), _to_patient(volume, z, lines.b, origin_yx)],
        short=[_to_patient(volume, z, lines.p, origin_yx), _to_patient(volume, z, lines.q, origin_yx)],
        viable=viable, long_mm=round(lines.long_mm, 1), short_mm=round(lines.short_mm, 1),
        viable_mm=viable_mm, slice_index=z, viable_slice_index=viable_z,
        lesion_voxels=int((labels > 0).sum()), levels=levels, warnings=tuple(warnings), mask=mask,
        volume_mm3=volume_mm3, enhancing_volume_mm3=enhancing_mm3, confidence=confidence,
        quality=quality)


__all__ = ["ENHANCING_LABEL", "LESION_LABEL", "LesionMask", "Proposal", "propose"]
