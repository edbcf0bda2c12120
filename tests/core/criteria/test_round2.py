"""Engine correctness, round 2 (issue 11): reappearance after CR and new-lesion size rules.

Each case names the sentence of the source it checks.
"""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import row, run

from response_tool.assessment import AssessmentOptions, assess

BOTH = ("recist1.1", "mrecist")


@pytest.mark.parametrize("criteria,options,name,target", [
    (("recist1.1",), {}, "RECIST1.1", "PR"),
    (("mrecist",), {"mrecist_pd_min_mm": 5.0}, "MRECIST", "PR"),
    (("mrecist",), {}, "MRECIST", "PD"),  # no absolute floor by default: 0 -> 4 mm viable is PD
])
def test_reappearance_after_a_target_cr_without_an_overall_cr_follows_the_sum_rule(
        criteria, options, name, target):
    """RECIST 1.1 section 4.4.2, Table 3 footnote and the RECIST WG FAQ: reappearance is PD only
    after an *overall* CR. Targets gone, a non-target persists (overall PR), one target back at
    4 mm: the sum rule (>= 20 % and >= 5 mm over the nadir of 0) is not met -> PR, not PD. Under
    mRECIST's default (no absolute floor, Lencioni 2010 Table 1) the sum rule alone gives PD."""
    rows = [row(0, "T1", long=20, viable=20), row(0, "T2", long=10, viable=10),
            row(0, "NT1", "non-target", "present", organ="peritoneum")]
    rows += [row(8, "T1", status="absent"), row(8, "T2", status="absent"),
             row(8, "NT1", "non-target", "present", organ="peritoneum")]
    rows += [row(16, "T1", long=4, viable=4), row(16, "T2", status="absent"),
             row(16, "NT1", "non-target", "present", organ="peritoneum")]
    out = run(rows, criteria, **options)
    assert out["target_response"].tolist() == ["CR", target]
    assert out["overall_response"].tolist() == ["PR", target]
    assert out["target_rule_id"].iloc[1] == f"{name}-TGT-{target}"


@pytest.mark.parametrize("back_mm,target", [(4.0, "PR"), (5.0, "PD")])
def test_without_an_overall_cr_a_target_back_from_zero_needs_5_mm(back_mm, target):
    """RECIST 1.1 section 4.3.1: PD needs >= 20 % over the nadir and >= 5 mm absolute; with a nadir
    of 0 mm (all targets gone, a non-target still there) the 5 mm decides: 4.0 mm no, 5.0 mm yes."""
    rows = [row(0, "T1", long=30), row(0, "NT1", "non-target", "present", organ="bone"),
            row(8, "T1", status="absent"), row(8, "NT1", "non-target", "present", organ="bone"),
            row(16, "T1", long=back_mm), row(16, "NT1", "non-target", "present", organ="bone")]
    out = run(rows)
    assert out["target_response"].tolist() == ["CR", target]


@pytest.mark.parametrize("criteria,name", [(("recist1.1",), "RECIST1.1"), (("mrecist",), "MRECIST")])
def test_a_target_reappearing_after_an_overall_cr_is_pd_at_any_size(criteria, name):
    """RECIST 1.1 Table 3 footnote: after a true (overall) CR, any reappearance is PD (3 mm:
    below the 5 mm the sum rule would need)."""
    rows = [row(0, "T1", long=20, viable=20), row(8, "T1", status="absent"),
            row(16, "T1", long=3, viable=3)]
    out = run(rows, criteria, mrecist_pd_min_mm=5.0)
    assert out["overall_response"].tolist() == ["CR", "PD"]
    assert out["target_rule_id"].iloc[1] == f"{name}-TGT-PD-REAPPEAR"


@pytest.mark.parametrize("criteria,name", [(("recist1.1",), "RECIST1.1"), (("mrecist",), "MRECIST")])
def test_a_non_target_seen_again_after_an_overall_cr_is_pd(criteria, name):
    """RECIST 1.1 section 4.4.2, Table 3 footnote a: any disease reappearing after an overall CR
    is PD, non-target lesions included (it gave PR before)."""
    rows = [row(0, "T1", long=20, viable=20), row(0, "NT1", "non-target", "present", organ="bone"),
            row(8, "T1", status="absent"), row(8, "NT1", "non-target", "absent", organ="bone"),
            row(16, "T1", status="absent"), row(16, "NT1", "non-target", "present", organ="bone")]
    out = run(rows, criteria)
    assert out["overall_response"].tolist() == ["CR", "PD"]
    assert out["non_target_response"].iloc[1] == "PD"
    assert out["non_target_rule_id"].iloc[1] == f"{name}-NT-PD-REAPPEAR"


