"""Phase evidence from the image (response_tool.io.phase_image): the attenuation of the aorta, the
portal vein and the liver, with its numbers — on the phantom (ground truth: its series' phases
and scenario.TISSUES) and on the 99 real single TCIA slices (what one slice can tell)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from response_tool.io import load_series, scan_dicom
from response_tool.io.phase import PhaseGuess, PhaseInput, guess_phase
from response_tool.io.phase_image import (
    THRESHOLDS,
    ImageEvidence,
    RegionHU,
    classify,
    image_phase_evidence,
    region_hu,
    with_image_evidence,
)
from response_tool.phantom import scenario as sc

PHASE_COLUMN = {"non-contrast": 1, "arterial": 2, "portal-venous": 3}


def _region(name: str, hu: float) -> RegionHU:
    return RegionHU(name, hu, hu, 10.0, 100, (0,), "test")


# -- the reading rules, table-driven ----------------------------------------------------------------

CLASSIFY = [
    # (aorta, portal vein, liver HU; phase, contrast; what the evidence says)
    (40, None, None, "non-contrast", False, "no contrast in the blood"),
    (90, None, 60, "non-contrast", False, "≤ 90 HU"),
    (120, None, 100, "unknown", True, "weakly opacified"),
    (300, 110, None, "arterial", True, "portal vein / aorta = 110 / 300 = 0.37"),
    (165, 185, None, "portal-venous", True, "portal vein / aorta = 185 / 165 = 1.12"),
    (250, 180, None, "unknown", True, "between arterial and portal-venous"),
    (300, None, 72, "arterial", True, "liver / aorta = 72 / 300 = 0.24"),
    (165, None, 112, "portal-venous", True, "liver / aorta = 112 / 165 = 0.68"),
    (250, None, 105, "unknown", True, "between"),
    (300, None, None, "unknown", True, "cannot be told from the aorta alone"),
    (300, 110, 112, "arterial", True, "portal vein / aorta"),  # the portal vein is read first
    (None, None, 100, "unknown", None, "aorta not found"),
]


@pytest.mark.parametrize(("aorta", "portal", "liver", "phase", "contrast", "says"), CLASSIFY)
def test_the_phase_is_read_from_the_attenuations(aorta, portal, liver, phase, contrast, says):
    found = classify(*(None if v is None else _region(n, v) for n, v in
                       (("aorta", aorta), ("portal vein", portal), ("liver", liver))))
    assert (found.phase, found.contrast) == (phase, contrast)
    assert any(says in e for e in found.evidence), found.evidence
    assert all(e.startswith("image: ") for e in found.evidence)


def test_every_threshold_names_its_source():
    assert all(source for _, source in THRESHOLDS.values())


# -- the phantom: three phases at three time points, with ground truth ----------------------------

@pytest.fixture(scope="module")
def phantom_series(phantom_dir):
    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    scan = scan_dicom(phantom_dir / gt["patient_dir"])
    truth = {s["series_instance_uid"]: phase for tp in gt["timepoints"]
             for phase, s in tp["series"].items()}
    return [(s, truth[s.series_instance_uid]) for st in scan.studies for s in st.series]


def test_the_phantom_phases_from_the_image_alone(phantom_series, phantom_dir):
    assert len(phantom_series) == 9
    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    timepoint = {s["series_instance_uid"]: k for k, tp in enumerate(gt["timepoints"])
                 for s in tp["series"].values()}
    aorta_at = {k: sc.placed(next(e for label, e in sc.ANATOMY if label == 11), k).center_xyz_mm[:2]
                for k in range(len(gt["timepoints"]))}  # the patient moves between studies
    for series, truth in phantom_series:
        volume = load_series(series)
        found = image_phase_evidence(volume.array, volume.spacing_zyx_mm, volume.direction_xyz,
                                     modality=series.modality, max_slices=6)
        assert found.phase == truth, (series.description, found.evidence)
        column = PHASE_COLUMN[truth]
        aorta, liver = found.region("aorta"), found.region("liver")
        assert aorta is not None and liver is not None
        assert aorta.median_hu == pytest.approx(sc.TISSUES[11][column], abs=15)  # measured where
        assert liver.median_hu == pytest.approx(sc.TISSUES[10][column], abs=15)  # it should be
        assert aorta.where.startswith("auto: round") and len(aorta.slices) >= 3
        z, row, col = aorta.centre_zyx
        x, y, _ = volume.index_zyx_to_xyz_mm([z, row, col])
        # the phantom's aorta (x, y mm) where it lies in that study
        assert (x, y) == pytest.approx(aorta_at[timepoint[series.series_instance_uid]], abs=6.0)


def test_the_phantom_with_masks_reads_the_portal_vein(phantom_series):
    from response_tool.phantom.render import render_labels

    labels = render_labels(0)
    for series, truth in phantom_series[:3]:  # the baseline study: labels of time point 0
        volume = load_series(series)
        found = image_phase_evidence(volume.array, volume.spacing_zyx_mm, volume.direction_xyz,
                                     aorta=labels == 11, portal_vein=labels == 13,
                                     liver=labels == 10)
        assert (found.phase, found.confidence) == (truth, "medium")
        portal = found.region("portal vein")
        assert portal is not None and portal.where == "given mask"
        assert portal.median_hu == pytest.approx(sc.TISSUES[13][PHASE_COLUMN[truth]], abs=15)
        if truth != "non-contrast":
            assert any("portal vein / aorta" in e for e in found.evidence)


def test_header_and_image_together_on_the_phantom(phantom_series):
    series, truth = next((s, t) for s, t in phantom_series if t == "arterial")
    volume = load_series(series)
    found = image_phase_evidence(volume.array, volume.spacing_zyx_mm, volume.direction_xyz,
                                 max_slices=4)
    agreed = with_image_evidence(series.phase, found)
    assert agreed.phase == "arterial" and agreed.confidence == "high"
    assert agreed.evidence[-1] == "header and image agree"
    silent = with_image_evidence(PhaseGuess("unknown", ("ContrastBolusAgent absent",), "low"),
                                 found)
    assert (silent.phase, silent.confidence) == ("arterial", "low")
    assert "the image's arterial is taken" in silent.evidence[-1]
    named_pre = guess_phase(PhaseInput("PRE 5mm"))
    conflict = with_image_evidence(named_pre, found)
    assert (conflict.phase, conflict.confidence) == ("non-contrast", "low")
    assert conflict.evidence[-1].startswith("conflict: the header says non-contrast, the image "
                                            "shows contrast in the blood")


def test_a_series_not_for_reading_and_an_override_only_gain_evidence():
    found = classify(_region("aorta", 300), None, _region("liver", 70))
    mip = guess_phase(PhaseInput("MIP", image_type=("DERIVED", "SECONDARY", "PROJECTION IMAGE")))
    out = with_image_evidence(mip, found)
    assert out.phase == "unknown" and out.not_for_reading and out.evidence[-1].startswith("image:")
    reader = PhaseGuess("portal-venous", ("overridden",), "high", overridden=True)
    assert with_image_evidence(reader, found).phase == "portal-venous"


# -- inputs it cannot read ---------------------------------------------------------------------------

def test_no_evidence_on_mr_or_on_slices_that_are_not_axial():
    volume = np.full((2, 32, 32), 300, dtype=np.int16)
    mr = image_phase_evidence(volume, (2.0, 1.0, 1.0), modality="MR")
    assert mr.phase == "unknown" and "CT numbers" in mr.evidence[0]
    coronal = np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]], dtype=float).T
    sideways = image_phase_evidence(volume, (2.0, 1.0, 1.0), coronal)
    assert sideways.phase == "unknown" and "not axial" in sideways.evidence[0]


def test_an_image_without_a_body_gives_no_evidence():
    found = image_phase_evidence(np.full((3, 64, 64), -1000, dtype=np.int16), (2.5, 0.8, 0.8))
    assert (found.phase, found.contrast) == ("unknown", None)
    assert any("aorta not found" in e for e in found.evidence)


def test_bad_arrays_and_masks_are_refused():
    with pytest.raises(ValueError, match="needs a"):
        image_phase_evidence(np.zeros(5), (1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="not on the image grid"):
        region_hu(np.zeros((2, 4, 4)), np.ones((2, 4, 5), bool), "liver")
    assert region_hu(np.zeros((2, 4, 4)), np.zeros((2, 4, 4), bool), "liver") is None


def test_a_flipped_image_is_turned_back():
    """Columns running left → right (ImageOrientationPatient -1\\0\\0…): the masks follow."""
    volume = np.zeros((1, 8, 8), dtype=np.int16)
    volume[0, 2, 1] = 300
    mask = np.zeros((1, 8, 8), bool)
    mask[0, 2, 1] = True
    flipped = np.diag([-1.0, 1.0, 1.0])
    found = image_phase_evidence(volume, (1.0, 1.0, 1.0), flipped, aorta=mask)
    assert found.region("aorta").median_hu == 300


# -- the 99 real single slices of ../shared/data/tcia-hcc-tace-seg-first-slices --------------------

@pytest.fixture(scope="module")
def tcia_evidence(shared_data) -> list[tuple[object, ImageEvidence]]:
    scan = scan_dicom(shared_data / "tcia-hcc-tace-seg-first-slices")
    out = []
    for series in scan.series:
        volume = load_series(series)
        out.append((series, image_phase_evidence(volume.array, volume.spacing_zyx_mm,
                                                 volume.direction_xyz, modality=series.modality)))
    return out


def test_one_slice_tells_contrast_or_not_and_no_more(tcia_evidence):
    """The slices lie at the heart (README): the aorta is there, the liver and the portal vein
    hardly ever — so a slice says whether contrast was given, not which contrast phase."""
    assert len(tcia_evidence) == 99
    for series, found in tcia_evidence:
        assert found.phase in ("non-contrast", "unknown"), (series.description, found.evidence)
        assert found.evidence[-1].startswith("image: one slice only")
        if found.contrast:
            assert any("cannot be told from the aorta alone (no portal vein or liver on this "
                       "one slice)" in e or "weakly opacified" in e for e in found.evidence)


def test_the_pre_contrast_slices_never_show_contrast(tcia_evidence):
    pre = [(s, f) for s, f in tcia_evidence if "PRE" in s.description]
    assert len(pre) == 74
    assert not any(f.contrast for _, f in pre)
    unenhanced = [f for _, f in pre if f.phase == "non-contrast"]
    assert len(unenhanced) >= 30  # the aorta found, ≤ 90 HU, on most of them
    for found in unenhanced:
        aorta = found.region("aorta")
        assert aorta is not None and -20 <= aorta.median_hu <= 90
        assert "round soft-tissue structure" in aorta.where


def test_the_contrast_protocol_slices_show_contrast(tcia_evidence):
    """"LIVER 3 PHASE (AP)", "3 PHASE LIVER (ABD)", "(C/A/P)", "C-A-P" and the two without a
    description show opacified heart chambers (README): never non-contrast, mostly contrast."""
    contrast = [(s, f) for s, f in tcia_evidence if "PHASE" in s.description
                or s.description in ("C-A-P", "")]
    assert len(contrast) == 18
    assert not any(f.contrast is False for _, f in contrast)
    shown = [f for _, f in contrast if f.contrast]
    assert len(shown) >= 12
    for found in shown:
        assert found.region("aorta").median_hu >= THRESHOLDS["aorta_unenhanced_max_hu"][0]


def test_the_ap_series_of_the_issue_with_its_numbers(tcia_evidence):
    """HCC_015 "LIVER 3 PHASE (AP)": the header does not say the phase ("AP" is the anatomy);
    the slice shows the aorta beside the spine at about 235 HU — contrast was given; which phase
    stays unknown on a slice through the heart."""
    series, found = next((s, f) for s, f in tcia_evidence if s.patient_id == "HCC_015")
    assert series.description == "LIVER 3 PHASE (AP)"
    aorta = found.region("aorta")
    assert aorta.median_hu == pytest.approx(235, abs=25)
    _, row, col = aorta.centre_zyx
    assert (row, col) == pytest.approx((313, 249), abs=6)
    combined = with_image_evidence(series.phase, found)
    assert combined.phase == "unknown"
    assert any("read as anatomy" in e for e in combined.evidence)
    assert any("contrast was given" in e and "HU" in e for e in combined.evidence)


def test_header_and_image_agree_on_the_pre_slices(tcia_evidence):
    for series, found in tcia_evidence:
        if "PRE" in series.description and found.phase == "non-contrast":
            combined = with_image_evidence(series.phase, found)
            assert (combined.phase, combined.confidence) == ("non-contrast", "high")


# -- a real contrast CT through the liver: the TotalSegmentator example series ---------------------

def test_a_real_portal_venous_series_auto_and_with_its_segmentation(shared_data):
    """"CT Body 3.0", acquired 97 s after the bolus (header: portal-venous, medium). The image
    says the same, from the structures found automatically and from TotalSegmentator's own
    labels (52 aorta, 64 portal & splenic vein, 5 liver; README: aorta ≈ 177, portal vein ≈ 131,
    liver ≈ 89 HU mean)."""
    import SimpleITK as sitk

    root = shared_data / "totalsegmentator-example-ct"
    (series,) = scan_dicom(root / "example_ct_dicom").series
    volume = load_series(series)
    auto = image_phase_evidence(volume.array, volume.spacing_zyx_mm, volume.direction_xyz)
    assert (auto.phase, auto.contrast) == ("portal-venous", True), auto.evidence
    assert auto.region("aorta").median_hu == pytest.approx(165, abs=25)
    assert auto.region("liver").median_hu == pytest.approx(93, abs=10)
    labels = sitk.GetArrayFromImage(sitk.ReadImage(str(root / "example_seg_dicom.nii.gz")))
    labels = labels[:, ::-1, :]  # README: row = 511 − j
    masked = image_phase_evidence(volume.array, volume.spacing_zyx_mm, volume.direction_xyz,
                                  aorta=labels == 52, portal_vein=labels == 64, liver=labels == 5)
    assert (masked.phase, masked.confidence) == ("portal-venous", "medium")
    assert masked.region("liver").mean_hu == pytest.approx(89.3, abs=0.1)
    assert any("portal vein / aorta = 133 / 151" in e for e in masked.evidence), masked.evidence
    combined = with_image_evidence(series.phase, auto)
    assert (combined.phase, combined.confidence) == ("portal-venous", "high")
