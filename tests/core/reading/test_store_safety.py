"""The read store in bad situations (issue 15, item 5): each case is a situation a reader can get
into — a busy file, two windows on one read, an impossible number, a file that is not a store —
and what the store must do: a :class:`StoreError` that says what happened and what to do, and
nothing that was saved lost.

The store is not reachable from the CLI, so these are not cases of the bad-input corpus
(tests/core/badinput); they are its counterpart for the store.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from response_tool.domain.errors import ResponseToolError, StoreError
from response_tool.reading.session import LineRecord, ReadingSession
from response_tool.reading.store import (
    BUSY_TIMEOUT_S,
    MAX_COORDINATE_MM,
    ReadKey,
    ReadStore,
)

BASE, FU = "2026-01-05", "2026-03-02"
FAST = 0.2  # busy timeout of the tests (s): the default is BUSY_TIMEOUT_S


def _filled(path: Path) -> tuple[ReadStore, ReadKey]:
    store = ReadStore(path, busy_timeout_s=FAST)
    key = store.open_read("P1", "R1")
    store.add_timepoint(key, BASE)
    store.add_lesion(key, "target", "liver")
    store.add_lesion(key, "non-target", "peritoneum")
    store.set_measurement(key, "T1", BASE, long_axis_mm=40.0,
                          long_endpoints=[[10, 20, 30], [10, 20, 70]])
    store.set_measurement(key, "NT1", BASE, status="present")
    store.set_burden(key, BASE, _estimate(htb_pct=12.5))
    return store, key


def _estimate(**changes: Any) -> SimpleNamespace:
    values = dict(method="volumetric", scheme="liu2022", htb_pct=10.0, category="≤25 %",
                  ci95_pct=None, slices=(3, 4), slice_liver_area_mm2=(100.0, 120.0),
                  slice_tumor_area_mm2=(10.0, 12.0))
    values.update(changes)
    return SimpleNamespace(**values)


def _everything(path: Path) -> tuple[Any, ...]:
    """Every read in the file, read with a fresh connection (what a reader would find)."""
    with ReadStore(path) as store:
        return tuple((k, store.load(k), tuple(map(str, store.burden(k)))) for k in store.reads())


# -- bad values: the same validation as the engine ----------------------------------------------

@dataclass(frozen=True)
class BadWrite:
    id: str
    call: Callable[[ReadStore, ReadKey], Any]
    message: str


def _save(**fields: Any) -> Callable[[ReadStore, ReadKey], Any]:
    """save_measurement of a Measurement forged past the model's checks (object.__setattr__)."""
    from response_tool.domain.model import Measurement

    def call(store: ReadStore, key: ReadKey) -> Any:
        m = Measurement("T1", BASE, long_axis_mm=10.0)
        for name, value in fields.items():
            object.__setattr__(m, name, value)
        return store.save_measurement(key, m)
    return call