def test_a_non_target_not_evaluated_after_cr_is_not_reappearance():
    rows = [row(0, "T1", long=20), row(0, "NT1", "non-target", "present", organ="bone"),
            row(8, "T1", status="absent"), row(8, "NT1", "non-target", "absent", organ="bone"),
            row(16, "T1", status="absent"), row(16, "NT1", "non-target", "not-evaluated", organ="bone")]
    out = run(rows)
    assert out["non_target_response"].tolist() == ["CR", "NE"]
    assert out["overall_response"].tolist() == ["CR", "PR"]  # Table 1: target CR, non-target NE


def _new(status: str, organ: str = "liver", long: float | None = None,
         short: float | None = None, nodal: bool = False) -> list[dict[str, object]]:
    return [row(0, "T1", long=40, viable=30), row(8, "T1", long=40, viable=30),
            row(8, "NEW1", "new", status, organ=organ, long=long, short=short, nodal=nodal)]


@pytest.mark.parametrize("status,organ,long_mm,mrecist_new", [
    ("measured", "liver", 9.9, "equivocal"),
    ("measured", "liver", 10.0, "yes"),
    ("too-small", "liver", None, "equivocal"),
    ("present", "liver", None, "equivocal"),
    ("measured", "liver segment 8", 9.0, "equivocal"),
    ("measured", "Liver (S4a)", 12.0, "yes"),
    ("measured", "lung", 6.0, "yes"),          # extrahepatic: the RECIST 1.1 rule (any size)
    ("present", "bone", None, "yes"),
])
def test_mrecist_new_intrahepatic_lesions_need_10_mm(status, organ, long_mm, mrecist_new):
    """Lencioni & Llovet 2010, new lesions: a new intrahepatic lesion counts when >= 10 mm; one
    below it, too small to measure or not measured is equivocal (a warning says so). Liver
    segments are the liver. RECIST 1.1 counts each of them."""
    rows = _new(status, organ, long_mm)
    result = assess(pd.DataFrame(rows), AssessmentOptions(criteria=BOTH))
    fu = result.timepoints[~result.timepoints["is_baseline"]].set_index("criterion")
    assert fu.loc["mrecist", "new_lesions"] == mrecist_new
    assert fu.loc["recist1.1", "new_lesions"] == "yes"
    assert fu.loc["mrecist", "overall_response"] == ("PD" if mrecist_new == "yes" else "SD")
    warned = result.new_lesion_warnings
    assert (len(warned[warned["criterion"] == "mrecist"]) > 0) == (mrecist_new == "equivocal")
    if mrecist_new == "equivocal":
        assert set(warned["check_id"]) == {"MRECIST-NEW-10MM"}
        assert "NEW1" in result.summary() and "equivocal" in result.summary()


@pytest.mark.parametrize("short_mm,new", [(9.9, "equivocal"), (10.0, "yes"), (None, "yes")])
def test_a_new_node_below_10_mm_short_axis_is_a_normal_node(short_mm, new):
    """RECIST 1.1 section 3.1.1 and the WG FAQ 'New lymph node lesions': a node below 10 mm short
    axis is normal; a 'new' one is not PD (equivocal, with a warning). Unmeasured: counted."""
    rows = _new("measured" if short_mm else "present", "lymph node", None, short_mm, nodal=True)
    result = assess(pd.DataFrame(rows), AssessmentOptions(criteria=BOTH))
    fu = result.timepoints[~result.timepoints["is_baseline"]]
    assert fu["new_lesions"].tolist() == [new, new]
    warned = result.new_lesion_warnings
    assert (warned["check_id"] == "RECIST1.1-NODE-10MM").any() == (new == "equivocal")


