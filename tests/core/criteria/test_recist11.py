"""RECIST 1.1 time-point response: every line of Tables 1 and 2, and every threshold's boundary."""

from __future__ import annotations

import pytest
from helpers import row, run, sums

# (test id, rows builder, expected target, non-target, new, overall, rule id)
TABLE_1 = [
    ("T1-R1 CR/CR/no", sums([20, 10], [0, 0], non_target=["absent"]), "CR", "CR", "no", "CR",
     "RECIST1.1-T1-R1"),
    ("T1-R1 CR/no non-target disease", sums([20, 10], [0, 0]), "CR", "NONE", "no", "CR",
     "RECIST1.1-T1-R1"),
    ("T1-R2 CR/non-CR", sums([20, 10], [0, 0], non_target=["present"]), "CR", "NON-CR/NON-PD", "no",
     "PR", "RECIST1.1-T1-R2"),
    ("T1-R3 CR/not evaluated", sums([20, 10], [0, 0], non_target=["not-evaluated"]), "CR", "NE", "no",
     "PR", "RECIST1.1-T1-R3"),
    ("T1-R4 PR/non-PD", sums([20, 10], [10, 10], non_target=["present"]), "PR", "NON-CR/NON-PD",
     "no", "PR", "RECIST1.1-T1-R4"),
    ("T1-R4 PR/not evaluated", sums([20, 10], [10, 10], non_target=["not-evaluated"]), "PR", "NE",
     "no", "PR", "RECIST1.1-T1-R4"),
    ("T1-R5 SD/non-PD", sums([20, 10], [18, 10], non_target=["present"]), "SD", "NON-CR/NON-PD",
     "no", "SD", "RECIST1.1-T1-R5"),
    ("T1-R5 SD/not evaluated", sums([20, 10], [18, 10], non_target=["not-evaluated"]), "SD", "NE",
     "no", "SD", "RECIST1.1-T1-R5"),
    ("T1-R6 NE/non-PD", sums([20, 10], [18, "NE"], non_target=["present"]), "NE", "NON-CR/NON-PD",
     "no", "NE", "RECIST1.1-T1-R6"),
    ("T1-R7 PD/any/any", sums([20, 10], [30, 10], non_target=["present"]), "PD", "NON-CR/NON-PD",
     "no", "PD", "RECIST1.1-T1-R7"),
    ("T1-R8 any/PD", sums([20, 10], [18, 10], non_target=["progression"]), "SD", "PD", "no", "PD",
     "RECIST1.1-T1-R8"),
    ("T1-R9 new lesion", sums([20, 10], [10, 10], new=["measured"]), "PR", "NONE", "yes", "PD",
     "RECIST1.1-T1-R9"),
]


@pytest.mark.parametrize(("rows", "target", "non_target", "new", "overall", "rule_id"),
                         [c[1:] for c in TABLE_1], ids=[c[0] for c in TABLE_1])
def test_table_1_lines(rows, target, non_target, new, overall, rule_id):
    (tp,) = run(rows).to_dict("records")
    assert (tp["target_response"], tp["non_target_response"], tp["new_lesions"],
            tp["overall_response"], tp["rule_id"]) == (target, non_target, new, overall, rule_id)
    assert "Table 1" in tp["rule_source"]


def _nt_only(status: str, new: str = "") -> list[dict]:
    rows = [row(0, "NT1", "non-target", "present"), row(8, "NT1", "non-target", status)]
    if new:
        rows.append(row(8, "NEW1", "new", new, long=15))
    return rows


TABLE_2 = [
    ("T2-R1 CR", _nt_only("absent"), "CR", "RECIST1.1-T2-R1"),
    ("T2-R2 non-CR/non-PD", _nt_only("present"), "NON-CR/NON-PD", "RECIST1.1-T2-R2"),
    ("T2-R3 not evaluated", _nt_only("not-evaluated"), "NE", "RECIST1.1-T2-R3"),
    ("T2-R4 unequivocal PD", _nt_only("progression"), "PD", "RECIST1.1-T2-R4"),
    ("T2-R5 new lesion", _nt_only("present", new="present"), "PD", "RECIST1.1-T2-R5"),
]


@pytest.mark.parametrize(("rows", "overall", "rule_id"), [c[1:] for c in TABLE_2],
                         ids=[c[0] for c in TABLE_2])
def test_table_2_lines(rows, overall, rule_id):
    (tp,) = run(rows).to_dict("records")
    assert tp["target_response"] == "NONE"
    assert (tp["overall_response"], tp["rule_id"]) == (overall, rule_id)


BOUNDARIES = [
    # baseline sum 100 (60 + 40) unless stated
    ("-29.9 % is SD", sums([60, 40], [60, 10.1]), "SD"),
    ("-30.0 % is PR", sums([60, 40], [60, 10]), "PR"),
    ("-30.0 % of 30 mm (21.0) is PR despite 0.7*30 != 21 in binary", sums([20, 10], [14, 7]), "PR"),
    ("+20 % but only +4.9 mm over the nadir is not PD", sums([12.25, 12.25], [14.7, 14.7]), "SD"),
    ("+20.4 % and +5.0 mm over the nadir is PD", sums([12.25, 12.25], [14.75, 14.75]), "PD"),
    ("+19.9 % and +19.9 mm is not PD", sums([60, 40], [60, 59.9]), "SD"),
    ("+20 % and +20 mm is PD", sums([60, 40], [60, 60]), "PD"),
    ("nadir, not baseline, is the PD reference", sums([60, 40], [30, 20], [36, 24]), "PD"),
]


@pytest.mark.parametrize(("rows", "target"), [c[1:] for c in BOUNDARIES],
                         ids=[c[0] for c in BOUNDARIES])
