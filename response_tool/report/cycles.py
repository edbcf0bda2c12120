"""Treatment cycles (Touloupas 2021, Table 3): responses per TACE cycle, each cycle against its
own pre-treatment scan — a layer on top of :func:`response_tool.assessment.assess`, run on each
cycle's rows; a read without treatments is assessed exactly as before (this module is not used).

* **Treatments** (TREATMENTS.csv): ``patient_id, treatment_date, kind`` (e.g. TACE, TAE, SSA
  start), one row per treatment.
* **Cycle k** of a patient starts with their k-th treatment. Its **baseline** is the last scan
  on or before the treatment date (imaging precedes the procedure on a shared day); its
  follow-ups are the scans after the treatment up to and including the day of the next
  treatment — so the last scan before treatment k + 1 is both the last follow-up of cycle k and
  the baseline of cycle k + 1. A cycle without a scan before it or after it is left out, and
  said.
* Each cycle is assessed as a patient of its own (``assess`` on its rows, the patient id
  suffixed ``#cycle-k``; every option as given). At a cycle's baseline, a lesion recorded as
  **new** is known disease from then on and is counted as a **non-target** for that cycle, and
  a target that is not measured there becomes a non-target too (a baseline target must be
  measured); a target or non-target missing from the cycle's baseline scan is left out of that
  cycle (the notes count them).
* Per patient, reader, criterion and cycle (:func:`cycle_table`): the cycle's best overall
  response, its **first** response (the overall response at its first follow-up), and **TTLP**
  — time to progression in that cycle, in months from its treatment to the first PD of the
  cycle (RECIST/mRECIST overall PD: intrahepatic or not, as the read records it), censored at
  the cycle's last scan.
* Per patient (:func:`first_and_best`): the first response (cycle 1's first follow-up) and the
  best response over every cycle (Touloupas compares classifications by the two).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from response_tool.analysis.landmark import DAYS_PER_MONTH
from response_tool.domain.errors import ReportInputError
from response_tool.domain.vocabulary import Role, Status
from response_tool.io.tables import read_table
from response_tool.report.inputs import AS_CATEGORY, CATEGORIES, NOT_EVALUABLE, RESPONDERS

TREATMENTS = ("treatments CSV (patient_id, treatment_date, kind)",
              ("patient_id", "treatment_date", "kind"))
#: how a cycle's patient id is written for assess()
SUFFIX = "#cycle-"
#: best first: how the best response over cycles is chosen
ORDER = ("CR", "PR", "SD", "PD")
#: the columns of the per-cycle table
CYCLE_COLUMNS = ("patient_id", "reader_id", "criterion", "cycle", "kind", "treatment_date",
                 "baseline_date", "n_followups", "best_overall_response", "first_response",
                 "ttlp_months", "ttlp_event")


def read_treatments(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    """The treatments table, checked: every date a date, every kind given, one row per
    patient and date (else a ReportInputError naming the line)."""
    where = "treatments CSV" if isinstance(source, pd.DataFrame) else str(source)
    frame = read_table(source, *TREATMENTS, ReportInputError)
    out = pd.DataFrame({"patient_id": frame["patient_id"].astype(str).str.strip(),
                        "kind": frame["kind"].astype(str).str.strip()})
    dates = pd.to_datetime(frame["treatment_date"].astype(str).str.strip(), format="%Y-%m-%d",
                           errors="coerce")
    for bad, what in ((dates.isna(), "treatment_date = {v!r}; give a date as YYYY-MM-DD"),
                      (out["kind"].isin(["", "nan"]), "kind is empty; give e.g. TACE"),
                      (out["patient_id"].isin(["", "nan"]), "patient_id is empty")):
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ReportInputError(f"{where}, line {i + 2}: "
                                   + what.format(v=frame["treatment_date"].iloc[i]))
    out["treatment_date"] = dates
    dup = out.duplicated(["patient_id", "treatment_date"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise ReportInputError(f"{where}, line {i + 2}: patient {out['patient_id'].iloc[i]} has "
                               "two treatments on one day; give one row per treatment")
    return out.sort_values(["patient_id", "treatment_date"], kind="stable").reset_index(drop=True)


@dataclass
class Cycles:
    """The measurements of every cycle, as assess() takes them, and what was left out."""

    rows: pd.DataFrame
    #: patient, cycle, kind, treatment_date, baseline_date, end_date (next treatment or None)
    cycles: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def split_cycles(measurements: pd.DataFrame, treatments: pd.DataFrame) -> Cycles:
    """Each cycle's rows of ``measurements`` (the measurements CSV's columns), re-labelled as the
    module docstring says, with the patient id ``<id>#cycle-<k>``."""
    meas = measurements.copy()
    meas["_date"] = pd.to_datetime(meas["timepoint_date"].astype(str).str.slice(0, 10),
                                   format="%Y-%m-%d", errors="coerce")
    notes: list[str] = []
    untreated = sorted(set(meas["patient_id"].astype(str)) - set(treatments["patient_id"]))
    if untreated:
        notes.append(f"{len(untreated)} patient(s) have measurements but no treatment and have "
                     f"no cycle: {', '.join(untreated[:10])}" + (" …" if len(untreated) > 10
                                                                else ""))
    parts, cycles, dropped = [], [], 0
    by_patient = dict(tuple(meas.groupby(meas["patient_id"].astype(str), sort=False)))
    for pid, tx in treatments.groupby("patient_id", sort=False):
        rows = by_patient.get(pid)
        if rows is None:
            notes.append(f"patient {pid}: treatments but no measurements")
            continue
        scans = np.sort(rows["_date"].dropna().unique())
        dates = list(tx["treatment_date"])
        for k, (when, kind) in enumerate(zip(dates, tx["kind"], strict=True), start=1):
            end = dates[k] if k < len(dates) else None
            before = scans[scans <= np.datetime64(when)]
            after = scans[(scans > np.datetime64(when))
                          & ((scans <= np.datetime64(end)) if end is not None else True)]
            if not len(before) or not len(after):
                notes.append(f"patient {pid}, cycle {k} ({kind} on {when:%Y-%m-%d}): no scan "
                             f"{'before' if not len(before) else 'after'} the treatment; the "
                             "cycle is left out")
                continue
            base = before[-1]
            cyc = rows[(rows["_date"] == base) | rows["_date"].isin(after)].copy()
            cyc, gone = _relabel(cyc, base)
            dropped += gone
            cyc["patient_id"] = f"{pid}{SUFFIX}{k}"
            parts.append(cyc)
            cycles.append({"patient_id": pid, "cycle": k, "kind": kind, "treatment_date": when,
                           "baseline_date": pd.Timestamp(base), "end_date": end})
    if dropped:
        notes.append(f"{dropped} row(s) of lesions missing from their cycle's baseline scan are "
                     "left out of that cycle")
    rows = (pd.concat(parts, ignore_index=True).drop(columns=["_date"]) if parts
            else measurements.iloc[:0])
    return Cycles(rows, pd.DataFrame(cycles), notes)


