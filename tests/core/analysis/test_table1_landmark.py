"""Table 1 (response_tool.analysis.table1) against scipy's tests computed here, and landmark
analysis (response_tool.analysis.landmark) on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from response_tool.analysis import at_landmark, baseline_table, landmark_months


def _data() -> pd.DataFrame:
    return pd.DataFrame({
        "responder": ["yes"] * 6 + ["no"] * 6,
        "age": [50, 52, 61, 58, 49, 70, 66, 71, 59, 80, 62, 75],
        "sex": ["F", "M", "F", "F", "M", "F", "M", "M", "M", "F", "M", "M"],
        "grade": ["G1", "G1", "G2", "G1", "G2", "G1", "G2", "G3", "G2", "G3", "G3", ""]})


def test_numeric_rows_are_mean_sd_and_median_iqr_with_t_and_wilcoxon():
    d = _data()
    t = baseline_table(d, ["age"], group="responder")
    assert list(t.columns) == ["variable", "level", "overall", "responder = no (n = 6)",
                               "responder = yes (n = 6)", "test", "p"]
    mean, median = t.iloc[0], t.iloc[1]
    yes = d.age[d.responder == "yes"]
    no = d.age[d.responder == "no"]
    assert mean["responder = yes (n = 6)"] == f"{yes.mean():.1f} ± {yes.std():.1f}"
    assert mean["overall"] == "62.8 ± 9.9"  # mean 753 / 12 = 62.75, SD sqrt(1086.25 / 11)
    assert median["overall"] == "61.5 (56.5–70.2)"  # linear quantiles: 56.5, 70.25
    assert mean["test"] == "Student t"
    assert mean["p"] == f"{stats.ttest_ind(no, yes).pvalue:.3f}"
    assert median["p"] == f"{stats.mannwhitneyu(no, yes).pvalue:.3f}"


def test_categorical_rows_choose_fisher_for_small_2x2_else_chi2():
    d = _data()
    t = baseline_table(d, ["sex", "grade"], group="responder")
    sex = t[t.variable == "sex"]
    assert sex["level"].tolist() == ["F", "M"]
    assert sex.iloc[0]["responder = yes (n = 6)"] == "4 (66.7 %)"
    assert sex.iloc[0]["test"] == "Fisher exact"
    assert sex.iloc[0]["p"] == f"{stats.fisher_exact([[1, 4], [5, 2]]).pvalue:.3f}"
    grade = t[t.variable == "grade"]
    assert grade["level"].tolist() == ["G1", "G2", "G3", "missing"]
    # % of the patients with a value: 5 of the 5 "no" patients with a grade
    assert grade.iloc[2]["responder = no (n = 6)"] == "3 (60.0 %)"
    assert grade.iloc[3]["overall"] == "1"
    chi = stats.chi2_contingency([[0, 4], [2, 2], [3, 0]], correction=False)
    assert grade.iloc[0]["test"].startswith("χ² (approximate")
    assert grade.iloc[0]["p"] == f"{chi.pvalue:.3f}"


def test_without_group_only_overall():
    t = baseline_table(_data(), ["age", "sex"])
    assert list(t.columns) == ["variable", "level", "overall"]


#: five patients: months of each follow-up scan with its response, and OS
TIMEPOINTS = pd.DataFrame(
    [("A", 0, ""), ("A", 3, "PR"), ("A", 6, "CR"), ("A", 9, "PD"),
     ("B", 0, ""), ("B", 3, "SD"), ("B", 6, "PD"),
     ("C", 0, ""), ("C", 3, "PR"),
     ("D", 0, ""), ("D", 7, "PR"),
     ("E", 0, ""), ("E", 3, "NE")], columns=["patient_id", "months", "response"])
SURVIVAL = pd.DataFrame({"patient_id": list("ABCDE"), "os_months": [20.0, 12.0, 5.0, 30.0, 8.0],
                         "os_event": [1, 1, 1, 0, 0]})


@pytest.mark.parametrize(("months", "expected", "not_at_risk", "not_assessed"), [
    # at 6 months: A's best so far CR (PR at 3, CR at 6), B's SD (SD, then PD at 6: best SD);
    # C died at 5 (not at risk); D has no scan by 6; E only NE
    (6.0, {"A": ("CR", 14.0, 1), "B": ("SD", 6.0, 1)}, ["C"], ["D", "E"]),
    # at 3 months: C is still alive and PR
    (3.0, {"A": ("PR", 17.0, 1), "B": ("SD", 9.0, 1), "C": ("PR", 2.0, 1)}, [], ["D", "E"]),
    # at 8: E was censored at 8 (not at risk: nothing left to follow); D PR at 7
    (8.0, {"A": ("CR", 12.0, 1), "B": ("SD", 4.0, 1), "D": ("PR", 22.0, 0)}, ["C", "E"], []),
])
def test_landmark_by_hand(months, expected, not_at_risk, not_assessed):
    lm = at_landmark(TIMEPOINTS, SURVIVAL, months, "os_months", "os_event")
    got = {r.patient_id: (r.category, r.time, r.event) for r in lm.data.itertuples()}
    assert got == expected
    assert lm.not_at_risk == not_at_risk and lm.not_assessed == not_assessed


def test_landmark_of_a_followup_is_the_median_time_of_that_scan():
    assert landmark_months(TIMEPOINTS, 1) == 3.0  # 3, 3, 3, 7, 3
    assert landmark_months(TIMEPOINTS, 2) == 6.0  # A 6, B 6
    with pytest.raises(ValueError, match="follow-up 4"):
        landmark_months(TIMEPOINTS, 4)
    assert np.isfinite(landmark_months(TIMEPOINTS, 3))
