"""Best overall response: RECIST 1.1 Table 3 line by line, unconfirmed BOR, protocol options."""

from __future__ import annotations

import datetime as dt

import pytest

from response_tool.criteria.best_response import (
    CONFIRMATION,
    best_overall_response,
    confirmed_best_overall_response,
)

BASE = dt.date(2026, 1, 1)


def weeks(*w: float) -> list[dt.date]:
    return [BASE + dt.timedelta(weeks=x) for x in w]


def confirmed(responses, at_weeks, confirm=4, sd_min=6, ne_tol=1):
    return confirmed_best_overall_response(weeks(*at_weeks), responses, BASE, confirm_weeks=confirm,
                                           sd_min_weeks=sd_min, ne_tolerated=ne_tol)


# Each line of Table 3: (first, subsequent, SD minimum met?, expected BOR). The first response is
# at week 8 (SD minimum of 6 weeks met) or week 4 with sd_min 6 (not met); the subsequent 6 weeks later.
TABLE_3 = [
    ("CR", "CR", "yes", "CR"), ("CR", "PR", "yes", "SD"), ("CR", "PR", "no", "PD"),
    ("CR", "SD", "yes", "SD"), ("CR", "SD", "no", "PD"), ("CR", "PD", "yes", "SD"),
    ("CR", "PD", "no", "PD"), ("CR", "NE", "yes", "SD"), ("CR", "NE", "no", "NE"),
    ("PR", "CR", "yes", "PR"), ("PR", "PR", "yes", "PR"), ("PR", "SD", "yes", "SD"),
    ("PR", "PD", "yes", "SD"), ("PR", "PD", "no", "PD"), ("PR", "NE", "yes", "SD"),
    ("PR", "NE", "no", "NE"), ("NE", "NE", "no", "NE"),
]


@pytest.mark.parametrize(("first", "subsequent", "met", "expected"), TABLE_3,
                         ids=[f"{a},{b},sdmin-{m}" for a, b, m, _ in TABLE_3])
def test_table_3_lines(first, subsequent, met, expected):
    # SD minimum 6 weeks: first response at week 8 meets it; at week 4 (and 5 for the second) not
    at = (8, 14) if met == "yes" else (4, 5)
    # the subsequent assessment must be >= 4 weeks later to confirm; when not met, ask for 1 week
    result = confirmed([first, subsequent], at, confirm=4 if met == "yes" else 1)
    assert result.response == expected
    line = CONFIRMATION.lookup((first, subsequent, met))
    assert line.then == expected


def test_table_3_rule_id_is_reported_for_an_unconfirmed_response():
    r = confirmed(["PR", "SD"], (8, 14))
    assert r.rule_id == "RECIST1.1-T3-PR-SD" and "Table 3" in r.rule_source


def test_confirmation_needs_the_interval():
    assert confirmed(["PR", "PR"], (8, 11), confirm=4).response == "SD"  # 3 weeks apart
    assert confirmed(["PR", "PR", "PR"], (8, 11, 12), confirm=4).response == "PR"


@pytest.mark.parametrize(("ne_tol", "expected"), [(0, "SD"), (1, "CR"), (2, "CR")])
def test_ne_between_response_and_confirmation(ne_tol, expected):
    assert confirmed(["CR", "NE", "CR"], (8, 12, 16), ne_tol=ne_tol).response == expected


def test_two_ne_with_one_tolerated_is_not_confirmed():
    assert confirmed(["PR", "NE", "NE", "PR"], (8, 10, 12, 16), ne_tol=1).response == "SD"


def test_only_assessments_up_to_the_first_pd_count():
    assert confirmed(["SD", "PD", "PR", "PR"], (8, 12, 16, 24)).response == "SD"
    assert best_overall_response(weeks(8, 12, 16), ["SD", "PD", "CR"], BASE,
                                 sd_min_weeks=6).response == "SD"


@pytest.mark.parametrize(
    ("responses", "at", "expected"),
    [(["SD"], (5.9,), "NE"), (["SD"], (6,), "SD"), (["SD", "PD"], (4, 8), "PD"),
     (["PR", "SD"], (4, 8), "PR"), (["NON-CR/NON-PD"], (8,), "NON-CR/NON-PD"),
     (["NE", "NE"], (8, 16), "NE"), ([], (), "NE"), (["PD"], (8,), "PD")],
    ids=["SD-5.9w", "SD-6.0w", "early-SD-then-PD", "PR", "non-target-only", "all-NE",
         "no-follow-up", "PD"],
)
def test_unconfirmed_best_response(responses, at, expected):
    assert best_overall_response(weeks(*at), responses, BASE, sd_min_weeks=6).response == expected


@pytest.mark.parametrize("confirm_weeks,sd_min_weeks,ne_tolerated", [(4, 6, 1), (8, 12, 0), (0, 0, 2)])
def test_cohort_bor_equals_the_per_read_functions(confirm_weeks, sd_min_weeks, ne_tolerated):
    """best_responses() decides a cohort once per pattern of responses and date facts; on 600
    random reads with irregular visit dates it must agree with calling the BOR functions read by
    read (response, rule and date)."""
    import numpy as np
    import pandas as pd

    from response_tool.assessment import AssessmentOptions, best_responses

    rng = np.random.default_rng(7)
    protocol = AssessmentOptions(confirm_weeks=confirm_weeks, sd_min_weeks=sd_min_weeks,
                        ne_tolerated=ne_tolerated)
    rows, expected = [], {}
    values = ["CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE"]
    for k in range(600):
        n = int(rng.integers(0, 7))
        days = np.cumsum(rng.integers(7, 70, size=n))
        dates = [BASE + dt.timedelta(days=int(d)) for d in days]
        responses = list(rng.choice(values, size=n, p=[0.1, 0.25, 0.3, 0.05, 0.15, 0.15]))
        rows.append({"patient_id": f"P{k}", "reader_id": "R1", "criterion": "recist1.1",
                     "timepoint_date": BASE, "is_baseline": True, "overall_response": ""})
        rows += [{"patient_id": f"P{k}", "reader_id": "R1", "criterion": "recist1.1",
                  "timepoint_date": d, "is_baseline": False, "overall_response": r}
                 for d, r in zip(dates, responses, strict=True)]
        b = best_overall_response(dates, responses, BASE, sd_min_weeks=sd_min_weeks)
        c = confirmed_best_overall_response(dates, responses, BASE, confirm_weeks=confirm_weeks,
                                            sd_min_weeks=sd_min_weeks, ne_tolerated=ne_tolerated)
        expected[f"P{k}"] = (b.response, b.date, b.rule_id, c.response, c.date, c.rule_id)
    frame = pd.DataFrame(rows)
    frame["timepoint_date"] = pd.to_datetime(frame["timepoint_date"])
    got = best_responses(frame.sample(frac=1, random_state=1), protocol)  # any row order
    assert len(got) == 600

    def as_date(value):
        return None if pd.isna(value) else value.date()

    for r in got.to_dict("records"):
        assert (r["best_overall_response"], as_date(r["best_overall_response_date"]),
                r["bor_rule_id"], r["confirmed_best_overall_response"],
                as_date(r["confirmed_bor_date"]), r["confirmed_bor_rule_id"]) \
            == expected[r["patient_id"]], r["patient_id"]