def _relabel(cyc: pd.DataFrame, base: np.datetime64) -> tuple[pd.DataFrame, int]:
    at_base = cyc["_date"] == base
    key = cyc["reader_id"].astype(str) + "\0" + cyc["lesion_id"].astype(str)
    role = cyc["role"].astype(str).str.strip().str.lower()
    status = cyc["status"].astype(str).str.strip().str.lower()
    new_at_base = set(key[at_base & (role == Role.NEW.value)])
    unmeasured = set(key[at_base & (role == Role.TARGET.value)
                         & (status != Status.MEASURED.value)])
    demote = key.isin(new_at_base | unmeasured)
    cyc.loc[demote, "role"] = Role.NON_TARGET.value
    measured = demote & (status == Status.MEASURED.value)
    cyc.loc[measured, "status"] = Status.PRESENT.value
    for col in ("long_axis_mm", "short_axis_mm", "viable_long_axis_mm"):
        if col in cyc.columns:
            cyc.loc[demote, col] = ""
    role = cyc["role"].astype(str).str.strip().str.lower()
    known = set(key[at_base])
    missing = role.isin([Role.TARGET.value, Role.NON_TARGET.value]) & ~key.isin(known)
    return cyc[~missing], int(missing.sum())


def cycle_table(timepoints: pd.DataFrame, best: pd.DataFrame, cycles: pd.DataFrame
                ) -> pd.DataFrame:
    """One row per patient, reader, criterion and cycle (:data:`CYCLE_COLUMNS`) from assess()'s
    time points and BOR of the cycles' rows."""
    tp = timepoints.copy()
    pid = tp["patient_id"].astype(str).str.rsplit(SUFFIX, n=1)
    tp["patient"], tp["cycle"] = pid.str[0], pid.str[1].astype(int)
    tp["date"] = pd.to_datetime(tp["timepoint_date"])
    follow = tp[~tp["is_baseline"].astype(str).str.lower().isin(("true", "1"))].sort_values(
        "date", kind="stable")
    keys = ["patient", "reader_id", "criterion", "cycle"]
    first = follow.groupby(keys)["overall_response"].first().rename("first_response")
    n_fu = follow.groupby(keys).size().rename("n_followups")
    last = follow.groupby(keys)["date"].max().rename("last_scan")
    is_pd = follow[follow["overall_response"].astype(str) == "PD"]
    first_pd = is_pd.groupby(keys)["date"].min().rename("first_pd")
    b = best.copy()
    pid = b["patient_id"].astype(str).str.rsplit(SUFFIX, n=1)
    b["patient"], b["cycle"] = pid.str[0], pid.str[1].astype(int)
    b = b.set_index(keys)[["best_overall_response"]]
    out = b.join([first, n_fu, last, first_pd]).reset_index()
    info = cycles.rename(columns={"patient_id": "patient"})
    out = out.merge(info[["patient", "cycle", "kind", "treatment_date", "baseline_date"]],
                    on=["patient", "cycle"], how="left")
    end = out["first_pd"].fillna(out["last_scan"])
    out["ttlp_months"] = ((end - out["treatment_date"]).dt.days / DAYS_PER_MONTH).round(2)
    out["ttlp_event"] = out["first_pd"].notna().astype(int)
    out["treatment_date"] = out["treatment_date"].dt.strftime("%Y-%m-%d")
    out["baseline_date"] = out["baseline_date"].dt.strftime("%Y-%m-%d")
    out = out.rename(columns={"patient": "patient_id"})
    for col in ("patient_id", "reader_id", "criterion", "best_overall_response",
                "first_response"):  # plain text, as read back from the CSV (not categorical)
        out[col] = out[col].astype(object).where(out[col].notna(), "").astype(str)
    return out[list(CYCLE_COLUMNS)].sort_values(["patient_id", "reader_id", "criterion",
                                                 "cycle"], kind="stable").reset_index(drop=True)


