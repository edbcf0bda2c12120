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

import numpy as np
import pandas as pd

from response_tool.domain.measurements import STATUSES
from response_tool.domain.vocabulary import EFFUSION_ORGANS, UNEQUIVOCAL_STATUSES

from . import CRITERIA
from ._tables import (
    CR,
    NE,
    NEW_EQUIVOCAL,
    NEW_NO,
    NEW_YES,
    NON_CR_NON_PD,
    NONE,
    PD,
    PR,
    SD,
    CriterionDefinition,
    DecisionList,
    Fact,
)
from .options import AssessmentOptions

KEYS = ["patient_id", "reader_id"]
TP_KEYS = ["patient_id", "reader_id", "timepoint_date"]
# integer keys added by validation (one code per patient × reader, day number, lesion code)
READ = ["_read"]
TP = ["_read", "_day"]
UNEQUIVOCAL = tuple(s.value for s in UNEQUIVOCAL_STATUSES)
_S = {s: i for i, s in enumerate(STATUSES)}
_NOT_SEEN = -1  # status code of a lesion with no row at a time point: not evaluated

#: Every value a response column can take ("" on baseline rows), in a fixed order, so the
#: columns are categoricals with the same categories whatever the criterion.
RESPONSE_VALUES = ("", CR, PR, SD, NON_CR_NON_PD, PD, NE, NONE)
NEW_VALUES = ("", NEW_NO, NEW_EQUIVOCAL, NEW_YES)
BASELINE_RULE = "BASELINE"
BASELINE_SOURCE = "baseline assessment"


def _all_rules() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Every rule id a response can name (and every source), from the criteria's decisions."""
    ids, sources = ["", BASELINE_RULE], ["", BASELINE_SOURCE]
    for module in CRITERIA.values():
        d: CriterionDefinition = module.DEFINITION
        rules = [line.rule for dl in d.decision_lists for line in dl.lines] + list(d.overall.rows)
        ids += [r.id for r in rules]
        sources += [str(r.source) for r in rules]
    return tuple(dict.fromkeys(ids)), tuple(dict.fromkeys(sources))


RULE_IDS, RULE_SOURCES = _all_rules()
_RULE = {r: i for i, r in enumerate(RULE_IDS)}
_RESP = {r: i for i, r in enumerate(RESPONSE_VALUES)}


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


def _is_effusion(organ: pd.Series) -> np.ndarray:
    """Rows whose organ is a pleural effusion or ascites (judged once per distinct organ)."""
    if isinstance(organ.dtype, pd.CategoricalDtype):
        per_category = organ.cat.categories.str.lower().isin(EFFUSION_ORGANS)
        codes = organ.cat.codes.to_numpy()
        return np.where(codes >= 0, np.r_[per_category, False][codes], False)
    return organ.astype(str).str.lower().isin(EFFUSION_ORGANS).to_numpy(dtype=bool)


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
    effusion = _is_effusion(df["organ"])[base_rows]
    nodal = df["is_nodal"].to_numpy(dtype=bool, na_value=False)[base_rows]
    viable = df["viable_long_axis_mm"].to_numpy(dtype=float)[base_rows]
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
    # time points in (read, day) order: hash the keys, then sort only the distinct ones
    codes, keys = pd.factorize(read * span + (day - day0))
    rank = np.empty(len(keys), dtype=np.int64)
    rank[np.argsort(keys, kind="stable")] = np.arange(len(keys))
    tp_of_row = rank[codes]
    first = np.flatnonzero(~pd.Series(tp_of_row).duplicated().to_numpy())
    first = first[np.argsort(tp_of_row[first])]
    tps = pd.DataFrame({c: df[c].array[first] for c in TP + TP_KEYS})
    tp_read = tps["_read"].to_numpy(np.int64)
    starts = np.r_[True, tp_read[1:] != tp_read[:-1]] if len(tps) else np.zeros(0, bool)
    first_of_read = np.maximum.accumulate(np.where(starts, np.arange(len(tps)), 0))
    tps["baseline_date"] = tps["timepoint_date"].to_numpy()[first_of_read]
    tps["is_baseline"] = starts
    # the reference of the SD minimum: the treatment start when given, else the baseline scan
    start = (df["treatment_start_date"].to_numpy(dtype="datetime64[ns]")[first]
             if "treatment_start_date" in df.columns else np.full(len(tps), np.datetime64("NaT", "ns")))
    tps["_reference_date"] = np.where(np.isnat(start), tps["baseline_date"].to_numpy(), start)
    # tumour markers above normal at a time point (any row of it says false)
    if "tumour_markers_normal" in df.columns:
        raised = (df["tumour_markers_normal"] == False).to_numpy(dtype=bool, na_value=False)  # noqa: E712
        tps["_markers_raised"] = np.bincount(tp_of_row, weights=raised, minlength=len(tps)) > 0
    else:
        tps["_markers_raised"] = np.zeros(len(tps), dtype=bool)
    is_new = np.flatnonzero((df["role"] == "new").to_numpy(dtype=bool))
    new = pd.DataFrame({c: df[c].array[is_new] for c in READ + [
        "_lesion", "timepoint_date", "status", "organ", "is_nodal", "long_axis_mm",
        "short_axis_mm", "cytology_proven"]})
    new["_tp"] = tp_of_row[is_new]
    return Prepared(tps, _grid(df, tp_of_row, tp_read, "target"),
                    _grid(df, tp_of_row, tp_read, "non-target"), new)