BAD_WRITES = [
    BadWrite("set-inf", lambda s, k: s.set_measurement(k, "T1", BASE, long_axis_mm=float("inf")),
             "must be a number"),
    BadWrite("set-nan", lambda s, k: s.set_measurement(k, "T1", BASE, short_axis_mm=float("nan")),
             "must be a number"),
    BadWrite("set-1e308", lambda s, k: s.set_measurement(k, "T1", BASE, long_axis_mm=1e308),
             "larger than 2000 mm"),
    BadWrite("set-2001mm", lambda s, k: s.set_measurement(k, "T1", BASE,
                                                          viable_long_axis_mm=2000.5),
             "larger than 2000 mm"),
    BadWrite("set-text", lambda s, k: s.set_measurement(k, "T1", BASE, long_axis_mm="12 mm"),
             "must be a number"),
    BadWrite("set-endpoint-inf", lambda s, k: s.set_measurement(
        k, "T1", BASE, long_endpoints=[[0, 0, 0], [0, 0, float("inf")]]), "must be finite"),
    BadWrite("set-endpoint-1e308", lambda s, k: s.set_measurement(
        k, "T1", BASE, long_endpoints=[[0, 0, 0], [0, 0, 1e308]]),
        f"more than {MAX_COORDINATE_MM:g} mm"),
    BadWrite("set-line-3m", lambda s, k: s.set_measurement(
        k, "T1", BASE, long_endpoints=[[0, 0, -1500], [0, 0, 1500]]), "line of 3000 mm"),
    BadWrite("set-mark-nan", lambda s, k: s.set_measurement(
        k, "NT1", BASE, mark_point=[0, float("nan"), 0]), "must be finite"),
    BadWrite("set-slice-negative", lambda s, k: s.set_measurement(k, "T1", BASE, slice_index=-1),
             "slice_index -1"),
    BadWrite("save-inf", _save(long_axis_mm=float("-inf")), "long_axis_mm -inf must be a finite"),
    BadWrite("save-1e308", _save(short_axis_mm=1e308), "from 0 to 2000 mm"),
    BadWrite("save-endpoint-far", _save(short_endpoints=[[0, 0, 0], [0, 2e4, 0]]),
             f"more than {MAX_COORDINATE_MM:g} mm"),
    BadWrite("set-volume-negative", lambda s, k: s.set_measurement(k, "T1", BASE,
                                                                   volume_mm3=-1.0),
             r"T1 \(2026-01-05\): volume_mm3 -1.0 must be a number ≥ 0 \(cubic millimetres\)"),
    BadWrite("set-volume-nan", lambda s, k: s.set_measurement(k, "T1", BASE,
                                                              enhancing_volume_mm3=float("nan")),
             "enhancing_volume_mm3 nan must be a number"),
    BadWrite("set-volume-60l", lambda s, k: s.set_measurement(k, "T1", BASE, volume_mm3=6e7),
             r"larger than 50000000 mm³ \(50 L\)"),
    BadWrite("set-enhancing-above-volume", lambda s, k: s.set_measurement(
        k, "T1", BASE, volume_mm3=1000.0, enhancing_volume_mm3=1200.0),
        "enhancing_volume_mm3 1200 is larger than the lesion's volume_mm3 1000"),
    BadWrite("save-volume-inf", _save(volume_mm3=float("inf")),
             r"volume_mm3 inf must be a finite number from 0 to 5e\+07 mm³"),
    BadWrite("save-not-a-measurement", lambda s, k: s.save_measurement(k, {"long_axis_mm": 3}),
             "not a measurement"),
    BadWrite("burden-inf", lambda s, k: s.set_burden(k, BASE, _estimate(htb_pct=float("inf"))),
             "htb_pct inf must be a finite number from 0 to 100"),
    BadWrite("burden-nan", lambda s, k: s.set_burden(k, BASE, _estimate(htb_pct=float("nan"))),
             "htb_pct nan"),
    BadWrite("burden-above-100", lambda s, k: s.set_burden(k, BASE, _estimate(htb_pct=250.0)),
             "from 0 to 100"),
    BadWrite("burden-ci-inf", lambda s, k: s.set_burden(k, BASE, _estimate(
        ci95_pct=(1.0, float("inf")))), "ci95_pct high inf"),
    BadWrite("burden-ci-reversed", lambda s, k: s.set_burden(k, BASE, _estimate(
        ci95_pct=(20.0, 5.0))), "low above high"),
    BadWrite("burden-area-inf", lambda s, k: s.set_burden(k, BASE, _estimate(
        slice_liver_area_mm2=(100.0, float("inf")))), "slice_liver_area_mm2 inf"),
    BadWrite("burden-area-count", lambda s, k: s.set_burden(k, BASE, _estimate(
        slice_tumor_area_mm2=(1.0,))), "1 slice_tumor_area_mm2 for 2 slices"),
    BadWrite("burden-not-an-estimate", lambda s, k: s.set_burden(k, BASE, 12.5),
             "not a burden estimate"),
    BadWrite("lesion-organ-empty", lambda s, k: s.update_lesion(k, "T1", organ=""),
             "needs its organ"),
    BadWrite("lesion-organ-none", lambda s, k: s.update_lesion(k, "T1", organ=None),
             "needs its organ"),
    BadWrite("lesion-nodal-text", lambda s, k: s.update_lesion(k, "T1", is_nodal="maybe"),
             "is_nodal 'maybe' must be true or false"),
    BadWrite("lesion-organ-number", lambda s, k: s.update_lesion(k, "T1", organ=float("inf")),
             "organ inf must be text"),
    BadWrite("lesion-role", lambda s, k: s.update_lesion(k, "T1", role="new"),
             "cannot change role"),
    BadWrite("lesion-unknown", lambda s, k: s.update_lesion(k, "T9", organ="liver"),
             "no lesion T9"),
    BadWrite("add-lesion-organ-none", lambda s, k: s.add_lesion(k, "target", None),
             "needs its organ"),
    BadWrite("phase-override-unknown", lambda s, k: s.set_phase_override(k, "1.2.3", "venous"),
             "phase 'venous'"),
    BadWrite("timepoint-date", lambda s, k: s.add_timepoint(k, "2026-02-30"), "not a date"),
]


