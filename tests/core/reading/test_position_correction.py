"""The reader's one-click correction of a propagated position (issue 12, item 2: "let the reader
correct the position with one click"), and saving a registration computed elsewhere (the panel
registers in a worker thread and saves on the UI thread).

No image is needed: the registrations are exact translations, so every expected position is
computed here by hand (baseline point + shift)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from response_tool.domain.errors import ResponseToolError
from response_tool.reading.propagation import Registration
from response_tool.reading.session import LineRecord, ReadingSession
from response_tool.reading.store import ReadStore

DATES = ["2026-01-05", "2026-03-02", "2026-05-04"]
LINE = [[40.0, 10.0, -20.0], [40.0, 10.0, 10.0]]  # T1 at the baseline: centre z 40, y 10, x -5
CENTRE = np.array([40.0, 10.0, -5.0])
SHIFT = {DATES[1]: np.array([5.0, -15.0, 12.0]), DATES[2]: np.array([-7.5, 18.0, -10.0])}


def _shift(zyx: np.ndarray) -> Registration:
    """A pure translation, z y x mm (the registration's own parameters are x y z)."""
    eye = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    return Registration(eye, tuple(float(v) for v in zyx[::-1]), (0.0, 0.0, 0.0), 0.0,
                        "test shift")


@pytest.fixture
def session(tmp_path):
    store = ReadStore(tmp_path / "reads.sqlite")
    s = ReadingSession(store, store.open_read("P1", "R1"), DATES)
    s.new_lesion("target", "liver")
    s.record_line("T1", "long", LineRecord(LINE))
    for date, shift in SHIFT.items():
        s.save_registration(date, _shift(shift))
    yield s
    store.close()


def test_without_a_correction_the_prediction_follows_the_registration(session):
    for date, shift in SHIFT.items():
        point, source = session.predicted_position("T1", date)
        assert source == DATES[0]
        assert np.allclose(point, CENTRE + shift)


def test_the_correction_is_where_the_lesion_is_predicted_at_its_time_point(session):
    clicked = CENTRE + SHIFT[DATES[1]] + np.array([0.0, 6.0, -4.0])  # 7 mm off the prediction
    session.correct_position("T1", clicked, DATES[1])
    point, source = session.predicted_position("T1", DATES[1])
    assert source == DATES[1]
    assert np.allclose(point, clicked)


def test_a_later_time_point_propagates_from_the_correction(session):
    clicked = CENTRE + SHIFT[DATES[1]] + np.array([2.0, 6.0, -4.0])
    session.correct_position("T1", clicked, DATES[1])
    point, source = session.predicted_position("T1", DATES[2])
    # follow-up 1 → baseline (minus its shift) → follow-up 2 (plus its shift)
    assert source == DATES[1]
    assert np.allclose(point, clicked - SHIFT[DATES[1]] + SHIFT[DATES[2]])


def test_a_line_at_the_earlier_time_point_wins_over_its_correction(session):
    session.correct_position("T1", CENTRE + 30.0, DATES[1])
    session.go_to(DATES[1])
    line = np.asarray(LINE) + SHIFT[DATES[1]]
    session.record_line("T1", "long", LineRecord(line.tolist()))
    point, source = session.predicted_position("T1", DATES[2])
    assert source == DATES[1]
    assert np.allclose(point, CENTRE + SHIFT[DATES[2]])  # from the line, not the correction


@pytest.mark.parametrize("how", ["restart", "re-registered"])
def test_the_correction_survives(tmp_path, session, how):
    clicked = CENTRE + SHIFT[DATES[1]] + 3.0
    session.correct_position("T1", clicked, DATES[1])
    if how == "restart":
        session.store.close()
        store = ReadStore(tmp_path / "reads.sqlite")
        session = ReadingSession(store, store.open_read("P1", "R1"), DATES)
    else:  # a new registration of the same follow-up keeps the reader's corrections
        session.save_registration(DATES[1], _shift(SHIFT[DATES[1]] + 1.0))
    point, source = session.predicted_position("T1", DATES[1])
    assert (source, point.tolist()) == (DATES[1], clicked.tolist())


def test_none_forgets_the_correction(session):
    session.correct_position("T1", CENTRE, DATES[1])
    session.correct_position("T1", None, DATES[1])
    assert session.predicted_position("T1", DATES[1])[1] == DATES[0]


def test_a_follow_up_without_registration_gets_an_identity_one_with_the_correction(tmp_path):
    store = ReadStore(tmp_path / "reads.sqlite")
    s = ReadingSession(store, store.open_read("P1", "R1"), DATES)
    s.new_lesion("target", "liver")
    s.record_line("T1", "long", LineRecord(LINE))
    s.correct_position("T1", [1.0, 2.0, 3.0], DATES[2])
    reg = s.registration(DATES[2])
    assert reg.method == "identity" and np.allclose(reg.to_followup_mm(CENTRE), CENTRE)
    assert s.predicted_position("T1", DATES[2])[0].tolist() == [1.0, 2.0, 3.0]
    store.close()


@pytest.mark.parametrize("lesion_id,date,message", [
    ("T1", DATES[0], "baseline is where lesions are measured"),
    ("T9", DATES[1], "T9"),
])
def test_a_correction_that_cannot_be_is_refused(session, lesion_id, date, message):
    with pytest.raises(ResponseToolError, match=message):
        session.correct_position(lesion_id, CENTRE, date)


@pytest.mark.parametrize("date,message", [(DATES[0], "baseline is the reference"),
                                          ("2027-01-01", "not a time point of this read")])
def test_saving_a_registration_for_a_wrong_date_is_refused(session, date, message):
    with pytest.raises(ResponseToolError, match=message):
        session.save_registration(date, _shift(np.zeros(3)))


def test_located_round_trips_through_json_and_old_json_still_loads():
    reg = _shift(np.array([1.0, 2.0, 3.0])).with_located("T1", [4.0, 5.0, 6.0])
    assert Registration.from_json(reg.to_json()) == reg
    old = json.loads(reg.to_json())
    del old["located"]  # as saved before corrections existed
    assert Registration.from_json(json.dumps(old)).located == ()
