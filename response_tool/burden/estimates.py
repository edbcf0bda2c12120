"""HTB estimates: every :class:`BurdenEstimate` records the method that produced it.

- ``volumetric``: from 3-D masks (:func:`volumetric`) or one label map
  (:func:`volumetric_from_labels`) on the image grid; volumes use the true slice spacing, from the
  slice positions, never SliceThickness;
- ``semi-quantitative``: from liver and tumour areas on 4–6 outlined axial slices
  (:func:`semi_quantitative`, or :func:`semi_quantitative_from_masks` on the proposed slices):
  HTB ≈ Σ tumour area / Σ liver area, with a bootstrap over the slices as its uncertainty;
- ``visual``: the reader picks the category (:func:`visual`).

The liver is the union of the liver and tumour masks, so a liver mask that includes its tumours
and one that excludes them give the same HTB; the tumour mask should hold liver tumours only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction

import numpy as np

from response_tool.domain.errors import BurdenInputError

from .outline import propose_slices
from .schemes import SCHEMES, Scheme, resolve

METHODS = ("volumetric", "semi-quantitative", "visual")

#: How far (mm²) a slice's tumour area may exceed its liver area and still be taken as the whole
#: liver section: float rounding of areas (pixel counts × pixel area), not a bigger tumour.
AREA_ROUNDING_MM2 = 1e-9


@dataclass(frozen=True)
class BurdenEstimate:
    """One HTB estimate: method, volumes or areas, HTB %, category per scheme, uncertainty."""

    method: str
    scheme: str
    htb_pct: float | None
    category: str
    categories: dict[str, str]
    edge_rule: str
    liver_volume_ml: float | None = None
    tumor_volume_ml: float | None = None
    slices: tuple[int, ...] = ()
    slice_liver_area_mm2: tuple[float, ...] = ()
    slice_tumor_area_mm2: tuple[float, ...] = ()
    ci95_pct: tuple[float, float] | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["slices"] = list(self.slices)
        out["ci95_pct"] = None if self.ci95_pct is None else list(self.ci95_pct)
        return out


def _categories(pct: Fraction, scheme: Scheme) -> tuple[str, dict[str, str]]:
    every = {s.id: s.categorize(pct) for s in SCHEMES.values()}
    every.setdefault(scheme.id, scheme.categorize(pct))
    return every[scheme.id], every


def _counts(liver: np.ndarray, tumour: np.ndarray, chunk: int = 32) -> tuple[int, int]:
    """(voxels of liver ∪ tumour, voxels of tumour), in slabs to keep temporaries small."""
    if liver.shape != tumour.shape:
        raise BurdenInputError(f"liver mask {liver.shape} and tumour mask {tumour.shape} are not on "
                               "one grid; load both onto the image")
    n_liver = n_tumour = n_both = 0
    for z in range(0, liver.shape[0], chunk):
        a, b = liver[z:z + chunk], tumour[z:z + chunk]
        n_liver += int(np.count_nonzero(a))
        n_tumour += int(np.count_nonzero(b))
        n_both += int(np.count_nonzero(a & b))
    return n_liver + n_tumour - n_both, n_tumour


def label_counts(labels: np.ndarray) -> np.ndarray:
    """Voxels per label value of an integer label map (one pass)."""
    flat = labels.reshape(-1)
    if flat.size and flat.min(initial=0) < 0:
        raise BurdenInputError("label maps hold non-negative integers")
    return np.bincount(flat.astype(np.intp, copy=False)) if flat.size else np.zeros(1, np.int64)


def present_labels(labels: np.ndarray) -> list[int]:
    """The non-zero label values of an integer label map (a histogram for labels up to 65535, so
    large label values cost no memory)."""
    flat = labels.reshape(-1)
    if not flat.size:
        return []
    if int(flat.max()) <= 65535:
        return [int(v) for v in np.flatnonzero(label_counts(labels)) if v]
    return [int(v) for v in np.unique(flat) if v]


def liver_volume_ml(liver: np.ndarray, spacing_zyx_mm: Sequence[float]) -> float:
    """Volume (mL) of a boolean liver mask (the liver alone, when no tumour is given)."""
    voxel_ml = float(np.prod(np.asarray(spacing_zyx_mm, dtype=float))) / 1000.0
    return float(np.count_nonzero(np.asarray(liver, bool))) * voxel_ml


def _estimate(method: str, liver_n: float, tumour_n: float, scheme: Scheme, *,
              exact: bool, **extra: object) -> BurdenEstimate:
    if liver_n <= 0:
        raise BurdenInputError("the liver mask is empty on this image; check the mask and its label")
    # a float share as 100 × (tumour / liver): with tumour ≤ liver the quotient is ≤ 1 and the
    # share ≤ 100 % exactly (100 × tumour / liver rounds 100 × x / x to 100.00000000000001)
    pct = Fraction(int(tumour_n) * 100, int(liver_n)) if exact \
        else Fraction(100.0 * (tumour_n / liver_n))
    category, every = _categories(pct, scheme)
    return BurdenEstimate(method, scheme.id, float(pct), category, every, scheme.edge_rule,
                          **extra)  # type: ignore[arg-type]


def volumetric(liver: np.ndarray, tumour: np.ndarray, spacing_zyx_mm: Sequence[float],
               scheme: str | Scheme = "liu2022") -> BurdenEstimate:
    """HTB from boolean 3-D masks on one grid; the category compares exact voxel ratios."""
    s = resolve(scheme)
    voxel_ml = float(np.prod(np.asarray(spacing_zyx_mm, dtype=float))) / 1000.0
    n_liver, n_tumour = _counts(np.asarray(liver, bool), np.asarray(tumour, bool))
    return _estimate("volumetric", n_liver, n_tumour, s, exact=True,
                     liver_volume_ml=n_liver * voxel_ml, tumor_volume_ml=n_tumour * voxel_ml)


def _label_voxels(labels: np.ndarray, values: Sequence[int], chunk: int = 32) -> dict[int, int]:
    """Voxels of each label value, one equality pass per value over slabs (measured faster than a
    full histogram, and no full-size temporaries)."""
    out = dict.fromkeys((int(v) for v in values), 0)
    for z in range(0, labels.shape[0], chunk):
        slab = labels[z:z + chunk]
        for v in out:
            out[v] += int(np.count_nonzero(slab == v))
    return out


def volumetric_from_labels(labels: np.ndarray, liver_labels: Sequence[int],
                           tumour_labels: Sequence[int], spacing_zyx_mm: Sequence[float],
                           scheme: str | Scheme = "liu2022") -> BurdenEstimate:
    """HTB from one label map: liver = voxels of the liver ∪ tumour labels. A label absent from the
    map is fine (a lesion that appears later) unless all of a kind are absent."""
    s = resolve(scheme)
    liver_set = {int(v) for v in liver_labels} | {int(v) for v in tumour_labels}
    counts = _label_voxels(labels, sorted(liver_set))
    for name, wanted in (("liver", liver_labels), ("tumour", tumour_labels)):
        if wanted and not any(counts[int(v)] for v in wanted):
            present = [int(v) for v in np.unique(labels) if v]
            raise BurdenInputError(f"{name} label(s) {list(wanted)} not in the label map (labels "
                                   f"present: {', '.join(map(str, present)) or 'none'})")
    n_liver = sum(counts.values())
    n_tumour = sum(counts[int(v)] for v in set(tumour_labels))
    voxel_ml = float(np.prod(np.asarray(spacing_zyx_mm, dtype=float))) / 1000.0
    return _estimate("volumetric", n_liver, n_tumour, s, exact=True,
                     liver_volume_ml=n_liver * voxel_ml, tumor_volume_ml=n_tumour * voxel_ml)


def _share_interval(low: float, high: float) -> tuple[float, float]:
    """A 95 % interval of a share, clamped to 0–100 %. A bootstrap percentile interpolates
    between resampled shares and rounds (100 × x / x can be 100.00000000000001), and a
    normal-approximation interval (estimate ± 1.96 SE) can reach past either bound near 0 or
    100 %: a share outside 0–100 % means nothing, and the read store refuses it."""
    return (min(max(low, 0.0), 100.0), min(max(high, 0.0), 100.0))


def semi_quantitative(liver_area_mm2: Sequence[float], tumour_area_mm2: Sequence[float],
                      scheme: str | Scheme = "liu2022", *, slices: Sequence[int] = (),
                      n_boot: int = 2000, seed: int = 0) -> BurdenEstimate:
    """HTB ≈ Σ tumour area / Σ liver area over the outlined slices (liver areas include tumour),
    with a 95 % bootstrap interval over the slices (resampled with replacement, seeded)."""
    s = resolve(scheme)
    liver_a = np.asarray(liver_area_mm2, dtype=float)
    tumour_a = np.asarray(tumour_area_mm2, dtype=float)
    if liver_a.shape != tumour_a.shape or liver_a.ndim != 1 or not len(liver_a):
        raise BurdenInputError("give one liver and one tumour area per outlined slice")
    if (tumour_a > liver_a + AREA_ROUNDING_MM2).any() or (tumour_a < 0).any():
        k = int(np.flatnonzero((tumour_a > liver_a + AREA_ROUNDING_MM2) | (tumour_a < 0))[0])
        raise BurdenInputError(f"slice {slices[k] if len(slices) > k else k}: tumour area "
                               f"{tumour_a[k]:g} mm² exceeds the liver area {liver_a[k]:g} mm² "
                               "(the liver outline includes its tumours)")
    tumour_a = np.minimum(tumour_a, liver_a)  # within the rounding: the whole liver section
    notes = []
    if not 4 <= len(liver_a) <= 6:
        notes.append(f"{len(liver_a)} slices outlined; the method uses 4-6")
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(liver_a), size=(n_boot, len(liver_a)))
    boot_liver = liver_a[pick].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = 100.0 * (tumour_a[pick].sum(axis=1) / boot_liver)
    boot = boot[np.isfinite(boot)]
    ci = _share_interval(float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))) \
        if len(boot) else None
    return _estimate("semi-quantitative", float(liver_a.sum()), float(tumour_a.sum()), s,
                     exact=False, slices=tuple(int(z) for z in slices),
                     slice_liver_area_mm2=tuple(float(a) for a in liver_a),
                     slice_tumor_area_mm2=tuple(float(a) for a in tumour_a), ci95_pct=ci,
                     notes=tuple(notes))


def semi_quantitative_from_masks(liver: np.ndarray, tumour: np.ndarray,
                                 spacing_zyx_mm: Sequence[float], n_slices: int = 5,
                                 scheme: str | Scheme = "liu2022",
                                 slices: Sequence[int] | None = None) -> BurdenEstimate:
    """The semi-quantitative estimate from 3-D masks: outlines = the masks on the proposed (or
    given) slices."""
    liver_b = np.asarray(liver, bool) | np.asarray(tumour, bool)
    chosen = tuple(slices) if slices is not None else propose_slices(liver_b, n_slices)
    pixel_mm2 = float(spacing_zyx_mm[1]) * float(spacing_zyx_mm[2])
    liver_a = [float(np.count_nonzero(liver_b[z])) * pixel_mm2 for z in chosen]
    tumour_a = [float(np.count_nonzero(np.asarray(tumour[z], bool))) * pixel_mm2 for z in chosen]
    return semi_quantitative(liver_a, tumour_a, scheme, slices=chosen)


def visual(category: str, scheme: str | Scheme = "liu2022") -> BurdenEstimate:
    """The reader's visual category (no HTB %)."""
    s = resolve(scheme)
    if category not in s.labels:
        raise BurdenInputError(f"category {category!r} is not in scheme {s.id} "
                               f"({', '.join(s.labels)})")
    return BurdenEstimate("visual", s.id, None, category, {s.id: category}, s.edge_rule)


__all__ = ["METHODS", "BurdenEstimate", "label_counts", "liver_volume_ml", "present_labels",
           "semi_quantitative",
           "semi_quantitative_from_masks", "visual", "volumetric", "volumetric_from_labels"]