@pytest.mark.parametrize("case", BAD_WRITES, ids=lambda c: c.id)
def test_a_bad_value_is_refused_on_every_write_path_and_changes_nothing(tmp_path, case):
    store, key = _filled(tmp_path / "reads.sqlite")
    before = _everything(store.path)
    version = store.known_version(key)
    with pytest.raises(StoreError, match=case.message):
        case.call(store, key)
    assert store.known_version(key) == version
    store.close()
    assert _everything(tmp_path / "reads.sqlite") == before


def test_a_bad_value_through_the_session_is_refused_and_the_read_in_memory_is_unchanged(tmp_path):
    store, key = _filled(tmp_path / "reads.sqlite")
    session = ReadingSession(store, key, [BASE, FU])
    before = session.read
    with pytest.raises(ResponseToolError, match="must be a number"), \
            np.errstate(over="ignore"):
        session.record_line("T1", "long", LineRecord([[0, 0, 0], [0, 0, 1e308]]))
    with pytest.raises(StoreError, match=f"more than {MAX_COORDINATE_MM:g} mm"):  # 10 mm long,
        session.record_line("T1", "long", LineRecord([[0, 0, 2e4], [0, 0, 2e4 + 10]]))  # but far
    assert session.read == before
    assert store.load(key) == before


def test_every_finite_value_in_range_is_accepted(tmp_path):
    store, key = _filled(tmp_path / "reads.sqlite")
    store.set_measurement(key, "T1", BASE, long_axis_mm=2000.0,
                          long_endpoints=[[0, 0, -1000], [0, 0, 1000]])
    store.set_burden(key, BASE, _estimate(htb_pct=0.0, ci95_pct=(0.0, 100.0)))
    store.update_lesion(key, "T1", organ="liver segment 7", is_nodal=0, override_reason="kept")
    assert store.measurement(key, "T1", BASE).long_axis_mm == 2000.0
    (t1,) = [les for les in store.lesions(key) if les.lesion_id == "T1"]
    assert (t1.organ, t1.is_nodal, t1.override_reason) == ("liver segment 7", False, "kept")
    store.close()


# -- busy: another writer holds the file ---------------------------------------------------------

def _hold_write_lock(path: Path) -> sqlite3.Connection:
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    return other


BUSY_WRITES = [
    ("set_measurement", lambda s, k: s.set_measurement(k, "T1", BASE, long_axis_mm=41.0)),
    ("add_lesion", lambda s, k: s.add_lesion(k, "target", "liver")),
    ("set_burden", lambda s, k: s.set_burden(k, BASE, _estimate())),
    ("open_read", lambda s, k: s.open_read("P2", "R1")),
    ("open the store", lambda s, k: ReadStore(s.path, busy_timeout_s=FAST)),
]


@pytest.mark.parametrize("call", [c for _, c in BUSY_WRITES], ids=[n for n, _ in BUSY_WRITES])
def test_a_busy_store_waits_then_says_it_is_busy_and_loses_nothing(tmp_path, call):
    store, key = _filled(tmp_path / "reads.sqlite")
    before = _everything(store.path)
    other = _hold_write_lock(store.path)  # another window in the middle of a write
    try:
        with pytest.raises(StoreError) as caught:
            call(store, key)
    finally:
        other.execute("ROLLBACK")
        other.close()
    message = str(caught.value)
    assert str(store.path) in message                                   # which file
    assert "busy" in message and "another window or process" in message  # what is going on
    assert "try again" in message                                       # what to do
    assert "move this one aside" not in message and "choose another file" not in message
    assert _everything(store.path) == before
    store.set_measurement(key, "T1", BASE, long_axis_mm=41.0)  # and once free, it works again
    assert store.measurement(key, "T1", BASE).long_axis_mm == 41.0
    store.close()


