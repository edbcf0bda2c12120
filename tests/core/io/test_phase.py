"""Contrast-phase detection: vendor and language conventions, timing, conflicts."""

from __future__ import annotations

import datetime as dt

import pytest

from response_tool.io.phase import (
    PHASES,
    TIMING_WINDOWS_S,
    PhaseGuess,
    PhaseInput,
    guess_phase,
    keyword_phase,
    refine_with_study_order,
    timing_phase,
)

DESCRIPTIONS = [
    # (description, expected phase) — Siemens, GE, Philips, Canon conventions, several languages
    ("Abdomen nativ 2.5 B30f", "non-contrast"),
    ("NON CON 2.5mm STND", "non-contrast"),
    ("Unenhanced 5mm", "non-contrast"),
    ("w/o contrast", "non-contrast"),
    ("TC simple", "non-contrast"),
    ("Sans injection", "non-contrast"),
    ("Senza mdc", "non-contrast"),
    ("Arterial 2.5 B30f", "arterial"),
    ("ART PHASE 2.5mm", "arterial"),
    ("LATE ART 2.5mm STND", "arterial"),
    ("Late arterial phase", "arterial"),
    ("Leber arteriell 2,5mm", "arterial"),
    ("Temps artériel", "arterial"),
    ("Fase arterial", "arterial"),
    ("HAP 1.25", "arterial"),
    ("PV 2.5 B30f", "portal-venous"),
    ("PORTAL VENOUS 2.5mm STND", "portal-venous"),
    ("Leber portalvenös 2,5mm", "portal-venous"),
    ("Pfortader 3mm", "portal-venous"),
    ("Abd 70s 3.0", "portal-venous"),
    ("Temps veineux", "portal-venous"),
    ("Delayed 3 min", "delayed"),
    ("Spätphase", "delayed"),
    ("Equilibrium", "delayed"),
    ("HBP 20 min", "hepatobiliary"),
    ("Hepatobiliary phase", "hepatobiliary"),
]


@pytest.mark.parametrize(("description", "phase"), DESCRIPTIONS, ids=[d for d, _ in DESCRIPTIONS])
def test_keywords(description, phase):
    hit = keyword_phase(description)
    assert hit is not None and hit[0] == phase


@pytest.mark.parametrize("description", ["CT Body 3.0", "part of liver", "PVC stent", "Topo", ""])
def test_no_keyword_in_unrelated_words(description):
    assert keyword_phase(description) is None


@pytest.mark.parametrize(
    ("delay_s", "phase"),
    [(9.9, None), (10.0, "arterial"), (49.9, "arterial"), (50.0, "portal-venous"),
     (109.9, "portal-venous"), (110.0, "delayed"), (599.9, "delayed"), (600.0, "hepatobiliary"),
     (3600.0, None)],
)
def test_timing_window_edges(delay_s, phase):
    assert timing_phase(delay_s) == phase
    assert {p for p, _, _ in TIMING_WINDOWS_S} <= set(PHASES)


T0 = dt.time(10, 0, 0)


def _at(seconds: int) -> dt.time:
    return (dt.datetime.combine(dt.date(2026, 1, 1), T0) + dt.timedelta(seconds=seconds)).time()


def test_keyword_and_timing_agree_gives_high_confidence():
    g = guess_phase(PhaseInput("Arterial 2.5", contrast_agent="Iomeprol", contrast_start=T0,
                               acquisition_time=_at(35)))
    assert (g.phase, g.confidence) == ("arterial", "high")
    assert any("35 s after ContrastBolusStartTime" in e for e in g.evidence)


def test_timing_alone_names_the_phase_with_medium_confidence():
    # the TotalSegmentator series: "CT Body 3.0", agent APPLIED, acquired 97 s after the bolus
    g = guess_phase(PhaseInput("CT Body 3.0", contrast_agent="APPLIED", contrast_start=T0,
                               acquisition_time=_at(97)))
    assert (g.phase, g.confidence) == ("portal-venous", "medium")


def test_conflict_between_keyword_and_timing_is_reported():
    g = guess_phase(PhaseInput("PV 2.5", contrast_agent="Iomeprol", contrast_start=T0,
                               acquisition_time=_at(30)))
    assert (g.phase, g.confidence) == ("portal-venous", "low")
    assert any(e.startswith("conflict") for e in g.evidence)


def test_agent_on_a_series_named_non_contrast_is_a_conflict():
    g = guess_phase(PhaseInput("nativ", contrast_agent="Iomeprol"))
    assert (g.phase, g.confidence) == ("non-contrast", "low")


def test_no_agent_and_no_keyword_is_non_contrast_when_the_agent_tag_says_none():
    assert guess_phase(PhaseInput("Abdomen 5mm", contrast_agent="NONE")).phase == "non-contrast"
    assert guess_phase(PhaseInput("Abdomen 5mm")).phase == "unknown"


def test_study_order_names_two_unlabelled_contrast_series():
    unknown = PhaseGuess("unknown", ("ContrastBolusAgent \"X\"",), "low")
    out = refine_with_study_order([unknown, unknown], [_at(130), _at(35)], [True, True])
    assert [g.phase for g in out] == ["portal-venous", "arterial"]
    assert all(g.confidence == "low" for g in out)


def test_override_is_recorded(shared_data):
    from response_tool.io import scan_dicom

    (series,) = scan_dicom(shared_data / "totalsegmentator-example-ct" / "example_ct_dicom").series
    changed = series.with_phase("arterial", reason="reader")
    assert changed.phase.phase == "arterial" and changed.phase.overridden
    assert "overridden: portal-venous → arterial (reader)" in changed.phase.evidence
