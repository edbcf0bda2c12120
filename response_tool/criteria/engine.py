"""The vectorised time-point engine: one long measurements table in, one row per patient × reader ×
criterion × time point out.

Sums, baselines and nadirs are computed with group-wise numpy/pandas operations; the categorical
target / non-target / new-lesion states are then looked up in the published decision table
(:mod:`response_tool.criteria.recist11`, :mod:`response_tool.criteria.mrecist`), compiled once
into a dictionary — the table stays the single source of truth.

Percentages are compared exactly as the published inequalities are written: diameters are taken
at 0.001 mm resolution as integers (micrometres) and the thresholds are exact fractions, so
−30.0 % is PR and −29.9 % is not, whatever binary floating point would make of ``0.7 × 30``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from types import ModuleType

import numpy as np
import pandas as pd

from . import mrecist, recist11
from ._tables import CR, NE, NEW_EQUIVOCAL, NEW_NO, NEW_YES, NON_CR_NON_PD, NONE, PD, PR, SD

KEYS = ["patient_id", "reader_id"]
TP_KEYS = ["patient_id", "reader_id", "timepoint_date"]
CRITERIA: dict[str, ModuleType] = {"recist1.1": recist11, "mrecist": mrecist}
EFFUSION_ORGANS = ("pleural effusion", "ascites", "effusion", "pericardial effusion")
PORTA_HEPATIS = "porta hepatis"
UNEQUIVOCAL = ("measured", "present", "too-small", "progression")


@dataclass(frozen=True)
class EngineOptions:
    too_small_mm: float = float(recist11.TOO_SMALL_DEFAULT.value)
    mrecist_pd_min_mm: float = float(mrecist.PD_ABSOLUTE_DEFAULT.value)


def _um(x: np.ndarray | pd.Series) -> np.ndarray:
    """Millimetres → integer micrometres (NaN → a sentinel that callers mask)."""
    arr = np.asarray(x, dtype=float)
    return np.where(np.isnan(arr), 0, np.rint(arr * 1000.0)).astype(np.int64)


def _le_fraction(a_um: np.ndarray, b_um: np.ndarray, f: Fraction) -> np.ndarray:
    """a ≤ b × f, exactly."""
    return a_um * f.denominator <= b_um * f.numerator


def _ge_fraction(a_um: np.ndarray, b_um: np.ndarray, f: Fraction) -> np.ndarray:
    """a ≥ b × f, exactly."""
    return a_um * f.denominator >= b_um * f.numerator


def _timepoints(df: pd.DataFrame) -> pd.DataFrame:
    tps = df[TP_KEYS].drop_duplicates().sort_values(TP_KEYS, kind="stable")
    tps["baseline_date"] = tps.groupby(KEYS, sort=False)["timepoint_date"].transform("min")
    tps["is_baseline"] = tps["timepoint_date"] == tps["baseline_date"]
    return tps.reset_index(drop=True)


def _lesion_grid(df: pd.DataFrame, tps: pd.DataFrame, role: str) -> pd.DataFrame:
    """Every baseline lesion of ``role`` at every time point, with its row there (if any)."""
    base = df[(df["role"] == role) & (df["timepoint_date"] == df.groupby(KEYS)["timepoint_date"]
                                                               .transform("min"))]
    lesions = base[KEYS + ["lesion_id", "is_nodal", "organ", "viable_long_axis_mm"]].rename(
        columns={"viable_long_axis_mm": "baseline_viable_mm"})
    grid = tps[TP_KEYS].merge(lesions, on=KEYS, how="inner")
    cols = TP_KEYS + ["lesion_id", "status", "long_axis_mm", "short_axis_mm", "viable_long_axis_mm",
                      "cytology_proven"]
    return grid.merge(df[df["role"] == role][cols], on=TP_KEYS + ["lesion_id"], how="left")


def _target_values(grid: pd.DataFrame, criterion: str, opts: EngineOptions
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Per-lesion value (mm; NaN = not evaluated) and per-lesion 'CR condition met'."""
    status = grid["status"].fillna("not-evaluated").to_numpy()
    nodal = grid["is_nodal"].fillna(False).to_numpy(dtype=bool)
    measured_value = np.where(nodal, grid["short_axis_mm"], grid["long_axis_mm"]).astype(float)
    follows_viable = np.zeros(len(grid), dtype=bool)
    if criterion == "mrecist":
        base_viable = grid["baseline_viable_mm"].to_numpy(dtype=float)
        follows_viable = ~nodal & (np.nan_to_num(base_viable, nan=0.0) > 0)
        measured_value = np.where(follows_viable, grid["viable_long_axis_mm"], measured_value)
    value = np.select(
        [status == "measured", status == "too-small", status == "absent"],
        [measured_value, opts.too_small_mm, 0.0], default=np.nan).astype(float)
    node_normal = float(recist11.NODE_NORMAL.value)
    cr_ok = np.where(nodal & ~follows_viable, value < node_normal, value == 0)
    cr_ok &= ~np.isnan(value)
    return value, cr_ok


