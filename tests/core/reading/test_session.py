"""The reading session in the core: a whole read driven without napari (no Qt, no viewer).

The same session the Reading panel shows; here each edit is a method call with patient-millimetre
endpoints, as the panel makes of a drawn line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from response_tool.domain.errors import ResponseToolError
from response_tool.reading.session import LineRecord, ReadingSession
from response_tool.reading.store import ReadStore

BASE, FU1, FU2 = "2026-01-05", "2026-03-02", "2026-04-27"


def line(length_mm: float, z: float = 40.0, y: float = 100.0, x0: float = 50.0,
         phase: str = "portal-venous") -> LineRecord:
    """A horizontal line of ``length_mm`` on slice z (patient mm, z y x)."""
    return LineRecord([[z, y, x0], [z, y, x0 + length_mm]], "1.2.3", phase, 12)


@pytest.fixture
def session(tmp_path: Path) -> ReadingSession:
    store = ReadStore(tmp_path / "reads.sqlite")
    key = store.open_read("P1", "R1")
    return ReadingSession(store, key, [FU1, BASE, FU2])  # any order: baseline first after


def read_baseline(s: ReadingSession) -> None:
    t1 = s.new_lesion("target", "liver")
    s.record_line(t1, "long", line(40.0))
    s.record_line(t1, "viable", line(30.0, phase="arterial"))
    n1 = s.new_lesion("target", "lymph node", is_nodal=True)
    s.record_line(n1, "long", line(25.0, y=150.0))
    s.record_line(n1, "short", LineRecord([[40.0, 140.0, 60.0], [40.0, 158.0, 60.0]], "1.2.3",
                                          "portal-venous", 12))
    s.new_lesion("non-target", "peritoneum")


def test_a_read_through_the_session_gives_the_engine_responses(session):
    s = session
    assert s.dates == [BASE, FU1, FU2] and s.current == BASE
    assert s.problem == "no lesions yet: add targets at the baseline"
    read_baseline(s)
    assert s.problem == ""
    assert [r.lesion_id for r in s.rows()] == ["T1", "N1", "NT1"]
    base = s.responses()
    assert base["recist1.1"]["sum_mm"] == pytest.approx(40 + 18)   # node by its short axis
    assert base["mrecist"]["sum_mm"] == pytest.approx(30 + 18)     # viable diameter of T1
    s.go_to(FU1)
    s.record_line("T1", "long", line(38.0))
    s.record_line("T1", "viable", line(12.0, phase="arterial"))
    s.record_line("N1", "short", LineRecord([[40, 140, 60], [40, 152, 60]], None, None, None))
    s.set_status("NT1", "present")
    fu = s.responses()
    assert (fu["recist1.1"]["overall_response"], fu["recist1.1"]["rule_id"]) == ("SD", "RECIST1.1-T1-R5")
    assert fu["mrecist"]["overall_response"] == "PR"               # (12 + 12) / (30 + 18) = −50 %
    rows = {r.lesion_id: r for r in s.rows()}
    assert rows["T1"].baseline == "40.0 / v 30.0" and rows["T1"].current == "38.0 / v 12.0"
    assert rows["N1"].current.startswith("12.0")
    result = s.result
    assert result is not None and set(result.best_response["criterion"]) == {"recist1.1", "mrecist"}


def test_edits_are_saved_at_once_and_a_reopened_session_resumes(session, tmp_path):
    read_baseline(session)
    session.go_to(FU1)
    session.set_status("T1", "absent")
    again = ReadingSession(ReadStore(tmp_path / "reads.sqlite"), session.key, [BASE, FU1, FU2])
    # every edit is in the file, nothing only in memory
    assert again.read.lesions == session.read.lesions
    assert set(again.read.measurements) == set(session.read.measurements)
    assert {t.date for t in again.read.timepoints} == {t.date for t in session.read.timepoints}
    m = again.measurement("T1", FU1)
    assert (m.status, m.long_axis_mm, m.viable_long_axis_mm) == ("absent", 0.0, 0.0)  # absent = 0 mm


@pytest.mark.parametrize("date,role,message", [
    (FU1, "target", "chosen at the baseline"),
    (FU1, "non-target", "chosen at the baseline"),
    (BASE, "new", "appears after the baseline"),
])
def test_roles_are_chosen_when_the_criteria_allow(session, date, role, message):
    session.go_to(date)
    with pytest.raises(ResponseToolError, match=message + r".*\[RECIST1.1-ROLES-AT-BASELINE\]"):
        session.new_lesion(role, "liver")
    assert session.read.lesions == ()


def test_a_target_waits_for_its_baseline_diameter(session):
    session.new_lesion("target", "liver")
    assert session.problem == "no lesions yet: add targets at the baseline"
    session.record_line("T1", "long", line(40.0))
    session.new_lesion("target", "liver")
    assert session.problem == "waiting for the baseline diameter of T2"
    assert session.result is None


def test_deleting_the_only_line_makes_the_lesion_unmeasured_again(session):
    read_baseline(session)
    session.clear_diameter("T1", "viable")
    assert session.measurement("T1").viable_long_axis_mm is None
    session.clear_diameter("T1", "long")
    assert session.measurement("T1") is None
    assert session.problem == "waiting for the baseline diameter of T1"  # N1 still measured


def test_drawing_warnings_name_their_rule(session):
    t1 = session.new_lesion("target", "liver")
    session.record_line(t1, "long", line(40.0))
    session.record_line(t1, "viable", line(30.0, phase="portal-venous"))
    n1 = session.new_lesion("target", "lymph node", is_nodal=True)
    session.record_line(n1, "long", line(25.0, y=150.0))
    session.record_line(n1, "short", LineRecord([[40, 150, 50], [40, 150, 70]], None, None, None))
    text = " | ".join(session.warnings)
    assert "[MRECIST-VIABLE-ARTERIAL]" in text                # viable drawn on portal venous
    assert "not perpendicular" in text and "[RECIST1.1-SHORT-AXIS-PERPENDICULAR]" in text


def test_bad_edits_are_refused_with_the_lesion_named(session):
    read_baseline(session)
    with pytest.raises(ResponseToolError, match="no lesion T9"):
        session.set_status("T9", "absent")
    with pytest.raises(ResponseToolError, match="status 'gone'"):
        session.set_status("T1", "gone")
    with pytest.raises(ResponseToolError, match="diameter kind 'width'"):
        session.record_line("T1", "width", line(10.0))
    with pytest.raises(ResponseToolError, match="is a target"):
        session.record_point("T1", [40.0, 100.0, 50.0])


def test_export_uses_the_reads_own_options(tmp_path):
    """A read with non-default options: its responses with a burden table joined are assessed
    under those options, not the defaults."""
    from response_tool.assessment import AssessmentOptions

    store = ReadStore(tmp_path / "r.sqlite")
    key = store.open_read("P1", "R1")
    s = ReadingSession(store, key, [BASE, FU1], options=AssessmentOptions(mrecist_pd_min_mm=5.0))
    t1 = s.new_lesion("target", "liver")
    s.record_line(t1, "long", line(40.0))
    s.record_line(t1, "viable", line(10.0, phase="arterial"))
    s.go_to(FU1)
    s.record_line(t1, "long", line(40.0))
    s.record_line(t1, "viable", line(14.0, phase="arterial"))  # +40 % but +4 mm: PD only by default
    assert s.responses()["mrecist"]["target_response"] == "SD"
    burden = [{"patient_id": "P1", "reader_id": "R1", "timepoint_date": BASE, "htb_pct": 5,
               "htb_category": "", "htb_method": "visual"}]
    import pandas as pd

    joined = s.assess_with_burden(pd.DataFrame(burden))
    fu = joined.timepoints[(joined.timepoints["criterion"] == "mrecist")
                           & ~joined.timepoints["is_baseline"]]
    assert fu["target_response"].tolist() == ["SD"]
    assert joined.best_response["confirm_weeks"].tolist() == [4.0, 4.0]


def test_one_edit_costs_at_most_five_sql_statements(session):
    """An edit writes only what changed (the measurement, its time point, the read's time stamp,
    in one transaction); recomputing the responses reads nothing from the store."""
    read_baseline(session)
    session.go_to(FU1)
    statements: list[str] = []
    session.store.trace(statements.append)
    session.record_line("T1", "long", line(33.0))
    session.store.trace(None)
    assert len(statements) <= 5, statements
    assert sum(s.lstrip().upper().startswith("SELECT") for s in statements) == 0


def test_the_session_runs_without_napari_or_qt(tmp_path):
    """Import and drive the session in a Python where napari and every Qt binding are absent."""
    code = f"""
