"""Issue 11, the last two items: lesions that split or coalesce (explicit columns), and the BOR's
PD back-dated to the first observation of an equivocal new lesion (an option, both values).

Each case names the sentence of the source it checks.
"""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import day, row, run

from response_tool.assessment import AssessmentOptions, assess
from response_tool.domain.errors import MeasurementInputError


def frag(week: float, lesion: str, parent: str, **kw: object) -> dict[str, object]:
    return row(week, lesion, fragment_of=parent, **kw)


def merged(week: float, lesion: str, into: str, **kw: object) -> dict[str, object]:
    return row(week, lesion, status=kw.pop("status", "present"), merged_into=into, **kw)


BASE = [row(0, "T1", long=40, viable=30), row(0, "T2", long=30, viable=20, organ="lung")]


# --- splits: RECIST 1.1 Appendix II, "the longest diameters of the fragmented portions should be
# --- added together to calculate the target lesion sum" --------------------------------------
@pytest.mark.parametrize("follow,sum_mm,target", [
    # T1 split into 20 + 15 (+ T2 30): 65 mm, -7 % -> SD
    ([row(8, "T1", long=20), frag(8, "T1.2", "T1", long=15), row(8, "T2", long=30, organ="lung")],
     65.0, "SD"),
    # the lesion's own row gone (absent), two fragments 10 + 4: 14 + 30 = 44 -> PR (-37 %)
    ([row(8, "T1", status="absent"), frag(8, "T1.2", "T1", long=10), frag(8, "T1.3", "T1", long=4),
      row(8, "T2", long=30, organ="lung")], 44.0, "PR"),
    # fragments only (no row for T1 itself): 12 + 13 + 24 = 49 -> PR (-30 % exactly)
    ([frag(8, "T1.1", "T1", long=12), frag(8, "T1.2", "T1", long=13),
      row(8, "T2", long=24, organ="lung")], 49.0, "PR"),
    # a too-small fragment counts too_small_mm (5): 30 + 5 + 30 = 65
    ([row(8, "T1", long=30), frag(8, "T1.2", "T1", status="too-small"),
      row(8, "T2", long=30, organ="lung")], 65.0, "SD"),
    # every part gone: 0 + T2 gone -> CR
    ([row(8, "T1", status="absent"), frag(8, "T1.2", "T1", status="absent"),
      row(8, "T2", status="absent", organ="lung")], 0.0, "CR"),
    # one fragment not evaluated: T1 not evaluated -> NE
    ([row(8, "T1", long=20), frag(8, "T1.2", "T1", status="not-evaluated"),
      row(8, "T2", long=30, organ="lung")], float("nan"), "NE"),
])
def test_a_split_target_is_the_sum_of_its_fragments(follow, sum_mm, target):
    out = run(BASE + follow)
    assert out["target_response"].iloc[0] == target
    assert out["n_targets"].iloc[0] == 2  # fragments are not extra targets
    if sum_mm == sum_mm:
        assert out["sum_mm"].iloc[0] == pytest.approx(sum_mm)
    else:
        assert pd.isna(out["sum_mm"].iloc[0])


def test_split_viable_diameters_are_added_too():
    """mRECIST keeps RECIST's measurement conventions (Lencioni & Llovet 2010): the viable
    diameters of the fragments are added (10 + 5 + T2 20 = 35 of 50 -> -30 % -> PR)."""
    out = run(BASE + [row(8, "T1", long=30, viable=10), frag(8, "T1.2", "T1", long=9, viable=5),
                      row(8, "T2", long=30, viable=20, organ="lung")], ("mrecist",))
    assert out["sum_mm"].iloc[0] == pytest.approx(35.0)
    assert out["target_response"].iloc[0] == "PR"


def test_the_summary_lists_the_fragment_rows():
    result = assess(pd.DataFrame(BASE + [row(8, "T1", long=20), frag(8, "T1.2", "T1", long=15),
                                         row(8, "T2", long=30, organ="lung")]))
    assert any("1 fragment row(s) added into their lesion" in n and "Appendix II" in n
               and "line(s) 5" in n for n in result.input_notes)
    assert "input: 1 fragment row(s)" in result.summary()


# --- merges: "the vector of the longest diameter in this instance should be the maximal longest
# --- diameter for the 'coalesced lesion'" ---------------------------------------------------
@pytest.mark.parametrize("carrier,sum_mm,target", [
    (row(8, "T1", long=50), 50.0, "SD"),            # T1 carries 50, T2 inside it: 50 of 70
    (row(8, "T1", long=45), 45.0, "PR"),            # 45 of 70: -35.7 %
    (row(8, "T1", status="absent"), 0.0, "CR"),      # both gone: CR is not hidden by T2
    (row(8, "T1", status="not-evaluated"), float("nan"), "NE"),
])
def test_a_merged_target_counts_zero_and_follows_its_carrier(carrier, sum_mm, target):
    out = run(BASE + [carrier, merged(8, "T2", "T1", organ="lung")])
    assert out["target_response"].iloc[0] == target
    if sum_mm == sum_mm:
        assert out["sum_mm"].iloc[0] == pytest.approx(sum_mm)


