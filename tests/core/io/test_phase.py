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


# -- ambiguous keywords need context; projections and localizers are not reading series ---------

def test_an_ambiguous_keyword_alone_names_no_phase_but_is_kept_as_a_hint():
    g = guess_phase(PhaseInput("AP 2.5mm"))
    assert (g.phase, g.confidence, g.hint) == ("unknown", "low", "arterial")
    assert any('"AP" is ambiguous (arterial phase, or abdomen/pelvis' in e for e in g.evidence)


def test_ap_is_anatomy_when_the_study_names_the_abdomen_and_pelvis():
    g = guess_phase(PhaseInput("LIVER 3 PHASE (AP)", study_description="CT,ABD/PEL LIVER W/C"))
    assert g.phase == "unknown"
    assert any(e.startswith('keyword "AP" read as anatomy') and 'StudyDescription "CT,ABD/PEL '
               'LIVER W/C" names the anatomy ("ABD")' in e for e in g.evidence), g.evidence
    assert any('multiphase protocol ("3 PHASE")' in e for e in g.evidence)


@pytest.mark.parametrize("study", ["A/P - LIVER", "AA/P LIVER", "CT A-P LIVER", "abd/pelvis",
                                   "CT C/A/P", "CT CAP", "T/A/P W/C", "CHEST/ABD/PELVIS"])
def test_the_anatomy_words_of_real_study_descriptions(study):
    g = guess_phase(PhaseInput("LIVER 3 PHASE (AP)", study_description=study))
    assert any("read as anatomy" in e for e in g.evidence), (study, g.evidence)


def test_the_timing_confirms_an_ambiguous_keyword():
    g = guess_phase(PhaseInput("AP 2.5mm", contrast_agent="Iomeprol", contrast_start=T0,
                               acquisition_time=_at(32)))
    assert (g.phase, g.confidence) == ("arterial", "medium")
    assert any("timing confirms the ambiguous keyword" in e for e in g.evidence)


def test_the_studys_other_series_named_by_phase_confirm_an_ambiguous_keyword():
    ap = guess_phase(PhaseInput("AP 2.5mm", study_description="CT ABD/PEL"))
    pv = guess_phase(PhaseInput("PV 2.5mm", study_description="CT ABD/PEL"))
    pre = guess_phase(PhaseInput("PRE 5mm", study_description="CT ABD/PEL"))
    out = refine_with_study_order([pre, ap, pv], [None, None, None], [False, False, False])
    assert [g.phase for g in out] == ["non-contrast", "arterial", "portal-venous"]
    assert out[1].confidence == "low" and out[1].hint == ""
    assert "named by phase (portal-venous)" in out[1].evidence[-1]
    # a non-contrast series beside it names nothing: the study may name its series by anatomy
    alone = refine_with_study_order([pre, ap], [None, None], [False, False])
    assert alone[1].phase == "unknown"


def test_mr_angiography_is_not_a_contrast_phase_without_an_agent():
    g = guess_phase(PhaseInput("3D TOF ANGIO", modality="MR"))
    assert g.phase == "unknown" and g.hint == ""
    assert any("time of flight" in e for e in g.evidence)
    assert guess_phase(PhaseInput("CE ANGIO", modality="MR", contrast_agent="Gadovist")
                       ).phase == "arterial"
    assert guess_phase(PhaseInput("CTA chest", modality="CT")).phase == "arterial"


NOT_READING = [
    # (description, ImageType, what the reason says)
    ("ANGIO Projected from   C", ("DERIVED", "SECONDARY", "PROJECTION IMAGE"), "projection"),
    ("MIP 10mm arterial", ("DERIVED", "SECONDARY", "AXIAL"), "projection (MIP / MinIP)"),
    ("Arterial 2.5", ("DERIVED", "SECONDARY", "MIP"), "maximum / minimum intensity"),
    ("Topogram 0.6 T20s", ("ORIGINAL", "PRIMARY", "LOCALIZER"), "localizer"),
    ("FAST LOCALIZER", ("ORIGINAL", "PRIMARY", "OTHER"), "localizer"),
    ("T/S/C RF FAST PILOT", (), "localizer"),
    ("SURVEY", (), "localizer"),
    ("Scout", (), "localizer"),
    ("Dose Report", ("DERIVED", "SECONDARY", "OTHER"), "dose report"),
    ("Leber arteriell 3D VR", (), "volume rendering"),
]


@pytest.mark.parametrize(("description", "image_type", "what"), NOT_READING,
                         ids=[d for d, _, _ in NOT_READING])