def test_organ_names_are_one_vocabulary_for_the_per_organ_limit():
    """RECIST 1.1 section 3.3: at most 2 targets per organ; left and right lung are one organ
    (lungs), liver segments are the liver."""
    from response_tool.domain.vocabulary import normalise_organ

    assert {normalise_organ(o) for o in ("liver", "Liver segment 8", "S4a", "segment VII")} == {"liver"}
    assert {normalise_organ(o) for o in ("left lung", "Right Lung", "lung")} == {"lung"}
    assert normalise_organ("para-aortic lymph node") == "lymph node"
    assert normalise_organ("porta hepatis node") == "porta hepatis"
    rows = [row(0, "T1", long=20, organ="left lung"), row(0, "T2", long=20, organ="right lung"),
            row(0, "T3", long=20, organ="lung"), row(8, "T1", long=20, organ="left lung"),
            row(8, "T2", long=20, organ="right lung"), row(8, "T3", long=20, organ="lung")]
    result = assess(pd.DataFrame(rows))
    per_organ = result.warnings[result.warnings["check_id"] == "RECIST1.1-MAX-2-PER-ORGAN"]
    assert per_organ["lesion_id"].tolist() == ["T3"]


# -- the readings the texts leave open: each an option, both values tested -----------------------
@pytest.mark.parametrize("prevail,target", [(True, "CR"), (False, "PD")])
def test_normal_target_nodes_with_a_rising_sum(prevail, target):
    """RECIST 1.1 section 4.4.4 records normal node sizes 'in order not to overstate
    progression': three target nodes 4 -> 9 mm (all < 10 mm, sum 12 -> 27 mm: +125 %, +15 mm)
    are CR by default; the option lets the sum rule call PD."""
    rows = [row(0, f"N{i}", long=30, short=16, organ="lymph node", nodal=True) for i in (1, 2, 3)]
    rows += [row(8, f"N{i}", long=8, short=4, organ="lymph node", nodal=True) for i in (1, 2, 3)]
    rows += [row(16, f"N{i}", long=12, short=9, organ="lymph node", nodal=True) for i in (1, 2, 3)]
    out = run(rows, normal_nodes_cr_over_sum_pd=prevail)
    assert out["target_response"].tolist() == ["CR", target]


@pytest.mark.parametrize("floor_kept,target", [(True, "SD"), (False, "PD")])
def test_mrecist_without_an_enhancing_target_keeps_recist_s_5_mm_floor(floor_kept, target):
    """Lencioni & Llovet 2010: a target without arterial enhancement is measured per RECIST 1.1 —
    by default including its 5 mm floor: a non-enhancing lung target 20 -> 24.9 mm (+24.5 %,
    +4.9 mm) is not PD under mRECIST (it was)."""
    rows = [row(0, "T1", long=20, organ="lung"), row(8, "T1", long=20, organ="lung"),
            row(16, "T1", long=24.9, organ="lung")]
    out = run(rows, ("mrecist",), mrecist_recist_floor_without_enhancement=floor_kept)
    assert out["target_response"].tolist() == ["SD", target]


def test_mrecist_keeps_its_own_floor_when_a_target_enhances():
    rows = [row(0, "T1", long=40, viable=20), row(8, "T1", long=40, viable=20),
            row(16, "T1", long=40, viable=24.9)]
    assert run(rows, ("mrecist",))["target_response"].tolist() == ["SD", "PD"]


@pytest.mark.parametrize("carried,second", [(False, "SD"), (True, "PR")])
def test_pr_carried_forward_while_the_sum_drifts_back(carried, second):
    """RECIST WG FAQ 'Managing PR when TP measurements change slightly over time': 100 -> 65 mm
    (PR) -> 75 mm (-25 %, +15 % over the nadir: not PD) is SD by the strict definition, PR when
    the option carries it forward."""
    rows = [row(0, "T1", long=100), row(8, "T1", long=65), row(16, "T1", long=75)]
    out = run(rows, pr_carried_forward=carried)
    assert out["target_response"].tolist() == ["PR", second]
    if carried:
        assert out["target_rule_id"].iloc[1] == "RECIST1.1-TGT-PR-SUSTAINED"