def test_a_merged_target_recorded_as_absent_the_old_way_still_works_the_same():
    """The explicit column gives the numbers the old convention (absent) gave; it says what
    happened instead of calling the absorbed lesion disappeared."""
    old = run(BASE + [row(8, "T1", long=50), row(8, "T2", status="absent", organ="lung")])
    new = run(BASE + [row(8, "T1", long=50), merged(8, "T2", "T1", organ="lung")])
    assert old["sum_mm"].tolist() == new["sum_mm"].tolist()
    assert old["target_response"].tolist() == new["target_response"].tolist()


def test_merged_non_targets_follow_their_carrier():
    rows = [row(0, "T1", long=40), row(0, "NT1", "non-target", "present", organ="peritoneum"),
            row(0, "NT2", "non-target", "present", organ="peritoneum"),
            row(8, "T1", long=40), row(8, "NT1", "non-target", "absent", organ="peritoneum"),
            merged(8, "NT2", "NT1", role="non-target", organ="peritoneum")]
    out = run(rows)
    assert out["non_target_response"].iloc[0] == "CR"


@pytest.mark.parametrize("rows,column,message", [
    ([row(0, "T1", long=40, fragment_of="T2"), row(0, "T2", long=30)], "fragment_of",
     "at the baseline"),
    ([row(0, "T1", long=40), frag(8, "T1.2", "T9", long=5)], "fragment_of",
     "no baseline target or non-target lesion T9"),
    ([row(0, "T1", long=40), row(0, "NT1", "non-target", "present"),
      frag(8, "T1.2", "NT1", long=5)], "fragment_of", "of its own role"),
    ([row(0, "T1", long=40), row(0, "T2", long=30), row(8, "T1", long=40),
      frag(8, "T2", "T1", long=5)], "fragment_of", "is a baseline lesion"),
    ([row(0, "N1", short=20, nodal=True, organ="lymph node"),
      frag(8, "N1.2", "N1", short=5, nodal=True, organ="lymph node")], "fragment_of",
     "non-nodal lesions only"),
    ([row(0, "T1", long=40), frag(8, "T1.2", "T1", long=5), row(0, "T2", long=30),
      frag(16, "T1.2", "T2", long=5)], "fragment_of", "keeps its lesion"),
    ([row(0, "T1", long=40, viable=30), row(8, "T1", long=20, viable=10),
      frag(8, "T1.2", "T1", long=5)], "viable_long_axis_mm", "every fragment"),
    ([row(0, "T1", long=40), row(0, "T2", long=30), merged(8, "T2", "T1")], "merged_into",
     "no row at this time point"),
    ([row(0, "T1", long=40), row(0, "T2", long=30), row(8, "T1", long=50),
      merged(8, "T2", "T1", long=12)], "merged_into", "leave long_axis_mm empty"),
    ([row(0, "T1", long=40), row(0, "T2", long=30), merged(8, "T1", "T2"),
      merged(8, "T2", "T1")], "merged_into", "itself merged"),
    ([row(0, "T1", long=40), row(8, "T1", long=40, merged_into="T1")], "merged_into",
     "itself"),
    ([row(0, "T1", long=40), row(0, "T2", long=30), row(8, "T1", long=50),
      row(8, "T2", fragment_of="T1", merged_into="T1", long=5)], "fragment_of", "not both"),
])
def test_impossible_links_are_refused_with_their_line(rows, column, message):
    with pytest.raises(MeasurementInputError) as err:
        assess(pd.DataFrame(rows))
    assert any(p.column == column and message in p.message for p in err.value.problems), \
        str(err.value)
    assert "line" in str(err.value)


# --- back-dated PD: RECIST 1.1 section 4.3.2, "If repeat scans confirm there is definitely a new
# --- lesion, then progression should be declared using the date of the initial scan" ----------
def _equivocal_then_confirmed() -> list[dict[str, object]]:
    """PR at weeks 8 and 16 with an equivocal new lesion, which is unequivocal at week 24."""
    return [row(0, "T1", long=40, organ="lung"),
            row(8, "T1", long=20, organ="lung"), row(8, "NEW1", "new", "equivocal", organ="lung"),
            row(16, "T1", long=20, organ="lung"), row(16, "NEW1", "new", "equivocal", organ="lung"),
            row(24, "T1", long=20, organ="lung"), row(24, "NEW1", "new", long=12, organ="lung")]


