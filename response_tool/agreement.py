"""Inter-reader agreement on tumour response: categories (κ, AC1) and target sums (ICC, Bland–Altman).

The coefficients come from well-kept libraries, each checked in the tests against a published
worked example (docs/agreement.md):

* Fleiss κ over all readers — ``statsmodels.stats.inter_rater.fleiss_kappa`` (Fleiss 1971);
* Gwet AC1 over all readers (Gwet 2008) — written here, see :func:`gwet_ac1` for why;
* Cohen κ for each reader pair, unweighted and linearly weighted (Cohen 1960, 1968) —
  ``statsmodels.stats.inter_rater.cohens_kappa`` on the full 4 × 4 table, so a category no reader
  used still counts in the ordinal distances;
* ICC(2,1) of the sums (two-way random effects, absolute agreement, single reader; Shrout & Fleiss
  1979) with McGraw & Wong's F-based interval — written here from the ANOVA mean squares
  (pingouin, which gives the same numbers, would bring scikit-learn, seaborn and xarray for it);
* Bland–Altman bias and 95 % limits of agreement (Bland & Altman 1986) for each reader pair.

Responses are on the ordinal scale CR < PR < SD < PD. NON-CR/NON-PD (no target lesions) counts as
SD — it is neither a response nor progression, as in the disease-control rate. NE is not on the
scale: a patient with NE from any reader is dropped, like a patient some reader did not read
(complete cases), and the counts say so. Confidence intervals are percentile bootstraps over
patients with a seeded generator.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from response_tool.domain.errors import AgreementInputError
from response_tool.domain.vocabulary import ADJUDICATOR, ORDINAL_SCALE, TABULATED_AS, Criterion
from response_tool.io.tables import read_table

#: The ordinal response scale, best first.
ORDINAL = tuple(r.value for r in ORDINAL_SCALE)
#: Response label → position on :data:`ORDINAL` (NE and unknown labels are not on the scale;
#: NON-CR/NON-PD sits with SD).
SCALE_CODE = {**{r: i for i, r in enumerate(ORDINAL)},
              **{k.value: ORDINAL.index(v.value) for k, v in TABULATED_AS.items()}}
#: Binary partitions of the scale: name → (label, class of CR, PR, SD, PD).
PARTITIONS: dict[str, tuple[str, tuple[int, int, int, int]]] = {
    "cr_vs_noncr": ("CR vs non-CR", (0, 1, 1, 1)),
    "crpr_vs_sdpd": ("CR+PR (objective response) vs SD+PD", (0, 0, 1, 1)),
    "pd_vs_nonpd": ("PD vs non-PD (disease control)", (1, 1, 1, 0)),
}
#: Criteria whose responses can be compared (the adjudicated read, ADJUDICATOR, is not an
#: independent reader: it is left out unless named).
CRITERIA = tuple(c.value for c in Criterion)

# -- coefficients (each a thin call into a library) ------------------------------------------
def fleiss_kappa(codes: np.ndarray, n_categories: int) -> float:
    """Fleiss' κ of ``codes`` (subjects × raters, integers 0..n_categories-1)."""
    from statsmodels.stats.inter_rater import fleiss_kappa as _fleiss

    # the subjects × categories counts of statsmodels' aggregate_raters(codes, n_cat), counted
    # with one comparison per category (8× faster: the bootstrap calls this 1600 times)
    codes = np.asarray(codes, dtype=int)
    table = np.stack([(codes == k).sum(axis=1) for k in range(n_categories)], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(_fleiss(table, method="fleiss"))


def gwet_ac1(codes: np.ndarray, n_categories: int) -> float:
    """Gwet's AC1 of ``codes`` (subjects × raters; NaN = not rated) over ``n_categories``
    categories — a category nobody used still counts in the chance agreement.

    Written here (Gwet 2008, eq. 14-18; Gwet 2014, ch. 4): the one Python port of Gwet's own
    package, irrCAC 0.4.4, pins scipy 1.12.0 and thereby NumPy < 2, which the rest of the tool
    (pyarrow) cannot run with. The tests check this function against Gwet's worked example
    (AC1 = 0.77544 on his 12-subject, 4-rater data with missing ratings, the value irrCAC's own
    tests assert)."""
    x = np.asarray(codes, dtype=float)
    q = int(n_categories)
    rated = ~np.isnan(x)
    counts = np.stack([((x == k) & rated).sum(axis=1) for k in range(q)], axis=1).astype(float)
    r = counts.sum(axis=1)                       # ratings per subject
    two = r >= 2
    if not two.any() or q < 2:
        return math.nan
    pa = float(np.mean((counts[two] * (counts[two] - 1)).sum(axis=1) / (r[two] * (r[two] - 1))))
    has = r > 0
    pi = (counts[has] / r[has, None]).mean(axis=0)   # category propensities
    pe = float((pi * (1 - pi)).sum() / (q - 1))
    return (pa - pe) / (1 - pe) if pe < 1 else math.nan


def cohen_kappa(a: np.ndarray, b: np.ndarray, n_categories: int,
                weights: str | None = None) -> float:
    """Cohen's κ of two raters' codes; ``weights="linear"`` for the linearly weighted κ on the
    ordinal scale. NaN when undefined (both raters used one and the same category)."""
    from statsmodels.stats.inter_rater import cohens_kappa as _cohen

    table = np.bincount(np.asarray(a, dtype=int) * n_categories + np.asarray(b, dtype=int),
                        minlength=n_categories * n_categories).reshape(n_categories, n_categories)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = _cohen(table, wt=weights, return_results=False) if weights else \
            _cohen(table, return_results=False)
    return float(value)


def icc_2_1(values: np.ndarray, alpha: float = 0.05) -> dict[str, float]:
    """ICC(2,1) — two-way random effects, absolute agreement, single rater (Shrout & Fleiss 1979;
    McGraw & Wong 1996 case 2A, "ICC(A,1)") — of ``values`` (subjects × raters), with the
    F-based confidence interval of McGraw & Wong (1996, Table 7; Satterthwaite's degrees of
    freedom), the interval pingouin's ``intraclass_corr`` reports (checked in the tests)."""
    from scipy.stats import f as fisher

    values = np.asarray(values, dtype=float)
    n, k = values.shape
    if n < 3 or k < 2:
        return {"icc": math.nan, "ci95_low": math.nan, "ci95_high": math.nan, "n": n}
    grand = values.mean()
    ms_rows = k * ((values.mean(axis=1) - grand) ** 2).sum() / (n - 1)      # subjects
    ms_cols = n * ((values.mean(axis=0) - grand) ** 2).sum() / (k - 1)      # raters
    resid = values - values.mean(axis=1, keepdims=True) - values.mean(axis=0) + grand
    ms_err = (resid ** 2).sum() / ((n - 1) * (k - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        icc = (ms_rows - ms_err) / (ms_rows + (k - 1) * ms_err + k * (ms_cols - ms_err) / n)
        # Satterthwaite's degrees of freedom of the denominator (McGraw & Wong 1996, Table 7)
        a = k * icc / (n * (1 - icc))
        b = 1 + k * icc * (n - 1) / (n * (1 - icc))
        v = ((a * ms_cols + b * ms_err) ** 2
             / ((a * ms_cols) ** 2 / (k - 1) + (b * ms_err) ** 2 / ((n - 1) * (k - 1))))
        low = high = math.nan
        if np.isfinite(v) and v > 0:
            f_up = fisher.ppf(1 - alpha / 2, n - 1, v)
            f_low = fisher.ppf(1 - alpha / 2, v, n - 1)
            spread = k * ms_cols + (k * n - k - n) * ms_err
            low = n * (ms_rows - f_up * ms_err) / (f_up * spread + n * ms_rows)
            high = n * (f_low * ms_rows - ms_err) / (spread + n * f_low * ms_rows)
    return {"icc": float(icc), "ci95_low": float(low), "ci95_high": float(high), "n": n}


def bland_altman(a: np.ndarray, b: np.ndarray, multiplier: float = 1.96) -> dict[str, float]:
    """Bland–Altman: bias (mean of a − b), SD of the differences and the limits of agreement
    bias ± ``multiplier`` × SD (Bland & Altman 1986 used 2; 1.96 is today's convention)."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(d) < 2:
        return {"n": len(d), "bias": math.nan, "sd": math.nan, "loa_low": math.nan,
                "loa_high": math.nan}
    bias, sd = float(d.mean()), float(d.std(ddof=1))
    return {"n": len(d), "bias": bias, "sd": sd, "loa_low": bias - multiplier * sd,
            "loa_high": bias + multiplier * sd}


# -- the comparison ---------------------------------------------------------------------------
@dataclass
class Ratings:
    """Complete cases: one row per patient, one column per reader."""

    criterion: str
    what: str                       # "follow-up 1" or "best overall response"
    readers: list[str]
    patients: list[str]
    labels: pd.DataFrame            # original labels (patients × readers)
    codes: np.ndarray               # positions on ORDINAL
    dropped: dict[str, list[str]] = field(default_factory=dict)   # reason → patients
    sums: dict[str, pd.DataFrame] = field(default_factory=dict)   # "baseline"/"follow-up" → wide

    @property
    def n_dropped(self) -> int:
        return sum(len(v) for v in self.dropped.values())


def _read_table(source: str | Path | pd.DataFrame, what: str, needed: Sequence[str]) -> pd.DataFrame:
    frame = read_table(source, f"{what} written by `response-tool assess`", needed,
                       AgreementInputError)
    for col in ("patient_id", "reader_id", "criterion"):
        if col in frame.columns:
            frame[col] = frame[col].astype(str).str.strip()
    return frame


def collect_ratings(responses: str | Path | pd.DataFrame, criterion: str = "recist1.1",
                    followup: int = 1, bor: str | Path | pd.DataFrame | None = None,
                    confirmed: bool = False, readers: Sequence[str] | None = None) -> Ratings:
    """The readers' responses per patient at follow-up ``followup`` (or their best overall
    responses from ``bor``), complete cases only, with the sums at baseline and at that follow-up."""
    if criterion not in CRITERIA:
        raise AgreementInputError(f"criterion {criterion!r}: use one of {', '.join(CRITERIA)}")
    tp = _read_table(responses, "responses CSV", ("patient_id", "reader_id", "criterion",
                                                  "timepoint_date", "is_baseline", "sum_mm",
                                                  "overall_response"))
    tp = tp[tp["criterion"] == criterion]
    if tp.empty:
        present = sorted(set(_read_table(responses, "responses CSV", ("criterion",))["criterion"]))
        where = f"{responses}: " if isinstance(responses, (str, Path)) else ""
        raise AgreementInputError(f"{where}no {criterion} rows in the responses (criteria present: "
                                  f"{', '.join(present) or 'none'}); run `response-tool assess` "
                                  f"with that criterion or choose another with --criterion")
    all_readers = sorted(set(tp["reader_id"]))
    if readers:
        unknown = [r for r in readers if r not in all_readers]
        if unknown:
            raise AgreementInputError(f"reader(s) {', '.join(unknown)} not in the responses "
                                      f"(readers present: {', '.join(all_readers)})")
        chosen = list(dict.fromkeys(readers))
    else:
        chosen = [r for r in all_readers if r != ADJUDICATOR]
    if len(chosen) < 2:
        if readers:
            raise AgreementInputError(f"agreement needs at least two readers; --readers names "
                                      f"{len(chosen)} ({', '.join(chosen)}) of "
                                      f"{', '.join(all_readers)}")
        adj = "; ADJ, the adjudicated read, is left out" if ADJUDICATOR in all_readers else ""
        where = f"{responses}: " if isinstance(responses, (str, Path)) else ""
        raise AgreementInputError(f"{where}agreement needs at least two readers; the {criterion} "
                                  f"responses have {len(chosen)} ({', '.join(chosen) or 'none'}"
                                  f"{adj}) — give the responses of several readers in one file")
    tp = tp[tp["reader_id"].isin(chosen)].copy()
    tp["_base"] = tp["is_baseline"].astype(str).str.lower().isin(("true", "1"))
    tp = tp.sort_values(["patient_id", "reader_id", "timepoint_date"], kind="stable")
    tp["_k"] = tp.groupby(["patient_id", "reader_id"]).cumcount()  # 0 = baseline
    if followup < 1:
        raise AgreementInputError(f"--followup {followup}: follow-ups are numbered from 1")
    if bor is None:
        at = tp[(tp["_k"] == followup) & ~tp["_base"]]
        if at.empty:
            most = int(tp["_k"].max()) if len(tp) else 0
            raise AgreementInputError(f"no patient has a follow-up {followup} in the {criterion} "
                                      f"responses (at most {most} follow-up(s)); choose "
                                      "--followup within that or give --bor")
        labels = at.pivot_table(index="patient_id", columns="reader_id",
                                values="overall_response", aggfunc="first")
        what = f"follow-up {followup}"
    else:
        col = "confirmed_best_overall_response" if confirmed else "best_overall_response"
        b = _read_table(bor, "BOR CSV", ("patient_id", "reader_id", "criterion", col))
        b = b[(b["criterion"] == criterion) & b["reader_id"].isin(chosen)]
        if b.empty:
            raise AgreementInputError(f"no {criterion} rows of the chosen readers in the BOR file")
        labels = b.pivot_table(index="patient_id", columns="reader_id", values=col,
                               aggfunc="first")
        what = ("confirmed " if confirmed else "") + "best overall response"
    labels = labels.reindex(columns=chosen)
    everyone = sorted(set(tp["patient_id"]) | set(labels.index))
    labels = labels.reindex(everyone)
    dropped: dict[str, list[str]] = {}
    missing = labels.isna() | (labels == "")
    nobody = missing.all(axis=1)
    if nobody.any():
        dropped[f"no {what} from any reader"] = sorted(labels.index[nobody])
    if (missing.any(axis=1) & ~nobody).any():
        dropped["not read by every reader"] = sorted(labels.index[missing.any(axis=1) & ~nobody])
    codes = labels.apply(lambda c: c.map(SCALE_CODE))
    off_scale = codes.isna() & ~missing
    if off_scale.any(axis=None):
        dropped["NE (or no response) from some reader"] = sorted(
            labels.index[off_scale.any(axis=1) & ~missing.any(axis=1)])
    keep = codes.notna().all(axis=1)
    labels, codes = labels[keep], codes[keep]
    if len(labels) < 2:
        raise AgreementInputError(f"only {len(labels)} patient(s) rated on the CR/PR/SD/PD scale "
                                  f"by all of {', '.join(chosen)} at the {what}; agreement needs at"
                                  " least two")
    patients = list(labels.index)
    sums: dict[str, pd.DataFrame] = {}
    k_sum = followup if bor is None else None
    for name, rows in (("baseline", tp[tp["_base"]]),
                       (f"follow-up {followup}", tp[tp["_k"] == k_sum] if k_sum else tp.iloc[:0])):
        if rows.empty:
            continue
        wide = rows.pivot_table(index="patient_id", columns="reader_id", values="sum_mm",
                                aggfunc="first").reindex(index=patients, columns=chosen)
        wide = wide.apply(pd.to_numeric, errors="coerce").dropna()
        if len(wide):
            sums[name] = wide
    return Ratings(criterion, what, chosen, patients, labels,
                   codes.to_numpy(dtype=int), dropped, sums)


def _categorical(codes: np.ndarray, readers: list[str]) -> dict[str, Any]:
    """Every category coefficient of one sample (original or bootstrap)."""
    q = len(ORDINAL)
    out: dict[str, Any] = {"fleiss_kappa": fleiss_kappa(codes, q),
                           "gwet_ac1": gwet_ac1(codes, q), "pairwise": []}
    for i, j in itertools.combinations(range(len(readers)), 2):
        out["pairwise"].append({
            "reader_a": readers[i], "reader_b": readers[j],
            "cohen_kappa": cohen_kappa(codes[:, i], codes[:, j], q),
            "weighted_kappa_linear": cohen_kappa(codes[:, i], codes[:, j], q, "linear"),
            "percent_agreement": float(np.mean(codes[:, i] == codes[:, j]) * 100)})
    out["partitions"] = {}
    for name, (label, classes) in PARTITIONS.items():
        binary = np.asarray(classes)[codes]
        part: dict[str, Any] = {"label": label, "fleiss_kappa": fleiss_kappa(binary, 2),
                                "gwet_ac1": gwet_ac1(binary, 2), "pairwise": []}
        for i, j in itertools.combinations(range(len(readers)), 2):
            part["pairwise"].append({"reader_a": readers[i], "reader_b": readers[j],
                                     "cohen_kappa": cohen_kappa(binary[:, i], binary[:, j], 2)})
        out["partitions"][name] = part
    return out


def _scalar_paths(d: Any, prefix: tuple = ()) -> list[tuple]:
    """Paths to every float coefficient in the nested result (for the bootstrap)."""
    paths: list[tuple] = []
    if isinstance(d, dict):
        for k, v in d.items():
            if k in ("reader_a", "reader_b", "label", "percent_agreement"):
                continue
            paths += _scalar_paths(v, (*prefix, k))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            paths += _scalar_paths(v, (*prefix, i))
    elif isinstance(d, float):
        paths.append(prefix)
    return paths


def _get(d: Any, path: tuple) -> Any:
    for p in path:
        d = d[p]
    return d


def _finite(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 4)


def agreement(responses: str | Path | pd.DataFrame, criterion: str = "recist1.1",
              followup: int = 1, bor: str | Path | pd.DataFrame | None = None,
              confirmed: bool = False, readers: Sequence[str] | None = None,
              n_boot: int = 1000, seed: int = 0,
              progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Agreement between the readers of ``responses`` (see the module docstring); a JSON-ready dict.

    ``progress(done, total)`` is called during the bootstrap."""
    if n_boot < 0:
        raise AgreementInputError(f"--n-boot {n_boot}: give 0 (no intervals) or more")
    r = collect_ratings(responses, criterion, followup, bor, confirmed, readers)
    point = _categorical(r.codes, r.readers)
    paths = _scalar_paths(point)
    draws = np.full((n_boot, len(paths)), np.nan)
    rng = np.random.default_rng(seed)
    n = len(r.patients)
    for b in range(n_boot):
        sample = r.codes[rng.integers(0, n, n)]
        est = _categorical(sample, r.readers)
        draws[b] = [_get(est, p) for p in paths]
        if progress is not None:
            progress(b + 1, n_boot)
    result: dict[str, Any] = {
        "criterion": r.criterion, "compared": r.what, "n_complete": n,
        "n_dropped": r.n_dropped, "dropped": r.dropped, "readers": r.readers,
        "categories": list(ORDINAL),
        "categories_used": [c for i, c in enumerate(ORDINAL) if (r.codes == i).any()],
        "counts": {reader: {c: int((r.codes[:, j] == i).sum()) for i, c in enumerate(ORDINAL)}
                   for j, reader in enumerate(r.readers)},
        "bootstrap": {"n_boot": n_boot, "seed": seed, "ci": "percentile 95 %"},
    }
    for k, path in enumerate(paths):
        parent = _get(point, path[:-1])
        key = path[-1]
        value = parent[key]
        parent[key] = _finite(value)
        if n_boot:
            col = draws[:, k]
            col = col[np.isfinite(col)]
            ci = [_finite(float(np.percentile(col, 2.5))), _finite(float(np.percentile(col, 97.5)))] \
                if len(col) >= max(10, n_boot // 2) else None
            parent[f"{key}_ci95"] = ci
    for pair in point["pairwise"]:
        pair["percent_agreement"] = round(pair["percent_agreement"], 1)
    result.update(point)
    result["sums"] = {}
    for name, wide in r.sums.items():
        entry: dict[str, Any] = {"n": len(wide), "icc_2_1": {
            k: (_finite(v) if isinstance(v, float) else v) for k, v in icc_2_1(wide.to_numpy()).items()},
            "bland_altman": []}
        for a, b in itertools.combinations(r.readers, 2):
            ba = bland_altman(wide[a].to_numpy(), wide[b].to_numpy())
            entry["bland_altman"].append({"reader_a": a, "reader_b": b, "n": ba["n"],
                                          **{k: _finite(v) for k, v in ba.items() if k != "n"}})
        result["sums"][name] = entry
    return result


def format_text(res: dict[str, Any]) -> str:
    """The agreement result as a short plain-text report."""
    def ci(d: dict[str, Any], key: str) -> str:
        v = d.get(key)
        c = d.get(f"{key}_ci95")
        text = "n/a" if v is None else f"{v:.3f}"
        return text + (f" ({c[0]:.3f} to {c[1]:.3f})" if c and None not in c else "")

    lines = [f"Agreement on {res['criterion']} {res['compared']}: {res['n_complete']} patients "
             f"read by all of {', '.join(res['readers'])}; {res['n_dropped']} dropped"]
    for reason, who in res["dropped"].items():
        lines.append(f"  dropped, {reason}: {', '.join(who[:10])}{' …' if len(who) > 10 else ''}")
    lines.append(f"Categories used: {', '.join(res['categories_used'])} (scale CR < PR < SD < PD;"
                 f" 95 % CI: {res['bootstrap']['n_boot']} bootstrap samples, seed "
                 f"{res['bootstrap']['seed']})")
    lines.append(f"  Fleiss kappa  {ci(res, 'fleiss_kappa')}")
    lines.append(f"  Gwet AC1      {ci(res, 'gwet_ac1')}")
    for p in res["pairwise"]:
        lines.append(f"  {p['reader_a']} vs {p['reader_b']}: Cohen kappa {ci(p, 'cohen_kappa')}; "
                     f"linear weighted {ci(p, 'weighted_kappa_linear')}; "
                     f"{p['percent_agreement']:.1f} % agree")
    for part in res["partitions"].values():
        lines.append(f"{part['label']}: Fleiss kappa {ci(part, 'fleiss_kappa')}; Gwet AC1 "
                     f"{ci(part, 'gwet_ac1')}")
        for p in part["pairwise"]:
            lines.append(f"  {p['reader_a']} vs {p['reader_b']}: Cohen kappa "
                         f"{ci(p, 'cohen_kappa')}")
    for name, s in res["sums"].items():
        icc = s["icc_2_1"]
        lines.append(f"Sum of diameters at {name} (n = {s['n']}): ICC(2,1) "
                     f"{'n/a' if icc['icc'] is None else format(icc['icc'], '.3f')}"
                     + (f" ({icc['ci95_low']:.2f} to {icc['ci95_high']:.2f})"
                        if icc["ci95_low"] is not None else ""))
        for ba in s["bland_altman"]:
            if ba["bias"] is None:
                continue
            lines.append(f"  Bland-Altman {ba['reader_a']} - {ba['reader_b']}: bias "
                         f"{ba['bias']:+.1f} mm, limits {ba['loa_low']:+.1f} to "
                         f"{ba['loa_high']:+.1f} mm")
    return "\n".join(lines) + "\n"


__all__ = ["ADJUDICATOR", "AgreementInputError", "ORDINAL", "PARTITIONS", "Ratings", "agreement",
           "bland_altman", "cohen_kappa", "collect_ratings", "fleiss_kappa", "format_text",
           "gwet_ac1", "icc_2_1"]
