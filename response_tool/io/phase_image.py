"""Contrast-phase evidence from the image: how bright the aorta, the portal vein and the liver are.

Where a series' header is silent or ambiguous about its phase (:mod:`response_tool.io.phase`), the
pixels are not: contrast in the blood makes the aorta bright, and the phases differ in *where* the
contrast is. :func:`image_phase_evidence` measures the attenuation (HU) of

* the **aorta** — found on each axial slice as the round bright (or, without contrast, round
  soft-tissue) structure beside the vertebral body, or given as a mask;
* the **portal vein** — given as a mask only (it is too small and too close to enhancing tumours
  to be found reliably without a segmentation);
* the **liver** — found as the large homogeneous soft-tissue organ on the patient's right, or
  given as a mask;

and reads the phase from their ratios (:data:`THRESHOLDS`, each with its source):

============================  ========================================================
aorta ≤ 90 HU                 no contrast in the blood pool → non-contrast
aorta 90–150 HU               contrast, weakly opacified (delayed, or a poor bolus) → unknown
aorta ≥ 150 HU, portal vein   portal vein / aorta ≤ 0.6 → arterial; ≥ 0.85 → portal-venous
                              (or later); between → unknown (transition)
aorta ≥ 150 HU, liver         liver / aorta ≤ 0.35 → arterial; ≥ 0.5 → portal-venous
                              (or later); between → unknown
aorta ≥ 150 HU only           contrast was given; which phase cannot be told from the aorta
                              alone → unknown
============================  ========================================================

Every number measured is reported with where it was measured (slice, rows, columns, voxels), so
a reader can check it. HU are CT numbers: on MR, or on an image not in HU, no evidence is given.

**One slice.** A single slice shows what it shows: the aorta beside the spine on a slice of the
chest or abdomen tells *contrast or not* (that is the most one slice usually gives); arterial
versus portal-venous needs the portal vein or the liver on that slice. A slice through the heart
(e.g. the first slice of a liver series, as the TCIA HCC-TACE-Seg files are) has no liver and no
portal vein, so the phase stays unknown there even when the aorta shows contrast was given.

The image is expected as axial slices ``(z, y, x)`` with rows running anterior → posterior and
columns patient right → left (the usual axial display; DICOM ImageOrientationPatient
``1\\0\\0\\0\\1\\0``); pass ``direction_xyz`` (e.g. ``Volume.direction_xyz``) and a flipped image is
turned back, a non-axial one gives no evidence.

How to use it with a loaded series::

    from response_tool.io import load_series
    from response_tool.io.phase_image import image_phase_evidence, with_image_evidence

    volume = load_series(series)
    found = image_phase_evidence(volume.array, volume.spacing_zyx_mm, volume.direction_xyz,
                                 modality=series.modality)
    guess = with_image_evidence(series.phase, found)   # the header's guess + the image's numbers
    series = dataclasses.replace(series, phase=guess)

(:func:`image_phase_evidence` searches at most :data:`MAX_SLICES` slices, ≈ 0.1–0.3 s each on a
512 × 512 slice.)

References
----------
.. [1] Bae KT. Intravenous contrast medium administration and scan timing at CT. Radiology
   2010;256:32-61 (aortic peak ≈ 250-350 HU in the arterial phase; hepatic parenchyma peaks in
   the portal venous phase, ≈ 50 HU above its unenhanced value).
.. [2] ACR LI-RADS v2018 CT/MRI technique and the LI-RADS lexicon: late arterial phase — hepatic
   artery fully enhanced, portal vein enhanced but less than in the portal venous phase; portal
   venous phase — portal veins fully enhanced, liver parenchyma at peak enhancement.
.. [3] Kanematsu M et al. / Foley WD: unenhanced blood 35-60 HU; liver unenhanced ≈ 55-65 HU,
   ≈ 70-80 HU arterial, ≈ 100-120 HU portal venous.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .phase import ARTERIAL, NON_CONTRAST, PORTAL_VENOUS, UNKNOWN, PhaseGuess

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


@dataclass(frozen=True)
class ImageEvidence:
    """What the image says about its contrast phase, with the numbers."""

    phase: str                   # a phase of the vocabulary, or "unknown"
    contrast: bool | None        # contrast in the blood: True, False, or None (cannot tell)
    confidence: str              # "medium" | "low"
    evidence: tuple[str, ...]
    regions: tuple[RegionHU, ...] = ()

    def region(self, name: str) -> RegionHU | None:
        return next((r for r in self.regions if r.name == name), None)


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


# -- reading the phase -----------------------------------------------------------------------------
def classify(aorta: RegionHU | None, portal_vein: RegionHU | None = None,
             liver: RegionHU | None = None, *, from_masks: bool = False,
             n_slices: int = 0) -> ImageEvidence:
    """The phase the measured attenuations point to (:data:`THRESHOLDS`), with the numbers."""
    t = {k: v for k, (v, _) in THRESHOLDS.items()}
    regions = tuple(r for r in (aorta, portal_vein, liver) if r is not None)
    evidence = [f"image: {r.text()}" for r in regions]
    confidence = "medium" if from_masks else "low"
    single = n_slices == 1
    if aorta is None:
        evidence.append("image: aorta not found (no round structure beside a vertebral body): no "
                        "image evidence of the phase")
        return ImageEvidence(UNKNOWN, None, "low", tuple(evidence), regions)
    a = aorta.median_hu
    if a <= t["aorta_unenhanced_max_hu"]:
        evidence.append(f"image: aorta {a:.0f} HU ≤ {t['aorta_unenhanced_max_hu']:.0f} HU: no "
                        "contrast in the blood → non-contrast")
        return ImageEvidence(NON_CONTRAST, False, confidence, tuple(evidence), regions)
    if a < t["aorta_contrast_min_hu"]:
        evidence.append(f"image: aorta {a:.0f} HU, between {t['aorta_unenhanced_max_hu']:.0f} and "
                        f"{t['aorta_contrast_min_hu']:.0f} HU: contrast was given but the aorta is "
                        "weakly opacified (a delayed phase, or a poor bolus); the phase is not told")
        return ImageEvidence(UNKNOWN, True, "low", tuple(evidence), regions)
    contrast = f"image: aorta {a:.0f} HU ≥ {t['aorta_contrast_min_hu']:.0f} HU: contrast was given"
    for other, lo_key, hi_key in ((portal_vein, "portal_to_aorta_arterial_max",
                                   "portal_to_aorta_portal_min"),
                                  (liver, "liver_to_aorta_arterial_max",
                                   "liver_to_aorta_portal_min")):
        if other is None:
            continue
        ratio = other.median_hu / a
        head = f"{contrast}; {other.name} / aorta = {other.median_hu:.0f} / {a:.0f} = {ratio:.2f}"
        if ratio <= t[lo_key]:
            evidence.append(f"{head} ≤ {t[lo_key]:.2f}: {other.name} little enhanced → arterial")
            return ImageEvidence(ARTERIAL, True, confidence, tuple(evidence), regions)
        if ratio >= t[hi_key]:
            evidence.append(f"{head} ≥ {t[hi_key]:.2f}: {other.name} enhanced → portal-venous "
                            "(a later phase cannot be told apart from the image)")
            return ImageEvidence(PORTAL_VENOUS, True, confidence, tuple(evidence), regions)
        evidence.append(f"{head}, between {t[lo_key]:.2f} and {t[hi_key]:.2f}: between arterial "
                        "and portal-venous; the phase is not told")
        return ImageEvidence(UNKNOWN, True, "low", tuple(evidence), regions)
    evidence.append(f"{contrast}; arterial or portal-venous cannot be told from the aorta alone "
                    "(no portal vein or liver " + ("on this one slice" if single else "found")
                    + ")")
    return ImageEvidence(UNKNOWN, True, confidence, tuple(evidence), regions)


def _standard_axial(volume_hu: np.ndarray, direction_xyz: Any) -> np.ndarray | None:
    """``volume_hu`` turned to rows anterior → posterior, columns right → left; None if the
    slices are not axial."""
    if direction_xyz is None:
        return volume_hu
    d = np.asarray(direction_xyz, dtype=float)
    row_dir, col_dir = d[:, 0], d[:, 1]  # column vectors: along x (columns), along y (rows)
    if abs(row_dir[0]) < 0.9 or abs(col_dir[1]) < 0.9:
        return None
    out = volume_hu
    if row_dir[0] < 0:
        out = out[:, :, ::-1]
    if col_dir[1] < 0:
        out = out[:, ::-1, :]
    return out


def image_phase_evidence(volume_hu: np.ndarray, spacing_zyx_mm: Sequence[float],
                         direction_xyz: Any = None, *, modality: str = "CT",
                         aorta: np.ndarray | None = None, portal_vein: np.ndarray | None = None,
                         liver: np.ndarray | None = None,
                         max_slices: int = MAX_SLICES) -> ImageEvidence:
    """What the pixels say about the contrast phase of one series (module docstring).

    ``volume_hu``: ``(z, y, x)`` in HU (one slice: ``(1, y, x)`` or ``(y, x)``);
    ``spacing_zyx_mm``: voxel size. ``aorta``, ``portal_vein``, ``liver``: boolean masks on the
    same grid (e.g. from a segmentation) — used instead of finding the structure; the aorta and
    the liver are found automatically when not given, the portal vein only from a mask.
    ``max_slices``: how many slices (evenly spread) the automatic search looks at.

    Raises ``ValueError`` for an array that is not 2-D or 3-D, or a mask not on its grid."""
    volume_hu = np.asarray(volume_hu)
    if volume_hu.ndim == 2:
        volume_hu = volume_hu[None]
        masks = [None if m is None else np.asarray(m)[None] if np.ndim(m) == 2 else m
                 for m in (aorta, portal_vein, liver)]
        aorta, portal_vein, liver = masks
    if volume_hu.ndim != 3 or min(volume_hu.shape) < 1:
        raise ValueError(f"image_phase_evidence needs a (z, y, x) volume, not {volume_hu.shape}")
    n = int(volume_hu.shape[0])
    if str(modality).upper() != "CT":
        return ImageEvidence(UNKNOWN, None, "low", (
            f"image: no image evidence on {modality or 'an unknown modality'} (the thresholds are "
            "CT numbers, HU)",))
    turned = _standard_axial(volume_hu, direction_xyz)
    if turned is None:
        return ImageEvidence(UNKNOWN, None, "low", (
            "image: not axial slices: no image evidence (the search needs axial slices)",))
    if turned is not volume_hu:  # masks follow the image
        flip = [(m if m is None else _standard_axial(np.asarray(m), direction_xyz))
                for m in (aorta, portal_vein, liver)]
        aorta, portal_vein, liver = flip
    volume_hu = turned
    given = {"aorta": aorta, "portal vein": portal_vein, "liver": liver}
    measured: dict[str, RegionHU | None] = {
        name: None if mask is None else region_hu(volume_hu, mask, name)
        for name, mask in given.items()}
    if measured["aorta"] is None and aorta is None:
        measured["aorta"] = find_aorta(volume_hu, spacing_zyx_mm, max_slices)
    if measured["liver"] is None and liver is None:
        measured["liver"] = find_liver(volume_hu, spacing_zyx_mm, max_slices)
    from_masks = aorta is not None and (portal_vein is not None or liver is not None)
    found = classify(measured["aorta"], measured["portal vein"], measured["liver"],
                     from_masks=from_masks, n_slices=n)
    if n == 1:
        found = replace(found, evidence=found.evidence + (
            "image: one slice only — it tells contrast or not where the aorta is on it; arterial "
            "vs portal-venous only if the liver or the portal vein is on it too",))
    return found


# -- combining with the header ----------------------------------------------------------------------
_STEP_UP = {"low": "medium", "medium": "high", "high": "high"}


def with_image_evidence(guess: PhaseGuess, image: ImageEvidence) -> PhaseGuess:
    """``guess`` (from the header) with the image evidence added.

    * A series that is not for reading (projection, localizer) or a reader's override: the
      evidence is added, nothing else changes.
    * The header said nothing (``unknown``): the image's phase, at the image's confidence (low
      when the structures were found automatically).
    * Header and image agree: the confidence goes up one step.
    * They disagree (a different phase, or contrast against a non-contrast header, or no
      contrast against a contrast phase): the header's phase is kept, the conflict is reported
      and the confidence is low.
    """
    evidence = guess.evidence + image.evidence
    if guess.overridden or not guess.is_reading_series:
        return replace(guess, evidence=evidence)
    header, seen = guess.phase, image.phase
    if header == UNKNOWN:
        if seen == UNKNOWN:
            return replace(guess, evidence=evidence)
        return replace(guess, phase=seen, confidence=image.confidence,
                       evidence=evidence + (f"the header does not name the phase: the image's "
                                            f"{seen} is taken",))
    if seen == header:
        return replace(guess, confidence=_STEP_UP[guess.confidence],
                       evidence=evidence + ("header and image agree",))
    says_contrast = header != NON_CONTRAST
    if image.contrast is not None and image.contrast != says_contrast:
        what = ("contrast in the blood" if image.contrast else "no contrast in the blood")
        return replace(guess, confidence="low", evidence=evidence + (
            f"conflict: the header says {header}, the image shows {what}; the header is kept — "
            "check the series",))
    if seen != UNKNOWN:
        return replace(guess, confidence="low", evidence=evidence + (
            f"conflict: the header says {header}, the image points to {seen}; the header is kept "
            "— check the series",))
    return replace(guess, evidence=evidence)


__all__ = ["AORTA_DIAMETER_MM", "MAX_SLICES", "THRESHOLDS", "ImageEvidence", "RegionHU",
           "classify", "find_aorta", "find_liver", "image_phase_evidence", "region_hu",
           "with_image_evidence"]
