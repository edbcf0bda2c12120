"""Where the reader stopped (``ReadStore.save_position`` / ``position``): kept with the read, but
outside its version and its undo history — moving around is not an edit."""

from __future__ import annotations

import pytest
from test_session import BASE, FU1, line

from response_tool.reading.session import ReadingSession
from response_tool.reading.store import ReadStore


@pytest.fixture
def store(tmp_path):
    return ReadStore(tmp_path / "reads.sqlite")


def test_a_position_is_kept_per_read_and_survives_reopening(store, tmp_path):
    r1, r2 = store.open_read("P1", "R1"), store.open_read("P1", "R2")
    assert store.position(r1) is None
    store.save_position(r1, FU1, "T2")
    store.save_position(r2, BASE, None)
    store.save_position(r1, FU1, "T3")  # the latest wins
    store.close()
    again = ReadStore(tmp_path / "reads.sqlite")
    assert again.position(r1) == (FU1, "T3")
    assert again.position(r2) == (BASE, None)


def test_moving_around_is_not_an_edit(store):
    key = store.open_read("P1", "R1")
    s = ReadingSession(store, key, [BASE, FU1])
    t1 = s.new_lesion("target", "liver")
    s.record_line(t1, "long", line(40.0))
    version = store.known_version(key)
    store.save_position(key, FU1, t1)
    assert store.known_version(key) == version  # another window's write is not made stale
    assert s.undo() is not None  # the undo takes back the line, not the position
    assert s.measurement(t1) is None
    assert store.position(key) == (FU1, t1)


def test_a_meta_row_that_is_not_a_position_reads_as_none(store):
    key = store.open_read("P1", "R1")
    store.save_position(key, BASE, None)
    rid = store._read_id(key)
    with store._transaction():
        store._db.execute("UPDATE meta SET value='not json' WHERE key=?", (f"position/{rid}",))
    assert store.position(key) is None