def test_the_busy_timeout_is_five_seconds_by_default(tmp_path):
    assert BUSY_TIMEOUT_S == 5.0
    store = ReadStore(tmp_path / "reads.sqlite")
    assert store.busy_timeout_s == BUSY_TIMEOUT_S
    store.close()


def test_a_short_busy_wait_is_waited_out(tmp_path):
    """A writer that finishes within the timeout is waited for: the edit goes through."""
    import threading

    store, key = _filled(tmp_path / "reads.sqlite")
    store.busy_timeout_s = 5.0
    other = _hold_write_lock(store.path)
    release = threading.Timer(0.3, lambda: (other.execute("COMMIT"), other.close()))
    release.start()
    waiting = ReadStore(store.path, busy_timeout_s=5.0)
    waiting.set_measurement(key, "T1", BASE, long_axis_mm=42.0)
    release.join()
    assert waiting.measurement(key, "T1", BASE).long_axis_mm == 42.0
    waiting.close()
    store.close()


# -- two windows on one read: the optimistic version check ---------------------------------------

def test_two_sessions_on_one_read_the_second_writer_is_told_to_reload(tmp_path):
    path = tmp_path / "reads.sqlite"
    store, key = _filled(path)
    store.close()
    first = ReadingSession(ReadStore(path), key, [BASE, FU])    # window 1
    second = ReadingSession(ReadStore(path), key, [BASE, FU])   # window 2, same read
    assert first.version == second.version
    first.record_line("T1", "long", LineRecord([[10, 20, 30], [10, 20, 75]]))  # 45 mm
    with pytest.raises(StoreError) as caught:
        second.record_line("T1", "long", LineRecord([[10, 20, 30], [10, 20, 50]]))  # 20 mm
    message = str(caught.value)
    assert "patient P1 by reader R1" in message and str(path) in message
    assert "changed elsewhere" in message and "reload" in message.lower()
    assert second.measurement("T1").long_axis_mm == 40.0       # the refused edit is not kept
    assert _everything(path)[0][1].measurement("T1", BASE).long_axis_mm == 45.0  # nor saved
    second.reload()                                            # what the message says to do
    assert second.measurement("T1").long_axis_mm == 45.0
    second.record_line("T1", "long", LineRecord([[10, 20, 30], [10, 20, 50]]))
    with pytest.raises(StoreError, match="changed elsewhere"):  # now the first one is behind
        first.set_status("NT1", "absent")
    first.reload()
    first.set_status("NT1", "absent")
    final = _everything(path)[0][1]
    assert final.measurement("T1", BASE).long_axis_mm == 20.0
    assert final.measurement("NT1", BASE).status == "absent"


@pytest.mark.parametrize("edit", [
    lambda s: s.new_lesion("target", "liver"),
    lambda s: s.delete_lesion("NT1"),
    lambda s: s.clear_diameter("T1", "long"),
    lambda s: s.record_point("NT1", [0.0, 0.0, 0.0]),
], ids=["new_lesion", "delete_lesion", "clear_measurement", "record_point"])
def test_every_session_write_is_checked(tmp_path, edit):
    path = tmp_path / "reads.sqlite"
    _filled(path)[0].close()
    key = ReadKey("P1", "R1")
    first = ReadingSession(ReadStore(path), key, [BASE, FU])
    second = ReadingSession(ReadStore(path), key, [BASE, FU])
    first.set_status("NT1", "present")
    before = _everything(path)
    with pytest.raises(StoreError, match="changed elsewhere"):
        edit(second)
    assert _everything(path) == before


def test_a_write_outside_a_session_is_checked_against_what_that_store_object_saw(tmp_path):
    path = tmp_path / "reads.sqlite"
    one, key = _filled(path)
    two = ReadStore(path)
    two.set_measurement(key, "T1", BASE, long_axis_mm=30.0)   # two had not seen the read: fine
    with pytest.raises(StoreError, match="changed elsewhere"):
        one.set_burden(key, BASE, _estimate(htb_pct=1.0))     # one last saw it before that
    one.load(key)                                             # loading again catches up
    one.set_burden(key, BASE, _estimate(htb_pct=1.0))
    one.close()
    two.close()


