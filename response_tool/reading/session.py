"""The reading session behind the Reading panel: lesions, diameters and live responses.

No Qt here: the plugin's panels are views over :class:`ReadingSession`, and tests drive it
without napari. The session holds the read in memory as a domain
:class:`~response_tool.domain.model.Read`; every edit writes just the lesion or measurement that
changed to the :class:`~response_tool.reading.store.ReadStore` (one transaction), updates the
read in memory, and recomputes the responses with the engine from it — the same
:func:`~response_tool.assessment.timepoint_responses` that ``response-tool assess`` runs on the
exported CSV, with the read's own :class:`~response_tool.assessment.AssessmentOptions`.

The reading rules the session applies are the criteria's, each named by its rule id:
targets and non-targets are chosen at baseline and new lesions appear after it
(``RECIST1.1-ROLES-AT-BASELINE``), a target that disappeared measures 0 mm
(``RECIST1.1-ABSENT-0MM``), a baseline target needs its diameter before anything is assessed
(``RECIST1.1-BASELINE-MEASURED``), mRECIST's viable diameter is read on the arterial phase
(``MRECIST-VIABLE-ARTERIAL``) — see :mod:`response_tool.reading.rules`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from response_tool.assessment import (
    TIMEPOINT_COLUMNS,
    AssessmentOptions,
    AssessmentResult,
    assess,
    best_responses,
    timepoint_responses,
    with_burden,
)
from response_tool.criteria.baseline import (
    WARNING_COLUMNS,
    baseline_warnings,
    new_lesion_warnings,
)
from response_tool.domain.errors import ResponseToolError
from response_tool.domain.measurements import VOLUME_COLUMNS
from response_tool.domain.model import Lesion, Measurement, Read, TimePoint, iso_date
from response_tool.domain.vocabulary import DiameterKind, Organ, Role, Status

from . import rules
from ._history import Edit
from ._lesion_masks import KEEP, LesionSegmentation
from ._rows import measurement_params
from .events import (
    LesionsChanged,
    MeasurementChanged,
    ResponsesChanged,
    SessionEvents,
    TimePointChanged,
    read_changes,
)
from .lesion_table import LesionRow, lesion_rows
from .lines import KINDS, LineRecord, accepted, line_changes
from .propagation import Propagating
from .store import ReadKey, ReadStore, next_lesion_id

#: organs the panel offers (any text is allowed)
ORGANS = tuple(o.value for o in Organ)
#: the baseline columns the baseline checks read (their cache key)
_BASELINE_KEYS = ("lesion_id", "role", "organ", "is_nodal", "long_axis_mm", "short_axis_mm",
                  "viable_long_axis_mm", "override_reason")


def _state(m: Measurement | None) -> list[Any] | None:
    """A measurement as the undo history stores it (its row's values; None: no measurement)."""
    return None if m is None else list(measurement_params(m))


@dataclass
class ReadingSession(Propagating):
    store: ReadStore
    key: ReadKey
    dates: list[str]                      # time points, baseline first
    current: str = ""
    warnings: list[str] = field(default_factory=list)
    last_update_ms: float = 0.0
    problem: str = ""
    options: AssessmentOptions = field(default_factory=AssessmentOptions)
    read: Read = field(init=False, repr=False)
    #: the read's version this session loaded or wrote last: passed with every write, so a write
    #: to a read changed elsewhere (another window) is refused until :meth:`reload`
    version: int = field(default=0, init=False)
    _frame: pd.DataFrame | None = field(default=None, repr=False)
    _timepoints: pd.DataFrame | None = field(default=None, repr=False)
    _result: AssessmentResult | None = field(default=None, repr=False)
    _baseline_cache: tuple[str, pd.DataFrame, list[str]] | None = field(default=None, repr=False)
    #: what the session announces when it changes (:mod:`.events`): views subscribe to these
    events: SessionEvents = field(default_factory=SessionEvents, init=False, repr=False,
                                  compare=False)

    def __post_init__(self) -> None:
        if not self.dates:
            raise ResponseToolError("a read needs at least one time point (the baseline)")
        self.dates = sorted(iso_date(d) for d in self.dates)
        known = {t.date for t in self.store.timepoints(self.key)}
        for date in self.dates:
            if date not in known:
                self.store.add_timepoint(self.key, date)
        self.current = self.current or self.dates[0]
        self.reload()

    # -- the read ---------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the read from the store again (after a change made elsewhere, e.g. a value taken
        into the adjudicated read, or a write refused as another window changed it); recompute.
        Announced as ``reloaded`` (anything may have changed), then ``responses``."""
        self.read, self.version = self.store.load_versioned(self.key)
        self.events.reloaded.emit()
        self.refresh()

    def wrote_through_store(self) -> None:
        """After a write through this session's store (its own, or the Burden panel's): the read's
        version is the one written, so the next write is not refused as "changed elsewhere"."""
        known = self.store.known_version(self.key)
        if known is not None:
            self.version = known

    def _put(self, m: Measurement | None, lesion_id: str = "", date: str = "", *,
             label: str = "", join: bool = False, segmentation: Any = KEEP) -> None:
        """Save ``m`` (None: delete the measurement of ``lesion_id`` at ``date``, with its
        segmentation) and ``segmentation`` with its undo history row; update the read in
        memory."""
        lesion_id, date = (m.lesion_id, m.date) if m is not None else (lesion_id, date)
        before = self.read.measurement(lesion_id, date)
        edit = Edit(label or f"{lesion_id} at {date}", measurements=[[
            lesion_id, date, _state(before), _state(m)]], join=join)
        if m is None:
            self.store.clear_measurement(self.key, lesion_id, date, expect=self.version, edit=edit)
            self.wrote_through_store()
        else:
            self.version = self.store.save_measurement(self.key, m, expect=self.version,
                                                       edit=edit, segmentation=segmentation)
        kept = tuple(x for x in self.read.measurements
                     if (x.lesion_id, x.date) != (lesion_id, date))
        timepoints = self.read.timepoints
        if date not in {t.date for t in timepoints}:
            timepoints = (*timepoints, TimePoint(date))
        self.read = replace(self.read, timepoints=timepoints,
                            measurements=kept + (() if m is None else (m,)))
        if before != m:
            self.events.measurement.emit(MeasurementChanged(lesion_id, date, before, m))

    def _change(self, lesion_id: str, date: str, label: str = "", segmentation: Any = KEEP,
                **changes: Any) -> Measurement:
        """Apply ``changes`` to the measurement of ``lesion_id`` at ``date`` (created if none)."""
        self.lesion(lesion_id)  # a clear error for an unknown lesion
        old = self.read.measurement(lesion_id, date)
        m = Measurement(lesion_id, date, **changes) if old is None else old.with_changes(**changes)
        self._put(m, label=label, segmentation=segmentation)
        return m

    # -- undo / redo (kept in the store: they survive a restart) ----------------------------
    @property
    def can_undo(self) -> bool:
        return self.store.history_counts(self.key)[0] > 0

    @property
    def can_redo(self) -> bool:
        return self.store.history_counts(self.key)[1] > 0

    def undo(self) -> str | None:
        """Take back the last edit (a new lesion with its first status is one); returns what was
        undone, None when there is nothing to undo."""
        label = self.store.undo(self.key, expect=self.version)
        if label is not None:
            self._reread()
        return label

    def redo(self) -> str | None:
        """Apply again the last edit undone (None: nothing to redo)."""
        label = self.store.redo(self.key, expect=self.version)
        if label is not None:
            self._reread()
        return label

    def _reread(self) -> None:
        """The read again from the store after an undo / redo, announced as what changed (the
        lesions and measurements the edit touched), not as a whole new read."""
        before = self.read
        self.read, self.version = self.store.load_versioned(self.key)
        lesions, changes = read_changes(before.lesions, before.measurements,
                                        self.read.lesions, self.read.measurements)
        if lesions is not None:
            self.events.lesions.emit(lesions)
        for change in changes:
            self.events.measurement.emit(change)
        self.refresh()

    # -- time points ------------------------------------------------------------------------
    @property
    def baseline(self) -> str:
        return self.dates[0]

    def go_to(self, date: str) -> None:
        if date not in self.dates:
            raise ResponseToolError(f"{date} is not a time point of this read")
        previous, self.current = self.current, date
        if previous != date:
            self.events.time_point.emit(TimePointChanged(date, previous))
        self.refresh()

    # -- lesions ----------------------------------------------------------------------------
    def lesions(self) -> list[Lesion]:
        return list(self.read.lesions)

    def lesion(self, lesion_id: str) -> Lesion:
        return self.read.lesion(lesion_id)

    def new_lesion(self, role: str, organ: str, is_nodal: bool = False) -> str:
        """A lesion with the next free id; targets and non-targets only at the baseline, new
        lesions only after it (:data:`rules.ROLES_AT_BASELINE`)."""
        problem = rules.role_allowed(Role(role), self.current == self.baseline)
        if problem:
            raise ResponseToolError(problem)
        lesion_id = next_lesion_id([les.lesion_id for les in self.read.lesions], role, is_nodal)
        lesion_id = self.store.add_lesion(
            self.key, role, organ, is_nodal, lesion_id, expect=self.version,
            edit=Edit(f"new {role} {lesion_id}", lesions=[[lesion_id, None, [role, organ,
                                                                        is_nodal, ""]]]))
        self.wrote_through_store()
        self.read = replace(self.read, lesions=(*self.read.lesions,
                                                Lesion(lesion_id, Role(role), organ, is_nodal)))
        self.events.lesions.emit(LesionsChanged(added=(lesion_id,)))
        if role != Role.TARGET:  # seen now; a size may follow
            self._put(Measurement(lesion_id, self.current, Status.PRESENT), join=True)
        self.refresh()
        return lesion_id

    def delete_lesion(self, lesion_id: str) -> None:
        les = self.lesion(lesion_id)
        edit = Edit(f"delete {lesion_id}", lesions=[[lesion_id, [str(les.role), les.organ,
                                                                 les.is_nodal, les.override_reason],
                                                     None]],
                    measurements=[[m.lesion_id, m.date, _state(m), None]
                                  for m in self.read.measurements if m.lesion_id == lesion_id])
        self.store.delete_lesion(self.key, lesion_id, expect=self.version, edit=edit)
        self.wrote_through_store()
        gone = [m for m in self.read.measurements if m.lesion_id == lesion_id]
        self.read = replace(
            self.read, lesions=tuple(x for x in self.read.lesions if x.lesion_id != lesion_id),
            measurements=tuple(m for m in self.read.measurements if m.lesion_id != lesion_id))
        for m in gone:
            self.events.measurement.emit(MeasurementChanged(lesion_id, m.date, m, None))
        self.events.lesions.emit(LesionsChanged(removed=(lesion_id,)))
        self.refresh()

    # -- measurements -----------------------------------------------------------------------
    def measurement(self, lesion_id: str, date: str | None = None) -> Measurement | None:
        return self.read.measurement(lesion_id, date or self.current)

    def record_line(self, lesion_id: str, kind: str, line: LineRecord) -> float:
        """Store a drawn diameter (``kind`` long / short / viable) and return its length in mm.

        Endpoints are patient millimetres, so the length is the Euclidean distance; callers that
        hold layer data coordinates convert with :func:`response_tool.domain.geometry.to_world_mm`.
        A segmentation kept from an accepted proposal stays (its volumes are its own figures)."""
        old = self.measurement(lesion_id) or Measurement(lesion_id, self.current)
        kind, length, changes = line_changes(self.lesion(lesion_id), old, kind, line)
        self._change(lesion_id, self.current, f"{lesion_id} {kind.value} {length:g} mm", **changes)
        self.refresh()
        return length

    def accept_proposal(self, lesion_id: str, lines: Mapping[str, LineRecord], proposal: Any,
                        series_uid: str | None = None) -> Measurement:
        """A click-to-measure proposal accepted as ONE reader action (one undo step): its lines
        (kind → :class:`LineRecord`), its volumes and its segmentation (``proposal.mask`` on
        ``series_uid``), replacing those of a proposal accepted before (:func:`.lines.accepted`)."""
        old = self.measurement(lesion_id) or Measurement(lesion_id, self.current)
        m, mask = accepted(self.lesion(lesion_id), old, lines, proposal, series_uid)
        self._put(m, label=f"{lesion_id} proposal accepted", segmentation=mask)
        self.refresh()
        return m

    def segmentation(self, lesion_id: str, date: str | None = None) -> LesionSegmentation | None:
        """The segmentation kept with ``lesion_id``'s measurement (None: none)."""
        return self.store.lesion_segmentation(self.key, lesion_id, date or self.current)

    def record_point(self, lesion_id: str, point_mm: list[float], series_uid: str | None = None,
                     phase: str | None = None, slice_index: int | None = None) -> None:
        """Where a non-target or new lesion is (one click, patient mm); it is then present unless
        the reader already gave a status."""
        if self.lesion(lesion_id).role == Role.TARGET:
            raise ResponseToolError(f"{lesion_id} is a target: measure it with a line")
        changes: dict[str, Any] = {"mark_point": [float(v) for v in point_mm],
                                   "series_uid": series_uid, "phase": phase,
                                   "slice_index": slice_index}
        if self.measurement(lesion_id) is None:
            changes["status"] = Status.PRESENT
        self._change(lesion_id, self.current, **changes)
        self.refresh()

    def clear_point(self, lesion_id: str, date: str | None = None) -> None:
        date = date or self.current
        if self.measurement(lesion_id, date) is not None:
            self._change(lesion_id, date, mark_point=None)
        self.refresh()

    def clear_diameter(self, lesion_id: str, kind: str, date: str | None = None) -> None:
        """The reader deleted a line: forget that diameter (and the measurement if nothing of it
        is left, so the lesion is "not yet measured" again)."""
        date = date or self.current
        m = self.measurement(lesion_id, date)
        if m is None:
            return
        kind = DiameterKind(kind)
        left = [m.diameter(k) for k in DiameterKind if k != kind]
        if m.status == Status.MEASURED and all(v is None for v in left):
            self._put(None, lesion_id, date)
        else:
            self._change(lesion_id, date, **{kind.column: None, kind.endpoints: None,
                                             "origins": m.with_origin(kind, None)})
        self.refresh()

    def no_enhancement(self, lesion_id: str) -> None:
        """mRECIST: the lesion shows no arterial enhancement (viable diameter 0 mm)."""
        self._change(lesion_id, self.current, viable_long_axis_mm=0.0, viable_endpoints=None)
        self.refresh()

    def set_status(self, lesion_id: str, status: str) -> None:
        """too-small, absent (disappeared: 0 mm, :data:`rules.ABSENT_IS_0MM`; no segmentation),
        not-evaluated, progression, equivocal, present."""
        try:
            status = Status(status)
        except ValueError:
            raise ResponseToolError(f"status {status!r}: use one of {', '.join(Status)}") from None
        changes: dict[str, Any] = {"status": status}
        if status == Status.ABSENT:  # 0 mm; a volume it had is 0 too and its mask goes with it
            old = self.measurement(lesion_id)
            changes.update({k.column: 0.0 for k in DiameterKind}, **{
                c: 0.0 for c in VOLUME_COLUMNS if old is not None and getattr(old, c) is not None})
        self._change(lesion_id, self.current, f"{lesion_id} {status.value}",
                     None if status == Status.ABSENT else KEEP, **changes)
        self.refresh()

    # -- what the panel shows ---------------------------------------------------------------
    def rows(self) -> list[LesionRow]:
        """Every lesion at the current time point, with its baseline and previous values."""
        return lesion_rows(self.read, self.dates, self.current)

    def refresh(self) -> None:
        """Recompute responses and warnings from the read in memory (timed: the panel's live
        update; no SQL).

        What the panel shows is recomputed at once: the time-point responses of both criteria.
        The baseline checks are recomputed only when the baseline rows changed, and the best
        overall response only when asked for (:attr:`result`, e.g. on export)."""
        t0 = time.perf_counter()
        self.problem = ""
        self._result = None
        self._frame = None
        self._timepoints = None
        frame = self.read.to_frame()
        waiting = rules.waiting_for_baseline(self.read, self.baseline)
        if frame.empty:
            self.problem = "no lesions yet: add targets at the baseline"
        elif waiting:
            self.problem = f"waiting for the baseline diameter of {', '.join(waiting)}"
        else:
            try:
                self._frame = validate_read(frame)
                self._timepoints = timepoint_responses(self._frame, self.options)
            except ResponseToolError as exc:
                self.problem = exc.first_problem
                self._frame = None
        self.warnings = [*self._baseline_checks(), *self._new_lesion_checks(),
                         *rules.drawing_warnings(self.read)]
        self.last_update_ms = (time.perf_counter() - t0) * 1000.0
        self.events.responses.emit(ResponsesChanged(self.current, self.last_update_ms))

    @property
    def result(self) -> AssessmentResult | None:
        """The full assessment (time points, best overall response, baseline checks)."""
        if self._frame is None or self._timepoints is None:
            return None
        if self._result is None:
            self._result = AssessmentResult(
                with_burden(self._timepoints, None)[list(TIMEPOINT_COLUMNS)],
                best_responses(self._timepoints, self.options), self.options,
                self._baseline_warnings(), self._new_lesion_frame())
        return self._result

    def assess_with_burden(self, burden: object, htb_scheme: str = "liu2022") -> AssessmentResult:
        """The assessment of this read with a burden table joined (its own options)."""
        if self._frame is None:
            raise ResponseToolError(f"no responses yet: {self.problem}")
        return assess(self.read.to_frame(), self.options, burden=burden, htb_scheme=htb_scheme)

    def _new_lesion_frame(self) -> pd.DataFrame:
        """New lesions a criterion counts only as equivocal (e.g. a new liver lesion marked but
        not measured: mRECIST needs its diameter)."""
        if self._frame is None:
            return pd.DataFrame(columns=list(WARNING_COLUMNS))
        return new_lesion_warnings(self._frame, self.options.criteria)

    def _new_lesion_checks(self) -> list[str]:
        found = self._new_lesion_frame()
        return [f"{w['lesion_id']}: {w['message']} [{w['check_id']}, {w['criterion']}]"
                for w in found.to_dict("records")]

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
            found = baseline_warnings(self._frame, self.options.criteria)
            text = [f"{w['lesion_id']}: {w['message']} [{w['check_id']}]"
                    for w in found.to_dict("records")]
            self._baseline_cache = (key, found, text)
        return self._baseline_cache[2]

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


def validate_read(frame: pd.DataFrame) -> pd.DataFrame:
    """The read's table validated as the engine's input (the measurements-table contract)."""
    from response_tool.domain.measurements import validate

    return validate(frame, "read")


__all__ = ["KINDS", "ORGANS", "LesionRow", "LineRecord", "ReadingSession"]