def _decide(decisions: DecisionList, facts: dict[Fact, np.ndarray], n: int, values: dict[str, int]
            ) -> tuple[np.ndarray, np.ndarray]:
    """An ordered decision list applied to whole arrays: per time point, the code of the first
    matching line's result (``values``) and of its rule."""
    conds = []
    for line in decisions.lines[:-1]:
        cond = np.ones(n, dtype=bool)
        for f in line.when:
            cond = cond & facts[f]
        for f in line.unless:
            cond = cond & ~facts[f]
        conds.append(cond)
    last = decisions.lines[-1]
    return (np.select(conds, [values[d.then] for d in decisions.lines[:-1]], default=values[last.then]),
            np.select(conds, [_RULE[d.rule.id] for d in decisions.lines[:-1]],
                      default=_RULE[last.rule.id]))


def _target_values(g: _Grid, criterion: CriterionDefinition, opts: AssessmentOptions
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-lesion value (mm; NaN = not evaluated), 'CR condition met', and 'follows its viable
    diameter'."""
    measured_value, follows_viable = criterion.target_measure(g)
    value = np.select(
        [g.status == _S["measured"], g.status == _S["too-small"], g.status == _S["absent"]],
        [measured_value, opts.too_small_mm, 0.0], default=np.nan).astype(float)
    cr_ok = criterion.target_cr(value, g, follows_viable) & ~np.isnan(value)
    return value, cr_ok, follows_viable


def _segment_running_min(values: np.ndarray, present: np.ndarray, starts: np.ndarray
                         ) -> np.ndarray:
    """Running minimum of integer ``values`` within consecutive segments (a new one at each
    ``starts``), skipping entries not ``present``: NaN until the first present value.

    One ``np.minimum.accumulate`` over values shifted down by a per-segment offset larger than
    their range, so no minimum carries over a segment boundary."""
    if not len(values):
        return np.zeros(0, dtype=float)
    segment = np.cumsum(starts) - 1
    v = values.astype(np.int64)
    lo, hi = (int(v[present].min()), int(v[present].max())) if present.any() else (0, 0)
    span = hi - lo + 2  # room for the "absent" value hi + 1
    shifted = np.where(present, v - lo, span - 1) - segment * span
    running = np.minimum.accumulate(shifted) + segment * span
    return np.where(running >= span - 1, np.nan, running + lo).astype(float)


def _seen_before(flag: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per time point: ``flag`` held at an earlier time point of the same read."""
    n = len(flag)
    seen = _segment_running_min(np.where(flag, 0, 1), np.ones(n, bool), starts) == 0
    return ~starts & np.r_[False, seen[:-1]] if n else np.zeros(0, dtype=bool)


def _target_response(p: Prepared, criterion: CriterionDefinition, opts: AssessmentOptions,
                     cr_before: np.ndarray, pr_before: np.ndarray) -> dict[str, object]:
    """Target sums and responses; ``cr_before``: an overall CR was assigned at an earlier time
    point of the read (reappearance is PD only then); ``pr_before``: a target PR or CR was (for
    the option ``pr_carried_forward``)."""
    g, n = p.target, len(p.tps)
    value, cr_ok, follows_viable = _target_values(g, criterion, opts)
    enhancing = np.bincount(g.tp, weights=follows_viable, minlength=n) > 0
    missing = np.isnan(value)
    n_targets = np.bincount(g.tp, minlength=n)
    n_missing = np.bincount(g.tp, weights=missing, minlength=n).astype(np.int64)
    assessed = np.bincount(g.tp, weights=_um(value), minlength=n).astype(np.int64)  # exact < 2**53
    all_cr = (np.bincount(g.tp, weights=~cr_ok, minlength=n) == 0) & (n_targets > 0)
    complete = n_missing == 0
    valid = complete & (n_targets > 0)
    sum_um = pd.Series(np.where(valid, assessed, np.nan))
    starts = p.tps["is_baseline"].to_numpy(dtype=bool)
    first_of_read = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    base_um = sum_um.to_numpy()[first_of_read]
    # nadir: the smallest complete sum before each time point of the read (baseline included)
    running = _segment_running_min(np.where(valid, assessed, 0), valid, starts)
    nadir_um = np.where(starts, np.nan, np.r_[np.nan, running[:-1]])
    has_nadir = ~np.isnan(nadir_um)
    nadir = np.nan_to_num(nadir_um).astype(np.int64)
    base = np.nan_to_num(base_um).astype(np.int64)
    pd_min_um = np.rint(np.asarray(criterion.pd_floor_mm(opts, enhancing), float) * 1000
                        ).astype(np.int64)
    grow = 1 + criterion.pd_increase.value / 100
    shrink = 1 - criterion.pr_decrease.value / 100
    # an actual increase is needed: with a nadir of 0 (a target CR) and mRECIST's 0 mm floor,
    # "0 >= 0 x 1.2" alone would call a sum that stays at 0 progression
    facts = {
        Fact.NO_TARGETS: n_targets == 0,
        Fact.TARGET_MISSING: n_missing > 0,
        Fact.SUM_PD: has_nadir & (assessed > nadir) & _ge_fraction(assessed, nadir, grow)
        & (assessed - nadir >= pd_min_um),
        Fact.REAPPEARED: cr_before & ~all_cr,
        Fact.ALL_TARGETS_CR: all_cr,
        Fact.NORMAL_NODES_PREVAIL: all_cr & opts.normal_nodes_cr_over_sum_pd,
        Fact.SUM_PR: _le_fraction(assessed, base, shrink),
        Fact.PR_EARLIER: pr_before & opts.pr_carried_forward,
    }
    response, rule = _decide(criterion.target_decisions, facts, n, _RESP)
    response = np.where(starts, _RESP[""], response)
    rule = np.where(starts, _RULE[BASELINE_RULE], rule)
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


def _non_target_response(p: Prepared, criterion: CriterionDefinition, cr_before: np.ndarray
                         ) -> dict[str, object]:
    g, n = p.non_target, len(p.tps)
    status = np.where(g.status == _NOT_SEEN, _S["not-evaluated"], g.status)
    gone, progression = criterion.non_target_state(g, status)
    seen_again = ~gone & (status != _S["not-evaluated"])
    size = np.bincount(g.tp, minlength=n)
    facts = {
        Fact.NO_NON_TARGETS: size == 0,
        Fact.NON_TARGET_PD: np.bincount(g.tp, weights=progression, minlength=n) > 0,
        Fact.NON_TARGET_NE: np.bincount(g.tp, weights=status == _S["not-evaluated"],
                                        minlength=n) > 0,
        Fact.ALL_NON_TARGETS_GONE: np.bincount(g.tp, weights=gone, minlength=n) == size,
        Fact.MARKERS_RAISED: p.tps["_markers_raised"].to_numpy(dtype=bool),
        Fact.NON_TARGET_REAPPEARED: cr_before
        & (np.bincount(g.tp, weights=seen_again, minlength=n) > 0),
    }
    response, rule = _decide(criterion.non_target_decisions, facts, n, _RESP)
    return {"n_non_targets": size, "_non_target": response, "_non_target_rule": rule}


def _new_lesions(p: Prepared, criterion: CriterionDefinition) -> dict[str, object]:
    new, n = p.new, len(p.tps)
    status = new["status"].to_numpy(dtype=object)
    unequivocal = np.isin(status, UNEQUIVOCAL)
    equivocal = status == "equivocal"
    demoted = criterion.new_lesion_demoted(new, unequivocal)
    unequivocal = unequivocal & ~demoted
    equivocal = equivocal | demoted
    # an unequivocal new lesion dates from the first time it was seen, even as equivocal
    tp = new["_tp"].to_numpy()
    seen = unequivocal | equivocal
    day = new["timepoint_date"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    lesion, _ = pd.factorize(new["_read"].to_numpy(np.int64) * (1 << 32)
                             + new["_lesion"].to_numpy(np.int64))
    never = np.iinfo(np.int64).max
    first_by_lesion = np.full(int(lesion.max(initial=-1)) + 1, never, dtype=np.int64)
    np.minimum.at(first_by_lesion, lesion[seen], day[seen])
    first_by_tp = np.full(n, never, dtype=np.int64)
    np.minimum.at(first_by_tp, tp[unequivocal], first_by_lesion[lesion[unequivocal]])
    first_seen_at = np.where(first_by_tp == never, np.datetime64("NaT", "ns"),
                             first_by_tp.astype("datetime64[ns]"))
    yes = np.bincount(tp, weights=unequivocal, minlength=n) > 0
    facts = {Fact.NEW_UNEQUIVOCAL: yes,
             Fact.NEW_EQUIVOCAL: np.bincount(tp, weights=equivocal, minlength=n) > 0}
    new_state, rule = _decide(criterion.new_lesion_decisions, facts, n,
                              {v: i for i, v in enumerate(NEW_VALUES)})
    return {"_new": new_state, "_new_rule": rule, "new_lesion_first_seen": first_seen_at,
            "_new_yes": yes}


@functools.cache
def _overall_lookup(criterion: CriterionDefinition) -> tuple[np.ndarray, list]:
    """The overall-response table as an array: [target, non-target, new yes?] → row index."""
    rows = list(criterion.overall.rows)
    index = np.full((len(RESPONSE_VALUES), len(RESPONSE_VALUES), 2), -1, dtype=np.int64)
    for (target, non_target, new), row in criterion.overall.compiled().items():
        index[_RESP[target], _RESP[non_target], int(new == NEW_YES)] = rows.index(row)
    return index, rows


def assess_prepared(p: Prepared, criterion: str, options: AssessmentOptions | None = None
                    ) -> pd.DataFrame:
    """Time-point responses for one criterion (an id of :data:`CRITERIA`) of a
    :func:`prepare`-d table."""
    opts = options or AssessmentOptions()
    definition: CriterionDefinition = CRITERIA[criterion].DEFINITION
    tps = p.tps
    base = tps["is_baseline"].to_numpy(dtype=bool)
    index, rows = _overall_lookup(definition)
    then = np.array([_RESP[r.then] for r in rows] + [0])

    def overall(cols: dict[str, object]) -> np.ndarray:
        which = index[cols["_target"], cols["_non_target"], cols["_new_yes"].astype(int)]
        if (which[~base] < 0).any():  # cannot happen: the table test covers every combination
            raise AssertionError(f"{definition.overall.id}: a combination of states has no line")
        return which

    # Disease reappearing is PD only after an overall CR (RECIST 1.1 Table 3 footnote): a first
    # pass without the reappearance rules finds the overall CRs — a time point with an overall CR
    # has every target and non-target gone, so the rules cannot change it — and a second pass
    # applies them after the first CR.
    new = _new_lesions(p, definition)
    no = np.zeros(len(tps), dtype=bool)
    cols: dict[str, object] = {**_target_response(p, definition, opts, no, no),
                               **_non_target_response(p, definition, no), **new}
    which = overall(cols)
    cr_before = _seen_before(~base & (then[np.where(base, len(rows), which)] == _RESP[CR]), base)
    target = np.asarray(cols["_target"])
    pr_before = _seen_before(~base & np.isin(target, (_RESP[PR], _RESP[CR])), base) \
        if opts.pr_carried_forward else no
    if cr_before.any() or pr_before.any():
        cols = {**_target_response(p, definition, opts, cr_before, pr_before),
                **_non_target_response(p, definition, cr_before), **new}
        which = overall(cols)
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
        "_reference_date": tps["_reference_date"].to_numpy(),
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
        "new_lesion_first_seen": np.where(base, np.datetime64("NaT", "ns"), cols["new_lesion_first_seen"]),
        "overall_response": _categorical(then[which], RESPONSE_VALUES),
        "rule_id": _categorical(rule[which], RULE_IDS),
        "rule_source": _categorical(
            np.array([RULE_SOURCES.index(str(r.source)) for r in rows]
                     + [RULE_SOURCES.index(BASELINE_SOURCE)])[which], RULE_SOURCES),
    })
    return out
