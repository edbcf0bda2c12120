"""``assess --from sdtm TU.csv TR.csv`` and ``assess --to sdtm`` on pharmaverse's synthetic oncology
data (../shared/data/pharmaverse-sdtm-onco): the same core as ``sdtm import`` / ``sdtm export``,
in one step; checked against the RS and ADRS records, not only against ourselves."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from response_tool.cli import main

from .test_sdtm import DATA, EXPLAINED


@pytest.fixture(scope="module")
def pharma(shared_data):
    d = shared_data / DATA
    return d, str(d / "sdtm_tu_onco_recist.csv"), str(d / "sdtm_tr_onco_recist.csv")


@pytest.fixture(scope="module")
def one_step(pharma, tmp_path_factory):
    """assess --from sdtm … --to sdtm, once."""
    d, tu, tr = pharma
    out = tmp_path_factory.mktemp("assess_sdtm")
    assert main(["assess", "--from", "sdtm", tu, tr, "--impute-partial-dates", "last",
                 "-o", str(out / "responses.csv"), "--bor", str(out / "bor.csv"),
                 "--to", "sdtm", "--studyid", "CDISCPILOT01"]) == 0
    return out


def test_from_sdtm_is_sdtm_import_then_assess_byte_for_byte(pharma, one_step, tmp_path):
    _d, tu, tr = pharma
    m = tmp_path / "m.csv"
    assert main(["sdtm", "import", tu, tr, "-o", str(m)]) == 0
    assert main(["assess", str(m), "--impute-partial-dates", "last", "-o",
                 str(tmp_path / "responses.csv"), "--bor", str(tmp_path / "bor.csv")]) == 0
    for name in ("responses.csv", "bor.csv", "responses.warnings.csv"):
        assert (one_step / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_from_sdtm_overall_responses_against_rs_visit_by_visit(pharma, one_step):
    """Our written responses against RS OVRLRESP: 66 visits, the one difference the SDTM tests
    explain (a target reappearing after CR is PD; RS has PR)."""
    d = pharma[0]
    ours = pd.read_csv(one_step / "responses.csv", dtype=str, keep_default_na=False)
    ours = ours[ours.criterion == "recist1.1"]
    by_key = {(r.patient_id, r.reader_id, r.timepoint_date): r.overall_response
              for r in ours.itertuples()}
    with open(d / "sdtm_rs_onco_recist.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    differences = {}
    for rs in rows:
        date = rs["RSDTC"] if len(rs["RSDTC"]) == 10 else f"{rs['RSDTC']}-28"
        key = (rs["USUBJID"], rs["RSEVALID"] or rs["RSEVAL"], date)
        if by_key[key] != rs["RSORRES"]:
            differences[key] = (rs["RSORRES"], by_key[key])
    assert len(rows) == 66
    assert differences == {k: v[:2] for k, v in EXPLAINED.items()}


def test_to_sdtm_writes_what_sdtm_export_writes_beside_o(pharma, one_step, tmp_path):
    _d, tu, tr = pharma
    m = tmp_path / "m.csv"
    assert main(["sdtm", "import", tu, tr, "-o", str(m)]) == 0
    assert main(["sdtm", "export", str(m), "-o", str(tmp_path / "x"), "--studyid",
                 "CDISCPILOT01", "--impute-partial-dates", "last"]) == 0
    for name in ("tu", "tr", "rs", "adrs"):
        assert (one_step / f"responses.{name}.csv").read_bytes() == \
            (tmp_path / "x" / f"{name}.csv").read_bytes(), name


def test_to_sdtm_bor_and_cbor_against_adam_adrs(pharma, one_step):
    d = pharma[0]
    ours = pd.read_csv(one_step / "responses.adrs.csv", dtype=str, keep_default_na=False)
    ours = ours[(ours.RSEVAL == "INVESTIGATOR") & (ours.PARCAT3 == "RECIST 1.1")
                & ours.PARAMCD.isin(["BOR", "CBOR"])]
    theirs = pd.read_csv(d / "adam_adrs_onco.csv", dtype=str, keep_default_na=False)
    theirs = theirs[theirs.PARAMCD.isin(["BOR", "CBOR"]) & theirs.USUBJID.isin(ours.USUBJID)]
    got = {(r.USUBJID, r.PARAMCD): (r.AVALC, r.AVAL, r.ADT) for r in ours.itertuples()}
    want = {(r.USUBJID, r.PARAMCD): (r.AVALC, r.AVAL, r.ADT) for r in theirs.itertuples()}
    assert len(got) == len(want) == 16
    assert {k: (v[0], float(v[1])) for k, v in got.items()} == \
        {k: (v[0], float(v[1])) for k, v in want.items()}  # AVALC and admiralonco's AVAL
    # the date of an NE best response: admiralonco gives the last assessment, we none
    assert {k: (got[k][2], want[k][2]) for k in want if got[k][2] != want[k][2]} == {
        ("01-701-1097", "BOR"): ("", "2014-01-22"), ("01-701-1097", "CBOR"): ("", "2014-01-22")}


def test_to_sdtm_pseudonymises_and_shifts_every_table(pharma, tmp_path):
    _d, tu, tr = pharma
    assert main(["assess", "--from", "sdtm", tu, tr, "--impute-partial-dates", "last", "-o",
                 str(tmp_path / "r.csv"), "--to", "sdtm", "--pseudonymise", "secret",
                 "--shift-dates", "10"]) == 0
    responses = pd.read_csv(tmp_path / "r.csv", dtype=str, keep_default_na=False)
    for name in ("tu", "tr", "rs", "adrs"):
        text = (tmp_path / f"r.{name}.csv").read_text()
        assert "01-701-" not in text, name  # no subject id left
        table = pd.read_csv(tmp_path / f"r.{name}.csv", dtype=str, keep_default_na=False)
        assert set(table.USUBJID) <= set(responses.patient_id), name
    rs = pd.read_csv(tmp_path / "r.rs.csv", dtype=str, keep_default_na=False)
    dates = set(responses[responses.is_baseline.str.lower() != "true"].timepoint_date)
    assert set(rs.RSDTC) == dates  # shifted as the responses are (and completed)
    assert "2014-02" not in set(rs.RSDTC)


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "sdtm", "{tu}"], "--from sdtm takes two files, TU.csv TR.csv; got 1"),
    (["{tu}", "{tr}"], "assess takes one measurements CSV; got 2"),
    (["--from", "sdtm", "{tu}", "{tr}"], "partial date"),
    (["--from", "sdtm", "{tu}", "{tr}", "--impute-partial-dates", "last", "--treatments",
      "{tr}"], "--treatments reads a measurements CSV"),
    (["--from", "sdtm", "{tu}", "{tr}", "--impute-partial-dates", "last", "--to", "sdtm",
      "-o", "{tu}"], "is the input TU"),
])
def test_refused_in_one_line_nothing_written(args, message, pharma, tmp_path, capsys):
    _d, tu, tr = pharma
    args = [a.format(tu=tu, tr=tr) for a in args]
    if "-o" not in args:
        args += ["-o", str(tmp_path / "r.csv")]
    capsys.readouterr()
    assert main(["assess", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
