"""``assess(...)``: RECIST 1.1 and mRECIST per time point and best overall response.

The Python API mirrors ``response-tool assess``: measurements (a CSV path, a DataFrame in the CSV
schema, a :class:`~response_tool.domain.model.Read` or several) in; an :class:`AssessmentResult` with a
time-point table, a best-response table, a summary and ``to_csv`` out.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from response_tool.burden import read_burden_table
from response_tool.criteria import CRITERIA
from response_tool.criteria import best_response as bor
from response_tool.criteria.baseline import (
    WARNING_COLUMNS,
    baseline_warnings,
    new_lesion_warnings,
)
from response_tool.criteria.engine import KEYS, assess_prepared, prepare
from response_tool.criteria.options import AssessmentOptions
from response_tool.domain.errors import BurdenInputError
from response_tool.domain.fragments import fold_links
from response_tool.domain.model import Read, frame_of
from response_tool.io.csv_out import stage_tables, write_tables
from response_tool.io.export import ExportOptions
from response_tool.io.measurements_csv import read_measurements, validate
from response_tool.io.output import FileSet

#: Columns of RESPONSES.csv, in order.
TIMEPOINT_COLUMNS = (
    "patient_id", "reader_id", "criterion", "timepoint_date", "is_baseline", "n_targets",
    "sum_mm", "baseline_sum_mm", "nadir_sum_mm", "pct_change_from_baseline",
    "pct_change_from_nadir", "abs_change_from_nadir_mm", "targets_not_evaluated",
    "target_response", "target_rule_id", "n_non_targets", "non_target_response",
    "non_target_rule_id", "new_lesions", "new_lesions_rule_id", "new_lesion_first_seen",
    "overall_response", "rule_id", "rule_source", "htb_pct", "htb_category", "htb_method",
)
#: Baseline warnings the summary lists (all of them go to the warnings CSV).
SHOWN_WARNINGS = 10
#: Columns of BOR.csv, in order.
BOR_COLUMNS = (
    "patient_id", "reader_id", "criterion", "baseline_date", "n_followups",
    "best_overall_response", "best_overall_response_date", "bor_rule_id", "bor_rule_source",
    "confirmed_best_overall_response", "confirmed_bor_date", "confirmed_bor_rule_id",
    "confirmed_bor_rule_source", "confirm_weeks", "sd_min_weeks", "ne_tolerated",
)


@dataclass(frozen=True)
class AssessmentResult:
    """Time-point responses and best overall responses, with what produced them."""

    timepoints: pd.DataFrame
    best_response: pd.DataFrame
    protocol: AssessmentOptions
    warnings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=WARNING_COLUMNS))
    #: new lesions a criterion counts only as equivocal (same columns as :attr:`warnings`)
    new_lesion_warnings: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=WARNING_COLUMNS))
    #: what was done to the input to read it (e.g. partial dates completed), one line each
    input_notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """A short text summary: reads, time points, overall and best responses per criterion."""
        tp = self.timepoints[~self.timepoints["is_baseline"]]
        lines = [f"{self.best_response[['patient_id', 'reader_id']].drop_duplicates().shape[0]} "
                 f"read(s), {len(tp) // max(1, len(self.protocol.criteria))} follow-up time "
                 f"point(s) per criterion; options {asdict(self.protocol)}"]
        for crit in self.protocol.criteria:
            b = self.best_response[self.best_response["criterion"] == crit]
            lines.append(
                f"{crit}: time points {_counts(tp[tp['criterion'] == crit]['overall_response'])}; "
                f"BOR {_counts(b['best_overall_response'])}; "
                f"confirmed BOR {_counts(b['confirmed_best_overall_response'])}")
        if len(self.warnings):
            open_ = self.warnings[~self.warnings["overridden"]]
            lines.append(f"baseline checks: {len(self.warnings)} warning(s), "
                         f"{len(self.warnings) - len(open_)} overridden")
            lines.extend(f"  {w.patient_id}/{w.reader_id} {w.lesion_id}: {w.message} "
                         f"[{w.check_id}]" for w in open_.head(SHOWN_WARNINGS).itertuples())
            if len(open_) > SHOWN_WARNINGS:
                lines.append(f"  … and {len(open_) - SHOWN_WARNINGS} more")
        if len(self.new_lesion_warnings):
            new = self.new_lesion_warnings
            lines.append(f"new-lesion checks: {len(new)} lesion(s) counted as equivocal, not PD")
            lines.extend(f"  {w.patient_id}/{w.reader_id} {w.lesion_id}: {w.message} "
                         f"[{w.check_id}, {w.criterion}]" for w in new.head(SHOWN_WARNINGS).itertuples())
            if len(new) > SHOWN_WARNINGS:
                lines.append(f"  … and {len(new) - SHOWN_WARNINGS} more")
        lines.extend(f"input: {note}" for note in self.input_notes)
        return "\n".join(lines)

    def exported(self, export: ExportOptions | None) -> AssessmentResult:
        """This result as exported with ``export``: patient ids pseudonymised and dates shifted
        the same way in every table (:mod:`response_tool.io.export`); itself without."""
        if export is None or not export.active:
            return self
        return replace(self, timepoints=export.apply(self.timepoints),
                       best_response=export.apply(self.best_response),
                       warnings=export.apply(self.warnings),
                       new_lesion_warnings=export.apply(self.new_lesion_warnings))

    def to_csv(self, responses_path: str | os.PathLike[str],
               bor_path: str | os.PathLike[str] | None = None,
               warnings_path: str | os.PathLike[str] | None = None, *,
               export: ExportOptions | None = None) -> None:
        """Write RESPONSES.csv (and BOR.csv, and the warnings — baseline checks, then new lesions
        counted as equivocal — every one of them) as one set: every file or none, the old ones
        left as they were on any error. Text cells a spreadsheet would evaluate are neutralised;
        ``export`` pseudonymises ids and shifts dates (:mod:`response_tool.io.export`)."""
        write_tables(self._jobs(responses_path, bor_path, warnings_path, export))

    def stage_csv(self, files: FileSet, responses_path: str | os.PathLike[str],
                  bor_path: str | os.PathLike[str] | None = None,
                  warnings_path: str | os.PathLike[str] | None = None, *,
                  export: ExportOptions | None = None) -> None:
        """Stage the files :meth:`to_csv` writes into ``files``, a set the caller commits with
        files of its own (e.g. the Reading panel's export: measurements, responses, BOR)."""
        stage_tables(files, self._jobs(responses_path, bor_path, warnings_path, export))

    def _jobs(self, responses_path: str | os.PathLike[str],
              bor_path: str | os.PathLike[str] | None,
              warnings_path: str | os.PathLike[str] | None,
              export: ExportOptions | None) -> list[tuple[pd.DataFrame, str | os.PathLike[str]]]:
        result = self.exported(export)
        jobs: list[tuple[pd.DataFrame, str | os.PathLike[str]]] = [
            (result.timepoints, responses_path)]
        if bor_path is not None:
            jobs.append((result.best_response, bor_path))
        if warnings_path is not None:
            every = pd.concat([result.warnings.reindex(columns=list(WARNING_COLUMNS)),
                               result.new_lesion_warnings.reindex(columns=list(WARNING_COLUMNS))],
                              ignore_index=True) if len(result.new_lesion_warnings) else \
                result.warnings.reindex(columns=list(WARNING_COLUMNS))
            jobs.append((every, warnings_path))
        return jobs


def _counts(values: pd.Series) -> str:
    counts = values.value_counts()
    return ", ".join(f"{k} {int(counts[k])}" for k in bor.ORDER if counts.get(k, 0)) or "none"


def _to_frame(measurements: object, impute: str | None = None) -> pd.DataFrame:
    if isinstance(measurements, (str, os.PathLike)):
        return read_measurements(measurements, impute)
    if isinstance(measurements, pd.DataFrame):
        return validate(measurements, "measurements", impute)
    if isinstance(measurements, Read):
        measurements = [measurements]
    if isinstance(measurements, Iterable):
        reads = list(measurements)
        if reads and all(isinstance(r, Read) for r in reads):
            return validate(frame_of(reads), "read")
    raise TypeError("assess() takes a CSV path, a DataFrame in the measurements schema, a Read or "
                    "a list of Reads")


_EPOCH = dt.date(2000, 1, 1)


def _decide(days: list[int], responses: list[str], protocol: AssessmentOptions,
            reference_day: int = 0) -> tuple:
    """Both BORs of one read's follow-ups (``days`` since baseline, ascending; the SD minimum
    counted from ``reference_day``), each dated by the *position* of the follow-up it names
    (−1 = none)."""
    dates = [_EPOCH + dt.timedelta(days=d) for d in days]
    reference = _EPOCH + dt.timedelta(days=reference_day)
    nonpd = protocol.sd_min_for_non_cr_non_pd
    b = bor.best_overall_response(dates, responses, reference, sd_min_weeks=protocol.sd_min_weeks,
                                  sd_min_for_non_cr_non_pd=nonpd)
    c = bor.confirmed_best_overall_response(
        dates, responses, reference, confirm_weeks=protocol.confirm_weeks,
        sd_min_weeks=protocol.sd_min_weeks, ne_tolerated=protocol.ne_tolerated,
        sd_min_for_non_cr_non_pd=nonpd)

    def position(d: dt.date | None) -> int:
        return -1 if d is None else dates.index(d)

    return (b.response, position(b.date), b.rule_id, b.rule_source,
            c.response, position(c.date), c.rule_id, c.rule_source)


def _set(values: pd.Categorical, where: np.ndarray, value: str) -> pd.Categorical:
    out = np.asarray(values, dtype=object).copy()
    out[where] = value
    return pd.Categorical(out)


def _backdated(t: pd.DataFrame, fu: np.ndarray, fu_group: np.ndarray, position: np.ndarray,
               day: np.ndarray, n_groups: int, width: int) -> np.ndarray:
    """The follow-ups (read × criterion, position) a PD from a new lesion first seen equivocal
    moves to PD: every one from the lesion's first observation on (RECIST 1.1 section 4.3.2)."""
    first_seen = t["new_lesion_first_seen"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    pd_code = t["overall_response"].to_numpy(dtype=object) == bor.PD
    earlier = fu & pd_code & ~np.isnat(first_seen)
    earlier[earlier] = first_seen[earlier] < day[earlier]
    if not earlier.any():
        return np.zeros((n_groups, width), dtype=bool)
    never = np.iinfo(np.int64).max
    since = np.full(n_groups, never, dtype=np.int64)  # per group: the earliest first observation
    np.minimum.at(since, fu_group[earlier[fu]], first_seen[earlier].astype(np.int64))
    out = np.zeros((n_groups, width), dtype=bool)
    out[fu_group, position] = (day[fu].astype(np.int64) >= since[fu_group]) & (
        t["overall_response"].to_numpy(dtype=object)[fu] != bor.PD)
    return out


def best_responses(timepoints: pd.DataFrame, protocol: AssessmentOptions) -> pd.DataFrame:
    """One row per patient × reader × criterion with the BOR without and with confirmation.

    The BOR functions of :mod:`response_tool.criteria.best_response` (tested line by line) see
    dates only through three facts: the order of the follow-ups, whether each is at least the SD
    minimum after baseline, and whether each later one is at least the confirmation interval
    after each earlier one. Reads sharing responses and those facts share their BOR, so a cohort
    is decided once per distinct pattern — exactly, whatever the visit dates — and each read's
    BOR date is its own follow-up at the position the decision names.
    """
    keys = (["_read"] if "_read" in timepoints.columns else KEYS) + ["criterion"]
    group = timepoints.groupby(keys, sort=False, observed=True).ngroup().to_numpy()
    dates = timepoints["timepoint_date"].to_numpy(dtype="datetime64[ns]")
    later = np.diff(dates) > np.timedelta64(0, "ns")  # a timedelta against a timedelta (NumPy 1.26 to 2.x)
    in_order = bool(np.all((np.diff(group) > 0) | ((np.diff(group) == 0) & later)))
    if in_order:  # assess() hands the table over grouped and dated already
        t = timepoints.reset_index(drop=True)
    else:
        order = np.lexsort((dates, group))
        t = timepoints.iloc[order].reset_index(drop=True)
        group = pd.factorize(group[order])[0]
    n_groups = int(group.max(initial=-1)) + 1
    first = np.r_[0, np.flatnonzero(np.diff(group)) + 1] if len(t) else np.array([], dtype=int)
    day = t["timepoint_date"].to_numpy().astype("datetime64[D]")
    base_date = day[first]
    # the SD minimum counts from the treatment start when the measurements give one
    reference = (t["_reference_date"].to_numpy().astype("datetime64[D]")[first]
                 if "_reference_date" in t.columns else base_date)
    ref_day = (reference - base_date).astype(np.int64)  # days from the baseline scan
    fu = ~t["is_baseline"].to_numpy(dtype=bool)
    response_code = pd.Index(bor.ORDER).get_indexer(t["overall_response"])
    if (fu & (response_code < 0)).any():
        bad = t.loc[fu & (response_code < 0)].iloc[0]
        raise ValueError(f"time point {bad['timepoint_date']} of {bad['patient_id']}/"
                         f"{bad['reader_id']}: overall response {bad['overall_response']!r} "
                         "is not a RECIST response")
    # follow-ups as a matrix: one row per read × criterion, one column per follow-up
    fu_group = group[fu]
    fu_start = np.r_[True, fu_group[1:] != fu_group[:-1]] if len(fu_group) else np.zeros(0, bool)
    position = np.arange(len(fu_group)) - np.maximum.accumulate(
        np.where(fu_start, np.arange(len(fu_group)), 0))
    width = max(int(position.max(initial=-1)) + 1, 1)
    fu_day = np.zeros((n_groups, width), dtype=np.int64)
    fu_day[fu_group, position] = (day[fu] - base_date[fu_group]).astype(np.int64)
    fu_response = np.full((n_groups, width), -1, dtype=np.int8)
    fu_response[fu_group, position] = response_code[fu]
    backdated = np.zeros((n_groups, width), dtype=bool)
    if protocol.equivocal_new_lesion_backdates_pd and "new_lesion_first_seen" in t.columns:
        backdated = _backdated(t, fu, fu_group, position, day, n_groups, width)
        fu_response[backdated] = bor.ORDER.index(bor.PD)
    present = fu_response >= 0
    sd_met = present & (((fu_day - ref_day[:, None]) / 7.0 >= protocol.sd_min_weeks) | (
        (fu_response == bor.ORDER.index(bor.NON_CR_NON_PD)) & (not protocol.sd_min_for_non_cr_non_pd)))
    i, j = np.triu_indices(width, k=1)
    confirms = present[:, j] & ((fu_day[:, j] - fu_day[:, i]) / 7.0 >= protocol.confirm_weeks)
    facts = pd.DataFrame(np.hstack([fu_response, sd_met, confirms]).astype(np.int8))
    pattern = facts.groupby(list(facts.columns), sort=False).ngroup().to_numpy()
    example = np.unique(pattern, return_index=True)[1]  # one read per pattern, in pattern order
    decided = [_decide(fu_day[g][present[g]].tolist(),
                       [bor.ORDER[c] for c in fu_response[g][present[g]]], protocol,
                       int(ref_day[g])) for g in example]
    columns = list(zip(*decided, strict=True)) if decided else [()] * 8

    def col(k: int) -> pd.Categorical:
        return pd.Categorical(list(columns[k])).take(pattern)

    def date_col(k: int) -> np.ndarray:
        at = np.asarray(columns[k], dtype=np.int64)[pattern]
        chosen = base_date + fu_day[np.arange(n_groups), np.maximum(at, 0)].astype("timedelta64[D]")
        return np.where(at >= 0, chosen.astype("datetime64[ns]"), np.datetime64("NaT", "ns"))

    bor_rule, bor_source, cbor_rule, cbor_source = col(2), col(3), col(6), col(7)
    if backdated.any():  # a PD the backdating moved names the rule that moved it
        rule, rows = bor.RULES["pd-backdated"], np.arange(n_groups)
        moved = [(at >= 0) & backdated[rows, np.maximum(at, 0)] for at in
                 (np.asarray(columns[k], dtype=np.int64)[pattern] for k in (1, 5))]
        bor_rule, cbor_rule = (_set(c, m, rule.id) for c, m in zip((bor_rule, cbor_rule), moved,
                                                                      strict=True))
        bor_source, cbor_source = (_set(c, m, str(rule.source)) for c, m in zip(
            (bor_source, cbor_source), moved, strict=True))
    head = t.iloc[first]
    return pd.DataFrame({
        "patient_id": head["patient_id"].array, "reader_id": head["reader_id"].array,
        "criterion": head["criterion"].array, "baseline_date": base_date.astype("datetime64[ns]"),
        "n_followups": np.bincount(fu_group, minlength=n_groups),
        "best_overall_response": col(0), "best_overall_response_date": date_col(1),
        "bor_rule_id": bor_rule, "bor_rule_source": bor_source,
        "confirmed_best_overall_response": col(4), "confirmed_bor_date": date_col(5),
        "confirmed_bor_rule_id": cbor_rule, "confirmed_bor_rule_source": cbor_source,
        "confirm_weeks": protocol.confirm_weeks, "sd_min_weeks": protocol.sd_min_weeks,
        "ne_tolerated": protocol.ne_tolerated,
    }, columns=list(BOR_COLUMNS))


def _bucket_responses(args: tuple[pd.DataFrame, AssessmentOptions]) -> pd.DataFrame:
    return timepoint_responses(*args)


def patient_partitions(frame: pd.DataFrame, n: int) -> list[pd.DataFrame]:
    """The partition contract of parallel and distributed assessment: ``frame`` (validated)
    split into at most ``n`` parts of whole patients — every reader of a patient in the same
    part, by a hash of the patient id, so the split does not depend on row order — each
    assessable alone. Reads are independent, so the parts' time points, concatenated and put
    back in read order, are those of the whole table; line numbers stay the source file's
    (``_line`` is kept)."""
    patient = pd.util.hash_array(frame["patient_id"].astype(str).to_numpy(dtype=object))
    bucket = (patient % np.uint64(max(1, n))).astype(np.int64)
    return [frame[bucket == b] for b in range(max(1, n)) if (bucket == b).any()]


def timepoint_responses(frame: pd.DataFrame, protocol: AssessmentOptions, jobs: int = 1,
                        executor: Any = None) -> pd.DataFrame:
    """Every criterion's time-point responses for a validated table, one block per read:
    RECIST 1.1 then mRECIST, each by date (internal key columns kept for :func:`best_responses`).

    ``jobs`` > 1: the table is split by :func:`patient_partitions` and the parts are assessed in
    as many processes (or on ``executor``, anything with ``map`` — e.g. a Dask client's
    ``get_executor()``); the result is the same table, in the same order."""
    if jobs > 1 and frame["_read"].nunique() >= 2 * jobs:
        from concurrent.futures import ProcessPoolExecutor

        parts = [(part, protocol) for part in patient_partitions(frame, jobs)]
        if executor is not None:
            done = list(executor.map(_bucket_responses, parts))
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                done = list(pool.map(_bucket_responses, parts))
        tps = pd.concat(done, ignore_index=True)
        order = np.lexsort((np.arange(len(tps)), tps["_read"].to_numpy()))
        return tps.iloc[order].reset_index(drop=True)
    prepared = prepare(frame)
    parts = [assess_prepared(prepared, c, protocol) for c in CRITERIA if c in protocol.criteria]
    tps = pd.concat(parts, ignore_index=True)
    order = np.lexsort((np.arange(len(tps)), tps["_read"].to_numpy()))
    if np.array_equal(order, np.arange(len(tps))):  # one read: already in order
        return tps
    return tps.iloc[order].reset_index(drop=True)


def with_burden(tps: pd.DataFrame, burden_table: object, scheme: str = "liu2022") -> pd.DataFrame:
    """Add ``htb_pct``, ``htb_category``, ``htb_method`` per time point (empty where none)."""
    n = len(tps)
    if burden_table is None:
        return tps.assign(htb_pct=np.full(n, np.nan), htb_category=pd.Categorical([""] * n),
                          htb_method=pd.Categorical([""] * n))
    table = read_burden_table(burden_table, scheme)
    keys = pd.DataFrame({"patient_id": tps["patient_id"].astype(str).to_numpy(),
                         "reader_id": tps["reader_id"].astype(str).to_numpy(),
                         "timepoint_date": tps["timepoint_date"].to_numpy()})
    cols = ["htb_pct", "htb_category", "htb_method", "_line"]
    per_reader = keys.merge(table[table["reader_id"] != ""], how="left",
                            on=["patient_id", "reader_id", "timepoint_date"])
    every = keys.merge(table[table["reader_id"] == ""].drop(columns="reader_id"), how="left",
                       on=["patient_id", "timepoint_date"])
    chosen = per_reader[cols].where(per_reader["_line"].notna(), every[cols])
    used = set(chosen["_line"].dropna().astype(int))
    unmatched = table[~table["_line"].isin(used)]
    if len(unmatched):
        r = unmatched.iloc[0]
        raise BurdenInputError(
            f"burden table line {r['_line']}: no time point of patient {r['patient_id']}"
            + (f", reader {r['reader_id']}" if r["reader_id"] else "")
            + f" on {r['timepoint_date']:%Y-%m-%d} in the measurements ({len(unmatched)} such "
            "row(s)); check the date and ids")
    return tps.assign(htb_pct=chosen["htb_pct"].astype(float).to_numpy(),
                      htb_category=pd.Categorical(chosen["htb_category"].fillna("").to_numpy()),
                      htb_method=pd.Categorical(chosen["htb_method"].fillna("").to_numpy()))


def _imputed_notes(frame: pd.DataFrame, how: str | None) -> tuple[str, ...]:
    """One line per partial date completed: which rows, from what, to what."""
    if how is None or "_imputed_date" not in frame.columns:
        return ()
    done = frame[frame["_imputed_date"].astype(str) != ""]
    if done.empty:
        return ()
    pairs = done.drop_duplicates("_imputed_date")
    shown = ", ".join(f"{r['_imputed_date']} → {r['timepoint_date']:%Y-%m-%d}"
                      for r in pairs.head(5).to_dict("records"))
    lines = ", ".join(str(int(v)) for v in done["_line"].head(20))
    more = f" and {len(done) - 20} more" if len(done) > 20 else ""
    return (f"{len(done)} row(s) with a partial date completed to the {how} day ({shown}): "
            f"line(s) {lines}{more}",)


def assess(measurements: object, protocol: AssessmentOptions | None = None, *, burden: object = None,
           htb_scheme: str = "liu2022", impute_partial_dates: str | None = None, jobs: int = 1,
           executor: Any = None, **options: object) -> AssessmentResult:
    """Assess every patient × reader in ``measurements`` under each criterion of ``protocol``.

    ``options`` are :class:`AssessmentOptions` fields, as a shortcut (``assess(path, confirm_weeks=8)``).
    ``burden``: a burden table (CSV path or DataFrame, see
    :func:`response_tool.burden.read_burden_table`); its HTB %, category under ``htb_scheme`` and
    method join the time points. ``impute_partial_dates`` (``first``, ``mid``, ``last``): how a
    partial date (``2014-02``) is completed; by default it is refused. The rows completed are
    listed in :attr:`AssessmentResult.input_notes`. ``jobs``: processes for the time-point
    responses (:func:`timepoint_responses`, on ``executor`` when given); the result is the same
    for any number.
    """
    protocol = protocol or AssessmentOptions(**options)  # type: ignore[arg-type]
    frame, link_notes = fold_links(_to_frame(measurements, impute_partial_dates),
                                   protocol.too_small_mm)
    tps = with_burden(timepoint_responses(frame, protocol, jobs, executor), burden,
                      htb_scheme)
    best = best_responses(tps, protocol)
    return AssessmentResult(tps[list(TIMEPOINT_COLUMNS)], best, protocol,
                            baseline_warnings(frame, protocol.criteria),
                            new_lesion_warnings(frame, protocol.criteria),
                            _imputed_notes(frame, impute_partial_dates) + link_notes)


__all__ = ["AssessmentResult", "AssessmentOptions", "assess", "best_responses", "patient_partitions",
           "timepoint_responses",
           "with_burden"]
