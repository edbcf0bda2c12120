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

The search on each slice (and the numbers it uses, :data:`THRESHOLDS` among them) is in
:mod:`response_tool.io.phase_regions`, the measurements (:class:`RegionHU`, :func:`region_hu`,
:func:`find_aorta`, :func:`find_liver`) in :mod:`response_tool.io.phase_hu`; every name is
importable from here.

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

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .phase import ARTERIAL, NON_CONTRAST, PORTAL_VENOUS, UNKNOWN, PhaseGuess
from .phase_hu import RegionHU, find_aorta, find_liver, region_hu
from .phase_regions import (  # noqa: F401  (re-exported)
    AORTA_DIAMETER_MM,
    AORTA_SPINE_GAP_MM,
    AORTA_WINDOW_MM,
    BONE_MIN_HU,
    LIVER_BAND_HU,
    LIVER_MIN_AREA_MM2,
    LIVER_RIGHT_OF_SPINE_MM,
    MAX_SLICES,
    MIDLINE_MM,
    SPINE_DEPTH_MM,
    THRESHOLDS,
)


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
