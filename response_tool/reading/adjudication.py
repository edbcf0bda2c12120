"""Comparing the blinded reads of one patient, for adjudication.

:func:`compare` puts the readers' lesions and responses side by side and flags what differs; the
adjudicated read is then an ordinary read by the reader :data:`ADJUDICATOR` (``ADJ``), started
from one reader's read (:meth:`ReadStore.copy_read`) and corrected lesion by lesion
(:meth:`ReadStore.copy_measurement`, or by drawing), saved in the same store.

A diameter *differs* when two readers' values are more than :data:`DIFF_MM` apart **and** more
than :data:`DIFF_PCT` % of their mean (both, so that neither a 1 mm wobble on a 8 mm node nor a
4 mm difference on a 90 mm mass is flagged); a status, a missing lesion or a different response
always differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from response_tool.assessment import AssessmentOptions, timepoint_responses
from response_tool.domain.errors import ResponseToolError
from response_tool.domain.measurements import validate
from response_tool.domain.model import Measurement
from response_tool.domain.vocabulary import ADJUDICATOR, Status
from response_tool.reading.store import ReadKey, ReadStore

DIFF_MM = 2.0
DIFF_PCT = 10.0


@dataclass
class Comparison:
    """The readers' reads of one patient side by side."""

    patient_id: str
    readers: list[str]
    #: one row per (date, lesion_id): ``role``, then per reader the value text and the number
    lesions: pd.DataFrame
    #: one row per (date, criterion): per reader the overall response, and ``differs``
    responses: pd.DataFrame
    problems: dict[str, str] = field(default_factory=dict)   # reader → why no responses

    def differing(self) -> pd.DataFrame:
        return self.lesions[self.lesions["differs"]]


def _value(m: Measurement | None, is_nodal: bool) -> tuple[str, float | None, float | None]:
    """Text, main diameter and viable diameter of one measurement."""
    if m is None:
        return ("—", None, None)
    if m.status != Status.MEASURED:
        return (str(m.status), None, None)
    main = m.main_diameter_mm(is_nodal)
    viable = None if is_nodal else m.viable_long_axis_mm
    text = "" if main is None else f"{main:.1f}"
    if viable is not None:
        text += f" / v {viable:.1f}"
    return (text or "measured", main, viable)


def _apart(values: list[float | None]) -> bool:
    known = [v for v in values if v is not None]
    if len(known) != len(values):
        return len(known) > 0  # measured by some, not by others
    if not known:
        return False
    lo, hi = min(known), max(known)
    mean = (lo + hi) / 2
    return hi - lo > DIFF_MM and (mean == 0 or (hi - lo) / mean * 100 > DIFF_PCT)


def compare(store: ReadStore, patient_id: str, readers: list[str] | None = None,
            protocol: AssessmentOptions | None = None) -> Comparison:
    """Every reader's lesions and responses of ``patient_id`` (default: all readers but ADJ)."""
    protocol = protocol or AssessmentOptions()
    available = store.readers(patient_id)
    chosen = readers or [r for r in available if r != ADJUDICATOR]
    missing = [r for r in chosen if r not in available]
    if missing:
        raise ResponseToolError(f"no read of patient {patient_id} by {', '.join(missing)} in "
                                f"{store.path}")
    if len(chosen) < 2:
        raise ResponseToolError(f"patient {patient_id} has {len(chosen)} read(s) "
                                f"({', '.join(chosen) or 'none'}) to compare; adjudication needs "
                                "at least two readers")
    keys = [ReadKey(patient_id, r) for r in chosen]
    reads = {k.reader_id: store.load(k) for k in keys}
    lesions = {r: {les.lesion_id: les for les in read.lesions} for r, read in reads.items()}
    meas = {r: {(m.lesion_id, m.date): m for m in read.measurements} for r, read in reads.items()}
    dates = sorted({t.date for read in reads.values() for t in read.timepoints})
    ids: list[str] = []
    for r in chosen:
        ids += [i for i in lesions[r] if i not in ids]
    rows = []
    for date in dates:
        for lid in ids:
            row: dict[str, Any] = {"date": date, "lesion_id": lid}
            role = next((str(lesions[r][lid].role) for r in chosen if lid in lesions[r]), "")
            row["role"] = role
            texts, mains, viables = [], [], []
            for r in chosen:
                les = lesions[r].get(lid)
                if les is None:
                    text, main, viable = ("not in this read", None, None)
                else:
                    text, main, viable = _value(meas[r].get((lid, date)), les.is_nodal)
                row[r] = text
                row[f"{r}_mm"] = main
                texts.append("" if main is not None else text)
                mains.append(main)
                viables.append(viable)
            if all(t == "—" for t in texts) and all(m is None for m in mains):
                continue  # nobody has this lesion at this date (e.g. a new lesion before it)
            row["differs"] = bool(len(set(texts)) > 1 or _apart(mains) or _apart(viables))
            rows.append(row)
    lesion_frame = pd.DataFrame(rows, columns=["date", "lesion_id", "role", *chosen,
                                               *[f"{r}_mm" for r in chosen], "differs"])
    responses, problems = _responses(store, keys, protocol)
    return Comparison(patient_id, chosen, lesion_frame, responses, problems)