def test_projections_localizers_and_captures_are_not_reading_series(description, image_type,
                                                                    what):
    g = guess_phase(PhaseInput(description, image_type=image_type, modality="MR"
                               if "ANGIO" in description or "PILOT" in description else "CT"))
    assert g.phase == "unknown" and not g.is_reading_series
    assert what in g.not_for_reading
    assert g.evidence[0].startswith("not a reading series:")


@pytest.mark.parametrize("description", ["Arterial 2.5 B30f", "PV 2.5 B30f", "Abdomen nativ 2.5",
                                         "LATE ART 2.5mm STND", "Recon 2: PRE LIVER"])
def test_reading_series_stay_reading_series(description):
    g = guess_phase(PhaseInput(description, image_type=("ORIGINAL", "PRIMARY", "AXIAL")))
    assert g.is_reading_series and g.phase != "unknown"


def test_projections_take_no_part_in_the_study_order():
    mip = guess_phase(PhaseInput("MIP", image_type=("DERIVED", "SECONDARY", "PROJECTION IMAGE"),
                                 contrast_agent="X"))
    unknown = PhaseGuess("unknown", ("ContrastBolusAgent \"X\"",), "low")
    out = refine_with_study_order([unknown, mip, unknown], [_at(35), _at(36), _at(130)],
                                  [True, True, True])
    assert [g.phase for g in out] == ["arterial", "unknown", "portal-venous"]


# -- the real headers of ../shared/data/tcia-hcc-tace-seg-first-slices (its README) --------------

TCIA_SERIES = [
    # (SeriesDescription, files, phase, confidence, what the evidence must say)
    ("Recon 2: PRE LIVER", 50, "non-contrast", "medium", ['has keyword "PRE" → non-contrast']),
    ("PRE LIVER", 20, "non-contrast", "medium", ['has keyword "PRE" → non-contrast']),
    ("LIVER 3 PHASE (AP)", 9, "unknown", "low",
     ['keyword "AP" read as anatomy (abdomen/pelvis or anteroposterior), not the arterial '
      'phase: StudyDescription', 'names a multiphase protocol ("3 PHASE")']),
    ("3 PHASE LIVER (ABD)", 4, "unknown", "low",
     ['names a multiphase protocol ("3 PHASE")', "ContrastBolusAgent absent"]),
    ("2.5 STANDARD", 4, "unknown", "low", ["ContrastBolusAgent absent"]),
    ("2.5 SOFT", 3, "unknown", "low", ["ContrastBolusAgent absent"]),
    ("Recon 3: PRE LIVER", 2, "non-contrast", "medium", ['has keyword "PRE" → non-contrast']),
    ("LIVER 3 PHASE (C/A/P)", 2, "unknown", "low", ['names a multiphase protocol ("3 PHASE")']),
    ("", 2, "unknown", "low", ["ContrastBolusAgent absent"]),
    ("C-A-P", 1, "unknown", "low", ["ContrastBolusAgent absent"]),
    ("PRE CONTRAST", 1, "non-contrast", "medium", ['has keyword "PRE CONTRAST" → non-contrast']),
    ("Recon 2: PRE", 1, "non-contrast", "medium", ['has keyword "PRE" → non-contrast']),
]


@pytest.fixture(scope="module")
def tcia_series(shared_data):
    from response_tool.io import scan_dicom

    scan = scan_dicom(shared_data / "tcia-hcc-tace-seg-first-slices")
    by: dict[str, list] = {}
    for series in scan.series:
        by.setdefault(series.description, []).append(series)
    return by


def test_the_tcia_table_covers_every_series(tcia_series):
    assert sum(n for _, n, *_ in TCIA_SERIES) == 99
    assert {d for d, *_ in TCIA_SERIES} == set(tcia_series)
    # before: the nine "LIVER 3 PHASE (AP)" series were called arterial (medium) from "AP"
    assert not any(s.phase.phase == "arterial" for group in tcia_series.values() for s in group)


@pytest.mark.parametrize(("description", "files", "phase", "confidence", "reasons"), TCIA_SERIES,
                         ids=[d or "(empty)" for d, *_ in TCIA_SERIES])
def test_tcia_real_headers(tcia_series, description, files, phase, confidence, reasons):
    group = tcia_series[description]
    assert len(group) == files
    for series in group:
        g = series.phase
        assert (g.phase, g.confidence) == (phase, confidence), (series.study_description,
                                                                g.evidence)
        assert g.is_reading_series
        for reason in reasons:
            assert any(reason in e for e in g.evidence), (reason, g.evidence)
