"""``assess(...)``: RECIST 1.1 and mRECIST per time point and best overall response.

The Python API mirrors ``response-tool assess``: measurements (a CSV path, a DataFrame in the CSV
schema, a :class:`~response_tool.model.Read` or several) in; an :class:`AssessmentResult` with a
time-point table, a best-response table, a summary and ``to_csv`` out.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from response_tool._atomic import atomic_write
from response_tool.criteria import best_response as bor
from response_tool.criteria.baseline import WARNING_COLUMNS, baseline_warnings
from response_tool.criteria.engine import CRITERIA, KEYS, EngineOptions, assess_timepoints
from response_tool.errors import ProtocolOptionError
from response_tool.io.measurements_csv import read_measurements, validate
from response_tool.model import Read

#: Columns of RESPONSES.csv, in order.
TIMEPOINT_COLUMNS = (
    "patient_id", "reader_id", "criterion", "timepoint_date", "is_baseline", "n_targets",
    "sum_mm", "baseline_sum_mm", "nadir_sum_mm", "pct_change_from_baseline",
    "pct_change_from_nadir", "abs_change_from_nadir_mm", "targets_not_evaluated",
    "target_response", "target_rule_id", "n_non_targets", "non_target_response",
    "non_target_rule_id", "new_lesions", "new_lesions_rule_id", "new_lesion_first_seen",
    "overall_response", "rule_id", "rule_source",
)
#: Columns of BOR.csv, in order.
BOR_COLUMNS = (
    "patient_id", "reader_id", "criterion", "baseline_date", "n_followups",
    "best_overall_response", "best_overall_response_date", "bor_rule_id", "bor_rule_source",
    "confirmed_best_overall_response", "confirmed_bor_date", "confirmed_bor_rule_id",
    "confirmed_bor_rule_source", "confirm_weeks", "sd_min_weeks", "ne_tolerated",
)


@dataclass(frozen=True)
class Protocol:
    """Protocol choices the papers leave open, as explicit options.

    Parameters
    ----------
    criteria
        Which criteria to assess: ``recist1.1`` and/or ``mrecist``.
    confirm_weeks
        Minimum interval (weeks) between a CR/PR and the assessment confirming it. RECIST 1.1
        section 4.4.2: "no less than 4 weeks". Default 4.
    sd_min_weeks
        Minimum time (weeks) from baseline for SD to count as best response. RECIST 1.1 leaves it
        to the protocol ("in general, 6–8 weeks"). Default 6.
    ne_tolerated
        How many NE assessments may sit between a response and its confirmation. Default 1.
    too_small_mm
        Value of a target "too small to measure". RECIST 1.1 Appendix II: 5 mm. Default 5.
    mrecist_pd_min_mm
        Absolute increase over the nadir also required for mRECIST target PD. The 2010 paper has
        none: default 0; 5 applies RECIST 1.1's floor.
    """

    criteria: tuple[str, ...] = ("recist1.1", "mrecist")
    confirm_weeks: float = 4.0
    sd_min_weeks: float = 6.0
    ne_tolerated: int = 1
    too_small_mm: float = 5.0
    mrecist_pd_min_mm: float = 0.0

    def __post_init__(self) -> None:
        unknown = [c for c in self.criteria if c not in CRITERIA]
        if unknown or not self.criteria:
            raise ProtocolOptionError(f"criteria {', '.join(unknown) or '(none)'}: choose from "
                                      f"{', '.join(CRITERIA)}")
        for name in ("confirm_weeks", "sd_min_weeks", "too_small_mm", "mrecist_pd_min_mm"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < 0 or value != value:
                raise ProtocolOptionError(f"{name} must be a number >= 0, got {value!r}")
        if not isinstance(self.ne_tolerated, int) or self.ne_tolerated < 0:
            raise ProtocolOptionError(f"ne_tolerated must be a whole number >= 0, got "
                                      f"{self.ne_tolerated!r}")


@dataclass(frozen=True)
class AssessmentResult:
    """Time-point responses and best overall responses, with what produced them."""

    timepoints: pd.DataFrame
    best_response: pd.DataFrame
    protocol: Protocol
    warnings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=WARNING_COLUMNS))

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
                         f"[{w.check_id}]" for w in open_.head(10).itertuples())
        return "\n".join(lines)

    def to_csv(self, responses_path: str | os.PathLike[str],
               bor_path: str | os.PathLike[str] | None = None) -> None:
        """Write RESPONSES.csv (and BOR.csv). Each file appears whole or not at all."""
        with atomic_write(responses_path, newline="", encoding="utf-8") as fh:
            self.timepoints.to_csv(fh, index=False, float_format="%.4f")
        if bor_path is not None:
            with atomic_write(bor_path, newline="", encoding="utf-8") as fh:
                self.best_response.to_csv(fh, index=False)


def _counts(values: pd.Series) -> str:
    order = ["CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE"]
    counts = values.value_counts()
    return ", ".join(f"{k} {int(counts[k])}" for k in order if k in counts) or "none"


def _to_frame(measurements: object) -> pd.DataFrame:
    if isinstance(measurements, (str, os.PathLike)):
        return read_measurements(measurements)
    if isinstance(measurements, pd.DataFrame):
        return validate(measurements.astype(object).where(measurements.notna(), ""), "measurements")
    if isinstance(measurements, Read):
        measurements = [measurements]
    if isinstance(measurements, Iterable):
        reads = list(measurements)
        if reads and all(isinstance(r, Read) for r in reads):
            frame = pd.concat([r.to_frame() for r in reads], ignore_index=True)
            return validate(frame, "read")
    raise TypeError("assess() takes a CSV path, a DataFrame in the measurements schema, a Read or "
                    "a list of Reads")


def best_responses(timepoints: pd.DataFrame, protocol: Protocol) -> pd.DataFrame:
    """One row per patient × reader × criterion with the BOR without and with confirmation."""
    rows = []
    cols = ["timepoint_date", "overall_response", "is_baseline"]
    for (pid, rid, crit), g in timepoints.groupby(KEYS + ["criterion"], sort=False)[cols]:
        base_date = g["timepoint_date"].min()
        fu = g[~g["is_baseline"]]
        dates: Sequence[dt.date] = fu["timepoint_date"].tolist()
        responses = fu["overall_response"].tolist()
        b = bor.best_overall_response(dates, responses, base_date,
                                      sd_min_weeks=protocol.sd_min_weeks)
        c = bor.confirmed_best_overall_response(
            dates, responses, base_date, confirm_weeks=protocol.confirm_weeks,
            sd_min_weeks=protocol.sd_min_weeks, ne_tolerated=protocol.ne_tolerated)
        rows.append((pid, rid, crit, base_date, len(dates), b.response, b.date, b.rule_id,
                     b.rule_source, c.response, c.date, c.rule_id, c.rule_source,
                     protocol.confirm_weeks, protocol.sd_min_weeks, protocol.ne_tolerated))
    return pd.DataFrame(rows, columns=list(BOR_COLUMNS))


def assess(measurements: object, protocol: Protocol | None = None, **options: object
           ) -> AssessmentResult:
    """Assess every patient × reader in ``measurements`` under each criterion of ``protocol``.

    ``options`` are :class:`Protocol` fields, as a shortcut (``assess(path, confirm_weeks=8)``).
    """
    protocol = protocol or Protocol(**options)  # type: ignore[arg-type]
    frame = _to_frame(measurements)
    engine_options = EngineOptions(too_small_mm=protocol.too_small_mm,
                                   mrecist_pd_min_mm=protocol.mrecist_pd_min_mm)
    parts = [assess_timepoints(frame, c, engine_options) for c in protocol.criteria]
    tps = pd.concat(parts, ignore_index=True)[list(TIMEPOINT_COLUMNS)]
    tps = tps.sort_values(KEYS + ["criterion", "timepoint_date"], kind="stable",
                          ignore_index=True)
    return AssessmentResult(tps, best_responses(tps, protocol), protocol,
                            baseline_warnings(frame, protocol.criteria))


__all__ = ["AssessmentResult", "Protocol", "assess", "best_responses"]
