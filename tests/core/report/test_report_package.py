"""The report package (issue 10): every name of the old module still imports from
``response_tool.report``, and the figures' threshold lines come from the criterion drawn."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest

import response_tool.report as report
from response_tool.criteria import CRITERIA as RULES
from response_tool.report import build_report, figures


def test_every_public_name_of_the_old_module_imports_from_the_package():
    for name in ("build_report", "Report", "ReportInputError", "exact_ci", "distribution",
                 "cross_table", "km_groups", "read_clinical", "waterfall", "spider", "sankey",
                 "CRITERIA", "CRITERION_NAME", "CATEGORIES", "COLOURS", "CLINICAL_COLUMNS",
                 "ENDPOINTS"):
        assert hasattr(report, name), name
    assert report.CRITERIA == ("recist1.1", "mrecist")
    assert report.CRITERION_NAME == {"recist1.1": "RECIST 1.1", "mrecist": "mRECIST"}
    assert report.CATEGORIES == ("CR", "PR", "SD", "PD", "NE")
    assert tuple(report.COLOURS) == report.CATEGORIES  # a colour for each category shown


def _best() -> pd.DataFrame:
    rows = [("P1", "PR", -45.0), ("P2", "SD", -5.0), ("P3", "PD", 35.0)]
    return pd.DataFrame([{"patient_id": p, "criterion": crit, "category": c, "best_pct": v}
                         for crit in RULES for p, c, v in rows])


def _timepoints() -> pd.DataFrame:
    return pd.DataFrame([{"patient_id": p, "criterion": crit, "weeks": w, "pct": v}
                         for crit in RULES for p in ("P1", "P2")
                         for w, v in ((0.0, 0.0), (8.0, -20.0), (16.0, -40.0))])


def _hlines(ax) -> list[float]:
    return sorted(float(line.get_ydata()[0]) for line in ax.lines
                  if line.get_linestyle() == "--")


@pytest.fixture
def other_mrecist(monkeypatch):
    """mRECIST with other thresholds than RECIST 1.1 (PR −40 %, PD +25 %)."""
    rules = RULES["mrecist"]
    monkeypatch.setattr(rules, "PR_DECREASE", dataclasses.replace(rules.PR_DECREASE,
                                                                  value=Fraction(40)))
    monkeypatch.setattr(rules, "PD_INCREASE", dataclasses.replace(rules.PD_INCREASE,
                                                                  value=Fraction(25)))


def test_threshold_lines_are_those_of_the_criterion_drawn(other_mrecist):
    for crit, lines in (("recist1.1", [-30.0, 20.0]), ("mrecist", [-40.0, 25.0])):
        assert figures.thresholds(crit) == tuple(lines)
        ax = figures.waterfall(_best(), crit).axes[0]
        assert _hlines(ax) == lines, crit
        labels = {t.get_text() for t in ax.texts}
        assert {figures.percent(v) for v in lines} <= labels
        assert _hlines(figures.spider(_timepoints(), _best(), crit).axes[0]) == lines, crit
    assert figures.percent(-40.0) == "−40 %" and figures.percent(25.0) == "+25 %"


def test_the_page_names_each_criterion_s_thresholds_when_they_differ(cohort_dir: Path,
                                                                      tmp_path: Path,
                                                                      other_mrecist):
    rep = build_report(cohort_dir / "responses.csv", tmp_path / "r", agreement_boot=0)
    page = rep.index.read_text()
    assert ("Dashed lines: the PR and PD thresholds of each criterion (RECIST 1.1: −30 % and "
            "+20 %; mRECIST: −40 % and +25 %)") in page


def test_the_report_spells_no_criterion_id():
    """Criteria, names and categories come from the vocabulary; no branch on a criterion id."""
    folder = Path(report.__file__).parent
    for path in folder.glob("*.py"):
        text = path.read_text()
        for word in ('"recist1.1"', '"mrecist"', '"mRECIST"', '"RECIST 1.1"'):
            assert word not in text, f"{path.name} spells {word}"
