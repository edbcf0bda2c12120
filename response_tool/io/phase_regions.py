"""Finding the aorta and the liver on one axial slice of a CT (for
:mod:`response_tool.io.phase_image`, whose docstring says what is looked for and where), with the
numbers the search and the phase are read from (:data:`THRESHOLDS`, the anatomy's sizes)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The HU limits and ratios the phase is read from (module docstring). ``source`` names where
#: each comes from; the phantom (``response_tool.phantom.scenario.TISSUES``) follows [1]–[3].
THRESHOLDS: dict[str, tuple[float, str]] = {
    "aorta_unenhanced_max_hu": (90.0, "unenhanced blood 35-60 HU (+ noise, haematocrit) [3]"),
    "aorta_contrast_min_hu": (150.0, "opacified aorta ≥ 150 HU in arterial and portal phases [1]"),
    "portal_to_aorta_arterial_max": (0.60, "portal vein less enhanced than the aorta [2]"),
    "portal_to_aorta_portal_min": (0.85, "portal vein about as bright as the aorta [2]"),
    "liver_to_aorta_arterial_max": (0.35, "liver ≈ 70-80 HU vs aorta ≈ 250-350 HU [1, 3]"),
    "liver_to_aorta_portal_min": (0.50, "liver ≈ 100-120 HU vs aorta ≈ 150-200 HU [1, 3]"),
}

#: How deep (mm from the back's skin) the bone the spine is found in lies: its posterior elements
#: and ribs (for its axis), and its vertebral body (for its front).
SPINE_DEPTH_MM = (80.0, 120.0)
#: Bone on a slice: smoothed HU at least this (the vertebral body's cortex; above any vessel
#: the search must keep apart from it).
BONE_MIN_HU = 350.0
#: The aorta's plausible diameter (mm) and where to look for it relative to the vertebral body:
#: columns from 15 mm to the patient's right to 60 mm to the left of its centre, rows from 45 mm
#: in front of its anterior edge to 30 mm behind it (abdominal aorta: in front, slightly left;
#: descending thoracic aorta: beside it on the left).
AORTA_DIAMETER_MM = (12.0, 45.0)
AORTA_WINDOW_MM = {"right": 15.0, "left": 70.0, "anterior": 45.0, "posterior": 22.0}
#: The aorta's wall is at most this far (mm) from the spine's bone (it lies against the
#: vertebral body; a round structure farther away is a pulmonary vein, the oesophagus, bowel).
AORTA_SPINE_GAP_MM = 30.0
#: A round structure centred within this distance (mm) of the spine's column is taken for the
#: vertebral body's marrow, not the aorta (the aorta lies to the left of the midline: ≈ 1-2 cm in
#: the abdomen, 2-4 cm beside the thoracic spine).
MIDLINE_MM = 12.0
#: The liver on a slice: smoothed HU in this band, at least this area after a 6 mm erosion, its
#: centre at least this far to the patient's right of the spine.
LIVER_BAND_HU = (20.0, 200.0)
LIVER_MIN_AREA_MM2 = 2000.0
LIVER_RIGHT_OF_SPINE_MM = 30.0
#: At most this many slices of a volume are searched (evenly spread); enough for a robust median.
MAX_SLICES = 12


# -- small image tools (SimpleITK, 2-D) -------------------------------------------------------------
def _sitk(array: np.ndarray, spacing_yx: Sequence[float]) -> Any:
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(array)
    image.SetSpacing((float(spacing_yx[1]), float(spacing_yx[0])))
    return image


def _smooth(slice_hu: np.ndarray, spacing_yx: Sequence[float], sigma_mm: float) -> np.ndarray:
    import SimpleITK as sitk

    image = _sitk(slice_hu.astype(np.float32), spacing_yx)
    return sitk.GetArrayFromImage(sitk.SmoothingRecursiveGaussian(image, sigma_mm))


def _labels(mask: np.ndarray, spacing_yx: Sequence[float]) -> np.ndarray:
    """Connected components, largest first (label 1)."""
    import SimpleITK as sitk

    cc = sitk.ConnectedComponent(_sitk(mask.astype(np.uint8), spacing_yx))
    return sitk.GetArrayFromImage(sitk.RelabelComponent(cc))


def _morph(mask: np.ndarray, spacing_yx: Sequence[float], radius_mm: float,
           erode: bool) -> np.ndarray:
    import SimpleITK as sitk

    radius = [max(1, round(radius_mm / spacing_yx[1])), max(1, round(radius_mm / spacing_yx[0]))]
    op = sitk.BinaryErode if erode else sitk.BinaryDilate
    out = op(_sitk(mask.astype(np.uint8), spacing_yx), radius, sitk.sitkBall)
    return sitk.GetArrayFromImage(out).astype(bool)


def _fill_holes(mask: np.ndarray, spacing_yx: Sequence[float]) -> np.ndarray:
    import SimpleITK as sitk

    return sitk.GetArrayFromImage(
        sitk.BinaryFillhole(_sitk(mask.astype(np.uint8), spacing_yx))).astype(bool)


# -- anatomy on one axial slice -------------------------------------------------------------------
def _body(smoothed: np.ndarray, spacing_yx: Sequence[float]) -> np.ndarray | None:
    labels = _labels(smoothed > -500.0, spacing_yx)
    if not (labels == 1).any():
        return None
    return _fill_holes(labels == 1, spacing_yx)


@dataclass(frozen=True)
class _Found:
    z: int
    centre: tuple[float, float]     # row, column
    values: np.ndarray              # the HU measured
    box: tuple[int, int, int, int]  # rows, columns spanned (r0, r1, c0, c1)
    how: str


def _canal(smoothed: np.ndarray, body: np.ndarray, depth: np.ndarray,
           spacing_yx: Sequence[float]) -> tuple[float, float] | None:
    """(row, column) of the spinal canal: a hole of fluid / soft tissue (0.6–5 cm²) enclosed by
    the bone near the back, within 80 mm of the body's centre; None if the slice shows none
    closed."""
    dy, dx = spacing_yx
    bone = (smoothed >= 250.0) & body & (depth >= 0) & (depth <= 100.0)
    closed = _morph(_morph(bone, spacing_yx, 3.0, erode=False), spacing_yx, 3.0, erode=True)
    holes = _labels(_fill_holes(closed, spacing_yx) & ~closed, spacing_yx)
    centre = float(np.nonzero(body)[1].mean())
    best = None
    for label in range(1, min(int(holes.max()), 20) + 1):
        r, c = np.nonzero(holes == label)
        area = r.size * dy * dx
        if not 60.0 <= area <= 500.0 or abs(c.mean() - centre) * dx > 80.0:
            continue
        if not -50.0 <= float(np.median(smoothed[r, c])) <= 100.0:
            continue
        if best is None or area > best[0]:
            best = (area, float(r.mean()), float(c.mean()))
    return None if best is None else best[1:]


def _midline_bone(smoothed: np.ndarray, body: np.ndarray, spacing_yx: Sequence[float]
                  ) -> tuple[float, float, np.ndarray, tuple[float, float] | None] | None:
    """(row of the spine's front, column of the spine, the bone around it, the spinal canal),
    or None.

    The spine is found in the bone (cortex, :data:`BONE_MIN_HU`) near the back: within
    :data:`SPINE_DEPTH_MM` of the body's posterior surface (the heart and great vessels, bright
    with contrast, lie farther forward). Its column is the axis that bone is most
    mirror-symmetric about (vertebra, pedicles, ribs — robust to arms, a patient off-centre);
    its front is the first bone within 12 mm of that axis."""
    dy, dx = spacing_yx
    rows = np.arange(body.shape[0])[:, None]
    back = np.where(body, rows, -1).max(axis=0)  # the body's posterior surface, per column
    depth = (back[None, :] - rows) * dy
    bone = (smoothed >= BONE_MIN_HU) & body & (depth >= 0)
    posterior = bone & (depth <= SPINE_DEPTH_MM[0])
    if posterior.sum() * dy * dx < 100.0:
        return None
    centre = float(np.nonzero(body)[1].mean())
    reach = int(80.0 / dx)
    width = max(1, round(5.0 / dx))
    run = np.zeros(body.shape[1])
    for c in range(max(0, int(centre) - reach), min(body.shape[1], int(centre) + reach + 1)):
        run[c] = posterior[:, max(0, c - width):c + width + 1].any(axis=1).sum() * dy
    axis = float(np.argmax(run))
    half = int(40.0 / dx)
    near = np.zeros_like(bone)
    lo, hi = max(0, int(axis - half)), min(bone.shape[1], int(axis + half) + 1)
    near[:, lo:hi] = (bone & (depth <= SPINE_DEPTH_MM[1]))[:, lo:hi]
    canal = _canal(smoothed, body, depth, spacing_yx)
    if canal is not None:
        axis = canal[1]
    r, c = np.nonzero(near)
    band = np.abs(c - axis) * dx <= 12.0
    if canal is not None:  # the vertebral body lies within 50 mm in front of the canal
        band &= (r <= canal[0]) & ((canal[0] - r) * dy <= 50.0)
    rows = np.unique(r[band])[::-1]  # from the back forwards
    if rows.size == 0:
        return None
    front = rows[0]
    for row in rows[1:]:  # the bone of the spine, up to the first gap of 20 mm (what is in
        if (front - row) * dy > 20.0:  # front of that is not spine: heart, aorta with contrast)
            break
        front = row
    return float(front), axis, near, canal


def _discs(candidate: np.ndarray, spacing_yx: Sequence[float], window: tuple[int, int, int, int],
           radius_mm: tuple[float, float]) -> list[tuple[tuple[float, float], float]]:
    """The largest discs inscribed in ``candidate`` centred in ``window`` (r0, r1, c0, c1): the
    local maxima of the distance to its border, as (centre row / column, radius mm), largest
    first, none inside another's radius. A round structure touching others (the aorta against
    the heart or the oesophagus) still has its own inscribed disc."""
    import SimpleITK as sitk

    dy, dx = spacing_yx
    image = _sitk(candidate.astype(np.uint8), spacing_yx)
    dist = sitk.GetArrayFromImage(sitk.SignedMaurerDistanceMap(
        image, insideIsPositive=True, squaredDistance=False, useImageSpacing=True))
    dist = np.where(candidate, dist, 0.0).astype(np.float32)
    peak = sitk.GetArrayFromImage(sitk.GrayscaleDilate(_sitk(dist, spacing_yx), [2, 2]))
    r0, r1, c0, c1 = window
    inside = np.zeros_like(candidate)
    inside[r0:r1, c0:c1] = True
    rows, cols = np.nonzero((dist >= peak) & (dist >= radius_mm[0]) & (dist <= radius_mm[1])
                            & inside)
    order = np.argsort(-dist[rows, cols], kind="stable")
    kept: list[tuple[tuple[float, float], float]] = []
    for i in order[:400]:
        centre, radius = (float(rows[i]), float(cols[i])), float(dist[rows[i], cols[i]])
        if all(math.hypot((centre[0] - k[0][0]) * dy, (centre[1] - k[0][1]) * dx) > k[1]
               for k in kept):
            kept.append((centre, radius))
        if len(kept) >= 40:
            break
    return kept


def _distance_mm(mask: np.ndarray, spacing_yx: Sequence[float]) -> np.ndarray:
    """Distance (mm) of every pixel to the nearest pixel of ``mask``."""
    import SimpleITK as sitk

    dist = sitk.SignedMaurerDistanceMap(_sitk(mask.astype(np.uint8), spacing_yx),
                                        insideIsPositive=False, squaredDistance=False,
                                        useImageSpacing=True)
    return np.maximum(sitk.GetArrayFromImage(dist), 0.0)


def _annulus(shape: tuple[int, ...], centre: tuple[float, float], inner_mm: float,
             outer_mm: float, spacing_yx: Sequence[float]) -> np.ndarray:
    dy, dx = spacing_yx
    rr, cc = np.ogrid[:shape[0], :shape[1]]
    d2 = ((rr - centre[0]) * dy) ** 2 + ((cc - centre[1]) * dx) ** 2
    return (d2 >= inner_mm ** 2) & (d2 <= outer_mm ** 2)


def _aorta_on_slice(slice_hu: np.ndarray, z: int, spacing_yx: Sequence[float],
                    debug: list[Any] | None = None) -> _Found | None:
    """The aorta on one axial slice: a round homogeneous structure beside the spine, bounded by
    other tissue on most of its circumference and not inside a bone (module docstring); a bright
    one first, then one of soft tissue (no contrast)."""
    dy, dx = spacing_yx
    smoothed = _smooth(slice_hu, spacing_yx, 1.0)
    body = _body(smoothed, spacing_yx)
    if body is None:
        return None
    spine = _midline_bone(smoothed, body, spacing_yx)
    if spine is None:
        return None
    front, mid, spine_bone, canal = spine
    near_spine = _distance_mm(spine_bone, spacing_yx)
    w = AORTA_WINDOW_MM
    window = (max(0, int(front - w["anterior"] / dy)),
              min(slice_hu.shape[0], int(front + w["posterior"] / dy) + 1),
              max(0, int(mid - w["right"] / dx)),
              min(slice_hu.shape[1], int(mid + w["left"] / dx) + 1))
    bone = smoothed >= BONE_MIN_HU
    radius = (AORTA_DIAMETER_MM[0] / 2.0, AORTA_DIAMETER_MM[1] / 2.0)
    lo_contrast = THRESHOLDS["aorta_contrast_min_hu"][0] - 30.0
    for band, kind in (((lo_contrast, BONE_MIN_HU + 250.0), "bright"),
                       ((-20.0, 100.0), "soft-tissue")):
        candidate = (smoothed >= band[0]) & (smoothed <= band[1]) & body
        best = None
        for centre, r in _discs(candidate, spacing_yx, window, radius):
            ring = _annulus(slice_hu.shape, centre, r + 1.5, r + 5.0, spacing_yx)
            bounded = 1.0 - float(candidate[ring].mean())   # other tissue around it
            bone_around = float(bone[ring].mean())          # cortex around: inside a bone
            core = slice_hu[_annulus(slice_hu.shape, centre, 0.0, 0.7 * r, spacing_yx)]
            spread = float(np.subtract(*np.percentile(core, [75, 25])))
            edge = _annulus(slice_hu.shape, centre, r + 0.5, r + 3.0, spacing_yx)
            rim = float((smoothed[edge] > np.median(core) + 100.0).mean())  # a cortex around it
            if canal is not None:  # the vertebral body's marrow: just in front of the canal
                ahead = (canal[0] - centre[0]) * dy
                on_spine = abs(centre[1] - canal[1]) * dx < 15.0 and -5.0 <= ahead <= 55.0
            else:
                on_spine = (abs(centre[1] - mid) * dx < MIDLINE_MM
                            and (centre[0] - front) * dy > -15.0)
            gap = float(near_spine[int(round(centre[0])), int(round(centre[1]))]) - r
            if debug is not None:
                debug.append((kind, (round(centre[0]), round(centre[1])), round(2 * r),
                              round(bounded, 2), round(bone_around, 2), round(spread),
                              round(rim, 2), on_spine, round(gap)))
            if (bounded < 0.5 or bone_around > 0.3 or spread > 40.0 or rim > 0.15 or on_spine
                    or gap > AORTA_SPINE_GAP_MM):
                continue  # not bounded, in a bone, not homogeneous, the marrow, away from the spine
            away = math.hypot((centre[0] - front) * dy - 5.0, (centre[1] - mid) * dx - 25.0)
            score = bounded - away / 100.0
            if best is None or score > best[0]:
                best = (score, centre, r, core)
        if best is not None:
            _, centre, r, core = best
            rows = (int(centre[0] - r / dy), int(centre[0] + r / dy))
            cols = (int(centre[1] - r / dx), int(centre[1] + r / dx))
            how = (f"auto: round {kind} structure {2 * r:.0f} mm across beside the spine, "
                   f"centre row {centre[0]:.0f} column {centre[1]:.0f}")
            return _Found(z, centre, core, (*rows, *cols), how)
    return None


def _liver_on_slice(slice_hu: np.ndarray, z: int, spacing_yx: Sequence[float],
                    exclude: np.ndarray | None = None) -> _Found | None:
    dy, dx = spacing_yx
    smoothed = _smooth(slice_hu, spacing_yx, 2.0)
    body = _body(smoothed, spacing_yx)
    if body is None:
        return None
    spine = _midline_bone(_smooth(slice_hu, spacing_yx, 1.0), body, spacing_yx)
    if spine is None:
        return None
    front, axis = spine[0], spine[1]
    band = (smoothed >= LIVER_BAND_HU[0]) & (smoothed <= LIVER_BAND_HU[1]) & body
    if exclude is not None:
        band &= ~exclude
    cores = _labels(_morph(band, spacing_yx, 6.0, erode=True), spacing_yx)
    for label in range(1, min(int(cores.max()), 10) + 1):
        core = cores == label
        r, c = np.nonzero(core)
        if r.size * dy * dx < LIVER_MIN_AREA_MM2:
            break
        if (axis - c.mean()) * dx < LIVER_RIGHT_OF_SPINE_MM:
            continue  # not on the patient's right (heart, spleen, stomach, bowel)
        if (c.mean() - c.min()) * dx < 20.0 or r.mean() > front + 40.0 / dy:
            continue  # too thin, or behind the spine (muscle)
        values = slice_hu[core]
        q1, q3 = np.percentile(values, [25, 75])
        if q3 - q1 > 60.0:
            continue  # not one homogeneous organ
        how = (f"auto: largest homogeneous soft-tissue region on the patient's right "
               f"({r.size * dy * dx / 100.0:.0f} cm² after a 6 mm erosion), rows {r.min()}–"
               f"{r.max()}, columns {c.min()}–{c.max()}")
        return _Found(z, (float(r.mean()), float(c.mean())), values,
                      (int(r.min()), int(r.max()), int(c.min()), int(c.max())), how)
    return None


__all__ = ["AORTA_DIAMETER_MM", "AORTA_SPINE_GAP_MM", "AORTA_WINDOW_MM", "BONE_MIN_HU",
           "LIVER_BAND_HU", "LIVER_MIN_AREA_MM2", "LIVER_RIGHT_OF_SPINE_MM", "MAX_SLICES",
           "MIDLINE_MM", "SPINE_DEPTH_MM", "THRESHOLDS"]
