"""The cohort tables: the response distribution with exact CIs, the RECIST 1.1 × mRECIST cross
table with Cohen κ, the response by baseline HTB and the inter-reader agreement summary.

Exact (Clopper–Pearson) intervals come from statsmodels, agreement coefficients from
:mod:`response_tool.agreement`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from response_tool.agreement import cohen_kappa
from response_tool.report.inputs import (
    CATEGORIES,
    CRITERIA,
    CRITERION_NAME,
    CROSSED,
    DISEASE_CONTROL,
    NOT_EVALUABLE,
    RESPONDERS,
    htb_order,
)

#: the rates of the distribution table: name → the categories counted
RATES = {f"ORR ({'+'.join(RESPONDERS)})": RESPONDERS,
         f"DCR ({'+'.join(DISEASE_CONTROL)})": DISEASE_CONTROL}
#: κ needs two patients or more (with one, it is 0 or undefined whatever the agreement)
MIN_KAPPA_N = 2
#: the ordered categories κ is computed on (NE is not on the scale)
ON_SCALE = tuple(c for c in CATEGORIES if c != NOT_EVALUABLE)


def exact_ci(k: int, n: int) -> tuple[float, float]:
    """Clopper–Pearson 95 % interval of k/n (statsmodels), in %."""
    from statsmodels.stats.proportion import proportion_confint

    if n == 0:
        return (math.nan, math.nan)
    lo, hi = proportion_confint(k, n, alpha=0.05, method="beta")
    return (float(lo) * 100, float(hi) * 100)


def distribution(best: pd.DataFrame) -> pd.DataFrame:
    """Per criterion: n and % of each category, ORR (CR+PR) and DCR (CR+PR+SD) with exact CIs."""
    rows = []
    for crit in CRITERIA:
        sub = best[best["criterion"] == crit]
        n = len(sub)
        if n == 0:
            continue
        counts = sub["category"].value_counts()
        for cat in CATEGORIES:
            k = int(counts.get(cat, 0))
            rows.append({"criterion": CRITERION_NAME[crit], "measure": cat, "n": k, "N": n,
                         "pct": round(100 * k / n, 1), "ci95_low": None, "ci95_high": None})
        for name, cats in RATES.items():
            k = int(sum(counts.get(c, 0) for c in cats))
            lo, hi = exact_ci(k, n)
            rows.append({"criterion": CRITERION_NAME[crit], "measure": name, "n": k, "N": n,
                         "pct": round(100 * k / n, 1), "ci95_low": round(lo, 1),
                         "ci95_high": round(hi, 1)})
    return pd.DataFrame(rows)


def cross_table(best: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """RECIST 1.1 (rows) × mRECIST (columns) for patients assessed by both, with Cohen κ."""
    wide = best.pivot_table(index="patient_id", columns="criterion", values="category",
                            aggfunc="first").dropna()
    if not set(CROSSED) <= set(wide.columns) or wide.empty:
        return pd.DataFrame(), {}
    rows, cols = CROSSED
    table = pd.crosstab(pd.Categorical(wide[rows], CATEGORIES),
                        pd.Categorical(wide[cols], CATEGORIES), dropna=False)
    table.index.name, table.columns.name = CRITERION_NAME[rows], CRITERION_NAME[cols]
    on_scale = wide[wide[rows].ne(NOT_EVALUABLE) & wide[cols].ne(NOT_EVALUABLE)]
    code = {c: i for i, c in enumerate(ON_SCALE)}
    a = on_scale[rows].map(code).to_numpy()
    b = on_scale[cols].map(code).to_numpy()
    k = len(ON_SCALE)
    enough = len(a) >= MIN_KAPPA_N  # one patient: κ is 0 or undefined whatever the agreement
    stats = {"n": len(wide), "n_on_scale": len(on_scale),
             "concordance_pct": round(100 * float(np.mean(wide[rows] == wide[cols])), 1),
             "cohen_kappa": cohen_kappa(a, b, k) if enough else math.nan,
             "weighted_kappa_linear": cohen_kappa(a, b, k, "linear") if enough else math.nan}
    return table, stats


def kappa_text(value: float, n: int) -> str:
    """κ with three decimals, or why it is "not computable": fewer than two patients, or every
    patient in the same category under both (chance agreement 1)."""
    if n < MIN_KAPPA_N:
        return f"not computable (n = {n})"
    if not math.isfinite(value):
        return "not computable (one category only)"
    return f"{value:.3f}"


def by_htb(best: pd.DataFrame, htb: pd.Series) -> pd.DataFrame:
    """Patients per criterion and baseline HTB category (rows) and response category (columns)."""
    joined = best.join(htb, on="patient_id").dropna(subset=["htb_category"])
    order = htb_order(list(joined["htb_category"].unique()))
    return pd.crosstab(
        [joined["criterion"].map(CRITERION_NAME).rename("criterion"),
         pd.Series(pd.Categorical(joined["htb_category"], order), index=joined.index,
                   name="baseline HTB")],
        pd.Series(pd.Categorical(joined["category"], CATEGORIES), index=joined.index,
                  name="category"), dropna=False)


def agreement_summary(responses: pd.DataFrame, bor: pd.DataFrame | None, followup: int,
                      n_boot: int, seed: int) -> pd.DataFrame:
    """One row per criterion: Fleiss κ and Gwet AC1 with bootstrap CIs, κ per partition and the
    ICC of the baseline sums (:func:`response_tool.agreement.agreement`); or why not."""
    from response_tool.agreement import AgreementInputError, agreement

    rows = []
    for crit in CRITERIA:
        try:
            res = agreement(responses, crit, followup=followup, bor=bor, n_boot=n_boot,
                            seed=seed)
        except AgreementInputError as exc:
            rows.append({"criterion": CRITERION_NAME[crit], "note": str(exc)})
            continue
        if res["n_complete"] < MIN_KAPPA_N:
            rows.append({"criterion": CRITERION_NAME[crit], "n": res["n_complete"],
                         "note": f"not computable (n = {res['n_complete']} complete case(s))"})
            continue
        row = {"criterion": CRITERION_NAME[crit], "compared": res["compared"],
               "readers": ", ".join(res["readers"]), "n": res["n_complete"],
               "dropped": res["n_dropped"]}
        for key in ("fleiss_kappa", "gwet_ac1"):
            ci = res.get(f"{key}_ci95")
            row[key] = fmt(res[key]) + (f" ({fmt(ci[0])}–{fmt(ci[1])})" if ci else "")
        for name, part in res["partitions"].items():
            row[f"{name}_fleiss"] = fmt(part["fleiss_kappa"])
        base = res["sums"].get("baseline")
        if base:
            row["icc_2_1_baseline_sum"] = fmt(base["icc_2_1"]["icc"])
        rows.append(row)
    return pd.DataFrame(rows)


def fmt(x: Any) -> str:
    """A coefficient with three decimals, or n/a."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if not math.isfinite(v) else f"{v:.3f}"