@pytest.mark.parametrize("backdate,bor,bor_week,bor_rule,cbor,cbor_rule", [
    (True, "PD", 8, "RECIST1.1-BOR-PD-BACKDATED", "PD", "RECIST1.1-BOR-PD-BACKDATED"),
    (False, "PR", 8, "RECIST1.1-BOR-BEST", "PR", "RECIST1.1-BOR-CONFIRMED"),
])
def test_a_confirmed_equivocal_new_lesion_backdates_the_pd_by_option(
        backdate, bor, bor_week, bor_rule, cbor, cbor_rule):
    result = assess(pd.DataFrame(_equivocal_then_confirmed()), AssessmentOptions(
        criteria=("recist1.1",), equivocal_new_lesion_backdates_pd=backdate))
    tp = result.timepoints[~result.timepoints["is_baseline"]]
    # the time-point table is the same either way: prospective responses, the first sighting
    assert tp["overall_response"].tolist() == ["PR", "PR", "PD"]
    assert f"{tp['new_lesion_first_seen'].iloc[2]:%Y-%m-%d}" == day(8)
    b = result.best_response.iloc[0]
    assert (b["best_overall_response"], f"{b['best_overall_response_date']:%Y-%m-%d}",
            b["bor_rule_id"]) == (bor, day(bor_week), bor_rule)
    assert (b["confirmed_best_overall_response"], b["confirmed_bor_rule_id"]) == (cbor, cbor_rule)
    if backdate:
        assert "4.3.2" in b["bor_rule_source"] and "initial scan" in b["bor_rule_source"]


def test_backdating_keeps_a_response_confirmed_before_the_first_sighting():
    """CR at weeks 8 and 16 (confirmed), an equivocal new lesion at week 24, unequivocal at 32:
    the PD dates from week 24; the confirmed CR before it stands, with its own rule."""
    rows = [row(0, "T1", long=40, organ="lung"), row(8, "T1", status="absent", organ="lung"),
            row(16, "T1", status="absent", organ="lung"),
            row(24, "T1", status="absent", organ="lung"),
            row(24, "NEW1", "new", "equivocal", organ="lung"),
            row(32, "T1", status="absent", organ="lung"), row(32, "NEW1", "new", long=15, organ="lung")]
    b = assess(pd.DataFrame(rows), criteria=("recist1.1",)).best_response.iloc[0]
    assert (b["confirmed_best_overall_response"], b["confirmed_bor_rule_id"]) == (
        "CR", "RECIST1.1-BOR-CONFIRMED")


def test_an_unequivocal_new_lesion_from_the_start_is_not_backdated():
    rows = [row(0, "T1", long=40, organ="lung"), row(8, "T1", long=20, organ="lung"),
            row(16, "T1", long=20, organ="lung"), row(16, "NEW1", "new", long=12, organ="lung")]
    on = assess(pd.DataFrame(rows), criteria=("recist1.1",)).best_response.iloc[0]
    off = assess(pd.DataFrame(rows), criteria=("recist1.1",),
                 equivocal_new_lesion_backdates_pd=False).best_response.iloc[0]
    assert on.to_dict() == off.to_dict()
    assert on["best_overall_response"] == "PR"


def test_mrecist_backdates_a_small_intrahepatic_lesion_that_grows():
    """mRECIST: a new intrahepatic lesion < 10 mm is equivocal (Lencioni & Llovet 2010); grown to
    12 mm it is PD, dated from the 8 mm sighting."""
    rows = [row(0, "T1", long=40, viable=30), row(8, "T1", long=30, viable=10),
            row(8, "NEW1", "new", long=8), row(16, "T1", long=30, viable=10),
            row(16, "NEW1", "new", long=12)]
    b = assess(pd.DataFrame(rows), criteria=("mrecist",)).best_response.iloc[0]
    assert (b["best_overall_response"], f"{b['best_overall_response_date']:%Y-%m-%d}") == (
        "PD", day(8))
    assert b["bor_rule_id"] == "RECIST1.1-BOR-PD-BACKDATED"


def test_the_cli_takes_both_readings(tmp_path):
    from response_tool.cli import main
    src = tmp_path / "m.csv"
    pd.DataFrame(_equivocal_then_confirmed()).to_csv(src, index=False)
    for flag, expected in (("--equivocal-new-lesion-backdates-pd", "PD"),
                           ("--no-equivocal-new-lesion-backdates-pd", "PR")):
        assert main(["assess", str(src), "-o", str(tmp_path / "r.csv"), "--bor",
                     str(tmp_path / "b.csv"), "--criteria", "recist1.1", flag]) == 0
        assert pd.read_csv(tmp_path / "b.csv")["best_overall_response"].iloc[0] == expected
