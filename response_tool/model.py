"""Domain model of a read: patient → read (one reader) → time points → lesions → measurements.

Frozen dataclasses validated on construction, units in the names. The plugin builds these; the
engine works on the long table :meth:`Read.to_frame` makes of them (the same columns as the
measurements CSV), so the object path and the CSV path share one engine.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import pandas as pd

from response_tool.io.measurements_csv import ROLES, SCHEMA, STATUSES

LesionRole = str  # "target" | "non-target" | "new"


def _check_mm(name: str, value: float | None, where: str) -> None:
    if value is None:
        return
    if not isinstance(value, (int, float)) or math.isnan(value) or math.isinf(value) or value < 0:
        raise ValueError(f"{where}: {name} must be a finite number of millimetres >= 0, got {value!r}")


@dataclass(frozen=True)
class Measurement:
    """One lesion at one time point."""

    status: str = "measured"
    long_axis_mm: float | None = None
    short_axis_mm: float | None = None
    viable_long_axis_mm: float | None = None
    series_uid: str | None = None
    phase: str | None = None
    slice_index: int | None = None
    endpoints_xyz_mm: tuple[tuple[float, float, float], tuple[float, float, float]] | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {', '.join(STATUSES)}")
        for name in ("long_axis_mm", "short_axis_mm", "viable_long_axis_mm"):
            _check_mm(name, getattr(self, name), "measurement")


@dataclass(frozen=True)
class Lesion:
    """A lesion followed across time points (stable id)."""

    lesion_id: str
    role: LesionRole
    organ: str
    is_nodal: bool = False

    def __post_init__(self) -> None:
        if not self.lesion_id.strip():
            raise ValueError("lesion_id must not be empty")
        if self.role not in ROLES:
            raise ValueError(f"lesion {self.lesion_id}: role {self.role!r} is not one of "
                             f"{', '.join(ROLES)}")


@dataclass(frozen=True)
class TimePoint:
    """One imaging time point with the measurements of each lesion (by lesion id)."""

    date: dt.date
    measurements: dict[str, Measurement] = field(default_factory=dict)
    study_uid: str | None = None


@dataclass(frozen=True)
class Read:
    """One reader's assessment of one patient."""

    patient_id: str
    reader_id: str
    lesions: tuple[Lesion, ...]
    timepoints: tuple[TimePoint, ...]

    def __post_init__(self) -> None:
        ids = [les.lesion_id for les in self.lesions]
        if len(ids) != len(set(ids)):
            raise ValueError(f"read {self.patient_id}/{self.reader_id}: duplicated lesion ids")
        dates = [tp.date for tp in self.timepoints]
        if len(dates) != len(set(dates)):
            raise ValueError(f"read {self.patient_id}/{self.reader_id}: two time points on one date")
        known = set(ids)
        for tp in self.timepoints:
            unknown = set(tp.measurements) - known
            if unknown:
                raise ValueError(f"time point {tp.date}: measurements of unknown lesions "
                                 f"{', '.join(sorted(unknown))}")

    def to_frame(self) -> pd.DataFrame:
        """The read as rows of the measurements CSV schema."""
        by_id = {les.lesion_id: les for les in self.lesions}
        rows = []
        for tp in sorted(self.timepoints, key=lambda t: t.date):
            for lesion_id, m in tp.measurements.items():
                les = by_id[lesion_id]
                rows.append({
                    "patient_id": self.patient_id, "reader_id": self.reader_id,
                    "timepoint_date": tp.date.isoformat(), "lesion_id": lesion_id,
                    "role": les.role, "organ": les.organ,
                    "is_nodal": "true" if les.is_nodal else "false",
                    "long_axis_mm": m.long_axis_mm, "short_axis_mm": m.short_axis_mm,
                    "viable_long_axis_mm": m.viable_long_axis_mm, "status": m.status,
                    "study_uid": tp.study_uid, "series_uid": m.series_uid, "phase": m.phase,
                    "slice_index": m.slice_index,
                })
        columns = [c.name for c in SCHEMA if c.required or c.name.endswith("_mm")]
        frame = pd.DataFrame(rows, columns=list(dict.fromkeys(
            columns + ["study_uid", "series_uid", "phase", "slice_index"])))
        return frame.astype(object).where(frame.notna(), "")