def test_thresholds_at_their_boundaries(rows, target):
    assert run(rows)["target_response"].iloc[-1] == target


def test_pd_needs_both_20_percent_and_5_mm_exactly_at_the_edges():
    # nadir 25: +20 % = 30.0 and +5.0 mm = 30.0 → PD (both inclusive)
    assert run(sums([15, 10], [18, 12]))["target_response"].iloc[0] == "PD"
    # nadir 25: 29.9 → +19.6 %, +4.9 mm → SD
    assert run(sums([15, 10], [17.9, 12]))["target_response"].iloc[0] == "SD"


def _nodes(short_at_followup: float, other: float = 0.0) -> list[dict]:
    return [row(0, "T1", long=20), row(0, "N1", short=16, organ="lymph node", nodal=True),
            row(8, "T1", status="absent" if other == 0 else "measured", long=other or None),
            row(8, "N1", short=short_at_followup, organ="lymph node", nodal=True)]


@pytest.mark.parametrize(("short", "target"), [(9.9, "CR"), (10.0, "PR")], ids=["9.9mm", "10.0mm"])
def test_nodal_short_axis_at_cr(short, target):
    tp = run(_nodes(short)).iloc[0]
    assert tp["target_response"] == target
    assert tp["sum_mm"] == pytest.approx(short)  # the sum may be > 0 at CR


def test_too_small_counts_5_mm_and_is_not_cr():
    tp = run(sums([20, 10], ["too-small", "too-small"])).iloc[0]
    assert tp["sum_mm"] == 10.0 and tp["target_response"] == "PR"
    tp = run(sums([20, 10], ["too-small", "too-small"]), too_small_mm=3.0).iloc[0]
    assert tp["sum_mm"] == 6.0


def test_missing_target_is_ne_unless_pd_is_already_proven():
    ne = run(sums([20, 10], [20, "NE"])).iloc[0]
    assert (ne["target_response"], ne["target_rule_id"]) == ("NE", "RECIST1.1-TGT-NE")
    assert ne["targets_not_evaluated"] == 1 and ne["sum_mm"] != ne["sum_mm"]  # NaN: incomplete
    proven = run(sums([20, 10], [40, "NE"])).iloc[0]
    assert (proven["target_response"], proven["target_rule_id"]) == ("PD", "RECIST1.1-TGT-PD-PARTIAL")


def test_ne_time_point_is_not_the_nadir():
    out = run(sums([20, 10], [10, "NE"], [14, 8]))
    assert out["nadir_sum_mm"].iloc[1] == 30.0  # the NE time point does not lower the nadir
    assert out["target_response"].tolist() == ["NE", "SD"]


def test_reappearance_after_cr_is_pd_even_below_5_mm():
    out = run(sums([20, 10], [0, 0], [3, 0]))
    assert out["target_response"].tolist() == ["CR", "PD"]
    assert out["target_rule_id"].iloc[1] == "RECIST1.1-TGT-PD-REAPPEAR"


def test_equivocal_new_lesion_is_not_pd_until_confirmed_and_then_dates_back():
    out = run(sums([20, 10], [18, 10], [18, 10], new=["equivocal", "measured"]))
    assert out["new_lesions"].tolist() == ["equivocal", "yes"]
    assert out["overall_response"].tolist() == ["SD", "PD"]
    assert out["new_lesion_first_seen"].iloc[1] == out["timepoint_date"].iloc[0]


def test_changes_from_baseline_and_nadir_are_reported():
    out = run(sums([60, 40], [30, 20], [36, 24]))
    last = out.iloc[1]
    assert (last["baseline_sum_mm"], last["nadir_sum_mm"], last["sum_mm"]) == (100, 50, 60)
    assert last["pct_change_from_baseline"] == pytest.approx(-40.0)
    assert last["pct_change_from_nadir"] == pytest.approx(20.0)
    assert last["abs_change_from_nadir_mm"] == pytest.approx(10.0)


def test_baseline_checks_warn_with_lesion_limit_and_source_and_record_overrides():
    from response_tool.assessment import AssessmentOptions, assess

    rows = [row(0, f"T{i}", long=20, organ="liver") for i in range(1, 4)]  # 3 in the liver
    rows += [row(0, "T4", long=9.9, organ="lung"), row(0, "T5", long=30, organ="bone"),
             row(0, "T6", long=30, organ="kidney", override_reason="radiologist: keep"),
             row(0, "N1", short=14.9, organ="lymph node", nodal=True)]
    import pandas as pd

    w = assess(pd.DataFrame(rows), AssessmentOptions(criteria=("recist1.1",))).warnings
    checks = dict(zip(w["lesion_id"] + ":" + w["check_id"], w["overridden"], strict=True))
    assert checks == {
        "T3:RECIST1.1-MAX-2-PER-ORGAN": False,
        "T4:RECIST1.1-MEASURABLE-10MM": False,
        "N1:RECIST1.1-NODE-15MM": False,
        "T6:RECIST1.1-MAX-5-TARGETS": True,
        "N1:RECIST1.1-MAX-5-TARGETS": False,
    }
    assert set(w["source"].str.startswith("Eisenhauer")) == {True}
    t6 = w[w["lesion_id"] == "T6"].iloc[0]
    assert t6["override_reason"] == "radiologist: keep" and t6["limit"] == "5 lesions"


def test_thick_slices_raise_the_measurable_minimum():
    import pandas as pd

    from response_tool.assessment import assess

    rows = [row(0, "T1", long=12, slice_thickness_mm=8), row(0, "T2", long=16, slice_thickness_mm=8)]
    w = assess(pd.DataFrame(rows), criteria=("recist1.1",)).warnings
    assert w["lesion_id"].tolist() == ["T1"]
    assert "< 16 mm" in w["message"].iloc[0]
