"""The report's research sections (issue 13): the Cox tables' contract and their hazard ratios
against statsmodels PHReg computed here from the BOR and clinical files, the logistic odds
ratios, Table 1, the landmark counts, the patient course, and the fixes of what the page says
(which BOR, NR, circular PFS, κ for one patient, palette, progress)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from response_tool.cli import main
from response_tool.report import AnalysisOptions, build_report, figures
from response_tool.report.course import SWIMMER_MAX, course_table, swimmer

CONTRACT = "term,level,reference,hr,ci95_low,ci95_high,p,n,events"
COVARIATES = ("age", "sex", "ki67_grade", "primary_site", "htb_pct")
LANDMARK = 6.0


@pytest.fixture(scope="module")
def research(cohort_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("research") / "report"
    return build_report(cohort_dir / "responses.csv", out, bor=cohort_dir / "bor.csv",
                        clinical=cohort_dir / "clinical.csv", agreement_boot=0,
                        analysis=AnalysisOptions(covariates=COVARIATES, backward_aic=True,
                                                 landmark_months=LANDMARK))


def _cohort(cohort_dir, crit: str) -> pd.DataFrame:
    """R1's BOR under ``crit`` joined to the clinical table, NE left out — read here, not by
    the report."""
    bor = pd.read_csv(cohort_dir / "bor.csv")
    bor = bor[(bor.reader_id == "R1") & (bor.criterion == crit)]
    data = bor[["patient_id", "best_overall_response"]].merge(
        pd.read_csv(cohort_dir / "clinical.csv"), on="patient_id")
    return data[data.best_overall_response.isin(["CR", "PR", "SD", "PD"])].reset_index(drop=True)


def _dummies(data: pd.DataFrame, column: str, reference: str) -> pd.DataFrame:
    levels = sorted(set(data[column]) - {reference})
    return pd.DataFrame({f"{column}={lv}": (data[column] == lv) * 1.0 for lv in levels})


@pytest.mark.parametrize("crit", ["recist1.1", "mrecist"])
@pytest.mark.parametrize("endpoint", ["os", "pfs"])
def test_cox_tables_follow_the_contract_and_equal_phreg(research, cohort_dir, crit, endpoint):
    path = research.tables[f"cox_{endpoint}_{crit}"]
    assert path.read_text().splitlines()[0] == CONTRACT
    table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    resp = table[table.term == "response"].set_index("level")
    data = _cohort(cohort_dir, crit)
    x = _dummies(data, "best_overall_response", "SD")
    with np.errstate(all="ignore"):
        ref = sm.PHReg(data[f"{endpoint}_months"], x, status=data[f"{endpoint}_event"],
                       ties="efron").fit(method="bfgs", maxiter=2000, gtol=1e-9)
    hr, ci = np.exp(ref.params), np.exp(ref.conf_int())
    for j, col in enumerate(x.columns):
        level = col.split("=")[1]
        assert resp.loc[level, "hr"] == pytest.approx(hr[j], abs=1.5e-3), level
        assert resp.loc[level, "ci95_low"] == pytest.approx(ci[j, 0], abs=1.5e-3)
        assert resp.loc[level, "ci95_high"] == pytest.approx(ci[j, 1], abs=1.5e-3)
        sel = data.best_overall_response == level
        assert resp.loc[level, "n"] == sel.sum()
        assert resp.loc[level, "events"] == data.loc[sel, f"{endpoint}_event"].sum()
    assert resp.loc["SD", "hr"] == 1.0 and resp.loc["SD", "reference"] == "SD"
    # every covariate alone, after the response
    assert list(dict.fromkeys(table.term)) == ["response", *COVARIATES]


def test_multivariable_cox_equals_phreg_with_the_entered_covariates(research, cohort_dir):
    multi = pd.read_csv(research.tables["cox_os_mrecist_multivariable"], keep_default_na=False,
                        na_values=[""])
    assert list(multi.columns) == CONTRACT.split(",")
    uni = pd.read_csv(research.tables["cox_os_mrecist"], keep_default_na=False, na_values=[""])
    ref_rows = uni[(uni.level == uni.reference) | uni.level.isna()]  # the term's overall p
    entered = [t for t in COVARIATES if ref_rows[ref_rows.term == t].p.iloc[0] < 0.1]
    assert list(dict.fromkeys(multi.term)) == ["response", *entered]
    data = _cohort(cohort_dir, "mrecist")
    parts = [_dummies(data, "best_overall_response", "SD")]
    for name in entered:
        if name in ("age", "htb_pct"):
            parts.append(data[[name]].astype(float))
        else:
            parts.append(_dummies(data, name, sorted(set(data[name]))[0]))
    x = pd.concat(parts, axis=1)
    ref = sm.PHReg(data.os_months, x, status=data.os_event, ties="efron").fit()
    got = multi[multi.level.isna() | (multi.level != multi.reference)]
    assert len(got) == x.shape[1]
    coef = dict(zip(x.columns, ref.params, strict=True))
    for row in got.itertuples():
        name = row.term if pd.isna(row.level) else f"{row.term}={row.level}"
        name = name.replace("response=", "best_overall_response=")
        assert row.hr == pytest.approx(np.exp(coef[name]), abs=1.5e-3), name


def test_logistic_odds_ratios_equal_an_independent_logit(research, cohort_dir):
    table = pd.read_csv(research.tables["logistic_recist1.1"], keep_default_na=False,
                        na_values=[""])
    data = _cohort(cohort_dir, "recist1.1")
    y = data.best_overall_response.isin(["CR", "PR"]).astype(float)
    grade = _dummies(data, "ki67_grade", "G1")
    res = sm.Logit(y, sm.add_constant(grade)).fit(disp=0)
    rows = table[(table.term == "ki67_grade") & (table.level != "G1")]
    assert rows["or"].to_numpy() == pytest.approx(np.exp(res.params[1:]).to_numpy(), abs=1.5e-3)
    assert rows.responders.sum() == y[data.ki67_grade != "G1"].sum()


def test_table1_counts_are_the_bor_counts(research, cohort_dir):
    t1 = pd.read_csv(research.tables["table1_mrecist"])
    data = _cohort(cohort_dir, "mrecist")
    responders = int(data.best_overall_response.isin(["CR", "PR"]).sum())
    assert f"responder = yes (n = {responders})" in t1.columns
    g3 = t1[(t1.variable == "ki67_grade") & (t1.level == "G3")].iloc[0]
    k = int((data.ki67_grade == "G3").sum())
    assert g3.overall == f"{k} ({100 * k / len(data):.1f} %)"


def test_landmark_keeps_only_patients_at_risk_with_a_response(research, cohort_dir):
    km = pd.read_csv(research.tables["km_os_mrecist_landmark"])
    tp = pd.read_csv(cohort_dir / "responses.csv")
    tp = tp[(tp.reader_id == "R1") & (tp.criterion == "mrecist")].copy()
    tp["date"] = pd.to_datetime(tp.timepoint_date)
    start = tp[tp.is_baseline].set_index("patient_id")["date"]
    tp["months"] = (tp.date - tp.patient_id.map(start)).dt.days / 30.4375
    seen = tp[(tp.months > 0) & (tp.months <= LANDMARK)
              & tp.overall_response.isin(["CR", "PR", "SD", "PD", "NON-CR/NON-PD"])]
    clin = pd.read_csv(cohort_dir / "clinical.csv")
    at_risk = set(clin[clin.os_months > LANDMARK].patient_id) & set(seen.patient_id)
    assert km.n.sum() == len(at_risk)
    cox_lm = pd.read_csv(research.tables["cox_os_mrecist_landmark"])
    assert list(cox_lm.columns) == CONTRACT.split(",") and cox_lm.n.sum() == len(at_risk)


def test_the_page_says_what_it_used(research):
    page = research.index.read_text()
    assert "unconfirmed best overall response" in page
    assert "report --confirmed uses the confirmed BOR" in page
    assert "circular" in page and "guarantee-time bias" in page
    assert "Landmark analysis" in page and "Hazard ratios (Cox proportional hazards)" in page
    assert "<th>median (months)</th>" in page and "<th>median_months</th>" not in page
    assert "Baseline characteristics (Table 1)" in page


def test_palette_is_okabe_ito():
    assert figures.COLOURS == {"CR": "#0072B2", "PR": "#56B4E9", "SD": "#E69F00",
                               "PD": "#D55E00", "NE": "#999999"}


def test_kappa_of_one_patient_is_not_computable(phantom_dir, tmp_path):
    assert main(["assess", str(phantom_dir / "ground_truth_measurements.csv"), "-o",
                 str(tmp_path / "r.csv"), "--bor", str(tmp_path / "b.csv")]) == 0
    assert main(["report", str(tmp_path / "r.csv"), "--bor", str(tmp_path / "b.csv"), "-o",
                 str(tmp_path / "rep")]) == 0
    page = (tmp_path / "rep" / "index.html").read_text()
    assert "Cohen κ not computable (n = 1)" in page and "κ 0.000" not in page


def _course() -> pd.DataFrame:
    rows = [("A", 0, "—"), ("A", 12, "SD"), ("A", 24, "PD"), ("A", 36, "PD"),
            ("B", 0, "—"), ("B", 12, "PR"), ("B", 24, "PR")]
    return pd.DataFrame([{"patient_id": p, "criterion": "mrecist", "weeks": float(w),
                          "pct": {"SD": 5.0, "PD": 30.0, "PR": -40.0}.get(r, 0.0),
                          "overall_response": r} for p, w, r in rows])


def test_course_table_shows_sd_then_pd():
    t = course_table(_course(), "mrecist").set_index("patient_id")
    assert t.loc["A", ["FU1", "FU2", "FU3", "first_pd_at"]].tolist() == ["SD", "PD", "PD",
                                                                        "FU2"]
    assert t.loc["B", "first_pd_at"] == "" and t.loc["B", "FU3"] == ""


def test_spider_lines_stop_at_the_first_pd_and_mark_it():
    tp = _course()
    best = pd.DataFrame({"patient_id": ["A", "B"], "criterion": "mrecist",
                         "category": ["SD", "PR"], "best_pct": [5.0, -40.0]})
    ax = figures.spider(tp, best, "mrecist").axes[0]
    segments = [seg for coll in ax.collections for seg in coll.get_segments()]
    ends = sorted(float(seg[-1][0]) for seg in segments)
    assert ends == [24.0, 24.0]  # A stops at its first PD (week 24), not at week 36
    marks = [line for line in ax.lines if line.get_marker() == "x"]
    assert [float(x) for m in marks for x in m.get_xdata()] == [24.0]


def test_swimmer_draws_a_seeded_sample_of_a_large_cohort():
    tp = pd.DataFrame([{"patient_id": f"P{i:03d}", "criterion": "mrecist", "weeks": w,
                        "overall_response": "SD"} for i in range(100) for w in (0.0, 12.0)])
    ax = swimmer(tp, None, "mrecist", seed=1).axes[0]
    assert len(ax.get_yticklabels()) == SWIMMER_MAX
    assert f"{SWIMMER_MAX} of 100 patients" in ax.get_title()


@pytest.mark.parametrize(("args", "message"), [
    (["--covariates", "weight"], "no column 'weight' for --covariates"),
    (["--covariates", "sex", "--reference", "sex"], "--reference 'sex': give COL=LEVEL"),
    (["--covariates", "sex", "--reference", "sex=other"], "sex has no level 'other'"),
    (["--response-reference", "XX"], "--response-reference XX: give one of CR, PR, SD, PD"),
    (["--landmark", "-3"], "--landmark -3: give months > 0"),
])
def test_bad_model_options_are_one_line_and_write_nothing(cohort_dir, tmp_path, capsys, args,
                                                          message):
    out = tmp_path / "rep"
    assert main(["report", str(cohort_dir / "responses.csv"), "--bor",
                 str(cohort_dir / "bor.csv"), "--clinical", str(cohort_dir / "clinical.csv"),
                 "--agreement-boot", "0", "-o", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_progress_is_printed_per_step(cohort_dir, tmp_path, capsys):
    assert main(["report", str(cohort_dir / "responses.csv"), "--agreement-boot", "0", "-o",
                 str(tmp_path / "rep")]) == 0
    err = capsys.readouterr().err
    for step in ("response distribution", "waterfall and spider plots", "patient course"):
        assert f"report: {step} (" in err


def test_landmark_at_a_followup_uses_the_median_time_of_that_scan(cohort_dir, tmp_path):
    rep = build_report(cohort_dir / "responses.csv", tmp_path / "r", bor=cohort_dir / "bor.csv",
                       clinical=cohort_dir / "clinical.csv", agreement_boot=0,
                       analysis=AnalysisOptions(landmark_followup=1))
    tp = pd.read_csv(cohort_dir / "responses.csv")
    tp = tp[(tp.reader_id == "R1") & (tp.criterion == "mrecist")].copy()
    tp["date"] = pd.to_datetime(tp.timepoint_date)
    start = tp[tp.is_baseline].set_index("patient_id")["date"]
    tp["months"] = (tp.date - tp.patient_id.map(start)).dt.days / 30.4375
    first = tp[tp.months > 0].sort_values("months").groupby("patient_id")["months"].first()
    page = rep.index.read_text()
    assert f"landmark at follow-up 1 (median {first.median():.1f} months)" in page
    assert "cox_os_mrecist_landmark" in rep.tables