def assess_cycles(measurements: pd.DataFrame, treatments: pd.DataFrame, **options: object
                  ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """assess() on every cycle's rows: the per-cycle table (:func:`cycle_table`), the cycles'
    time points (with ``patient_id`` and ``cycle`` apart) and the notes."""
    from response_tool.assessment import assess

    split = split_cycles(measurements, treatments)
    if split.rows.empty:
        raise ReportInputError("no treatment cycle could be assessed (each needs a scan on or "
                               "before its treatment and one after): " + "; ".join(
                                   split.notes[:3]))
    result = assess(split.rows, **options)
    table = cycle_table(result.timepoints, result.best_response, split.cycles)
    tp = result.timepoints.copy()
    pid = tp["patient_id"].astype(str).str.rsplit(SUFFIX, n=1)
    tp.insert(0, "cycle", pid.str[1].astype(int))
    tp["patient_id"] = pid.str[0]
    return table, tp, split.notes


def _category(v: object) -> str:
    text = AS_CATEGORY.get(str(v), str(v))
    return text if text in CATEGORIES else NOT_EVALUABLE


def per_cycle_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Touloupas 2021 Table 3: per criterion, the responses overall (every cycle) and in cycle
    1, cycle 2 and cycle ≥ 3, each against its own baseline: n, n (%) per category, ORR."""
    t = table.assign(category=table["best_overall_response"].map(_category),
                     group=np.where(table["cycle"] >= 3, "cycle ≥ 3",
                                    "cycle " + table["cycle"].astype(str)))
    rows = []
    for crit, sub in t.groupby("criterion", sort=False):
        for name, g in [("overall", sub)] + [(n, sub[sub["group"] == n]) for n in
                                             ("cycle 1", "cycle 2", "cycle ≥ 3")]:
            if g.empty:
                continue
            row = {"criterion": crit, "cycles": name, "n": len(g)}
            for c in CATEGORIES:
                k = int((g["category"] == c).sum())
                row[c] = f"{k} ({100 * k / len(g):.1f} %)"
            k = int(g["category"].isin(RESPONDERS).sum())
            row["ORR"] = f"{k} ({100 * k / len(g):.1f} %)"
            rows.append(row)
    return pd.DataFrame(rows)


def first_and_best(table: pd.DataFrame) -> pd.DataFrame:
    """Per patient, reader and criterion: the first response (cycle 1's first follow-up) and
    the best response over every cycle's best overall response."""
    t = table.assign(category=table["best_overall_response"].map(_category),
                     first=table["first_response"].map(_category))
    keys = ["patient_id", "reader_id", "criterion"]
    rank = {c: i for i, c in enumerate(ORDER)}
    first = t[t["cycle"] == t.groupby(keys)["cycle"].transform("min")].set_index(keys)["first"]
    best = (t.assign(r=t["category"].map(rank).fillna(len(ORDER)))
            .sort_values("r", kind="stable").groupby(keys)["category"].first())
    return pd.DataFrame({"first_response": first, "best_response": best}).reset_index()


def write_with_cycles(result: object, measurements: str | Path, treatments: str | Path,
                      cycles_path: Path, others: list[Path | None], export: object = None,
                      **options: object) -> str:
    """``assess --treatments``: the per-cycle table written as one set with ``result``'s
    RESPONSES, BOR and warnings (``others``: their paths, None for one not written): every file
    or none. Returns the line the command prints."""
    from response_tool.io.csv_out import stage_tables
    from response_tool.io.output import FileSet

    tx = read_treatments(treatments)
    meas = pd.read_csv(measurements, dtype=str, keep_default_na=False)
    table, _tp, notes = assess_cycles(meas, tx, **options)
    if export is not None and getattr(export, "active", False):
        shifted = export.apply(table)  # type: ignore[attr-defined]
        if getattr(export, "shift_days", 0):
            days = pd.Timedelta(days=int(export.shift_days))  # type: ignore[attr-defined]
            shifted["treatment_date"] = (pd.to_datetime(table["treatment_date"]) + days
                                         ).dt.strftime("%Y-%m-%d")
        table = shifted
    responses, bor, warnings = others
    with FileSet(make_parents=True) as files:
        result.stage_csv(files, responses, bor, warnings, export=None)  # type: ignore[attr-defined]
        stage_tables(files, [(table, cycles_path)])
    n = table[["patient_id", "cycle"]].drop_duplicates().shape[0]
    return (f"wrote {cycles_path} ({n} patient cycle(s) of {table['patient_id'].nunique()} "
            "patient(s))" + "".join(f"\nnote: {m}" for m in notes))


def read_cycle_table(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    """The per-cycle table ``assess --treatments`` wrote (:data:`CYCLE_COLUMNS`), checked."""
    frame = read_table(source, "cycles CSV written by `response-tool assess --treatments`",
                       CYCLE_COLUMNS, ReportInputError)
    where = "cycles CSV" if isinstance(source, pd.DataFrame) else str(source)
    out = frame[list(CYCLE_COLUMNS)].copy()
    for col in ("cycle", "ttlp_months", "ttlp_event", "n_followups"):
        values = pd.to_numeric(out[col], errors="coerce")
        bad = values.isna() | (values < 0)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ReportInputError(f"{where}, line {i + 2}: {col} = {out[col].iloc[i]!r}; give "
                                   "the file `response-tool assess --treatments` wrote")
        out[col] = values
    out["cycle"] = out["cycle"].astype(int)
    out["patient_id"] = out["patient_id"].astype(str)
    return out