def _target_response(df: pd.DataFrame, tps: pd.DataFrame, criterion: str,
                     opts: EngineOptions) -> pd.DataFrame:
    module = CRITERIA[criterion]
    grid = _lesion_grid(df, tps, "target")
    value, cr_ok = _target_values(grid, criterion, opts)
    grid = grid.assign(_value=value, _missing=np.isnan(value), _cr_ok=cr_ok)
    agg = grid.groupby(TP_KEYS, sort=False).agg(
        n_targets=("lesion_id", "size"), assessed_sum_mm=("_value", "sum"),
        targets_not_evaluated=("_missing", "sum"), _all_cr=("_cr_ok", "all"))
    out = tps.merge(agg.reset_index(), on=TP_KEYS, how="left")
    out["n_targets"] = out["n_targets"].fillna(0).astype(int)
    out["targets_not_evaluated"] = out["targets_not_evaluated"].fillna(0).astype(int)
    out["_all_cr"] = out["_all_cr"].fillna(False).astype(bool)
    complete = out["targets_not_evaluated"] == 0
    out["sum_mm"] = out["assessed_sum_mm"].where(complete & (out["n_targets"] > 0))
    g = out.groupby(KEYS, sort=False)
    out["baseline_sum_mm"] = g["sum_mm"].transform("first")
    running_min = out["sum_mm"].groupby([out[k] for k in KEYS], sort=False).cummin()
    running_min = running_min.groupby([out[k] for k in KEYS], sort=False).ffill()
    out["nadir_sum_mm"] = running_min.groupby([out[k] for k in KEYS], sort=False).shift(1)
    prev_cr = (out["_all_cr"] & complete).groupby([out[k] for k in KEYS], sort=False).cummax()
    out["_prev_cr"] = prev_cr.groupby([out[k] for k in KEYS], sort=False).shift(1, fill_value=False)

    assessed = _um(out["assessed_sum_mm"])
    base = _um(out["baseline_sum_mm"])
    nadir = _um(out["nadir_sum_mm"])
    has_nadir = out["nadir_sum_mm"].notna().to_numpy()
    pd_min = (recist11.PD_ABSOLUTE.value if criterion == "recist1.1"
              else Fraction(opts.mrecist_pd_min_mm).limit_denominator(1000))
    pd_min_um = int(round(float(pd_min) * 1000))
    grow = 1 + module.PD_INCREASE.value / 100
    shrink = 1 - module.PR_DECREASE.value / 100
    pd_by_sum = has_nadir & _ge_fraction(assessed, nadir, grow) & (assessed - nadir >= pd_min_um)
    missing = (out["targets_not_evaluated"] > 0).to_numpy()
    reappeared = out["_prev_cr"].to_numpy() & ~out["_all_cr"].to_numpy() & ~missing
    no_targets = (out["n_targets"] == 0).to_numpy()
    is_base = out["is_baseline"].to_numpy()
    all_cr = out["_all_cr"].to_numpy()
    pr = _le_fraction(assessed, base, shrink)
    rules = module.TARGET_RULES
    choices = [
        (is_base, "", "BASELINE"),
        (no_targets, NONE, rules[NONE].id),
        (pd_by_sum & ~missing, PD, rules[PD].id),
        (pd_by_sum & missing, PD, rules["PD-proven-despite-missing"].id),
        (reappeared, PD, rules["PD-reappearance"].id),
        (missing, NE, rules[NE].id),
        (all_cr, CR, rules[CR].id),
        (pr, PR, rules[PR].id),
    ]
    conds = [c for c, _, _ in choices]
    out["target_response"] = np.select(conds, [r for _, r, _ in choices], default=SD)
    out["target_rule_id"] = np.select(conds, [i for _, _, i in choices], default=rules[SD].id)
    return out.drop(columns=["_all_cr", "_prev_cr"])