@pytest.mark.parametrize("applies,bor", [(True, "NE"), (False, "NON-CR/NON-PD")])
def test_sd_minimum_for_non_cr_non_pd(applies, bor):
    """RECIST 1.1 section 4.4.1 names the SD minimum for SD; admiralonco applies it to
    NON-CR/NON-PD too (default). One NON-CR/NON-PD 3 weeks after baseline."""
    rows = [row(0, "NT1", "non-target", "present"), row(3, "NT1", "non-target", "present")]
    result = assess(pd.DataFrame(rows), AssessmentOptions(criteria=("recist1.1",),
                                                          sd_min_for_non_cr_non_pd=applies))
    assert result.best_response["best_overall_response"].tolist() == [bor]


@pytest.mark.parametrize("start,bor", [(None, "NE"), ("2025-12-15", "SD")])
def test_sd_minimum_counts_from_the_treatment_start_when_given(start, bor):
    """admiralonco's reference start date: SD 5 weeks after the baseline scan, which was 3 weeks
    before treatment started... counted from a treatment start 3 weeks *before* the scan it is
    8 weeks: SD counts."""
    rows = [row(0, "T1", long=40), row(5, "T1", long=38)]
    for r in rows:
        r["treatment_start_date"] = start or ""
    result = assess(pd.DataFrame(rows), AssessmentOptions(criteria=("recist1.1",)))
    assert result.best_response["best_overall_response"].tolist() == [bor]


def test_several_treatment_starts_for_one_patient_are_refused():
    rows = [row(0, "T1", long=40), row(5, "T1", long=38)]
    rows[0]["treatment_start_date"], rows[1]["treatment_start_date"] = "2025-12-15", "2025-12-16"
    with pytest.raises(Exception, match="several treatment start dates"):
        assess(pd.DataFrame(rows))


@pytest.mark.parametrize("markers,nt,overall", [("", "CR", "CR"), ("true", "CR", "CR"),
                                                ("false", "NON-CR/NON-PD", "PR")])
def test_non_target_cr_needs_normal_tumour_markers_where_recorded(markers, nt, overall):
    """RECIST 1.1 section 4.3.2: non-target CR is the disappearance of all non-target lesions and
    normalisation of tumour marker level."""
    rows = [row(0, "T1", long=30), row(0, "NT1", "non-target", "present", organ="bone"),
            row(8, "T1", status="absent"), row(8, "NT1", "non-target", "absent", organ="bone")]
    for r in rows:
        r["tumour_markers_normal"] = markers if r["timepoint_date"] != rows[0]["timepoint_date"] else ""
    out = run(rows)
    assert (out["non_target_response"].iloc[0], out["overall_response"].iloc[0]) == (nt, overall)


# -- partial dates (ISO 8601 / SDTM --DTC): refused, or completed by an explicit choice ----------
def _partial_rows(follow: str) -> list[dict[str, object]]:
    rows = [row(0, "T1", long=40), row(8, "T1", long=20)]
    rows[1]["timepoint_date"] = follow
    return rows


def test_a_partial_date_is_refused_by_default_with_what_to_do():
    with pytest.raises(Exception, match=r"partial date.*--impute-partial-dates"):
        assess(pd.DataFrame(_partial_rows("2026-03")))


@pytest.mark.parametrize("how,text,date", [
    ("first", "2026-03", "2026-03-01"), ("mid", "2026-03", "2026-03-15"),
    ("last", "2026-03", "2026-03-31"), ("last", "2026-02", "2026-02-28"),
    ("first", "2027", "2027-01-01"), ("mid", "2027", "2027-07-15"), ("last", "2027", "2027-12-31"),
])
def test_partial_dates_are_completed_as_asked_and_the_rows_named(how, text, date):
    result = assess(pd.DataFrame(_partial_rows(text)), impute_partial_dates=how)
    fu = result.timepoints[~result.timepoints["is_baseline"]]
    assert {f"{d:%Y-%m-%d}" for d in fu["timepoint_date"]} == {date}
    assert result.input_notes and f"{text} → {date}" in result.input_notes[0]
    assert "line(s) 3" in result.input_notes[0] and "input: 1 row(s)" in result.summary()


def test_an_impossible_partial_date_stays_an_error():
    with pytest.raises(Exception, match="not a date|partial date"):
        assess(pd.DataFrame(_partial_rows("2026-13")), impute_partial_dates="first")


def test_full_dates_need_no_imputation_and_get_no_note():
    result = assess(pd.DataFrame(_partial_rows("2026-03-02")), impute_partial_dates="first")
    assert result.input_notes == ()