def test_writes_through_the_sessions_own_store_object_are_not_a_conflict(tmp_path):
    """The burden panel writes through the session's store: the session's next edit is fine."""
    store, key = _filled(tmp_path / "reads.sqlite")
    session = ReadingSession(store, key, [BASE, FU])
    store.set_burden(key, BASE, _estimate(htb_pct=3.0))
    session.record_line("T1", "long", LineRecord([[0, 0, 0], [0, 0, 33]]))
    assert store.load(key).measurement("T1", BASE).long_axis_mm == 33.0
    store.close()


def test_a_session_older_than_its_store_objects_last_load_is_refused(tmp_path):
    path = tmp_path / "reads.sqlite"
    store, key = _filled(path)
    old = ReadingSession(store, key, [BASE, FU])
    ReadStore(path).set_measurement(key, "T1", BASE, long_axis_mm=30.0)  # another window
    ReadingSession(store, key, [BASE, FU])  # a new session on the same store object loads it
    with pytest.raises(StoreError, match="changed elsewhere"):
        old.set_status("NT1", "absent")
    store.close()


def test_every_write_bumps_the_version_in_the_statement_that_records_updated(tmp_path):
    store, key = _filled(tmp_path / "reads.sqlite")
    statements: list[str] = []
    v0 = store.known_version(key)
    store.trace(statements.append)
    store.set_phase_override(key, "1.2.3", "arterial")
    store.trace(None)
    assert store.known_version(key) == v0 + 1
    (touch,) = [s for s in statements if s.startswith("UPDATE reads")]
    assert "updated=" in touch and "version=version+1" in touch
    store.close()


# -- closing: the .sqlite file alone holds every read --------------------------------------------

def test_after_close_the_sqlite_file_alone_holds_every_read(tmp_path):
    path = tmp_path / "reads.sqlite"
    store, key = _filled(path)
    ReadingSession(store, key, [BASE, FU]).record_line(
        "T1", "long", LineRecord([[0, 0, 0], [0, 0, 37]]))
    expected = _everything(path)
    store.close()
    store.close()  # idempotent
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    copy = tmp_path / "copy" / "reads.sqlite"
    copy.parent.mkdir()
    shutil.copy(path, copy)  # the .sqlite only, as a user would copy it
    assert _everything(copy) == tuple((k, r, b) for k, r, b in expected)
    with pytest.raises(StoreError, match="closed"):
        store.reads()


def test_a_store_left_open_is_checkpointed_and_closed_at_exit(tmp_path):
    path = tmp_path / "reads.sqlite"
    # the store is never closed and never freed (as one held by Qt widgets when napari exits:
    # the demo's symptom, everything left in reads.sqlite-wal); only the exit hook can close it
    script = textwrap.dedent(f"""
        import ctypes
        from response_tool.reading.store import ReadStore
        store = ReadStore({str(path)!r})
        key = store.open_read("P1", "R1")
        store.add_lesion(key, "target", "liver")
        for i in range(50):
            store.set_measurement(key, "T1", "2026-01-05", long_axis_mm=float(i))
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(store))  # leaked: never deallocated
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    wal = Path(f"{path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    copy = tmp_path / "copy.sqlite"
    shutil.copy(path, copy)
    with ReadStore(copy) as store:
        (m,) = store.measurements(ReadKey("P1", "R1"))
        assert m.long_axis_mm == 49.0


def test_a_dropped_store_is_closed_and_not_kept_alive(tmp_path):
    import gc
    import weakref

    store, _ = _filled(tmp_path / "reads.sqlite")
    ref = weakref.ref(store)
    del store
    gc.collect()
    assert ref() is None  # nothing (no exit hook) keeps it alive
    wal = tmp_path / "reads.sqlite-wal"
    assert not wal.exists() or wal.stat().st_size == 0


# -- files that are not (this kind of) store -----------------------------------------------------

def _old_store(path: Path) -> None:
    """A store as response-tool wrote it before the version check (schema 1)."""
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '1');
        CREATE TABLE reads (id INTEGER PRIMARY KEY, patient_id TEXT NOT NULL,
            reader_id TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL,
            UNIQUE (patient_id, reader_id));
        INSERT INTO reads VALUES (1, 'P1', 'R1', '2026-01-01', '2026-01-01');
        CREATE TABLE lesions (read_id INTEGER NOT NULL REFERENCES reads(id) ON DELETE CASCADE,
            lesion_id TEXT NOT NULL, role TEXT NOT NULL, organ TEXT NOT NULL,
            is_nodal INTEGER NOT NULL, override_reason TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL, PRIMARY KEY (read_id, lesion_id));
        INSERT INTO lesions VALUES (1, 'T1', 'target', 'liver', 0, '', '2026-01-01');
    """)
    db.commit()
    db.close()


