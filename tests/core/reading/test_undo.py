"""Undo / redo of a read's edits (issue 12, item 4): store-backed, so they survive a restart;
one reader action is one step; a change made elsewhere is never overwritten by an undo."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_session import BASE, FU1, FU2, line, read_baseline

from response_tool.domain.errors import ResponseToolError, StoreError
from response_tool.reading.session import LineRecord, ReadingSession
from response_tool.reading.store import ReadStore


def open_session(path: Path) -> ReadingSession:
    store = ReadStore(path)
    return ReadingSession(store, store.open_read("P1", "R1"), [BASE, FU1, FU2])


def snapshot(s: ReadingSession) -> tuple:
    return (tuple(s.read.lesions), tuple(sorted(s.read.measurements, key=lambda m: (m.lesion_id, m.date))))


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "reads.sqlite"


def test_every_edit_is_undone_back_to_an_empty_read_and_redone_to_the_end(store_path):
    s = open_session(store_path)
    states = [snapshot(s)]
    t1 = s.new_lesion("target", "liver")
    states.append(snapshot(s))
    for length in (40.0, 41.5):
        s.record_line(t1, "long", line(length))
        states.append(snapshot(s))
    s.new_lesion("non-target", "peritoneum")          # lesion + its "present": one action
    states.append(snapshot(s))
    s.go_to(FU1)
    s.set_status(t1, "absent")
    states.append(snapshot(s))
    s.clear_diameter(t1, "long")
    states.append(snapshot(s))
    s.delete_lesion("NT1")                            # the lesion and its measurements
    states.append(snapshot(s))
    for expected in reversed(states[:-1]):
        assert s.can_undo
        assert s.undo() is not None
        assert snapshot(s) == expected
    assert not s.can_undo and s.undo() is None
    for expected in states[1:]:
        assert s.redo() is not None
        assert snapshot(s) == expected
    assert not s.can_redo and s.redo() is None


def test_undo_survives_a_restart(store_path):
    s = open_session(store_path)
    read_baseline(s)
    s.go_to(FU1)
    s.record_line("T1", "long", line(33.0))
    before_last = None
    s.store.close()
    again = open_session(store_path)
    assert again.measurement("T1", FU1).long_axis_mm == 33.0
    assert again.undo() == "T1 long 33 mm"
    assert again.measurement("T1", FU1) is None
    before_last = snapshot(again)
    again.store.close()
    third = open_session(store_path)
    assert snapshot(third) == before_last
    assert third.redo() == "T1 long 33 mm"
    assert third.measurement("T1", FU1).long_axis_mm == 33.0


def test_a_new_edit_drops_what_was_undone(store_path):
    s = open_session(store_path)
    t1 = s.new_lesion("target", "liver")
    s.record_line(t1, "long", line(40.0))
    s.undo()
    assert s.can_redo
    s.record_line(t1, "long", line(42.0))
    assert not s.can_redo
    assert s.undo() == "T1 long 42 mm" and s.measurement(t1) is None
    assert s.undo() == "new target T1" and s.lesions() == []


def test_undo_never_overwrites_a_change_made_elsewhere(store_path):
    """Another window changed the lesion after this session's edit: the undo is refused, nothing
    changes (the optimistic check every write has)."""
    s = open_session(store_path)
    t1 = s.new_lesion("target", "liver")
    s.record_line(t1, "long", line(40.0))
    other = open_session(store_path)
    other.store.set_measurement(other.key, t1, BASE, long_axis_mm=55.0, long_endpoints=None)
    s.reload()
    with pytest.raises(StoreError, match="changed since by something else"):
        s.undo()
    assert s.measurement(t1).long_axis_mm == 55.0
    s.reload()
    assert s.measurement(t1).long_axis_mm == 55.0


def test_undo_of_a_stale_session_is_refused_like_any_write(store_path):
    s = open_session(store_path)
    t1 = s.new_lesion("target", "liver")
    s.record_line(t1, "long", line(40.0))
    other = open_session(store_path)
    other.record_line(t1, "long", line(44.0))
    with pytest.raises(StoreError, match="changed elsewhere"):
        s.undo()


def test_an_edit_still_costs_five_statements_with_its_history_row(store_path):
    s = open_session(store_path)
    read_baseline(s)
    s.go_to(FU1)
    s.record_line("T1", "long", line(30.0))
    statements: list[str] = []
    s.store.trace(statements.append)
    s.record_line("T1", "long", line(33.0))
    s.store.trace(None)
    assert len(statements) <= 5, statements
    assert any("INSERT INTO history" in x for x in statements)


@pytest.mark.parametrize("origin", ["drawn", "proposed", "edited"])
def test_a_stored_line_says_whether_it_was_proposed_edited_or_drawn(store_path, origin):
    s = open_session(store_path)
    t1 = s.new_lesion("target", "liver")
    ends = [[40.0, 100.0, 50.0], [40.0, 100.0, 90.0]]
    s.record_line(t1, "long", LineRecord(ends, origin=origin))
    s.record_line(t1, "viable", LineRecord(ends, phase="arterial", origin="proposed"))
    s.store.close()
    again = open_session(store_path)
    m = again.measurement(t1)
    assert (m.origin("long"), m.origin("viable"), m.origin("short")) == (origin, "proposed", "drawn")
    again.clear_diameter(t1, "viable")
    assert again.measurement(t1).origin("viable") == "drawn"
    with pytest.raises(ResponseToolError, match="line origin"):
        again.record_line(t1, "long", LineRecord(ends, origin="guessed"))
