"""The report's inputs, read and checked: the responses, the BOR and the clinical table; the
reader the tables use; each patient's category and best % change; the baseline HTB.

Every problem is a :class:`~response_tool.domain.errors.ReportInputError` naming the file, the
line and what to give instead (the CLI prints it as one line, exit 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from response_tool.domain.errors import ReportInputError
from response_tool.domain.vocabulary import (
    ADJUDICATOR,
    OBJECTIVE,
    REPORTED,
    TABULATED_AS,
    Criterion,
    Response,
)
from response_tool.io.tables import read_table

# -- the words of the report, from the vocabulary (plain strings: the CSV cells' spelling) ---------
#: the criteria, in output order (RECIST 1.1, then mRECIST)
CRITERIA = tuple(c.value for c in Criterion)
#: criterion id → display name
CRITERION_NAME = {c.value: c.display_name for c in Criterion}
#: the criteria the cross table compares: the first in rows, the second in columns
CROSSED = (Criterion.RECIST11.value, Criterion.MRECIST.value)
#: the categories every table and figure shows
CATEGORIES = tuple(r.value for r in REPORTED)
#: NON-CR/NON-PD (no target lesion) is tabulated with SD: neither response nor progression.
AS_CATEGORY = {k.value: v.value for k, v in TABULATED_AS.items()}
#: what a label that is none of the categories is tabulated as
NOT_EVALUABLE = Response.NE.value
#: objective response (responders), and disease control
RESPONDERS = tuple(r.value for r in OBJECTIVE)
DISEASE_CONTROL = (*RESPONDERS, Response.SD.value)
CLINICAL_COLUMNS = ("patient_id", "os_months", "os_event", "pfs_months", "pfs_event")
ENDPOINTS = {"os": "Overall survival", "pfs": "Progression-free survival",
             "ttup": "Time to untreatable progression"}

RESPONSES = ("responses CSV written by `response-tool assess`",
             ("patient_id", "reader_id", "criterion", "timepoint_date", "is_baseline",
              "pct_change_from_baseline", "overall_response"))
BOR = ("BOR CSV written by `response-tool assess --bor`",
       ("patient_id", "reader_id", "criterion", "best_overall_response",
        "confirmed_best_overall_response"))


@dataclass
class Inputs:
    """The checked inputs of one report."""

    #: every reader's time-point rows (inter-reader agreement)
    responses: pd.DataFrame
    #: the chosen reader's rows, with ``date``, ``weeks`` since baseline and ``pct`` change
    timepoints: pd.DataFrame
    #: one row per patient and criterion: ``category`` and ``best_pct`` (best % change)
    best: pd.DataFrame
    #: what the categories are ("best overall response", "overall response at follow-up 2", …)
    basis: str
    #: the reader whose read the tables and figures show
    reader: str
    #: every reader's BOR rows, if given
    bor: pd.DataFrame | None
    #: the clinical table (:func:`read_clinical`), if given
    clinical: pd.DataFrame | None
    #: without a BOR: the follow-up whose overall response is the category
    followup: int
    #: baseline HTB category per patient, when the responses carry it
    htb: pd.Series | None
    #: what the reader of the report should know about these choices
    notes: list[str] = field(default_factory=list)
    #: the clinical table's other columns (``patient_id`` and the covariates, as text), if any
    covariates: pd.DataFrame | None = None

    @property
    def criteria(self) -> list[str]:
        """The criteria some patient has a category under, in output order."""
        return [c for c in CRITERIA if (self.best["criterion"] == c).any()]


def load(responses: str | Path | pd.DataFrame, bor: str | Path | pd.DataFrame | None = None,
         clinical: str | Path | pd.DataFrame | None = None, reader: str | None = None,
         followup: int = 1, confirmed: bool = False) -> Inputs:
    """Read and check every input of :func:`~response_tool.report.build_report`."""
    tp_all = _read(responses, *RESPONSES)
    if tp_all.empty:
        raise ReportInputError("the responses CSV has no rows")
    bor_all = None if bor is None else _read(bor, *BOR)
    clin, covariates = (None, None) if clinical is None else clinical_parts(clinical)
    notes: list[str] = []
    chosen = _choose_reader(tp_all, reader, notes)
    if bor_all is not None:
        _check_same_study(tp_all, bor_all, chosen, _name(responses, "the responses"),
                          _name(bor, "the BOR table"), notes)
    tp = _timepoints(tp_all[tp_all["reader_id"] == chosen])
    best, basis = _best(tp, bor_all, followup, confirmed, chosen)
    if bor_all is None:
        notes.append("No BOR file given: categories are the overall response at follow-up "
                     f"{followup}; give --bor BOR.csv for the best overall response.")
    return Inputs(tp_all, tp, best, basis, chosen, bor_all, clin, followup, _baseline_htb(tp),
                  notes, covariates)


def _name(source: object, default: str) -> str:
    return default if isinstance(source, pd.DataFrame) else str(source)


def _check_same_study(tp: pd.DataFrame, bor: pd.DataFrame, reader: str, responses: str,
                      where: str, notes: list[str]) -> None:
    """The BOR belongs to these responses: it has the reader and patients in common with them
    (else a ReportInputError naming the BOR file: an empty report would follow); patients of
    one and not the other are noted."""
    patients = set(tp.loc[tp["reader_id"] == reader, "patient_id"].astype(str))
    rows = bor[bor["reader_id"].astype(str) == reader]
    if rows.empty:
        readers = ", ".join(sorted(set(bor["reader_id"].astype(str)))) or "none"
        raise ReportInputError(f"{where}: no best overall response of reader {reader} (its "
                               f"readers: {readers}); give the BOR.csv that `response-tool assess "
                               f"--bor` wrote with {responses}")
    in_bor = set(rows["patient_id"].astype(str))
    common = patients & in_bor
    if not common:
        raise ReportInputError(f"{where}: no patient in common with {responses} ({len(in_bor)} "
                               f"patient(s) in the BOR, {len(patients)} in the responses, e.g. "
                               f"{min(in_bor)!r} and {min(patients)!r}): it is from another "
                               f"study; give the BOR.csv that `response-tool assess --bor` wrote "
                               "with these responses")
    for missing, here, there in ((patients - in_bor, "the responses", "the BOR"),
                                 (in_bor - patients, "the BOR", "the responses")):
        if missing:
            notes.append(f"{len(missing)} patient(s) of {here} are not in {there}: the BOR "
                         "and the responses may be from different runs of `response-tool "
                         "assess`.")


def _read(source: str | Path | pd.DataFrame, what: str, needed: tuple[str, ...]) -> pd.DataFrame:
    return read_table(source, what, needed, ReportInputError)


def _numbers(frame: pd.DataFrame, column: str, where: str, integer01: bool = False) -> pd.Series:
    values = pd.to_numeric(frame[column].replace("", np.nan), errors="coerce")
    bad = values.isna() & frame[column].astype(str).ne("")
    if integer01:
        bad |= values.notna() & ~values.isin([0, 1])
    else:
        bad |= values < 0
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        rule = "0 or 1" if integer01 else "a number >= 0"
        raise ReportInputError(f"{where}, line {i + 2}: {column} = {frame[column].iloc[i]!r}; "
                               f"give {rule} ({int(bad.sum())} such row(s))")
    return values


def read_clinical(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    """The clinical table: ``patient_id`` and at least one complete pair of
    ``os_months, os_event`` / ``pfs_months, pfs_event`` (event 1 = died / progressed, 0 = censored)."""
    return clinical_parts(source)[0]


def clinical_parts(source: str | Path | pd.DataFrame) -> tuple[pd.DataFrame,
                                                                 pd.DataFrame | None]:
    """The clinical table (:func:`read_clinical`) and its other columns — ``patient_id`` and
    each further column as stripped text, empty cells missing — or None when it has none."""
    frame = _read(source, "clinical CSV (patient_id, os_months, os_event, pfs_months, pfs_event)",
                  ("patient_id",))
    where = "clinical CSV" if isinstance(source, pd.DataFrame) else str(source)
    pairs = [e for e in ENDPOINTS if {f"{e}_months", f"{e}_event"} <= set(frame.columns)]
    if not pairs:
        raise ReportInputError(f"{where}: no time-to-event columns; give os_months + os_event "
                               "and/or pfs_months + pfs_event (docs/report.md)")
    out = pd.DataFrame({"patient_id": frame["patient_id"].astype(str).str.strip()})
    for e in pairs:
        out[f"{e}_months"] = _numbers(frame, f"{e}_months", where)
        out[f"{e}_event"] = _numbers(frame, f"{e}_event", where, integer01=True)
    dup = out["patient_id"].duplicated()
    if dup.any():
        raise ReportInputError(f"{where}: patient {out['patient_id'][dup].iloc[0]} is listed more "
                               "than once; give one row per patient")
    used = {"patient_id", *(f"{e}_{x}" for e in ENDPOINTS for x in ("months", "event"))}
    others = [c for c in frame.columns if c not in used]
    if not others:
        return out, None
    covariates = pd.DataFrame({"patient_id": out["patient_id"]})
    for c in others:
        covariates[str(c)] = frame[c].astype("string").str.strip().replace("", pd.NA)
    return out, covariates


def _category(label: Any) -> str:
    text = str(label).strip() if label is not None else ""
    text = AS_CATEGORY.get(text, text)
    return text if text in CATEGORIES else NOT_EVALUABLE


def _is_baseline(tp: pd.DataFrame) -> pd.Series:
    return tp["is_baseline"].astype(str).str.lower().isin(("true", "1"))


def _choose_reader(tp: pd.DataFrame, reader: str | None, notes: list[str]) -> str:
    readers = sorted(set(tp["reader_id"]))
    if reader is not None:
        if reader not in readers:
            raise ReportInputError(f"reader {reader!r} not in the responses (readers: "
                                   f"{', '.join(readers)})")
        return reader
    if len(readers) == 1:
        return readers[0]
    chosen = ADJUDICATOR if ADJUDICATOR in readers else readers[0]
    notes.append(f"The responses hold {len(readers)} readers ({', '.join(readers)}); the tables "
                 f"and figures use reader {chosen}"
                 + (" (the adjudicated read)" if chosen == ADJUDICATOR else
                    " (no adjudicated read ADJ; choose another with --reader)")
                 + ". Inter-reader agreement is in its own section.")
    return chosen


def _timepoints(tp: pd.DataFrame) -> pd.DataFrame:
    tp = tp.copy()
    tp["date"] = pd.to_datetime(tp["timepoint_date"], errors="coerce")
    base = tp[_is_baseline(tp)]
    start = base.groupby(["patient_id", "criterion"])["date"].min()
    tp = tp.join(start.rename("start"), on=["patient_id", "criterion"])
    tp["weeks"] = (tp["date"] - tp["start"]).dt.days / 7.0
    tp["pct"] = pd.to_numeric(tp["pct_change_from_baseline"], errors="coerce")
    tp.loc[_is_baseline(tp), "pct"] = 0.0
    return tp


def _best(tp: pd.DataFrame, bor: pd.DataFrame | None, followup: int, confirmed: bool,
          reader: str) -> tuple[pd.DataFrame, str]:
    follow = tp[~_is_baseline(tp)]
    best_pct = follow.groupby(["patient_id", "criterion"])["pct"].min().rename("best_pct")
    if bor is not None:
        col = "confirmed_best_overall_response" if confirmed else "best_overall_response"
        b = bor[bor["reader_id"] == reader]
        out = pd.DataFrame({"patient_id": b["patient_id"], "criterion": b["criterion"],
                            "category": b[col].map(_category)})
        basis = ("confirmed " if confirmed else "unconfirmed ") + "best overall response"
    else:
        follow = follow.sort_values("date")
        follow = follow.assign(k=follow.groupby(["patient_id", "criterion"]).cumcount() + 1)
        at = follow[follow["k"] == followup]
        if at.empty:
            raise ReportInputError(f"no patient has a follow-up {followup}; choose --followup "
                                   "within the responses or give --bor")
        out = pd.DataFrame({"patient_id": at["patient_id"], "criterion": at["criterion"],
                            "category": at["overall_response"].map(_category)})
        basis = f"overall response at follow-up {followup}"
    out = out.join(best_pct, on=["patient_id", "criterion"])
    return out.reset_index(drop=True), basis


def _baseline_htb(tp: pd.DataFrame) -> pd.Series | None:
    if "htb_category" not in tp.columns:
        return None
    base = tp[_is_baseline(tp) & tp["htb_category"].astype(str).ne("")]
    if base.empty:
        return None
    return base.groupby("patient_id")["htb_category"].first()


def htb_order(labels: list[str]) -> list[str]:
    """HTB category labels in increasing order of burden ("<25 %" before "25-50 %" before …)."""
    def key(label: str) -> float:
        digits = "".join(ch if ch.isdigit() or ch == "." else " " for ch in label).split()
        first = float(digits[0]) if digits else math.inf
        return first - 0.5 if label.strip().startswith("<") else first

    return sorted(labels, key=key)
