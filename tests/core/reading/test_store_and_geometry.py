"""The read store (transactional SQLite) and diameters in physical space."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from response_tool.assessment import assess
from response_tool.domain import geometry
from response_tool.reading.store import ReadStore, StoreError

# -- geometry -----------------------------------------------------------------------------------

LENGTHS = [  # (p0, p1 in data coordinates z, y, x; scale; expected mm)
    ((0, 0, 0), (0, 0, 10), (2.5, 0.78, 0.78), 7.8),
    ((0, 0, 0), (0, 10, 10), (2.5, 0.78, 0.78), 7.8 * np.sqrt(2)),
    ((0, 0, 0), (4, 0, 0), (2.5, 0.78, 0.78), 10.0),
    ((3, 5, 5), (3, 8, 9), (1.0, 1.0, 1.0), 5.0),
]


@pytest.mark.parametrize("p0,p1,scale,expected", LENGTHS)
def test_length_in_millimetres_not_voxels(p0, p1, scale, expected):
    assert geometry.length_mm(p0, p1, scale) == pytest.approx(expected)


def test_length_with_an_affine_equals_the_scaled_length():
    affine = np.diag([2.5, 0.78, 0.78, 1.0])
    affine[:3, 3] = (10, 20, 30)
    assert geometry.length_mm((0, 0, 0), (0, 3, 4), affine) == pytest.approx(0.78 * 5)


@pytest.mark.parametrize("angle,ok", [(90, True), (81, True), (80, True), (79, False), (45, False)])
def test_perpendicularity_tolerance(angle, ok):
    a = np.array([[0, 0, 0], [0, 0, 10.0]])
    r = np.radians(angle)
    b = np.array([[0, 0, 0], [0, 10 * np.sin(r), 10 * np.cos(r)]])
    assert geometry.is_perpendicular(a, b) is ok


def test_perpendicularity_is_judged_in_millimetres():
    # perpendicular in voxels, but the pixels are not square: not perpendicular in mm
    a = np.array([[0, 0, 0], [0, 10, 10.0]])
    b = np.array([[0, 0, 0], [0, 10, -10.0]])
    assert geometry.is_perpendicular(a, b, (1, 1, 1))
    assert not geometry.is_perpendicular(a, b, (1, 0.5, 1.0))


# -- store ----------------------------------------------------------------------------------------

def _fill(store: ReadStore):
    key = store.open_read("P1", "R1")
    store.add_timepoint(key, "2026-01-05", "1.2.3")
    t1 = store.add_lesion(key, "target", "liver")
    n1 = store.add_lesion(key, "target", "lymph node", is_nodal=True)
    nt = store.add_lesion(key, "non-target", "peritoneum")
    store.set_measurement(key, t1, "2026-01-05", long_axis_mm=40, viable_long_axis_mm=30,
                          long_endpoints=[[30, 10, 10], [30, 10, 50]], series_uid="1.2.3.4",
                          phase="arterial", slice_index=12)
    store.set_measurement(key, n1, "2026-01-05", long_axis_mm=25, short_axis_mm=18)
    store.set_measurement(key, nt, "2026-01-05", status="present")
    for lid, kwargs in ((t1, {"long_axis_mm": 38, "viable_long_axis_mm": 12}),
                        (n1, {"long_axis_mm": 20, "short_axis_mm": 12}),
                        (nt, {"status": "present"})):
        store.set_measurement(key, lid, "2026-03-02", **kwargs)
    return key, (t1, n1, nt)


def test_ids_roundtrip_and_engine_input(tmp_path):
    path = tmp_path / "reads.sqlite"
    with ReadStore(path) as store:
        key, ids = _fill(store)
        assert ids == ("T1", "N1", "NT1")
        assert store.add_lesion(key, "new", "liver") == "NEW1"
        store.delete_lesion(key, "NEW1")
    with ReadStore(path) as store:  # reopened: everything is there, endpoints exact
        (m,) = [m for m in store.measurements(key) if m.lesion_id == "T1"
                and m.date == "2026-01-05"]
        assert m.long_endpoints == ((30, 10, 10), (30, 10, 50))
        assert (m.series_uid, m.phase, m.slice_index) == ("1.2.3.4", "arterial", 12)
        assert [t.date for t in store.timepoints(key)] == ["2026-01-05", "2026-03-02"]
        frame = store.measurements_frame()
        result = assess(frame)
        csv_path = store.export_measurements_csv(tmp_path / "m.csv")
    via_csv = assess(csv_path)
    tp = result.timepoints
    assert tp["overall_response"].tolist() == via_csv.timepoints["overall_response"].tolist()
    fu = tp[~tp["is_baseline"]].set_index("criterion")
    assert fu.loc["recist1.1", "sum_mm"] == pytest.approx(38 + 12)   # node by short axis
    assert fu.loc["mrecist", "sum_mm"] == pytest.approx(12 + 12)
    assert fu.loc["mrecist", "overall_response"] == "PR"  # viable 30+18 → 12+12: −50 %


@pytest.mark.parametrize("call,message", [
    (lambda s, k: s.add_lesion(k, "tumour", "liver"), "role 'tumour'"),
    (lambda s, k: s.set_measurement(k, "T9", "2026-01-05", long_axis_mm=3), "no lesion T9"),
    (lambda s, k: s.set_measurement(k, "T1", "2026-01-05", long_axis_mm=-3), "must be a number"),
    (lambda s, k: s.set_measurement(k, "T1", "05/01/2026", long_axis_mm=3), "not a date"),
    (lambda s, k: s.set_measurement(k, "T1", "2026-01-05", status="gone"), "status 'gone'"),
    (lambda s, k: s.add_lesion(k, "target", "liver", lesion_id="T1"), "already exists"),
])
def test_bad_edits_are_refused_and_change_nothing(tmp_path, call, message):
    with ReadStore(tmp_path / "r.sqlite") as store:
        key, _ = _fill(store)
        before = store.measurements(key)
        with pytest.raises(StoreError, match=message):
            call(store, key)
        assert store.measurements(key) == before


def test_not_a_store_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "notes.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a readable read store"):
        ReadStore(bad)


def test_a_kill_during_edits_loses_at_most_the_edit_in_flight(tmp_path):
    path = tmp_path / "kill.sqlite"
    acks = tmp_path / "acks.txt"
    script = textwrap.dedent(f"""
        import sys
        from response_tool.reading.store import ReadStore
        store = ReadStore({str(path)!r})
        key = store.open_read("P1", "R1")
        lid = store.add_lesion(key, "target", "liver")
        with open({str(acks)!r}, "w") as fh:
            for i in range(1, 100000):
                store.set_measurement(key, lid, "2026-01-05", long_axis_mm=float(i))
                fh.write(f"{{i}}\\n"); fh.flush()
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.time() + 60
    while time.time() < deadline and (not acks.exists() or acks.stat().st_size < 200):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    acknowledged = int(acks.read_text().split()[-1])
    assert acknowledged > 20
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    with ReadStore(path) as store:
        (m,) = store.measurements(store.reads()[0])
        # every acknowledged edit is there; at most the one in flight beyond it
        assert acknowledged <= m.long_axis_mm <= acknowledged + 1
