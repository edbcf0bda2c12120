"""mRECIST: viable (arterially enhancing) diameters, its options and its special rules."""

from __future__ import annotations

import pytest
from helpers import row, run


def _read(viable_fu: tuple[float, float], total_fu: tuple[float, float] = (40, 30), **extra):
    rows = [row(0, "T1", long=40, viable=40), row(0, "T2", long=30, viable=30, organ="liver")]
    rows += [row(8, "T1", long=total_fu[0], viable=viable_fu[0]),
             row(8, "T2", long=total_fu[1], viable=viable_fu[1])]
    return rows


def test_cr_when_no_target_enhances_although_the_tumours_remain():
    tp = run(_read((0, 0)), criteria=("mrecist", "recist1.1"))
    by = {r["criterion"]: r for r in tp.to_dict("records")}
    assert by["mrecist"]["target_response"] == "CR"
    assert by["mrecist"]["sum_mm"] == 0
    assert by["recist1.1"]["target_response"] == "SD" and by["recist1.1"]["sum_mm"] == 70


@pytest.mark.parametrize(("viable", "target"), [((28, 21.1), "SD"), ((28, 21.0), "PR")],
                         ids=["-29.9%", "-30.0%"])
def test_pr_boundary_on_the_viable_sum(viable, target):
    assert run(_read(viable), criteria=("mrecist",))["target_response"].iloc[0] == target


def _pd_read():
    # viable baseline 20 → nadir 10 → 12.0 (+20 %, +2 mm)
    return [row(0, "T1", long=40, viable=20), row(8, "T1", long=40, viable=10),
            row(16, "T1", long=40, viable=12)]


def test_pd_has_no_absolute_floor_by_default():
    out = run(_pd_read(), criteria=("mrecist",))
    assert out["target_response"].tolist() == ["PR", "PD"]


def test_the_5_mm_floor_option():
    out = run(_pd_read(), criteria=("mrecist",), mrecist_pd_min_mm=5.0)
    assert out["target_response"].tolist() == ["PR", "PR"]  # +2 mm < 5 mm; still −40 % from baseline


def test_a_target_without_arterial_enhancement_at_baseline_follows_recist():
    rows = [row(0, "T1", long=40, viable=40), row(0, "T2", long=30),  # T2 does not enhance
            row(8, "T1", long=40, viable=10), row(8, "T2", long=30)]
    tp = run(rows, criteria=("mrecist",)).iloc[0]
    assert tp["sum_mm"] == 40  # 10 viable + 30 total
    assert tp["target_response"] == "PR"


def test_new_porta_hepatis_node_counts_only_from_20_mm_short_axis():
    base = [row(0, "T1", long=40, viable=40), row(8, "T1", long=40, viable=40)]
    small = base + [row(8, "N9", "new", short=18, organ="porta hepatis", nodal=True)]
    large = base + [row(8, "N9", "new", short=20, organ="porta hepatis", nodal=True)]
    out = run(small, criteria=("mrecist", "recist1.1"))
    assert dict(zip(out["criterion"], out["overall_response"], strict=True)) == {
        "mrecist": "SD", "recist1.1": "PD"}
    assert run(large, criteria=("mrecist",))["overall_response"].iloc[0] == "PD"


@pytest.mark.parametrize(("cytology", "overall"), [("false", "SD"), ("true", "PD")],
                         ids=["no-cytology", "cytology-proven"])
def test_effusion_counts_only_with_cytology(cytology, overall):
    rows = [row(0, "T1", long=40, viable=40), row(8, "T1", long=40, viable=40),
            row(8, "E1", "new", "present", organ="ascites", cytology_proven=cytology)]
    assert run(rows, criteria=("mrecist",))["overall_response"].iloc[0] == overall


def test_new_intrahepatic_lesion_under_10_mm_is_equivocal():
    rows = [row(0, "T1", long=40, viable=40), row(8, "T1", long=40, viable=40),
            row(8, "NEW1", "new", long=9.9)]
    tp = run(rows, criteria=("mrecist",)).iloc[0]
    assert (tp["new_lesions"], tp["overall_response"]) == ("equivocal", "SD")
    rows[-1] = row(8, "NEW1", "new", long=10.0)
    assert run(rows, criteria=("mrecist",))["overall_response"].iloc[0] == "PD"


def test_non_target_cr_when_enhancement_is_gone():
    rows = [row(0, "T1", long=40, viable=40), row(0, "NT1", "non-target", "present", viable=8),
            row(8, "T1", long=40, viable=0), row(8, "NT1", "non-target", "present", viable=0)]
    tp = run(rows, criteria=("mrecist",)).iloc[0]
    assert (tp["non_target_response"], tp["overall_response"]) == ("CR", "CR")


def test_phantom_ground_truth_gives_the_expected_responses(phantom_dir):
    import json

    from response_tool.assessment import assess

    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    tp = assess(phantom_dir / "ground_truth_measurements.csv").timepoints
    fu = tp[~tp["is_baseline"]]
    labels = {t["date"]: t["label"] for t in gt["timepoints"]}
    for rec in fu.to_dict("records"):
        expected = gt["expected_responses"][labels[f"{rec['timepoint_date']:%Y-%m-%d}"]][rec["criterion"]]
        assert (rec["target_response"], rec["non_target_response"], rec["new_lesions"],
                rec["overall_response"]) == (expected["target"], expected["non_target"],
                                             expected["new_lesions"], expected["overall"])


@pytest.mark.parametrize(("third_viable", "target", "rule"), [
    ((0, 0), "CR", "MRECIST-TGT-CR"),              # stays without enhancement: still CR
    ((0.1, 0), "PD", "MRECIST-TGT-PD"),            # any enhancement over a nadir of 0
], ids=["sum-stays-0", "enhancement-returns"])
def test_a_target_cr_that_persists_is_not_progression(third_viable, target, rule):
    # found by the synthetic cohort: a viable sum of 0 after a CR was called PD (0 >= 0 x 1.2 and
    # the 0 mm floor), so no mRECIST CR was ever confirmed
    rows = _read((0, 0)) + [row(16, "T1", long=35, viable=third_viable[0]),
                            row(16, "T2", long=25, viable=third_viable[1], organ="liver")]
    out = run(rows, criteria=("mrecist",))
    assert out["target_response"].tolist() == ["CR", target]
    assert out["target_rule_id"].iloc[1] == rule
