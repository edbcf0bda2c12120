"""Cox tables (response_tool.analysis.cox) against independent computations: R's coxph on the
Rossi recidivism data (Fox & Weisberg, "Cox proportional-hazards regression for survival data in
R", 2018 appendix: the published coefficients) and statsmodels PHReg (Efron ties) on the same
design, to 3 decimals; the reference row, the entry rule, levels without events and the
proportional-hazards warning on hand-built cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from lifelines.datasets import load_rossi

from response_tool.analysis import COX_COLUMNS, cox
from response_tool.domain.errors import ReportInputError

#: coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, data = Rossi):
#: the coefficients R prints (Fox & Weisberg 2018, appendix "Cox Proportional-Hazards
#: Regression for Survival Data in R", p. 4)
R_ROSSI = {"fin": -0.37942, "age": -0.05744, "race": 0.31390, "wexp": -0.14980,
           "mar": -0.43370, "paro": -0.08487, "prio": 0.09150}


def _phreg(data: pd.DataFrame, time: str, event: str, design: pd.DataFrame):
    return sm.PHReg(data[time], design, status=data[event], ties="efron").fit()


def test_rossi_coefficients_equal_those_r_publishes():
    d = load_rossi()
    m = cox.fit(d, "week", "arrest", list(R_ROSSI))
    for name, coef in R_ROSSI.items():
        assert m.coef[name] == pytest.approx(coef, abs=5e-5), name
    assert list(m.table.columns) == list(COX_COLUMNS)
    assert (m.n, m.events) == (432, 114)


def _cohort(seed: int = 1, n: int = 240) -> pd.DataFrame:
    """Responses with hazards that differ by category, a numeric and a categorical covariate."""
    rng = np.random.default_rng(seed)
    cat = rng.choice(["CR", "PR", "SD", "PD"], n, p=[0.1, 0.35, 0.35, 0.2])
    age = rng.normal(62, 9, n).round(0)
    site = rng.choice(["pancreas", "small bowel", "other"], n)
    rate = np.exp(np.select([cat == "CR", cat == "PR", cat == "PD"], [-1.0, -0.5, 1.0], 0.0)
                  + 0.03 * (age - 62) + np.where(site == "pancreas", 0.4, 0.0)) / 30
    t = rng.exponential(1 / rate)
    c = rng.uniform(10, 80, n)
    return pd.DataFrame({"patient_id": [f"P{i}" for i in range(n)], "category": cat,
                         "age": age, "site": site, "os_months": np.minimum(t, c).round(2),
                         "os_event": (t <= c).astype(int)})


def test_hazard_ratios_by_response_equal_statsmodels_phreg_to_3_decimals():
    d = _cohort()
    m = cox.fit(d, "os_months", "os_event", ["category", "age", "site"],
                references={"category": "SD", "site": "small bowel"})
    x = pd.DataFrame({"CR": (d.category == "CR") * 1.0, "PD": (d.category == "PD") * 1.0,
                      "PR": (d.category == "PR") * 1.0, "age": d.age,
                      "other": (d.site == "other") * 1.0,
                      "pancreas": (d.site == "pancreas") * 1.0})
    ref = _phreg(d, "os_months", "os_event", x)
    hr, ci = np.exp(ref.params), np.exp(ref.conf_int())
    t = m.table.set_index(["term", "level"])
    for (term, level), col in {("category", "CR"): 0, ("category", "PD"): 1,
                               ("category", "PR"): 2, ("age", ""): 3, ("site", "other"): 4,
                               ("site", "pancreas"): 5}.items():
        row = t.loc[(term, level)]
        assert row["hr"] == pytest.approx(round(hr[col], 3), abs=1.01e-3), (term, level)
        assert row["ci95_low"] == pytest.approx(ci[col, 0], abs=1e-3)
        assert row["ci95_high"] == pytest.approx(ci[col, 1], abs=1e-3)
        assert row["p"] == pytest.approx(ref.pvalues[col], abs=1e-3)
    # the reference row: HR 1, the term's overall Wald test (3 df), its patients and events
    sd = t.loc[("category", "SD")]
    assert sd["hr"] == 1.0 and pd.isna(sd["ci95_low"]) and sd["reference"] == "SD"
    wald = ref.wald_test(np.eye(6)[:3], scalar=True)
    assert sd["p"] == pytest.approx(float(wald.pvalue), rel=1e-3)
    is_sd = d.category == "SD"
    assert (sd["n"], sd["events"]) == (is_sd.sum(), d.os_event[is_sd].sum())
    pr = t.loc[("category", "PR")]
    assert (pr["n"], pr["events"]) == ((d.category == "PR").sum(),
                                       d.os_event[d.category == "PR"].sum())


def test_the_default_reference_is_the_first_level_in_natural_order():
    d = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6, 7, 8], "e": [1] * 8,
                      "htb": ["<10 %", "10-25 %", ">50 %", "25-50 %"] * 2})
    table = cox.fit(d, "t", "e", ["htb"]).table
    assert table["level"].tolist() == ["<10 %", "10-25 %", "25-50 %", ">50 %"]
    assert set(table["reference"]) == {"<10 %"}


def test_entry_rule_enters_covariates_below_p():
    d = _cohort(seed=3, n=400)
    rng = np.random.default_rng(0)
    d["noise"] = rng.normal(size=len(d))
    a = cox.analyse(d, "os_months", "os_event", "category", ["age", "noise", "site"],
                    references={"category": "SD"})
    p = a.screening.term_p
    assert a.entered == [c for c in ("age", "noise", "site") if p[c] < 0.1]
    assert "age" in a.entered and "noise" not in a.entered
    adjusted = a.adjusted.table
    assert set(adjusted["term"]) == {"category", *a.entered}
    # the crude model is the category alone; the screening each covariate alone
    assert set(a.crude.table["term"]) == {"category"}
    alone = cox.fit(d, "os_months", "os_event", ["noise"]).table
    pd.testing.assert_frame_equal(a.screening.table[a.screening.table.term == "noise"]
                                  .reset_index(drop=True), alone)
    everything = cox.analyse(d, "os_months", "os_event", "category", ["age", "noise", "site"],
                             references={"category": "SD"}, entry_p=1.0)
    assert everything.entered == ["age", "noise", "site"]


def test_a_level_without_events_is_left_out_and_said():
    d = _cohort(seed=5, n=200)
    d.loc[d.category == "CR", "os_event"] = 0
    m = cox.fit(d, "os_months", "os_event", ["category"], references={"category": "SD"})
    cr = m.table.set_index("level").loc["CR"]
    assert pd.isna(cr["hr"]) and cr["events"] == 0 and cr["n"] == (d.category == "CR").sum()
    assert any("CR has no event" in n for n in m.notes)
    assert m.n == (d.category != "CR").sum()


def test_missing_values_are_left_out_and_counted():
    d = _cohort(seed=2, n=150)
    d.loc[:9, "age"] = np.nan
    m = cox.fit(d, "os_months", "os_event", ["age"])
    assert m.n == 140 and any("10 patient(s) with a missing value" in n for n in m.notes)


def test_schoenfeld_warns_when_hazards_cross_and_not_when_proportional():
    rng = np.random.default_rng(7)
    n = 600
    g = rng.integers(0, 2, n)
    # group 1: early deaths then a plateau; group 0 exponential: hazards cross
    t = np.where(g == 1, np.where(rng.random(n) < 0.5, rng.uniform(0, 3, n),
                                  rng.uniform(40, 60, n)), rng.exponential(15, n))
    d = pd.DataFrame({"t": t, "e": 1, "arm": np.where(g == 1, "B", "A")})
    crossing = cox.fit(d, "t", "e", ["arm"])
    assert crossing.ph_failed == ["arm=B"]
    assert any("proportional-hazards assumption may not hold for arm=B" in n
               for n in crossing.notes)
    d["t"] = rng.exponential(np.where(g == 1, 10, 20))
    assert cox.fit(d, "t", "e", ["arm"]).ph_failed == []


@pytest.mark.parametrize(("names", "refs", "message"), [
    (["weight"], {}, "no column 'weight'"),
    (["site"], {"site": "lung"}, "site has no level 'lung'"),
    (["age"], {"age": "60"}, "age is numeric"),
    (["one"], {}, "one has 1 level(s)"),
])
def test_bad_covariates_are_one_line_errors(names, refs, message):
    d = _cohort(n=50)
    d["one"] = "x"
    with pytest.raises(ReportInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        cox.fit(d, "os_months", "os_event", names, references=refs)


def test_many_tied_times_converge_and_equal_phreg():
    """PFS ends at scans every 12 weeks: most event times are tied, and every PD patient has
    an event (the cohort's PFS by mRECIST, on which lifelines' full Newton step diverges)."""
    rng = np.random.default_rng(11)
    n = 300
    cat = rng.choice(["CR", "PR", "SD", "PD"], n, p=[0.06, 0.57, 0.24, 0.13])
    scan = 84 / 30.44
    rate = np.select([cat == "CR", cat == "PR", cat == "PD"], [0.03, 0.035, 1.5], 0.1)
    t = np.ceil(rng.exponential(1 / rate) / scan) * scan
    c = rng.uniform(24, 72, n)
    d = pd.DataFrame({"category": cat, "t": np.minimum(t, c).round(2), "e": (t <= c) * 1})
    m = cox.fit(d, "t", "e", ["category"], references={"category": "SD"})
    assert not any("did not converge" in n for n in m.notes)
    x = pd.DataFrame({k: (d.category == k) * 1.0 for k in ("CR", "PD", "PR")})
    # statsmodels' own Newton steps diverge here too (NaN): its quasi-Newton optimiser does not
    with np.errstate(all="ignore"):
        ref = sm.PHReg(d["t"], x, status=d["e"], ties="efron").fit(
            method="bfgs", maxiter=1000, gtol=1e-8)
    for k, coef in zip(("CR", "PD", "PR"), ref.params, strict=True):
        assert m.coef[f"category={k}"] == pytest.approx(coef, abs=1e-3), k
