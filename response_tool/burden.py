"""Hepatic tumour burden (HTB): the share of the liver replaced by tumour, and its category.

HTB = tumour volume inside the liver / total liver volume (tumour included) × 100. Three methods,
and every estimate records which one produced it:

- ``volumetric``: from 3-D masks on the image grid (volumes use the true slice spacing, from the
  slice positions, never SliceThickness);
- ``semi-quantitative``: from liver and tumour outlines on 4–6 axial slices spread evenly over the
  liver's cranio-caudal extent: HTB ≈ Σ tumour area / Σ liver area, with a bootstrap over the
  slices as its uncertainty;
- ``visual``: the reader picks the category.

The liver is the union of the liver and tumour masks, so a liver mask that includes its tumours
and one that excludes them give the same HTB; the tumour mask should hold liver tumours only.

Categories: the schemes in :data:`SCHEMES` (or custom edges), each with its edge rule — which
bin a value exactly on an edge belongs to — written out and tested.

References
----------
.. [1] Liu et al., Cancer Med 2022: TAE + octreotide LAR in G1/G2 NET liver metastases; HTB
   < 10 / 10–25 / 25–50 / > 50 % from 4–6 slices.
.. [2] Touloupas C et al., Cancers 2021;13:5366: TACE in NET liver metastases; burden estimated
   visually as < 25 / 25–50 / 50–75 / > 75 % of the liver.
.. [3] PROMID (Rinke A et al., J Clin Oncol 2009;27:4656-63): hepatic tumour load ≤ 10 % vs > 10 %.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction

import numpy as np
import pandas as pd

from response_tool.domain.errors import BurdenInputError

METHODS = ("volumetric", "semi-quantitative", "visual")


@dataclass(frozen=True)
class Bin:
    """One category: ``low`` ≤/< value ≤/< ``high`` (percent)."""

    label: str
    low: Fraction
    high: Fraction
    low_closed: bool
    high_closed: bool

    def contains(self, value: Fraction) -> bool:
        above = value >= self.low if self.low_closed else value > self.low
        below = value <= self.high if self.high_closed else value < self.high
        return above and below


@dataclass(frozen=True)
class Scheme:
    """A published set of HTB categories and how values on an edge are assigned."""

    id: str
    bins: tuple[Bin, ...]
    edge_rule: str
    source: str

    def categorize(self, pct: float | Fraction) -> str:
        """The category of ``pct`` (exact comparison: a float is taken at its exact value)."""
        value = Fraction(pct)
        if not 0 <= value <= 100:
            raise BurdenInputError(f"HTB {float(value):g} % is outside 0–100 %")
        for b in self.bins:
            if b.contains(value):
                return b.label
        raise AssertionError(f"{self.id}: bins do not cover {float(value)}")  # tested: they do

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(b.label for b in self.bins)


def _bins(spec: Sequence[tuple[str, int, int, str]]) -> tuple[Bin, ...]:
    """(label, low, high, brackets) with brackets like '[)' or '(]'."""
    return tuple(Bin(label, Fraction(lo), Fraction(hi), br[0] == "[", br[1] == "]")
                 for label, lo, hi, br in spec)


SCHEMES: dict[str, Scheme] = {
    "liu2022": Scheme(
        "liu2022",
        _bins([("<10%", 0, 10, "[)"), ("10-25%", 10, 25, "[)"), ("25-50%", 25, 50, "[]"),
               (">50%", 50, 100, "(]")]),
        "as written: '<10' excludes 10 (10 is '10-25'), '>50' excludes 50 (50 is '25-50'); "
        "the shared edge 25 goes to the higher bin ('25-50')",
        "Liu et al., Cancer Med 2022 (TAE + octreotide LAR in NET liver metastases), HTB from "
        "4-6 slices"),
    "touloupas2021": Scheme(
        "touloupas2021",
        _bins([("<25%", 0, 25, "[)"), ("25-50%", 25, 50, "[)"), ("50-75%", 50, 75, "[]"),
               (">75%", 75, 100, "(]")]),
        "as written: '<25' excludes 25 (25 is '25-50'), '>75' excludes 75 (75 is '50-75'); "
        "the shared edge 50 goes to the higher bin ('50-75')",
        "Touloupas C et al., Cancers 2021;13:5366, burden estimated visually"),
    "promid": Scheme(
        "promid", _bins([("<=10%", 0, 10, "[]"), (">10%", 10, 100, "(]")]),
        "as written: 10 is '<=10%'", "Rinke A et al. J Clin Oncol 2009;27:4656-63 (PROMID)"),
    "involvement50": Scheme(
        "involvement50", _bins([("<=50%", 0, 50, "[]"), (">50%", 50, 100, "(]")]),
        "as written: 50 is '<=50%'", "liver involvement > 50 % (../shared/design/criteria.md §5)"),
}


def custom_scheme(edges: Sequence[float]) -> Scheme:
    """Bins between increasing ``edges`` (percent); a value on an edge goes to the higher bin."""
    values = [Fraction(str(e)) for e in edges]
    if not values or any(not 0 < v < 100 for v in values) or values != sorted(set(values)):
        raise BurdenInputError(f"custom HTB edges {list(edges)}: give increasing numbers between 0 "
                               "and 100, e.g. custom:10,25,50")
    bounds = [Fraction(0), *values, Fraction(100)]
    bins = tuple(Bin(f"{float(lo):g}-{float(hi):g}%", lo, hi, True, i == len(bounds) - 2)
                 for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)))
    text = ",".join(f"{float(v):g}" for v in values)
    return Scheme(f"custom:{text}", bins, "a value on an edge goes to the higher bin", "custom")


def get_scheme(name: str) -> Scheme:
    """A scheme by id (``liu2022``, ``touloupas2021``, ``promid``, ``involvement50``) or
    ``custom:E1,E2,…``."""
    if name in SCHEMES:
        return SCHEMES[name]
    if name.startswith("custom:"):
        try:
            edges = [float(x) for x in name[len("custom:"):].split(",") if x.strip()]
        except ValueError:
            edges = []
        return custom_scheme(edges)
    raise BurdenInputError(f"unknown HTB scheme {name!r}; use one of {', '.join(SCHEMES)} or "
                           "custom:E1,E2,… (percent edges)")


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


def _estimate(method: str, liver_n: float, tumour_n: float, scheme: Scheme, *,
              exact: bool, **extra: object) -> BurdenEstimate:
    if liver_n <= 0:
        raise BurdenInputError("the liver mask is empty on this image; check the mask and its label")
    pct = Fraction(int(tumour_n) * 100, int(liver_n)) if exact else Fraction(100 * tumour_n / liver_n)
    category, every = _categories(pct, scheme)
    return BurdenEstimate(method, scheme.id, float(pct), category, every, scheme.edge_rule,
                          **extra)  # type: ignore[arg-type]


def volumetric(liver: np.ndarray, tumour: np.ndarray, spacing_zyx_mm: Sequence[float],
               scheme: str | Scheme = "liu2022") -> BurdenEstimate:
    """HTB from boolean 3-D masks on one grid; the category compares exact voxel ratios."""
    s = scheme if isinstance(scheme, Scheme) else get_scheme(scheme)
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
    s = scheme if isinstance(scheme, Scheme) else get_scheme(scheme)
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


def propose_slices(liver: np.ndarray, n: int = 5) -> tuple[int, ...]:
    """``n`` axial slice indices spread evenly over the liver's cranio-caudal extent: the centres
    of ``n`` equal parts of the range of slices that contain liver."""
    if not 1 <= n <= 20:
        raise BurdenInputError(f"{n} slices: choose between 4 and 6 (1–20 accepted)")
    z = np.flatnonzero(np.asarray(liver, bool).reshape(liver.shape[0], -1).any(axis=1))
    if not len(z):
        raise BurdenInputError("the liver mask is empty; no slices to propose")
    first, last = int(z[0]), int(z[-1])
    extent = last - first + 1
    picks = [first + int((k + 0.5) * extent / n) for k in range(n)]
    return tuple(sorted(set(min(last, p) for p in picks)))


def semi_quantitative(liver_area_mm2: Sequence[float], tumour_area_mm2: Sequence[float],
                      scheme: str | Scheme = "liu2022", *, slices: Sequence[int] = (),
                      n_boot: int = 2000, seed: int = 0) -> BurdenEstimate:
    """HTB ≈ Σ tumour area / Σ liver area over the outlined slices (liver areas include tumour),
    with a 95 % bootstrap interval over the slices (resampled with replacement, seeded)."""
    s = scheme if isinstance(scheme, Scheme) else get_scheme(scheme)
    liver_a = np.asarray(liver_area_mm2, dtype=float)
    tumour_a = np.asarray(tumour_area_mm2, dtype=float)
    if liver_a.shape != tumour_a.shape or liver_a.ndim != 1 or not len(liver_a):
        raise BurdenInputError("give one liver and one tumour area per outlined slice")
    if (tumour_a > liver_a + 1e-9).any() or (tumour_a < 0).any():
        k = int(np.flatnonzero((tumour_a > liver_a + 1e-9) | (tumour_a < 0))[0])
        raise BurdenInputError(f"slice {slices[k] if len(slices) > k else k}: tumour area "
                               f"{tumour_a[k]:g} mm² exceeds the liver area {liver_a[k]:g} mm² "
                               "(the liver outline includes its tumours)")
    notes = []
    if not 4 <= len(liver_a) <= 6:
        notes.append(f"{len(liver_a)} slices outlined; the method uses 4-6")
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(liver_a), size=(n_boot, len(liver_a)))
    boot_liver = liver_a[pick].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = 100.0 * tumour_a[pick].sum(axis=1) / boot_liver
    boot = boot[np.isfinite(boot)]
    ci = (float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))) if len(boot) else None
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
    s = scheme if isinstance(scheme, Scheme) else get_scheme(scheme)
    if category not in s.labels:
        raise BurdenInputError(f"category {category!r} is not in scheme {s.id} "
                               f"({', '.join(s.labels)})")
    return BurdenEstimate("visual", s.id, None, category, {s.id: category}, s.edge_rule)





#: Columns of a burden table (``response-tool assess --burden BURDEN.csv``): one row per patient
#: (× reader) × time point.
BURDEN_COLUMNS = ("patient_id", "reader_id", "timepoint_date", "htb_pct", "htb_category",
                  "htb_method")


def read_burden_table(source: object, scheme: str | Scheme = "liu2022") -> pd.DataFrame:
    """Validate a burden table (a CSV path or a DataFrame) and categorize it under ``scheme``.

    Columns: ``patient_id``, ``timepoint_date`` (YYYY-MM-DD), ``htb_method`` (volumetric,
    semi-quantitative or visual), ``htb_pct`` (0–100; required unless visual), ``htb_category``
    (required for visual: a category of ``scheme``), optional ``reader_id`` (empty or absent: the
    value applies to every reader of that patient). Problems are listed by line and column.
    """
    s = scheme if isinstance(scheme, Scheme) else get_scheme(scheme)
    name = str(source) if not isinstance(source, pd.DataFrame) else "burden table"
    if isinstance(source, pd.DataFrame):
        frame = source.astype(object).where(source.notna(), "")
    else:
        try:
            frame = pd.read_csv(source, dtype=str, keep_default_na=False)  # type: ignore[arg-type]
        except FileNotFoundError as exc:
            raise BurdenInputError(f"{name}: no such file; give the burden CSV") from exc
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise BurdenInputError(f"{name}: not a readable CSV ({exc})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in ("patient_id", "timepoint_date", "htb_method") if c not in frame.columns]
    if missing:
        raise BurdenInputError(f"{name}: missing column(s) {', '.join(missing)}; the header needs "
                               "patient_id, timepoint_date, htb_method and htb_pct or htb_category")
    problems: list[str] = []
    rows = []
    for i, r in enumerate(frame.to_dict("records"), start=2):
        text = {k: str(r.get(k, "")).strip() for k in BURDEN_COLUMNS}
        method = text["htb_method"].lower()
        date = pd.to_datetime(text["timepoint_date"], format="%Y-%m-%d", errors="coerce")
        if not text["patient_id"]:
            problems.append(f"line {i}, column patient_id: must not be empty")
        if pd.isna(date):
            problems.append(f"line {i}, column timepoint_date ({text['timepoint_date']!r}): not a "
                            "date; write YYYY-MM-DD")
        if method not in METHODS:
            problems.append(f"line {i}, column htb_method ({text['htb_method']!r}): use one of "
                            f"{', '.join(METHODS)}")
        pct = None
        category = text["htb_category"]
        if text["htb_pct"]:
            try:
                pct = float(text["htb_pct"])
            except ValueError:
                pct = None
            if pct is None or not 0 <= pct <= 100:
                problems.append(f"line {i}, column htb_pct ({text['htb_pct']!r}): a percentage "
                                "between 0 and 100")
                pct = None
            else:
                category = s.categorize(pct)
        elif method == "visual":
            if category not in s.labels:
                problems.append(f"line {i}, column htb_category ({category!r}): a visual estimate "
                                f"needs a category of {s.id} ({', '.join(s.labels)})")
        elif method in METHODS:
            problems.append(f"line {i}, column htb_pct: a {method} estimate needs its HTB %")
        rows.append({"patient_id": text["patient_id"], "reader_id": text["reader_id"],
                     "timepoint_date": date, "htb_pct": pct, "htb_category": category,
                     "htb_method": method, "_line": i})
    out = pd.DataFrame(rows, columns=[*BURDEN_COLUMNS, "_line"])
    dup = out.duplicated(["patient_id", "reader_id", "timepoint_date"], keep="first")
    problems += [f"line {line}: a second burden estimate for this patient, reader and date; keep "
                 "one" for line in out.loc[dup, "_line"]]
    if problems:
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise BurdenInputError(f"{name}: {len(problems)} problem(s); nothing was written.\n  "
                               + "\n  ".join(problems[:20]) + more)
    return out  # with _line, so callers can name the line of a row that matches nothing


def grow_region_2d(image_hu: np.ndarray, seed_yx: Sequence[int], *, tolerance_hu: float | None = None,
                   radius_px: int = 3, closing_px: int = 2) -> np.ndarray:
    """An outline assisted from one click: the connected region around ``seed_yx`` on one axial
    slice whose HU lies within ``tolerance_hu`` of the seed neighbourhood's median (default 2.5 ×
    its standard deviation, at least 20 HU), holes filled and the border smoothed. SimpleITK's
    ConnectedThreshold on the slice only — the reader edits the result."""
    img = np.asarray(image_hu, dtype=np.float32)
    if img.ndim != 2:
        raise BurdenInputError("region growing works on one axial slice (a 2-D array)")
    y, x = (int(round(v)) for v in seed_yx)
    if not (0 <= y < img.shape[0] and 0 <= x < img.shape[1]):
        raise BurdenInputError(f"seed ({y}, {x}) lies outside the slice {img.shape}")
    patch = img[max(0, y - radius_px):y + radius_px + 1, max(0, x - radius_px):x + radius_px + 1]
    centre = float(np.median(patch))
    tol = float(tolerance_hu) if tolerance_hu is not None else max(20.0, 2.5 * float(patch.std()))
    import SimpleITK as sitk

    smooth = sitk.CurvatureFlow(sitk.GetImageFromArray(img), timeStep=0.125, numberOfIterations=3)
    region = sitk.ConnectedThreshold(smooth, seedList=[(x, y)], lower=centre - tol,
                                     upper=centre + tol, replaceValue=1)
    if closing_px:
        region = sitk.BinaryMorphologicalClosing(region, [closing_px, closing_px])
    region = sitk.BinaryFillhole(region)
    return sitk.GetArrayFromImage(region).astype(bool)


def slice_areas_mm2(outlines: np.ndarray, slices: Sequence[int], pixel_mm2: float,
                    liver_label: int = 1, tumour_label: int = 2) -> tuple[list[float], list[float]]:
    """Liver (liver ∪ tumour) and tumour areas on each slice of a (z, y, x) outline label array."""
    liver, tumour = [], []
    for z in slices:
        sl = outlines[int(z)]
        n_tumour = int(np.count_nonzero(sl == tumour_label))
        liver.append((int(np.count_nonzero(sl == liver_label)) + n_tumour) * pixel_mm2)
        tumour.append(n_tumour * pixel_mm2)
    return liver, tumour


def propose_slices_between(first: int, last: int, n: int = 5) -> tuple[int, ...]:
    """:func:`propose_slices` for a liver known only by its first and last slice."""
    lo, hi = sorted((int(first), int(last)))
    extent = np.zeros((hi + 1, 1), bool)
    extent[lo:hi + 1] = True
    return propose_slices(extent, n)


def ellipse_on_slice(shape_yx: Sequence[int], long_end_yx_mm: np.ndarray, short_mm: float | None,
                     dz_mm: float, pixel_mm: Sequence[float], origin_yx_mm: Sequence[float]
                     ) -> np.ndarray:
    """A lesion's cross-section on a slice ``dz_mm`` from its measured slice, as an ellipsoid:
    the long axis (endpoints, mm) in-plane, the short axis (default: the long) across it and
    through the slices. A starting outline the reader edits, not a segmentation."""
    ends = np.asarray(long_end_yx_mm, dtype=float)
    centre = ends.mean(axis=0)
    a = float(np.linalg.norm(ends[1] - ends[0])) / 2.0
    b = (float(short_mm) if short_mm else 2 * a) / 2.0
    if a <= 0 or abs(dz_mm) >= b:
        return np.zeros(tuple(shape_yx), bool)
    shrink = np.sqrt(1.0 - (dz_mm / b) ** 2)
    u = (ends[1] - ends[0]) / (2 * a)
    yy, xx = np.mgrid[:shape_yx[0], :shape_yx[1]]
    py = origin_yx_mm[0] + yy * pixel_mm[0] - centre[0]
    px = origin_yx_mm[1] + xx * pixel_mm[1] - centre[1]
    along = py * u[0] + px * u[1]
    across = -py * u[1] + px * u[0]
    return (along / (a * shrink)) ** 2 + (across / (b * shrink)) ** 2 <= 1.0


__all__ = ["SCHEMES", "METHODS", "BurdenEstimate", "BurdenInputError", "Scheme", "custom_scheme",
           "get_scheme", "propose_slices", "semi_quantitative", "semi_quantitative_from_masks",
           "visual", "volumetric", "volumetric_from_labels", "read_burden_table", "BURDEN_COLUMNS",
           "grow_region_2d", "slice_areas_mm2", "propose_slices_between", "ellipse_on_slice"]
