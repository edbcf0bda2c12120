"""Table 1: the cohort's baseline characteristics, overall and by group (e.g. responder or not),
with the tests the source papers use (Touloupas 2021, Liu 2022, Xu 2022):

* a numeric variable: **mean ± SD** compared by Student's t-test (one-way ANOVA for more than
  two groups) and **median (IQR)** compared by the Wilcoxon rank-sum test (Mann–Whitney U;
  Kruskal–Wallis for more than two groups) — both rows, as the papers choose "where
  appropriate";
* a categorical variable: **n (%)** per level (% of the column's patients with a value),
  compared by Pearson's χ² test without continuity correction, or Fisher's exact test when the
  table is 2 × 2 and an expected count is below 5 (for a larger table with such counts the χ²
  p is kept and the ``test`` cell says that it is approximate);
* missing values: a ``missing`` row with their count, never a silent drop.

Numeric or categorical by the rule of :mod:`response_tool.analysis.coding`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from response_tool.analysis.coding import NUMERIC, kind_of, levels_of

#: the columns before the groups' and after them
LEAD, TAIL = ("variable", "level", "overall"), ("test", "p")


def baseline_table(data: pd.DataFrame, variables: list[str], group: str | None = None,
                   order: list[str] | None = None) -> pd.DataFrame:
    """One or two rows per numeric variable, one per level of a categorical one; a column per
    group (``group = level (n = k)``) and the test's name and p when there are two groups or
    more."""
    groups: list[str] = []
    if group is not None:
        present = [str(g) for g in data[group].dropna().unique()]
        groups = [g for g in (order or sorted(present)) if g in present]
    labels = {g: f"{group} = {g} (n = {int((data[group].astype(str) == g).sum())})"
              for g in groups}
    rows = []
    for var in variables:
        values = data[var]
        parts = {g: values[data[group].astype(str) == g] for g in groups} if groups else {}
        if kind_of(values) == NUMERIC:
            rows += _numeric(var, pd.to_numeric(values.astype("string").str.strip()
                                                .replace("", pd.NA), errors="coerce"),
                             {g: pd.to_numeric(v.astype("string").str.strip().replace("", pd.NA),
                                               errors="coerce") for g, v in parts.items()},
                             labels)
        else:
            rows += _categorical(var, values, parts, labels)
    columns = [*LEAD, *labels.values(), *(TAIL if len(groups) >= 2 else ())]
    return pd.DataFrame(rows, columns=columns).fillna("")


def _numeric(var: str, values: pd.Series, parts: dict[str, pd.Series],
             labels: dict[str, str]) -> list[dict]:
    from scipy import stats

    def mean_sd(v: pd.Series) -> str:
        v = v.dropna()
        return f"{v.mean():.1f} ± {v.std(ddof=1):.1f}" if len(v) >= 2 else (
            f"{v.mean():.1f}" if len(v) else "")

    def median_iqr(v: pd.Series) -> str:
        v = v.dropna()
        if not len(v):
            return ""
        q1, q2, q3 = np.percentile(v, [25, 50, 75])
        return f"{q2:.1f} ({q1:.1f}–{q3:.1f})"

    mean_row = {"variable": var, "level": "mean ± SD", "overall": mean_sd(values)}
    median_row = {"variable": var, "level": "median (IQR)", "overall": median_iqr(values)}
    for g, v in parts.items():
        mean_row[labels[g]] = mean_sd(v)
        median_row[labels[g]] = median_iqr(v)
    samples = [v.dropna().to_numpy(float) for v in parts.values()]
    if len(samples) >= 2 and all(len(s) >= 2 for s in samples):
        if len(samples) == 2:
            mean_row.update(test="Student t", p=_p(stats.ttest_ind(*samples).pvalue))
            median_row.update(test="Wilcoxon rank-sum",
                              p=_p(stats.mannwhitneyu(*samples, alternative="two-sided").pvalue))
        else:
            mean_row.update(test="ANOVA", p=_p(stats.f_oneway(*samples).pvalue))
            median_row.update(test="Kruskal–Wallis", p=_p(stats.kruskal(*samples).pvalue))
    rows = [mean_row, median_row]
    missing = int(values.isna().sum())
    if missing:
        rows.append(_missing(var, values.isna(), parts, labels))
    return rows


def _categorical(var: str, values: pd.Series, parts: dict[str, pd.Series],
                 labels: dict[str, str]) -> list[dict]:
    from scipy import stats

    text = values.astype("string").str.strip().replace("", pd.NA)
    levels = levels_of(values)

    def cell(v: pd.Series, level: str) -> str:
        v = v.astype("string").str.strip().replace("", pd.NA).dropna()
        k = int((v == level).sum())
        return f"{k} ({100 * k / len(v):.1f} %)" if len(v) else "0"

    rows = []
    for level in levels:
        row = {"variable": var, "level": level, "overall": cell(text, level)}
        for g, v in parts.items():
            row[labels[g]] = cell(v, level)
        rows.append(row)
    if len(parts) >= 2 and len(levels) >= 2:
        table = np.array([[int((v.astype("string").str.strip() == lv).sum()) for v in
                           parts.values()] for lv in levels])
        table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
        if table.shape[0] >= 2 and table.shape[1] >= 2:
            expected = stats.contingency.expected_freq(table)
            if table.shape == (2, 2) and (expected < 5).any():
                rows[0].update(test="Fisher exact", p=_p(stats.fisher_exact(table).pvalue))
            else:
                chi = stats.chi2_contingency(table, correction=False)
                name = "χ²" + (" (approximate: expected count < 5)" if (expected < 5).any()
                               else "")
                rows[0].update(test=name, p=_p(chi.pvalue))
    if text.isna().any():
        rows.append(_missing(var, text.isna(), parts, labels))
    return rows


def _missing(var: str, missing: pd.Series, parts: dict[str, pd.Series],
             labels: dict[str, str]) -> dict:
    row = {"variable": var, "level": "missing", "overall": str(int(missing.sum()))}
    for g, v in parts.items():
        row[labels[g]] = str(int(missing.loc[v.index].sum()))
    return row


def _p(p: float) -> str:
    if not math.isfinite(p):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"
