"""CDISC on pharmaverse's synthetic oncology data (../shared/data/pharmaverse-sdtm-onco): SDTM TU+TR
in → our RECIST 1.1 responses against RS OVRLRESP visit by visit, our BOR / CBOR against ADaM ADRS,
and our SDTM / ADaM out read back."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from response_tool.assessment import assess
from response_tool.cli import main
from response_tool.domain.errors import MeasurementInputError
from response_tool.exchange.sdtm import read_sdtm
from response_tool.exchange.sdtm_out import sdtm_tables

DATA = "pharmaverse-sdtm-onco"

#: Every visit where our overall response differs from the RS record, and why.
EXPLAINED = {
    # T01 measured 0 mm at week 6 (CR: every target 0 mm) and 4.95 mm at week 9: a lesion that
    # reappears after CR is progression (the engine's rule RECIST1.1-TGT-PD-REAPPEAR); the RS row
    # gives PR, the sum's change from baseline (59.54 → 4.95 mm, −92 %), ignoring the reappearance.
    ("01-701-1133", "RADIOLOGIST 2", "2012-12-30"): ("PR", "PD", "RECIST1.1-T1-R7",
                                                     "RECIST1.1-TGT-PD-REAPPEAR"),
}


@pytest.fixture(scope="module")
def data(shared_data):
    d = shared_data / DATA
    inp = read_sdtm(d / "sdtm_tu_onco_recist.csv", d / "sdtm_tr_onco_recist.csv")
    # ADRS completes the partial date 2014-02 as 2014-02-28 (admiralonco, last day)
    result = assess(inp.frame, impute_partial_dates="last")
    return d, inp, result


def test_tu_tr_become_one_read_per_subject_and_evaluator(data):
    d, inp, _ = data
    f = inp.frame
    assert inp.notes == []  # every TR row used
    assert f.groupby(["patient_id", "reader_id"]).ngroups == 8 * 3
    assert set(f.reader_id) == {"INVESTIGATOR", "RADIOLOGIST 1", "RADIOLOGIST 2"}
    tr = pd.read_csv(d / "sdtm_tr_onco_recist.csv", dtype=str, keep_default_na=False)
    n_values = tr.groupby(["USUBJID", "TREVAL", "TREVALID", "TRLNKID", "TRDTC"]).ngroups
    assert len(f) == n_values  # one row per lesion and date, none lost
    node = f[(f.patient_id == "01-701-1015") & (f.reader_id == "RADIOLOGIST 1")
             & (f.lesion_id == "T02") & (f.timepoint_date == "2014-01-02")].iloc[0]
    assert (node.organ, bool(node.is_nodal), node.short_axis_mm, node.long_axis_mm) == (
        "lymph node", True, 32.32, 33.6128)  # LPERP → short axis, summed for a node
    assert set(f[f.role == "non-target"].status) <= {"present", "absent"}
    assert "2014-02" in set(f.timepoint_date)  # the partial date kept for assess to complete


def test_overall_responses_match_rs_visit_by_visit_every_difference_explained(data):
    d, _, result = data
    tp = result.timepoints[result.timepoints.criterion == "recist1.1"]
    ours = {(r.patient_id, r.reader_id, f"{r.timepoint_date:%Y-%m-%d}"): r for r in tp.itertuples()}
    with open(d / "sdtm_rs_onco_recist.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    differences, compared = {}, 0
    for rs in rows:
        date = rs["RSDTC"] if len(rs["RSDTC"]) == 10 else f"{rs['RSDTC']}-28"
        key = (rs["USUBJID"], rs["RSEVALID"] or rs["RSEVAL"], date)
        mine = ours[key]  # every RS visit is one of our time points
        compared += 1
        if mine.overall_response != rs["RSORRES"]:
            differences[key] = (rs["RSORRES"], mine.overall_response, mine.rule_id,
                                mine.target_rule_id)
    assert compared == len(rows) == 66
    assert differences == EXPLAINED


def test_bor_and_confirmed_bor_match_adrs(data):
    d, _, result = data
    bor = result.best_response
    ours = bor[(bor.criterion == "recist1.1") & (bor.reader_id == "INVESTIGATOR")]
    adrs = pd.read_csv(d / "adam_adrs_onco.csv", dtype=str, keep_default_na=False)
    adrs = adrs[adrs.PARAMCD.isin(["BOR", "CBOR"]) & adrs.USUBJID.isin(ours.patient_id)]
    want = {(r.USUBJID, r.PARAMCD): (r.AVALC, r.ADT) for r in adrs.itertuples()}
    got = {}
    for r in ours.itertuples():
        got[(r.patient_id, "BOR")] = (r.best_overall_response, _date(r.best_overall_response_date))
        got[(r.patient_id, "CBOR")] = (r.confirmed_best_overall_response,
                                       _date(r.confirmed_bor_date))
    assert len(got) == len(want) == 16
    assert {k: v[0] for k, v in got.items()} == {k: v[0] for k, v in want.items()}
    # dates too, but for an NE best response: admiralonco dates it at the last assessment
    # (01-701-1097's only follow-up, NON-CR/NON-PD 21 days in: too early for SD), we give none
    date_differences = {k: (got[k][1], want[k][1]) for k in want if got[k][1] != want[k][1]}
    assert date_differences == {("01-701-1097", "BOR"): ("", "2014-01-22"),
                                ("01-701-1097", "CBOR"): ("", "2014-01-22")}


def _date(v) -> str:
    return "" if pd.isna(v) else f"{pd.Timestamp(v):%Y-%m-%d}"


def test_our_sdtm_and_adrs_out_read_back(data, tmp_path):
    d, inp, result = data
    tables = sdtm_tables(inp.frame, result.timepoints, result.best_response, "CDISCPILOT01")
    for name in ("tu", "tr"):
        tables[name].to_csv(tmp_path / f"{name}.csv", index=False)
    back = read_sdtm(tmp_path / "tu.csv", tmp_path / "tr.csv")
    cols = ["patient_id", "reader_id", "timepoint_date", "lesion_id", "role", "organ", "is_nodal",
            "long_axis_mm", "short_axis_mm", "status"]
    a = inp.frame[cols].sort_values(cols[:4]).reset_index(drop=True)
    b = back.frame[cols].sort_values(cols[:4]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    rs = tables["rs"]
    assert set(rs.RSTESTCD) == {"OVRLRESP", "TRGRESP", "NTRGRESP", "NEWLIND"}
    assert set(rs[rs.RSTESTCD == "NEWLIND"].RSORRES) <= {"Y", "N"}
    assert (rs[rs.RSTESTCD == "OVRLRESP"].RSDTC == "2014-02").sum() == 3 * 2  # collected date
    adrs = tables["adrs"]
    theirs = pd.read_csv(d / "adam_adrs_onco.csv", dtype=str, keep_default_na=False)
    coding = {(r.AVALC, float(r.AVAL)) for r in theirs.itertuples() if r.PARAMCD in ("OVR", "BOR")}
    assert {(r.AVALC, r.AVAL) for r in adrs.itertuples()} <= coding  # admiralonco's AVAL coding
    ne = adrs[(adrs.USUBJID == "01-701-1015") & (adrs.PARAMCD == "OVR") & (adrs.AVALC == "NE")]
    assert set(ne.ADT) == {"2014-02-28"} and set(ne.ADTF) == {"D"}
    inv = adrs[(adrs.RSEVAL == "INVESTIGATOR") & (adrs.PARCAT3 == "RECIST 1.1")]
    bor = dict(zip(inv[inv.PARAMCD == "CBOR"].USUBJID, inv[inv.PARAMCD == "CBOR"].AVALC,
                   strict=True))
    assert bor["01-701-1015"] == "SD" and bor["01-701-1118"] == "PR"


def test_cli_import_then_export(data, tmp_path, capsys):
    d, inp, _ = data
    m = tmp_path / "m.csv"
    assert main(["sdtm", "import", str(d / "sdtm_tu_onco_recist.csv"),
                 str(d / "sdtm_tr_onco_recist.csv"), "-o", str(m)]) == 0
    out = tmp_path / "sdtm"
    assert main(["sdtm", "export", str(m), "-o", str(out), "--studyid", "CDISCPILOT01",
                 "--impute-partial-dates", "last"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [".response-tool-sdtm-export", "adrs.csv",
                                                     "rs.csv", "tr.csv", "tu.csv"]
    rs = pd.read_csv(out / "rs.csv", dtype=str, keep_default_na=False)
    assert set(rs.STUDYID) == {"CDISCPILOT01"}
    # without completing the partial date: refused in one message, nothing written
    capsys.readouterr()
    assert main(["sdtm", "export", str(m), "-o", str(tmp_path / "no")]) == 2
    assert "partial date" in capsys.readouterr().err and not (tmp_path / "no").exists()


@pytest.mark.parametrize("tu_rows, tr_rows, message", [
    ([["USUBJID", "TULNKID", "TUORRES", "TULOC"], ["S1", "T01", "TARGET", "LIVER"]],
     [["USUBJID", "TRLNKID", "TRTESTCD", "TRORRES", "TRDTC"], ["S1", "T09", "LDIAM", "12",
                                                              "2020-01-01"]],
     r"tr.csv line 2: lesion T09 of S1 \(UNKNOWN\) is not in tu.csv"),
    ([["USUBJID", "TULNKID", "TUORRES", "TULOC"], ["S1", "T01", "MAYBE", "LIVER"]],
     [["USUBJID", "TRLNKID", "TRTESTCD", "TRORRES", "TRDTC"]],
     r"not an SDTM TR table"),
    ([["USUBJID", "TULNKID", "TUORRES", "TULOC"], ["S1", "T01", "MAYBE", "LIVER"]],
     [["USUBJID", "TRLNKID", "TRTESTCD", "TRORRES", "TRDTC"], ["S1", "T01", "LDIAM", "1", "2020"]],
     r"tu.csv line 2: TUORRES 'MAYBE'"),
])
def test_bad_sdtm_input_is_one_line_naming_the_row(tu_rows, tr_rows, message, tmp_path):
    for name, rows in (("tu.csv", tu_rows), ("tr.csv", tr_rows)):
        with open(tmp_path / name, "w", newline="") as fh:
            csv.writer(fh).writerows(rows)
    with pytest.raises(MeasurementInputError, match=message):
        read_sdtm(tmp_path / "tu.csv", tmp_path / "tr.csv")
