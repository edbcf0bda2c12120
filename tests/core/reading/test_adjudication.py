"""Several blinded readers in one store: fixed targets, comparison, and the adjudicated read."""

from __future__ import annotations

import pytest

from response_tool.domain.errors import ResponseToolError
from response_tool.reading.adjudication import (
    ADJUDICATOR,
    DIFF_MM,
    compare,
    start_adjudication,
    take_value,
)
from response_tool.reading.store import ReadKey, ReadStore

BASE, FU = "2026-01-12", "2026-03-09"


def _read(store: ReadStore, reader: str, t1: tuple[float, float], t2: tuple[float, float],
          nt_fu: str = "present") -> ReadKey:
    key = store.open_read("P1", reader)
    for date in (BASE, FU):
        store.add_timepoint(key, date)
    if not store.lesions(key):
        store.add_lesion(key, "target", "liver")
        store.add_lesion(key, "target", "liver")
        store.add_lesion(key, "non-target", "liver")
    for date, (a, b) in ((BASE, (t1[0], t2[0])), (FU, (t1[1], t2[1]))):
        store.set_measurement(key, "T1", date, long_axis_mm=a, viable_long_axis_mm=a,
                              long_endpoints=[[0, 0, 0], [0, 0, a]])
        store.set_measurement(key, "T2", date, long_axis_mm=b, viable_long_axis_mm=b)
    store.set_measurement(key, "NT1", BASE, status="present")
    store.set_measurement(key, "NT1", FU, status=nt_fu)
    return key


@pytest.fixture
def store(tmp_path):
    s = ReadStore(tmp_path / "reads.sqlite")
    yield s
    s.close()


def test_fixed_targets_copy_lesions_without_their_sizes(store):
    lead = _read(store, "R1", (40, 30), (30, 20))
    other = ReadKey("P1", "R2")
    copied = store.copy_lesions(lead, other)
    lead_ids = [les.lesion_id for les in store.lesions(lead)]
    assert sorted(copied) == ["NT1", "T1", "T2"]
    assert [les.lesion_id for les in store.lesions(other)] == lead_ids  # same order
    assert store.measurements(other) == []  # blind: the lead's diameters are not copied
    assert store.copy_lesions(lead, other) == []  # idempotent


@pytest.mark.parametrize(("r1", "r2", "differs"), [
    (40.0, 40.0 + DIFF_MM, False),   # 2 mm apart: not more than 2 mm
    (40.0, 44.1, False),             # 4.1 mm but 9.75 % of the mean 42.05
    (40.0, 45.0, True),              # 5 mm and 11.8 %
    (10.0, 11.9, False),             # 17 % but 1.9 mm
    (10.0, 12.1, True),              # 2.1 mm and 19 %
], ids=["2.0mm", "4.1mm-9.75pct", "5mm-11.8pct", "1.9mm-17pct", "2.1mm-19pct"])
def test_a_difference_needs_both_mm_and_percent(store, r1, r2, differs):
    _read(store, "R1", (r1, 30), (30, 20))
    _read(store, "R2", (r2, 30), (30, 20))
    c = compare(store, "P1")
    row = c.lesions[(c.lesions["date"] == BASE) & (c.lesions["lesion_id"] == "T1")].iloc[0]
    assert bool(row["differs"]) is differs


def test_compare_flags_values_statuses_and_responses(store):
    _read(store, "R1", (40, 20), (30, 15))                      # T sum 70 -> 35: PR
    _read(store, "R2", (40, 30), (30, 28), nt_fu="progression")  # NT progression: PD
    c = compare(store, "P1")
    assert c.readers == ["R1", "R2"]
    flagged = set(zip(c.differing()["date"], c.differing()["lesion_id"], strict=True))
    assert flagged == {(FU, "T1"), (FU, "T2"), (FU, "NT1")}  # 20 vs 30, 15 vs 28, status
    fu = c.responses[(c.responses["date"] == FU) & (c.responses["criterion"] == "recist1.1")]
    assert fu[["R1", "R2"]].iloc[0].tolist() == ["PR", "PD"] and bool(fu["differs"].iloc[0])


def test_adjudicated_read_is_its_own_reader(store):
    _read(store, "R1", (40, 20), (30, 15))
    r2 = _read(store, "R2", (40, 30), (30, 28), nt_fu="progression")
    adj = start_adjudication(store, "P1", "R1")
    assert adj == ReadKey("P1", ADJUDICATOR)
    assert store.readers("P1") == ["ADJ", "R1", "R2"]
    take_value(store, "P1", "R2", "NT1", FU)
    m = {(x.lesion_id, x.date): x for x in store.measurements(adj)}
    assert m["NT1", FU].status == "progression"
    assert m["T1", BASE].long_endpoints == ((0, 0, 0), (0, 0, 40))  # endpoints copied
    # the readers' reads are untouched, and ADJ is left out of the comparison by default
    assert {x.lesion_id: x.status for x in store.measurements(r2) if x.date == FU}[
        "NT1"] == "progression"
    assert compare(store, "P1").readers == ["R1", "R2"]
    # restarting ADJ from another reader replaces it wholly
    start_adjudication(store, "P1", "R2")
    m = {(x.lesion_id, x.date): x for x in store.measurements(adj)}
    assert m["T2", FU].long_axis_mm == 28


def test_comparison_needs_two_readers(store):
    _read(store, "R1", (40, 20), (30, 15))
    with pytest.raises(ResponseToolError, match="at least two readers"):
        compare(store, "P1")
    with pytest.raises(ResponseToolError, match="by R9"):
        compare(store, "P1", ["R1", "R9"])
    store.open_read("P1", ADJUDICATOR)
    with pytest.raises(ResponseToolError, match="from one of the readers"):
        start_adjudication(store, "P1", ADJUDICATOR)