def _responses(store: ReadStore, keys: list[ReadKey],
               protocol: AssessmentOptions) -> tuple[pd.DataFrame, dict[str, str]]:
    parts, problems = [], {}
    for key in keys:
        frame = store.measurements_frame([key])
        if frame.empty:
            problems[key.reader_id] = "no measurements yet"
            continue
        try:
            tp = timepoint_responses(validate(frame, f"read by {key.reader_id}"), protocol)
        except ResponseToolError as exc:
            lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
            problems[key.reader_id] = lines[1] if len(lines) > 1 else lines[0]
            continue
        tp = tp[~tp["is_baseline"].to_numpy(dtype=bool)]
        parts.append(pd.DataFrame({
            "date": pd.to_datetime(tp["timepoint_date"]).dt.strftime("%Y-%m-%d").to_numpy(),
            "criterion": tp["criterion"].astype(str).to_numpy(),
            "reader": key.reader_id, "response": tp["overall_response"].astype(str).to_numpy(),
            "sum_mm": tp["sum_mm"].to_numpy(dtype=float)}))
    readers = [k.reader_id for k in keys]
    if not parts:
        return pd.DataFrame(columns=["date", "criterion", *readers, "differs"]), problems
    long = pd.concat(parts, ignore_index=True)
    wide = long.pivot_table(index=["date", "criterion"], columns="reader", values="response",
                            aggfunc="first").reindex(columns=readers)
    wide = wide.reset_index()
    values = wide[readers].to_numpy(dtype=object)
    wide["differs"] = [len({str(v) for v in row}) > 1 for row in values]
    wide.columns.name = None
    return wide, problems


def start_adjudication(store: ReadStore, patient_id: str, from_reader: str) -> ReadKey:
    """The ADJ read of ``patient_id``, started as a copy of ``from_reader``'s read (replacing an
    earlier ADJ read of that patient)."""
    source = ReadKey(patient_id, from_reader)
    if from_reader not in store.readers(patient_id):
        raise ResponseToolError(f"no read of patient {patient_id} by {from_reader}")
    if from_reader == ADJUDICATOR:
        raise ResponseToolError("start the adjudicated read from one of the readers")
    target = ReadKey(patient_id, ADJUDICATOR)
    store.copy_read(source, target)
    return target


def take_value(store: ReadStore, patient_id: str, from_reader: str, lesion_id: str,
               date: str) -> None:
    """Put ``from_reader``'s measurement of ``lesion_id`` at ``date`` into the ADJ read."""
    store.copy_measurement(ReadKey(patient_id, from_reader), ReadKey(patient_id, ADJUDICATOR),
                           lesion_id, date)


def agreement_counts(comparison: Comparison) -> dict[str, int]:
    """How many lesion values and responses differ (for the panel's summary line)."""
    return {"lesion_values": int(comparison.lesions["differs"].sum()),
            "lesion_rows": len(comparison.lesions),
            "responses": int(np.asarray(comparison.responses.get("differs", []), bool).sum()),
            "response_rows": len(comparison.responses)}


__all__ = ["ADJUDICATOR", "Comparison", "DIFF_MM", "DIFF_PCT", "agreement_counts", "compare",
           "start_adjudication", "take_value"]