import sys
for name in ("napari", "qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6", "vispy", "magicgui"):
    sys.modules[name] = None  # any import of them now fails
from response_tool.reading.session import LineRecord, ReadingSession
from response_tool.reading.store import ReadStore
store = ReadStore({str(tmp_path / 'noqt.sqlite')!r})
s = ReadingSession(store, store.open_read("P1", "R1"), ["2026-01-05", "2026-03-02"])
t1 = s.new_lesion("target", "liver")
s.record_line(t1, "long", LineRecord([[0, 0, 0], [0, 0, 30]]))
s.go_to("2026-03-02")
s.record_line(t1, "long", LineRecord([[0, 0, 0], [0, 0, 20]]))
print(s.responses()["recist1.1"]["overall_response"])
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSTARTUP"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=False, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "PR"  # 30 → 20 mm: −33 %


def test_a_new_liver_lesion_marked_but_not_measured_asks_for_its_diameter(session):
    """mRECIST counts a new intrahepatic lesion from 10 mm: one only marked is equivocal, and the
    panel's warnings say to measure it; measured at 15 mm it is PD."""
    read_baseline(session)
    session.go_to(FU1)
    for lesion in ("T1", "N1"):
        session.set_status(lesion, "too-small")
    new = session.new_lesion("new", "liver segment 6")
    session.record_point(new, [40.0, 120.0, 80.0])
    assert session.responses()["mrecist"]["new_lesions"] == "equivocal"
    assert any(new in w and "MRECIST-NEW-10MM" in w for w in session.warnings)
    session.record_line(new, "long", line(15.0, y=120.0, x0=72.0))
    assert session.responses()["mrecist"]["new_lesions"] == "yes"
    assert session.responses()["mrecist"]["overall_response"] == "PD"
    assert not any("MRECIST-NEW-10MM" in w for w in session.warnings)
