"""The reading session announces its changes (:mod:`response_tool.reading.events`): every edit,
undo, redo, time-point change and registration emits what changed, so a view can update only
that — one row, one line — and the responses once per action."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_session import BASE, FU1, line

from response_tool.reading.events import (
    LesionsChanged,
    MeasurementChanged,
    RegistrationSaved,
    ResponsesChanged,
    TimePointChanged,
)
from response_tool.reading.propagation import Registration
from response_tool.reading.session import ReadingSession
from response_tool.reading.store import ReadStore


class Heard:
    """Every event of a session, in order, as (signal name, event)."""

    def __init__(self, s: ReadingSession) -> None:
        self.events: list[tuple[str, object]] = []
        for name in ("measurement", "lesions", "time_point", "responses", "registration"):
            getattr(s.events, name).connect(lambda e=None, n=name: self.events.append((n, e)))
        s.events.reloaded.connect(lambda: self.events.append(("reloaded", None)))

    def names(self) -> list[str]:
        return [n for n, _ in self.events]

    def of(self, name: str) -> list:
        return [e for n, e in self.events if n == name]

    def clear(self) -> None:
        self.events.clear()


@pytest.fixture
def session(tmp_path: Path) -> ReadingSession:
    store = ReadStore(tmp_path / "reads.sqlite")
    return ReadingSession(store, store.open_read("P1", "R1"), [BASE, FU1])


def test_an_edit_announces_its_measurement_then_the_responses_once(session):
    heard = Heard(session)
    t1 = session.new_lesion("target", "liver")
    assert heard.names() == ["lesions", "responses"]
    assert heard.of("lesions") == [LesionsChanged(added=(t1,))]
    heard.clear()
    session.record_line(t1, "long", line(40.0))
    assert heard.names() == ["measurement", "responses"]
    (change,) = heard.of("measurement")
    assert (change.lesion_id, change.date, change.kind) == (t1, BASE, "added")
    assert change.before is None and change.after.long_axis_mm == pytest.approx(40.0)
    assert heard.of("responses") == [ResponsesChanged(BASE, session.last_update_ms)]
    heard.clear()
    session.record_line(t1, "long", line(42.0))
    (change,) = heard.of("measurement")
    assert change.kind == "changed"
    assert (change.before.long_axis_mm, change.after.long_axis_mm) == pytest.approx((40, 42))


def test_a_non_target_announces_the_lesion_and_its_first_measurement(session):
    heard = Heard(session)
    nt = session.new_lesion("non-target", "peritoneum")
    assert heard.names() == ["lesions", "measurement", "responses"]
    assert heard.of("measurement")[0].after.status == "present"
    heard.clear()
    session.record_point(nt, [40.0, 10.0, 10.0])
    assert heard.of("measurement")[0].after.mark_point == (40.0, 10.0, 10.0)


@pytest.mark.parametrize("which", ["undo", "redo"])
def test_undo_and_redo_announce_only_what_the_edit_touched(session, which):
    t1 = session.new_lesion("target", "liver")
    session.record_line(t1, "long", line(40.0))
    t2 = session.new_lesion("target", "liver")
    session.record_line(t2, "long", line(30.0, y=150.0))
    session.record_line(t1, "long", line(44.0))
    if which == "redo":
        session.undo()
    heard = Heard(session)
    getattr(session, which)()
    # T1's line went back to 40 mm (undo) or forward to 44 mm (redo): T2 is not named
    assert heard.names() == ["measurement", "responses"]
    (change,) = heard.of("measurement")
    assert change.lesion_id == t1 and change.kind == "changed"
    expected = (44.0, 40.0) if which == "undo" else (40.0, 44.0)
    assert (change.before.long_axis_mm, change.after.long_axis_mm) == pytest.approx(expected)
    assert "reloaded" not in heard.names()


def test_undoing_a_new_lesion_announces_it_removed_with_its_measurement(session):
    session.new_lesion("target", "liver")
    nt = session.new_lesion("non-target", "bone")
    heard = Heard(session)
    session.undo()
    assert heard.of("lesions") == [LesionsChanged(removed=(nt,))]
    (change,) = heard.of("measurement")
    assert (change.lesion_id, change.kind) == (nt, "removed")


def test_deleting_a_lesion_announces_each_measurement_removed(session):
    t1 = session.new_lesion("target", "liver")
    session.record_line(t1, "long", line(40.0))
    session.go_to(FU1)
    session.record_line(t1, "long", line(35.0))
    heard = Heard(session)
    session.delete_lesion(t1)
    assert heard.names() == ["measurement", "measurement", "lesions", "responses"]
    assert {(c.date, c.kind) for c in heard.of("measurement")} == {(BASE, "removed"),
                                                                    (FU1, "removed")}


def test_a_time_point_change_is_announced_once_and_not_when_staying(session):
    heard = Heard(session)
    session.go_to(FU1)
    assert heard.of("time_point") == [TimePointChanged(FU1, BASE)]
    assert heard.of("responses")[0].date == FU1
    heard.clear()
    session.go_to(FU1)
    assert heard.of("time_point") == []


def test_a_saved_registration_and_a_correction_are_announced(session):
    t1 = session.new_lesion("target", "liver")
    session.record_line(t1, "long", line(40.0))
    heard = Heard(session)
    session.save_registration(FU1, Registration.identity())
    session.correct_position(t1, [40.0, 100.0, 70.0], FU1)
    assert heard.of("registration") == [RegistrationSaved(FU1), RegistrationSaved(FU1)]


def test_a_reload_says_everything_may_have_changed(session):
    heard = Heard(session)
    session.reload()
    assert heard.names() == ["reloaded", "responses"]


def test_an_edit_that_changes_nothing_announces_no_measurement(session):
    t1 = session.new_lesion("target", "liver")
    session.record_line(t1, "long", line(40.0))
    heard = Heard(session)
    session.clear_point(t1)  # a target has no mark: nothing to clear
    assert heard.of("measurement") == []


def test_a_closed_view_is_dropped_not_called(session):
    """Views subscribe with bound methods, held weakly: a view that is gone is not called."""

    class View:
        calls = 0

        def on_measurement(self, change: MeasurementChanged) -> None:
            View.calls += 1

    view = View()
    session.events.measurement.connect(view.on_measurement)
    t1 = session.new_lesion("target", "liver")
    session.record_line(t1, "long", line(40.0))
    assert View.calls == 1
    del view
    session.record_line(t1, "long", line(41.0))
    assert View.calls == 1