@dataclass(frozen=True)
class BadFile:
    id: str
    make: Callable[[Path], Path]
    message: str


def _write(content: bytes) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / "reads.sqlite"
        path.write_bytes(content)
        return path
    return make


def _newer(tmp: Path) -> Path:
    path = tmp / "reads.sqlite"
    ReadStore(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    db.commit()
    db.close()
    return path


def _folder(tmp: Path) -> Path:
    (tmp / "reads.sqlite").mkdir()
    return tmp / "reads.sqlite"


def _under_a_file(tmp: Path) -> Path:
    (tmp / "notes.txt").write_text("a file, not a folder")
    return tmp / "notes.txt" / "reads.sqlite"


def _truncated(tmp: Path) -> Path:
    path = tmp / "reads.sqlite"
    store, _ = _filled(path)
    store.close()
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\0" * (len(data) - 100))  # header kept, pages gone
    return path


BAD_FILES = [
    BadFile("not-sqlite", _write(b"this is not sqlite" * 100), "not a readable read store"),
    BadFile("csv-named-sqlite", _write(b"patient_id,reader_id\nP1,R1\n" * 50),
            "not a readable read store"),
    BadFile("zeroed-pages", _truncated, "not a readable read store"),
    BadFile("newer-version", _newer, "written by a newer response-tool"),
    BadFile("a-folder", _folder, "is a folder, not a read store file"),
    BadFile("under-a-file", _under_a_file, "cannot create its folder"),
]


@pytest.mark.parametrize("case", BAD_FILES, ids=lambda c: c.id)
def test_a_file_that_is_not_a_store_is_a_clear_error_and_is_left_as_it_was(tmp_path, case):
    path = case.make(tmp_path)
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(StoreError, match=case.message) as caught:
        store = ReadStore(path, busy_timeout_s=FAST)
        store.reads()  # a damaged file may only show when it is read
    assert str(path) in str(caught.value)
    if before is not None:
        assert path.read_bytes() == before


def test_an_empty_file_becomes_a_new_store(tmp_path):
    path = tmp_path / "reads.sqlite"
    path.write_bytes(b"")
    with ReadStore(path) as store:
        assert store.reads() == []


def test_a_store_from_before_the_version_check_is_migrated_and_keeps_its_reads(tmp_path):
    path = tmp_path / "reads.sqlite"
    _old_store(path)
    with ReadStore(path) as store:
        key = ReadKey("P1", "R1")
        assert [les.lesion_id for les in store.lesions(key)] == ["T1"]
        read, version = store.load_versioned(key)
        assert version == 0
        store.set_measurement(key, "T1", BASE, long_axis_mm=12.0)
        assert store.known_version(key) == 1
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("2",)
    db.close()


def test_the_kill_test_still_holds_with_the_version_check(tmp_path):
    """(The kill -9 test itself is in test_store_and_geometry.py.) A writer killed between
    statements leaves the version consistent with the rows: a new session writes on."""
    path = tmp_path / "reads.sqlite"
    store, key = _filled(path)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    db.execute("UPDATE measurements SET long_axis_mm=99 WHERE lesion_id='T1'")
    db.close()  # closed mid-transaction, as a killed process: rolled back
    store.close()
    session = ReadingSession(ReadStore(path), key, [BASE, FU])
    assert session.measurement("T1", BASE).long_axis_mm == 40.0
    session.set_status("NT1", "absent")
