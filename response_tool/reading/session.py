"""The reading session behind the Reading panel: lesions, diameters and live responses.

No Qt here: the panel is a thin view over :class:`ReadingSession`, and tests drive the session
directly or through the panel. Every edit goes to the :class:`~response_tool.reading.store.ReadStore` at
once (one transaction), then the responses are recomputed with the engine — the same
:func:`~response_tool.assessment.assess` that ``response-tool assess`` runs on the exported CSV.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from response_tool import geometry
from response_tool.assessment import (
    TIMEPOINT_COLUMNS,
    AssessmentResult,
    Protocol,
    best_responses,
    timepoint_responses,
    with_burden,
)
from response_tool.criteria.baseline import WARNING_COLUMNS, baseline_warnings
from response_tool.domain.errors import ResponseToolError
from response_tool.io.measurements_csv import validate
from response_tool.reading.store import ReadKey, ReadStore

KINDS = ("long", "short", "viable")
#: the baseline columns the baseline checks read (their cache key)
_BASELINE_KEYS = ("lesion_id", "role", "organ", "is_nodal", "long_axis_mm", "short_axis_mm",
                  "viable_long_axis_mm", "override_reason")
_FIELD = {"long": "long_axis_mm", "short": "short_axis_mm", "viable": "viable_long_axis_mm"}
_ENDPOINTS = {"long": "long_endpoints", "short": "short_endpoints", "viable": "viable_endpoints"}
ORGANS = ("liver", "lymph node", "porta hepatis", "lung", "peritoneum", "bone", "adrenal",
          "pancreas", "spleen", "pleural effusion", "ascites", "other")


@dataclass
class LineRecord:
    """Where a diameter was drawn: endpoints in patient mm (z, y, x) and on which series."""

    endpoints_mm: list[list[float]]
    series_uid: str | None = None
    phase: str | None = None
    slice_index: int | None = None


@dataclass
class LesionRow:
    """What the lesion table shows for one lesion at the current time point."""

    lesion_id: str
    role: str
    organ: str
    is_nodal: bool
    baseline: str
    previous: str
    current: str
    state: str


@dataclass
class ReadingSession:
    store: ReadStore
    key: ReadKey
    dates: list[str]                      # time points, baseline first
    current: str = ""
    warnings: list[str] = field(default_factory=list)
    last_update_ms: float = 0.0
    problem: str = ""
    protocol: Protocol = field(default_factory=Protocol)
    _frame: pd.DataFrame | None = field(default=None, repr=False)
    _timepoints: pd.DataFrame | None = field(default=None, repr=False)
    _result: AssessmentResult | None = field(default=None, repr=False)
    _baseline_cache: tuple[str, pd.DataFrame, list[str]] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.dates:
            raise ResponseToolError("a read needs at least one time point (the baseline)")
        self.dates = sorted(self.dates)
        for date in self.dates:
            if date not in {t["date"] for t in self.store.timepoints(self.key)}:
                self.store.add_timepoint(self.key, date)
        self.current = self.current or self.dates[0]
        self.refresh()

    # -- time points ------------------------------------------------------------------------
    @property
    def baseline(self) -> str:
        return self.dates[0]

    def go_to(self, date: str) -> None:
        if date not in self.dates:
            raise ResponseToolError(f"{date} is not a time point of this read")
        self.current = date
        self.refresh()

    def step(self, delta: int) -> str:
        i = min(max(self.dates.index(self.current) + delta, 0), len(self.dates) - 1)
        self.go_to(self.dates[i])
        return self.current

    # -- lesions ----------------------------------------------------------------------------
    def lesions(self) -> list[dict[str, Any]]:
        return self.store.lesions(self.key)

    def lesion(self, lesion_id: str) -> dict[str, Any]:
        for les in self.lesions():
            if les["lesion_id"] == lesion_id:
                return les
        raise ResponseToolError(f"no lesion {lesion_id} in this read")

    def new_lesion(self, role: str, organ: str, is_nodal: bool = False) -> str:
        """Targets and non-targets are defined at baseline; new lesions only at follow-ups."""
        if role in ("target", "non-target") and self.current != self.baseline:
            raise ResponseToolError(f"{role} lesions are chosen at the baseline; at a follow-up "
                                    "add a new lesion")
        if role == "new" and self.current == self.baseline:
            raise ResponseToolError("a new lesion appears after the baseline; at the baseline add a "
                                    "target or non-target")
        lesion_id = self.store.add_lesion(self.key, role, organ, is_nodal)
        if role != "target":  # seen now; a size may follow
            self.store.set_measurement(self.key, lesion_id, self.current, status="present")
        self.refresh()
        return lesion_id

    def delete_lesion(self, lesion_id: str) -> None:
        self.store.delete_lesion(self.key, lesion_id)
        self.refresh()

    # -- measurements -----------------------------------------------------------------------
    def measurement(self, lesion_id: str, date: str | None = None) -> dict[str, Any] | None:
        date = date or self.current
        for m in self.store.measurements(self.key):
            if m["lesion_id"] == lesion_id and m["date"] == date:
                return m
        return None

    def record_line(self, lesion_id: str, kind: str, line: LineRecord) -> float:
        """Store a drawn diameter (``kind`` long / short / viable) and return its length in mm.

        Endpoints are patient millimetres, so the length is the Euclidean distance; callers that
        hold layer data coordinates convert with :func:`response_tool.geometry.to_world_mm`."""
        if kind not in KINDS:
            raise ResponseToolError(f"diameter kind {kind!r}: use one of {', '.join(KINDS)}")
        les = self.lesion(lesion_id)
        pts = np.asarray(line.endpoints_mm, dtype=float)
        length = round(geometry.length_mm(pts[0], pts[1]), 2)
        fields: dict[str, Any] = {_FIELD[kind]: length, _ENDPOINTS[kind]: pts.tolist(),
                                  "status": "measured"}
        if kind == "viable":
            fields["viable_series_uid"] = line.series_uid
            fields["viable_phase"] = line.phase
        else:
            fields.update(series_uid=line.series_uid, phase=line.phase, slice_index=line.slice_index)
        if les["role"] == "non-target":
            fields["status"] = "present"
        self.store.set_measurement(self.key, lesion_id, self.current, **fields)
        self.refresh()
        return length

    def record_point(self, lesion_id: str, point_mm: list[float], series_uid: str | None = None,
                     phase: str | None = None, slice_index: int | None = None) -> None:
        """Where a non-target or new lesion is (one click, patient mm); it is then present unless
        the reader already gave a status."""
        les = self.lesion(lesion_id)
        if les["role"] == "target":
            raise ResponseToolError(f"{lesion_id} is a target: measure it with a line")
        m = self.measurement(lesion_id)
        fields: dict[str, Any] = {"mark_point": [float(v) for v in point_mm],
                                  "series_uid": series_uid, "phase": phase,
                                  "slice_index": slice_index}
        if m is None:
            fields["status"] = "present"
        self.store.set_measurement(self.key, lesion_id, self.current, **fields)
        self.refresh()

    def clear_point(self, lesion_id: str, date: str | None = None) -> None:
        if self.measurement(lesion_id, date or self.current) is not None:
            self.store.set_measurement(self.key, lesion_id, date or self.current, mark_point=None)
        self.refresh()

    def clear_diameter(self, lesion_id: str, kind: str, date: str | None = None) -> None:
        """The reader deleted a line: forget that diameter (and the measurement if nothing of it
        is left, so the lesion is "not yet measured" again)."""
        date = date or self.current
        m = self.measurement(lesion_id, date)
        if m is None:
            return
        self.store.set_measurement(self.key, lesion_id, date, **{_FIELD[kind]: None,
                                                                  _ENDPOINTS[kind]: None})
        left = [m[_FIELD[k]] for k in KINDS if k != kind]
        if m["status"] == "measured" and all(v is None for v in left):
            self.store.clear_measurement(self.key, lesion_id, date)
        self.refresh()

    def no_enhancement(self, lesion_id: str) -> None:
        """mRECIST: the lesion shows no arterial enhancement (viable diameter 0 mm)."""
        self.store.set_measurement(self.key, lesion_id, self.current, viable_long_axis_mm=0.0,
                                   viable_endpoints=None)
        self.refresh()

    def set_status(self, lesion_id: str, status: str) -> None:
        """too-small, absent (disappeared), not-evaluated, progression, equivocal, present."""
        fields: dict[str, Any] = {"status": status}
        if status == "absent":
            fields.update(long_axis_mm=0.0, short_axis_mm=0.0, viable_long_axis_mm=0.0)
        self.store.set_measurement(self.key, lesion_id, self.current, **fields)
        self.refresh()

    # -- what the panel shows ---------------------------------------------------------------
    def _value_text(self, les: dict[str, Any], m: dict[str, Any] | None) -> str:
        if m is None:
            return ""
        if m["status"] != "measured":
            return m["status"]
        main = m["short_axis_mm"] if les["is_nodal"] else m["long_axis_mm"]
        text = "—" if main is None else f"{main:.1f}"
        if m["viable_long_axis_mm"] is not None and not les["is_nodal"]:
            text += f" / v {m['viable_long_axis_mm']:.1f}"
        return text

    def rows(self) -> list[LesionRow]:
        """Every lesion at the current time point, with its baseline and previous values."""
        i = self.dates.index(self.current)
        previous = self.dates[i - 1] if i > 0 else None
        by = {(m["lesion_id"], m["date"]): m for m in self.store.measurements(self.key)}
        out = []
        for les in self.lesions():
            lid = les["lesion_id"]
            m = by.get((lid, self.current))
            state = "not yet measured" if m is None else m["status"]
            if les["role"] == "new" and m is None and self.current < min(
                    (d for (x, d) in by if x == lid), default=self.current):
                state = "not yet seen"
            out.append(LesionRow(lid, les["role"], les["organ"], les["is_nodal"],
                                 self._value_text(les, by.get((lid, self.baseline))),
                                 self._value_text(les, by.get((lid, previous))) if previous else "",
                                 self._value_text(les, m), state))
        return out

    def refresh(self) -> None:
        """Recompute responses and warnings from the store (timed: the panel's live update).

        What the panel shows is recomputed at once: the time-point responses of both criteria.
        The baseline checks are recomputed only when the baseline rows changed, and the best
        overall response only when asked for (:attr:`result`, e.g. on export)."""
        t0 = time.perf_counter()
        self.problem = ""
        self._result = None
        self._frame = None
        self._timepoints = None
        frame = self.store.measurements_frame([self.key])
        measured = set(frame.loc[frame["timepoint_date"] == self.baseline, "lesion_id"])
        lesions = self.lesions()
        waiting = [les["lesion_id"] for les in lesions
                   if les["role"] == "target" and les["lesion_id"] not in measured]
        if frame.empty:
            self.problem = "no lesions yet: add targets at the baseline"
        elif waiting:
            self.problem = f"waiting for the baseline diameter of {', '.join(waiting)}"
        else:
            try:
                self._frame = validate(frame, "read")
                self._timepoints = timepoint_responses(self._frame, self.protocol)
            except ResponseToolError as exc:
                self.problem = _first_problem(str(exc))
                self._frame = None
        self.warnings = self._warnings(frame, {les["lesion_id"]: les for les in lesions})
        self.last_update_ms = (time.perf_counter() - t0) * 1000.0

    @property
    def result(self) -> AssessmentResult | None:
        """The full assessment (time points, best overall response, baseline checks)."""
        if self._frame is None or self._timepoints is None:
            return None
        if self._result is None:
            self._result = AssessmentResult(
                with_burden(self._timepoints, None)[list(TIMEPOINT_COLUMNS)],
                best_responses(self._timepoints, self.protocol), self.protocol,
                self._baseline_warnings())
        return self._result

    def _baseline_warnings(self) -> pd.DataFrame:
        if self._frame is None:
            return pd.DataFrame(columns=list(WARNING_COLUMNS))
        self._baseline_checks()
        assert self._baseline_cache is not None
        return self._baseline_cache[1]

    def _baseline_checks(self) -> list[str]:
        """The baseline checks as text, recomputed only when a baseline row changed."""
        if self._frame is None:
            return []
        base = self._frame["_baseline"].to_numpy(dtype=bool)
        key = repr(self._frame.loc[base, list(_BASELINE_KEYS)].to_numpy().tolist())
        if self._baseline_cache is None or self._baseline_cache[0] != key:
            found = baseline_warnings(self._frame, self.protocol.criteria)
            text = [f"{w['lesion_id']}: {w['message']} [{w['check_id']}]"
                    for w in found.to_dict("records")]
            self._baseline_cache = (key, found, text)
        return self._baseline_cache[2]

    def _warnings(self, frame: pd.DataFrame, lesions: dict[str, dict[str, Any]]) -> list[str]:
        out = list(self._baseline_checks())
        for m in self.store.measurements(self.key):
            les = lesions[m["lesion_id"]]
            if m["long_endpoints"] and m["short_endpoints"]:
                a, b = np.asarray(m["long_endpoints"]), np.asarray(m["short_endpoints"])
                if not geometry.is_perpendicular(a, b):
                    out.append(f"{m['lesion_id']} ({m['date']}): short axis not perpendicular to "
                               f"the long axis ({geometry.angle_deg(a, b):.0f}°, tolerance "
                               f"{geometry.PERPENDICULAR_TOLERANCE_DEG:.0f}°)")
            if m["viable_endpoints"] and (m["viable_phase"] or "") != "arterial":
                out.append(f"{m['lesion_id']} ({m['date']}): viable diameter drawn on a "
                           f"{m['viable_phase'] or 'unknown'}-phase series; mRECIST measures it on "
                           "the arterial phase")
            if les["role"] == "target" and les["is_nodal"] and m["status"] == "measured" \
                    and m["short_axis_mm"] is None:
                out.append(f"{m['lesion_id']} ({m['date']}): a nodal target is measured by its "
                           "short axis; draw it")
        return out

    def responses(self, date: str | None = None) -> dict[str, dict[str, Any]]:
        """Per criterion, the current time point's row of the engine's output."""
        if self._timepoints is None:
            return {}
        d = np.datetime64(date or self.current)
        tp = self._timepoints
        out = {}
        for rec in tp[tp["timepoint_date"].to_numpy() == d].to_dict("records"):
            out[str(rec["criterion"])] = rec
        return out


def _first_problem(message: str) -> str:
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    return lines[1] if len(lines) > 1 else (lines[0] if lines else message)


def today() -> str:
    return dt.date.today().isoformat()
