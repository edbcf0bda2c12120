"""The vectorised time-point engine: one long measurements table in, one row per patient × reader ×
criterion × time point out.

Sums, baselines and nadirs are computed with array operations over the whole cohort; the
categorical target / non-target / new-lesion states are then looked up in the published decision
table (:mod:`response_tool.criteria.recist11`, :mod:`response_tool.criteria.mrecist`), compiled
once into an array indexed by the three states — the table stays the single source of truth.

Diameters are taken at 0.001 mm resolution as integers (micrometres) and summed exactly; the
thresholds are exact fractions, so −30.0 % is PR and −29.9 % is not, whatever binary floating
point would make of ``0.7 × 30``.

The work is split in two: :func:`prepare` lays out every baseline lesion × time point once (it
does not depend on the criterion), :func:`assess_prepared` applies one criterion to it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction
from types import ModuleType

import numpy as np
import pandas as pd

from response_tool.io.measurements_csv import STATUSES

from . import mrecist, recist11
from ._tables import CR, NE, NEW_EQUIVOCAL, NEW_NO, NEW_YES, NON_CR_NON_PD, NONE, PD, PR, SD

KEYS = ["patient_id", "reader_id"]
TP_KEYS = ["patient_id", "reader_id", "timepoint_date"]
# integer keys added by validation (one code per patient × reader, day number, lesion code)
READ = ["_read"]
TP = ["_read", "_day"]
CRITERIA: dict[str, ModuleType] = {"recist1.1": recist11, "mrecist": mrecist}
EFFUSION_ORGANS = ("pleural effusion", "ascites", "effusion", "pericardial effusion")
PORTA_HEPATIS = "porta hepatis"
UNEQUIVOCAL = ("measured", "present", "too-small", "progression")
_S = {s: i for i, s in enumerate(STATUSES)}
_NOT_SEEN = -1  # status code of a lesion with no row at a time point: not evaluated

#: Every value a response column can take ("" on baseline rows), in a fixed order, so the
#: columns are categoricals with the same categories whatever the criterion.
RESPONSE_VALUES = ("", CR, PR, SD, NON_CR_NON_PD, PD, NE, NONE)
NEW_VALUES = ("", NEW_NO, NEW_EQUIVOCAL, NEW_YES)
BASELINE_RULE = "BASELINE"
BASELINE_SOURCE = "baseline assessment"


def _all_rules() -> tuple[tuple[str, ...], tuple[str, ...]]:
    ids, sources = ["", BASELINE_RULE], ["", BASELINE_SOURCE]
    for module in CRITERIA.values():
        rules = [*module.TARGET_RULES.values(), *module.NON_TARGET_RULES.values(),
                 *module.NEW_RULES.values(), *module.OVERALL.rows]
        ids += [r.id for r in rules]
        sources += [str(r.source) for r in rules]
    return tuple(dict.fromkeys(ids)), tuple(dict.fromkeys(sources))


RULE_IDS, RULE_SOURCES = _all_rules()
_RULE = {r: i for i, r in enumerate(RULE_IDS)}
_RESP = {r: i for i, r in enumerate(RESPONSE_VALUES)}


@dataclass(frozen=True)
class EngineOptions:
    too_small_mm: float = float(recist11.TOO_SMALL_DEFAULT.value)
    mrecist_pd_min_mm: float = float(mrecist.PD_ABSOLUTE_DEFAULT.value)


def _um(x: np.ndarray | pd.Series) -> np.ndarray:
    """Millimetres → integer micrometres (NaN → 0; callers mask NaN themselves)."""
    arr = np.asarray(x, dtype=float)
    return np.where(np.isnan(arr), 0, np.rint(arr * 1000.0)).astype(np.int64)


def _le_fraction(a_um: np.ndarray, b_um: np.ndarray, f: Fraction) -> np.ndarray:
    """a ≤ b × f, exactly."""
    return a_um * f.denominator <= b_um * f.numerator


def _ge_fraction(a_um: np.ndarray, b_um: np.ndarray, f: Fraction) -> np.ndarray:
    """a ≥ b × f, exactly."""
    return a_um * f.denominator >= b_um * f.numerator


def _categorical(codes: np.ndarray, values: tuple[str, ...]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=pd.Index(values, dtype=object))


@dataclass(frozen=True)
class _Grid:
    """Every baseline lesion of one role × every time point of its read (lesion-major)."""

    tp: np.ndarray          # row of the time-point table
    status: np.ndarray      # index into STATUSES; _NOT_SEEN when the lesion has no row there
    nodal: np.ndarray
    effusion: np.ndarray
    long_mm: np.ndarray
    short_mm: np.ndarray
    viable_mm: np.ndarray
    base_viable_mm: np.ndarray
    cytology: np.ndarray


@dataclass(frozen=True)
class Prepared:
    """The criterion-independent layout of a validated measurements table."""

    tps: pd.DataFrame       # one row per read × time point, sorted by read then date
    target: _Grid
    non_target: _Grid
    new: pd.DataFrame       # rows of role "new", with their time-point row in ``_tp``


def _grid(df: pd.DataFrame, tp_of_row: np.ndarray, tp_read: np.ndarray, role: str) -> _Grid:
    n_reads = int(tp_read.max(initial=-1)) + 1
    read_count = np.bincount(tp_read, minlength=n_reads)
    read_start = np.cumsum(read_count) - read_count
    role_rows = np.flatnonzero((df["role"] == role).to_numpy(dtype=bool))
    base_rows = role_rows[df["_baseline"].to_numpy(dtype=bool)[role_rows]]
    lesion = df["_lesion"].to_numpy(np.int64)
    counts = read_count[df["_read"].to_numpy(np.int64)[base_rows]]
    owner = np.repeat(np.arange(len(base_rows)), counts)  # which baseline lesion
    offset = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
    grid_tp = np.repeat(read_start[df["_read"].to_numpy(np.int64)[base_rows]], counts) + offset
    # find each (time point, lesion) among this role's rows: sorted keys + binary search
    width = int(lesion.max(initial=0)) + 1
    row_key = tp_of_row[role_rows].astype(np.int64) * width + lesion[role_rows]
    order = np.argsort(row_key, kind="stable")
    sorted_key = row_key[order]
    grid_key = grid_tp.astype(np.int64) * width + lesion[base_rows][owner]
    pos = np.minimum(np.searchsorted(sorted_key, grid_key), max(len(sorted_key) - 1, 0))
    hit = (sorted_key[pos] == grid_key) if len(sorted_key) else np.zeros(len(grid_key), bool)
    row = np.where(hit, role_rows[order][pos] if len(order) else 0, 0)

    def at_row(column: str, missing: float | bool) -> np.ndarray:
        values = df[column].to_numpy(dtype=float if isinstance(missing, float) else bool,
                                     na_value=missing)
        return np.where(hit, values[row], missing)

    status_code = (df["_status"].to_numpy() if "_status" in df.columns
                   else pd.Index(STATUSES).get_indexer(df["status"]))
    base = df.iloc[base_rows]
    effusion = base["organ"].str.lower().isin(EFFUSION_ORGANS).to_numpy(dtype=bool)
    nodal = base["is_nodal"].to_numpy(dtype=bool, na_value=False)
    viable = base["viable_long_axis_mm"].to_numpy(dtype=float)
    return _Grid(
        tp=grid_tp, status=np.where(hit, status_code[row], _NOT_SEEN),
        nodal=nodal[owner], effusion=effusion[owner],
        long_mm=at_row("long_axis_mm", np.nan), short_mm=at_row("short_axis_mm", np.nan),
        viable_mm=at_row("viable_long_axis_mm", np.nan), base_viable_mm=viable[owner],
        cytology=at_row("cytology_proven", False))


def prepare(df: pd.DataFrame) -> Prepared:
    """Lay out a validated table (:func:`~response_tool.io.measurements_csv.validate`) once."""
    read = df["_read"].to_numpy(np.int64)
    day = df["_day"].to_numpy(np.int64)
    day0 = int(day.min(initial=0))
    span = int(day.max(initial=0)) - day0 + 1
    tp_of_row, tp_keys = pd.factorize(read * span + (day - day0), sort=True)
    first = np.flatnonzero(~pd.Series(tp_of_row).duplicated().to_numpy())
    first = first[np.argsort(tp_of_row[first])]
    tps = df[TP + TP_KEYS].iloc[first].reset_index(drop=True)
    tp_read = tps["_read"].to_numpy(np.int64)
    starts = np.r_[True, tp_read[1:] != tp_read[:-1]] if len(tps) else np.zeros(0, bool)
    first_of_read = np.maximum.accumulate(np.where(starts, np.arange(len(tps)), 0))
    tps["baseline_date"] = tps["timepoint_date"].to_numpy()[first_of_read]
    tps["is_baseline"] = starts
    new = df.loc[(df["role"] == "new").to_numpy(dtype=bool),
                 READ + ["_lesion", "timepoint_date", "status", "organ", "is_nodal",
                         "long_axis_mm", "short_axis_mm", "cytology_proven"]]
    new = new.assign(_tp=tp_of_row[(df["role"] == "new").to_numpy(dtype=bool)])
    return Prepared(tps, _grid(df, tp_of_row, tp_read, "target"),
                    _grid(df, tp_of_row, tp_read, "non-target"), new)


def _target_values(g: _Grid, criterion: str, opts: EngineOptions) -> tuple[np.ndarray, np.ndarray]:
    """Per-lesion value (mm; NaN = not evaluated) and per-lesion 'CR condition met'."""
    measured_value = np.where(g.nodal, g.short_mm, g.long_mm)
    follows_viable = np.zeros(len(g.tp), dtype=bool)
    if criterion == "mrecist":
        follows_viable = ~g.nodal & (np.nan_to_num(g.base_viable_mm, nan=0.0) > 0)
        measured_value = np.where(follows_viable, g.viable_mm, measured_value)
    value = np.select(
        [g.status == _S["measured"], g.status == _S["too-small"], g.status == _S["absent"]],
        [measured_value, opts.too_small_mm, 0.0], default=np.nan).astype(float)
    node_normal = float(recist11.NODE_NORMAL.value)
    cr_ok = np.where(g.nodal & ~follows_viable, value < node_normal, value == 0)
    cr_ok &= ~np.isnan(value)
    return value, cr_ok


def _by_read(values: pd.Series, read: np.ndarray) -> pd.core.groupby.SeriesGroupBy:
    return values.groupby(read, sort=False)


def _target_response(p: Prepared, criterion: str, opts: EngineOptions) -> dict[str, object]:
    module = CRITERIA[criterion]
    g, n = p.target, len(p.tps)
    value, cr_ok = _target_values(g, criterion, opts)
    missing = np.isnan(value)
    n_targets = np.bincount(g.tp, minlength=n)
    n_missing = np.bincount(g.tp, weights=missing, minlength=n).astype(np.int64)
    assessed = np.bincount(g.tp, weights=_um(value), minlength=n).astype(np.int64)  # exact < 2**53
    all_cr = (np.bincount(g.tp, weights=~cr_ok, minlength=n) == 0) & (n_targets > 0)
    complete = n_missing == 0
    valid = complete & (n_targets > 0)
    read = p.tps["_read"].to_numpy(np.int64)
    sum_um = pd.Series(np.where(valid, assessed, np.nan))
    starts = p.tps["is_baseline"].to_numpy(dtype=bool)
    first_of_read = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    base_um = sum_um.to_numpy()[first_of_read]
    running_min = _by_read(sum_um, read).cummin()
    running_min = _by_read(running_min, read).ffill()
    nadir_um = _by_read(running_min, read).shift(1).to_numpy()
    prev_cr = _by_read(pd.Series(all_cr & complete), read).cummax()
    prev_cr = _by_read(prev_cr, read).shift(1, fill_value=False).to_numpy(dtype=bool)

    has_nadir = ~np.isnan(nadir_um)
    nadir = np.nan_to_num(nadir_um).astype(np.int64)
    base = np.nan_to_num(base_um).astype(np.int64)
    pd_min = (recist11.PD_ABSOLUTE.value if criterion == "recist1.1"
              else Fraction(opts.mrecist_pd_min_mm).limit_denominator(1000))
    pd_min_um = int(round(float(pd_min) * 1000))
    grow = 1 + module.PD_INCREASE.value / 100
    shrink = 1 - module.PR_DECREASE.value / 100
    pd_by_sum = has_nadir & _ge_fraction(assessed, nadir, grow) & (assessed - nadir >= pd_min_um)
    missing_any = n_missing > 0
    reappeared = prev_cr & ~all_cr & ~missing_any
    rules = module.TARGET_RULES
    choices = [
        (starts, "", BASELINE_RULE),
        (n_targets == 0, NONE, rules[NONE].id),
        (pd_by_sum & ~missing_any, PD, rules[PD].id),
        (pd_by_sum & missing_any, PD, rules["PD-proven-despite-missing"].id),
        (reappeared, PD, rules["PD-reappearance"].id),
        (missing_any, NE, rules[NE].id),
        (all_cr, CR, rules[CR].id),
        (_le_fraction(assessed, base, shrink), PR, rules[PR].id),
    ]
    conds = [c for c, _, _ in choices]
    response = np.select(conds, [_RESP[r] for _, r, _ in choices], default=_RESP[SD])
    rule = np.select(conds, [_RULE[i] for _, _, i in choices], default=_RULE[rules[SD].id])
    sum_mm = sum_um.to_numpy() / 1000.0
    base_mm = base_um / 1000.0
    nadir_mm = np.where(starts, np.nan, nadir_um / 1000.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct_base = np.where(starts, np.nan, (sum_mm - base_mm) / base_mm * 100.0)
        pct_nadir = np.where(starts, np.nan, (sum_mm - nadir_mm) / nadir_mm * 100.0)
    return {
        "n_targets": n_targets, "sum_mm": sum_mm, "baseline_sum_mm": base_mm,
        "nadir_sum_mm": nadir_mm, "pct_change_from_baseline": pct_base,
        "pct_change_from_nadir": pct_nadir, "abs_change_from_nadir_mm": sum_mm - nadir_mm,
        "targets_not_evaluated": n_missing, "_target": response, "_target_rule": rule,
    }


def _non_target_response(p: Prepared, criterion: str) -> dict[str, object]:
    module = CRITERIA[criterion]
    g, n = p.non_target, len(p.tps)
    status = np.where(g.status == _NOT_SEEN, _S["not-evaluated"], g.status)
    gone = (status == _S["absent"]) | (g.nodal & (g.short_mm < float(recist11.NODE_NORMAL.value)))
    progression = status == _S["progression"]
    if criterion == "mrecist":
        gone |= (g.viable_mm == 0) & ~progression
        progression &= ~g.effusion | g.cytology
    size = np.bincount(g.tp, minlength=n)
    any_pd = np.bincount(g.tp, weights=progression, minlength=n) > 0
    any_ne = np.bincount(g.tp, weights=status == _S["not-evaluated"], minlength=n) > 0
    all_gone = np.bincount(g.tp, weights=gone, minlength=n) == size
    rules = module.NON_TARGET_RULES
    conds = [size == 0, any_pd, any_ne, all_gone]
    values = [NONE, PD, NE, CR]
    return {
        "n_non_targets": size,
        "_non_target": np.select(conds, [_RESP[v] for v in values], default=_RESP[NON_CR_NON_PD]),
        "_non_target_rule": np.select(conds, [_RULE[rules[v].id] for v in values],
                                      default=_RULE[rules[NON_CR_NON_PD].id]),
    }


def _new_lesions(p: Prepared, criterion: str) -> dict[str, object]:
    module = CRITERIA[criterion]
    new, n = p.new, len(p.tps)
    status = new["status"].to_numpy(dtype=object)
    unequivocal = np.isin(status, UNEQUIVOCAL)
    equivocal = status == "equivocal"
    if criterion == "mrecist" and len(new):
        organ = new["organ"].str.lower()
        long_axis = new["long_axis_mm"].to_numpy(dtype=float)
        short = new["short_axis_mm"].to_numpy(dtype=float)
        cytology = new["cytology_proven"].to_numpy(dtype=bool, na_value=False)
        nodal = new["is_nodal"].to_numpy(dtype=bool, na_value=False)
        small_liver = (organ == "liver").to_numpy() & (long_axis < float(mrecist.NEW_INTRAHEPATIC.value))
        effusion = organ.isin(EFFUSION_ORGANS).to_numpy() & ~cytology
        porta = organ.str.contains(PORTA_HEPATIS).to_numpy() & nodal \
            & ~(short >= float(mrecist.PORTA_HEPATIS_NODE.value))
        demoted = unequivocal & (small_liver | effusion | porta)
        unequivocal &= ~demoted
        equivocal |= demoted
    seen = new[unequivocal | equivocal].assign(_yes=unequivocal[unequivocal | equivocal])
    first_seen = seen.groupby(READ + ["_lesion"])["timepoint_date"].transform("min")
    first = pd.Series(first_seen.where(seen["_yes"]).to_numpy()).groupby(seen["_tp"].to_numpy()).min()
    first_seen_at = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    first_seen_at[first.index.to_numpy()] = first.to_numpy(dtype="datetime64[ns]")
    tp = new["_tp"].to_numpy()
    yes = np.bincount(tp, weights=unequivocal, minlength=n) > 0
    eq = np.bincount(tp, weights=equivocal, minlength=n) > 0
    rules = module.NEW_RULES
    new_values = {v: i for i, v in enumerate(NEW_VALUES)}
    return {
        "_new": np.select([yes, eq], [new_values[NEW_YES], new_values[NEW_EQUIVOCAL]],
                          default=new_values[NEW_NO]),
        "_new_rule": np.select([yes, eq], [_RULE[rules["yes"].id], _RULE[rules["equivocal"].id]],
                               default=_RULE[rules["no"].id]),
        "new_lesion_first_seen": first_seen_at,
        "_new_yes": yes,
    }


@functools.cache
def _overall_lookup(module: ModuleType) -> tuple[np.ndarray, list]:
    """The overall-response table as an array: [target, non-target, new yes?] → row index."""
    rows = list(module.OVERALL.rows)
    index = np.full((len(RESPONSE_VALUES), len(RESPONSE_VALUES), 2), -1, dtype=np.int64)
    for (target, non_target, new), row in module.OVERALL.compiled().items():
        index[_RESP[target], _RESP[non_target], int(new == NEW_YES)] = rows.index(row)
    return index, rows


def assess_prepared(p: Prepared, criterion: str, options: EngineOptions | None = None
                    ) -> pd.DataFrame:
    """Time-point responses for one criterion of a :func:`prepare`-d table."""
    opts = options or EngineOptions()
    module = CRITERIA[criterion]
    tps = p.tps
    cols: dict[str, object] = {**_target_response(p, criterion, opts),
                               **_non_target_response(p, criterion), **_new_lesions(p, criterion)}
    base = tps["is_baseline"].to_numpy(dtype=bool)
    index, rows = _overall_lookup(module)
    which = index[cols["_target"], cols["_non_target"], cols["_new_yes"].astype(int)]
    if (which[~base] < 0).any():  # cannot happen: the table test shows every combination is covered
        raise AssertionError(f"{module.OVERALL.id}: a combination of states has no table line")
    then = np.array([_RESP[r.then] for r in rows] + [0])
    rule = np.array([_RULE[r.id] for r in rows] + [_RULE[BASELINE_RULE]])
    which = np.where(base, len(rows), which)
    blank = np.where(base, 0, 1)  # non-target and new-lesion columns are empty at baseline
    out = pd.DataFrame({
        "_read": tps["_read"].to_numpy(), "_day": tps["_day"].to_numpy(),
        "patient_id": tps["patient_id"].array, "reader_id": tps["reader_id"].array,
        "criterion": _categorical(np.full(len(tps), list(CRITERIA).index(criterion)),
                                  tuple(CRITERIA)),
        "timepoint_date": tps["timepoint_date"].to_numpy(),
        "baseline_date": tps["baseline_date"].to_numpy(), "is_baseline": base,
        **{k: cols[k] for k in ("n_targets", "sum_mm", "baseline_sum_mm", "nadir_sum_mm",
                                "pct_change_from_baseline", "pct_change_from_nadir",
                                "abs_change_from_nadir_mm", "targets_not_evaluated")},
        "target_response": _categorical(cols["_target"], RESPONSE_VALUES),
        "target_rule_id": _categorical(cols["_target_rule"], RULE_IDS),
        "n_non_targets": cols["n_non_targets"],
        "non_target_response": _categorical(cols["_non_target"] * blank, RESPONSE_VALUES),
        "non_target_rule_id": _categorical(cols["_non_target_rule"] * blank, RULE_IDS),
        "new_lesions": _categorical(cols["_new"] * blank, NEW_VALUES),
        "new_lesions_rule_id": _categorical(cols["_new_rule"] * blank, RULE_IDS),
        "new_lesion_first_seen": np.where(base, np.datetime64("NaT"), cols["new_lesion_first_seen"]),
        "overall_response": _categorical(then[which], RESPONSE_VALUES),
        "rule_id": _categorical(rule[which], RULE_IDS),
        "rule_source": _categorical(
            np.array([RULE_SOURCES.index(str(r.source)) for r in rows]
                     + [RULE_SOURCES.index(BASELINE_SOURCE)])[which], RULE_SOURCES),
    })
    return out


def assess_timepoints(df: pd.DataFrame, criterion: str,
                      options: EngineOptions | None = None) -> pd.DataFrame:
    """Time-point responses for one criterion (``recist1.1`` or ``mrecist``) of a validated table."""
    return assess_prepared(prepare(df), criterion, options)