def _non_target_response(df: pd.DataFrame, tps: pd.DataFrame, criterion: str) -> pd.DataFrame:
    module = CRITERIA[criterion]
    grid = _lesion_grid(df, tps, "non-target")
    status = grid["status"].fillna("not-evaluated").to_numpy()
    nodal = grid["is_nodal"].fillna(False).to_numpy(dtype=bool)
    short = grid["short_axis_mm"].to_numpy(dtype=float)
    gone = (status == "absent") | (nodal & (short < float(recist11.NODE_NORMAL.value)))
    progression = status == "progression"
    if criterion == "mrecist":
        viable = grid["viable_long_axis_mm"].to_numpy(dtype=float)
        gone |= (viable == 0) & ~progression
        effusion = grid["organ"].str.lower().isin(EFFUSION_ORGANS).to_numpy()
        proven = grid["cytology_proven"].fillna(False).to_numpy(dtype=bool)
        progression &= ~effusion | proven
    grid = grid.assign(_pd=progression, _ne=status == "not-evaluated", _gone=gone)
    agg = grid.groupby(TP_KEYS, sort=False).agg(
        n_non_targets=("lesion_id", "size"), _pd=("_pd", "any"), _ne=("_ne", "any"),
        _gone=("_gone", "all"))
    out = tps[TP_KEYS].merge(agg.reset_index(), on=TP_KEYS, how="left")
    none = out["n_non_targets"].isna().to_numpy()
    rules = module.NON_TARGET_RULES
    conds = [none, out["_pd"].fillna(False).to_numpy(bool), out["_ne"].fillna(False).to_numpy(bool),
             out["_gone"].fillna(False).to_numpy(bool)]
    values = [NONE, PD, NE, CR]
    out["non_target_response"] = np.select(conds, values, default=NON_CR_NON_PD)
    out["non_target_rule_id"] = np.select(conds, [rules[v].id for v in values],
                                          default=rules[NON_CR_NON_PD].id)
    out["n_non_targets"] = out["n_non_targets"].fillna(0).astype(int)
    return out[TP_KEYS + ["n_non_targets", "non_target_response", "non_target_rule_id"]]


