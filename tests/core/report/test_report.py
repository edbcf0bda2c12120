"""``response-tool report``: tables equal to independent counts, figures written, exact CIs, KM
medians, bad input, and no half-written report."""

from __future__ import annotations

import csv
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from response_tool.cli import main
from response_tool.report import build_report, exact_ci, km_groups


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


@pytest.fixture(scope="module")
def cohort_report(cohort_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("report") / "report"
    report = build_report(cohort_dir / "responses.csv", out, bor=cohort_dir / "bor.csv",
                          clinical=cohort_dir / "clinical.csv", agreement_boot=20)
    return report


def test_the_cohort_report_has_every_section(cohort_report):
    page = cohort_report.index.read_text()
    for title in ("Response distribution", "RECIST 1.1 × mRECIST", "waterfall", "spider",
                  "Survival by response", "Survival by hepatic tumour burden",
                  "Response by hepatic tumour burden", "Inter-reader agreement"):
        assert title.lower() in page.lower(), title
    # 15 figures before issue 13, and a swimmer plot per criterion
    assert len(cohort_report.figures) == 17
    for name, png in cohort_report.figures.items():
        w, h = _png_size(png)
        assert w >= 600 and h >= 400, name
        assert png.with_suffix(".svg").read_text().lstrip().startswith("<?xml")
        assert f'src="figures/{png.name}"' in page  # relative links: readable without the tool
    for path in cohort_report.tables.values():
        assert path.stat().st_size > 0 and f'href="tables/{path.name}"' in page


def test_distribution_equals_an_independent_count_of_bor(cohort_report, cohort_dir):
    bor = pd.read_csv(cohort_dir / "bor.csv")
    bor = bor[bor["reader_id"] == "R1"]  # no ADJ: the first reader, and the report says so
    assert any("use reader R1" in n for n in cohort_report.notes)
    dist = pd.read_csv(cohort_report.tables["response_distribution"])
    for crit, name in (("recist1.1", "RECIST 1.1"), ("mrecist", "mRECIST")):
        b = bor[bor["criterion"] == crit]["best_overall_response"]
        orr = int(b.isin(["CR", "PR"]).sum())
        row = dist[(dist["criterion"] == name) & (dist["measure"] == "ORR (CR+PR)")].iloc[0]
        assert (row["n"], row["N"]) == (orr, len(b))
        ci = binomtest(orr, len(b)).proportion_ci(method="exact")
        assert (row["ci95_low"], row["ci95_high"]) == pytest.approx(
            (ci.low * 100, ci.high * 100), abs=0.05)
    # mRECIST shows more responses than RECIST 1.1 on the same scans (the cohort's design)
    orr = dist[dist["measure"] == "ORR (CR+PR)"].set_index("criterion")["pct"]
    assert orr["mRECIST"] > orr["RECIST 1.1"] + 10


def test_cross_table_counts_every_patient_once(cohort_report, cohort_dir):
    cross = pd.read_csv(cohort_report.tables["recist_x_mrecist"], index_col=0)
    bor = pd.read_csv(cohort_dir / "bor.csv")
    assert int(cross.to_numpy().sum()) == bor[bor["reader_id"] == "R1"]["patient_id"].nunique()
    assert int(cross.loc["PD", "CR"]) == 0  # never PD by size with no viable tumour left


def test_km_tables_name_median_and_logrank(cohort_report):
    km = pd.read_csv(cohort_report.tables["km_os_mrecist_responders"])
    assert km["group"].tolist() == ["responder", "non-responder"]
    assert km.loc[0, "median_months"] > km.loc[1, "median_months"]  # survival linked to response
    assert str(km.loc[0, "logrank_p"]) == "< 0.001"


def test_exact_ci_is_clopper_pearson():
    for k, n in ((0, 10), (45, 100), (10, 10), (1, 3)):
        ci = binomtest(k, n).proportion_ci(method="exact")
        assert exact_ci(k, n) == pytest.approx((ci.low * 100, ci.high * 100))


def test_km_median_by_hand():
    # 5 deaths at 1..5 months: S = .8, .6, .4, ... -> median 3; group B all censored at 6
    data = pd.DataFrame({"os_months": [1, 2, 3, 4, 5, 6, 6, 6], "os_event": [1] * 5 + [0] * 3,
                         "arm": ["A"] * 5 + ["B"] * 3})
    _, table = km_groups(data, "os", "arm", ["A", "B"], "test")
    assert table.set_index("group").loc["A", "median_months"] == 3.0
    assert table.set_index("group").loc["B", "median_months"] == "NR"  # not reached


def test_the_phantom_read_renders(phantom_dir, tmp_path):
    assert main(["assess", str(phantom_dir / "ground_truth_measurements.csv"), "-o",
                 str(tmp_path / "responses.csv"), "--bor", str(tmp_path / "bor.csv")]) == 0
    assert main(["report", str(tmp_path / "responses.csv"), "--followup", "2",
                 "-o", str(tmp_path / "report")]) == 0
    dist = list(csv.DictReader((tmp_path / "report" / "tables" /
                                "response_distribution.csv").open()))
    pd_rows = {r["criterion"]: r["n"] for r in dist if r["measure"] == "PD"}
    assert pd_rows == {"RECIST 1.1": "1", "mRECIST": "1"}  # follow-up 2: PD under both
    assert (tmp_path / "report" / "figures" / "waterfall_mrecist.png").is_file()


@pytest.mark.parametrize(("clinical", "message"), [
    ("patient_id,os_months\nP1,3\n", "no time-to-event columns"),
    ("patient_id,os_months,os_event\nP1,3,1\nP2,x,0\n", "line 3: os_months = 'x'"),
    ("patient_id,os_months,os_event\nP1,3,2\n", "line 2: os_event = '2'; give 0 or 1"),
    ("patient_id,os_months,os_event\nP1,3,1\nP1,4,0\n", "P1 is listed more than once"),
], ids=["no-endpoint", "not-a-number", "event-not-0-1", "duplicate"])
def test_bad_clinical_input_is_one_line_exit_2_and_writes_nothing(cohort_dir, tmp_path, capsys,
                                                                  clinical, message):
    path = tmp_path / "clinical.csv"
    path.write_text(clinical)
    out = tmp_path / "report"
    assert main(["report", str(cohort_dir / "responses.csv"), "--clinical", str(path),
                 "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".report.*"))


def test_a_failure_keeps_the_previous_report(cohort_dir, tmp_path, monkeypatch):
    out = tmp_path / "report"
    build_report(cohort_dir / "responses.csv", out, agreement_boot=0)
    before = sorted(p.name for p in out.rglob("*"))
    import response_tool.report.figures as figures

    def broken(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(figures, "waterfall", broken)
    with pytest.raises(RuntimeError):
        build_report(cohort_dir / "responses.csv", out, agreement_boot=0)
    assert sorted(p.name for p in out.rglob("*")) == before
    assert not list(tmp_path.glob(".report.*"))


def test_unknown_reader_and_missing_followup(cohort_dir, tmp_path, capsys):
    assert main(["report", str(cohort_dir / "responses.csv"), "--reader", "R9",
                 "-o", str(tmp_path / "r")]) == 2
    assert "reader 'R9' not in the responses" in capsys.readouterr().err
    assert main(["report", str(cohort_dir / "responses.csv"), "--followup", "9",
                 "-o", str(tmp_path / "r")]) == 2
    assert "no patient has a follow-up 9" in capsys.readouterr().err


def test_internal_errors_are_one_line(monkeypatch, cohort_dir, tmp_path, capsys):
    import response_tool.report.tables as tables

    monkeypatch.delenv("RESPONSE_TOOL_DEBUG", raising=False)
    monkeypatch.setattr(tables, "distribution", lambda *_a: np.array([]).item())
    assert main(["report", str(cohort_dir / "responses.csv"), "-o", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert "internal error" in err and "Traceback" not in err