def _new_lesions(df: pd.DataFrame, tps: pd.DataFrame, criterion: str) -> pd.DataFrame:
    module = CRITERIA[criterion]
    new = df[df["role"] == "new"]
    status = new["status"].to_numpy()
    unequivocal = np.isin(status, UNEQUIVOCAL)
    equivocal = status == "equivocal"
    if criterion == "mrecist":
        organ = new["organ"].str.lower()
        long_axis = new["long_axis_mm"].to_numpy(dtype=float)
        short = new["short_axis_mm"].to_numpy(dtype=float)
        small_liver = (organ == "liver").to_numpy() & (long_axis < float(mrecist.NEW_INTRAHEPATIC.value))
        effusion = organ.isin(EFFUSION_ORGANS).to_numpy() & ~new["cytology_proven"].fillna(False).to_numpy(bool)
        porta = organ.str.contains(PORTA_HEPATIS).to_numpy() & new["is_nodal"].fillna(False).to_numpy(bool) \
            & ~(short >= float(mrecist.PORTA_HEPATIS_NODE.value))
        demoted = unequivocal & (small_liver | effusion | porta)
        unequivocal &= ~demoted
        equivocal |= demoted
    new = new.assign(_yes=unequivocal, _eq=equivocal)
    seen = new[new["_yes"] | new["_eq"]]
    first_seen = seen.groupby(KEYS + ["lesion_id"])["timepoint_date"].transform("min")
    seen = seen.assign(_first=first_seen.where(seen["_yes"]))
    agg = seen.groupby(TP_KEYS, sort=False).agg(_yes=("_yes", "any"), _eq=("_eq", "any"),
                                                new_lesion_first_seen=("_first", "min"))
    out = tps[TP_KEYS].merge(agg.reset_index(), on=TP_KEYS, how="left")
    yes = out["_yes"].fillna(False).to_numpy(bool)
    eq = out["_eq"].fillna(False).to_numpy(bool)
    out["new_lesions"] = np.select([yes, eq], [NEW_YES, NEW_EQUIVOCAL], default=NEW_NO)
    out["new_lesions_rule_id"] = np.select(
        [yes, eq], [module.NEW_RULES["yes"].id, module.NEW_RULES["equivocal"].id],
        default=module.NEW_RULES["no"].id)
    return out[TP_KEYS + ["new_lesions", "new_lesions_rule_id", "new_lesion_first_seen"]]


def assess_timepoints(df: pd.DataFrame, criterion: str,
                      options: EngineOptions | None = None) -> pd.DataFrame:
    """Time-point responses for one criterion (``recist1.1`` or ``mrecist``) of a validated table."""
    opts = options or EngineOptions()
    module = CRITERIA[criterion]
    tps = _timepoints(df)
    out = _target_response(df, tps, criterion, opts)
    out = out.merge(_non_target_response(df, tps, criterion), on=TP_KEYS, how="left")
    out = out.merge(_new_lesions(df, tps, criterion), on=TP_KEYS, how="left")
    base = out["baseline_sum_mm"]
    nadir = out["nadir_sum_mm"]
    out["pct_change_from_baseline"] = (out["sum_mm"] - base) / base * 100.0
    out["pct_change_from_nadir"] = (out["sum_mm"] - nadir) / nadir * 100.0
    out["abs_change_from_nadir_mm"] = out["sum_mm"] - nadir
    at_base = out["is_baseline"]
    out.loc[at_base, ["pct_change_from_baseline", "pct_change_from_nadir",
                      "abs_change_from_nadir_mm", "nadir_sum_mm"]] = np.nan
    for col in ("non_target_response", "non_target_rule_id", "new_lesions", "new_lesions_rule_id"):
        out.loc[at_base, col] = ""
    rows = {"|".join(combo): row for combo, row in module.OVERALL.compiled().items()}
    new_key = np.where(out["new_lesions"] == NEW_YES, NEW_YES, NEW_NO)
    key = out["target_response"] + "|" + out["non_target_response"] + "|" + new_key
    # baseline rows carry no responses: their keys match no table line and are set below
    baseline = out["is_baseline"].to_numpy()
    for column, attr, at_baseline in (("overall_response", "then", ""),
                                      ("rule_id", "id", "BASELINE"),
                                      ("rule_source", "source", "baseline assessment")):
        lookup = {k: str(getattr(r, attr)) for k, r in rows.items()}
        out[column] = np.where(baseline, at_baseline, key.map(lookup))
    out.insert(2, "criterion", criterion)
    return out
