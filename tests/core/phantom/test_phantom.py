"""The phantom: determinism, valid DICOM, HU per phase, rasterisation vs analytic ground truth."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pydicom
import pytest

from response_tool.io import load_series, scan_dicom
from response_tool.phantom import scenario as sc
from response_tool.phantom.render import Grid, render_labels


@pytest.fixture(scope="module")
def gt(phantom_dir):
    return json.loads((phantom_dir / "ground_truth.json").read_text())


def test_ground_truth_lists_three_timepoints_and_every_lesion(gt):
    assert [t["label"] for t in gt["timepoints"]] == ["baseline", "follow-up 1", "follow-up 2"]
    ids = [les["lesion_id"] for les in gt["lesions"]]
    assert ids == ["T1", "T2", "N1", "NT1", "NT2", "NEW1"]
    new = next(les for les in gt["lesions"] if les["lesion_id"] == "NEW1")
    assert [tp["present"] for tp in new["timepoints"]] == [False, False, True]


def test_scenario_arithmetic_matches_the_literature_pattern(gt):
    base, fu1, fu2 = gt["timepoints"]
    recist = fu1["recist1.1_sum_mm"] / base["recist1.1_sum_mm"] - 1
    mrecist = fu1["mrecist_sum_mm"] / base["mrecist_sum_mm"] - 1
    assert -0.30 < recist < 0.20 and abs(recist) < 0.10  # clearly RECIST SD
    assert mrecist <= -0.30 - 0.10  # clearly mRECIST PR, not on the boundary
    assert gt["expected_responses"]["follow-up 1"]["recist1.1"]["overall"] == "SD"
    assert gt["expected_responses"]["follow-up 1"]["mrecist"]["overall"] == "PR"
    assert all(v["overall"] == "PD" for v in gt["expected_responses"]["follow-up 2"].values())
    new = next(les for les in gt["lesions"] if les["lesion_id"] == "NEW1")["timepoints"][2]
    assert new["long_axis_mm"] >= 10.0


def test_dicom_headers_are_complete(phantom_dir, gt):
    required = ["PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                "FrameOfReferenceUID", "StudyDate", "AcquisitionTime", "ImagePositionPatient",
                "ImageOrientationPatient", "PixelSpacing", "SliceThickness", "RescaleIntercept",
                "RescaleSlope", "Manufacturer", "SeriesDescription", "InstanceNumber"]
    files = [p for p in (phantom_dir / gt["patient_dir"]).rglob("IM*")]
    assert len(files) == 9 * gt["grid"]["n_slices"]
    for path in files[:: max(1, len(files) // 40)]:
        ds = pydicom.dcmread(path)
        missing = [k for k in required if k not in ds]
        assert not missing, (path, missing)
        assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
        assert 0.7 <= float(ds.PixelSpacing[0]) <= 0.8 and float(ds.SliceThickness) == 2.5
        contrast = "ContrastBolusAgent" in ds
        assert contrast == ("nativ" not in ds.SeriesDescription.lower()
                            and "non con" not in ds.SeriesDescription.lower())


def _erode(mask: np.ndarray, r: int = 3) -> np.ndarray:
    """In-plane erosion by ``r`` pixels (keeps only voxels whose neighbourhood is all inside)."""
    out = mask.copy()
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            out &= np.roll(np.roll(mask, dy, axis=1), dx, axis=2)
    return out


def test_hu_inside_structures_per_phase(phantom_dir, gt):
    scan = scan_dicom(phantom_dir / gt["patient_dir"])
    labels = render_labels(0)
    for series in scan.studies[0].series:
        hu = load_series(series).array
        column = 1 + sc.PHASE_ORDER.index(series.phase.phase)
        for label in (10, 11, 9, 15):  # liver, aorta, spleen, viable tumour
            core = _erode(labels == label)  # away from the blurred edges
            expected = sc.TISSUES[label][column]
            assert float(hu[core].mean()) == pytest.approx(expected, abs=12), (series.phase, label)
        noise = float(hu[labels == 10].std())
        assert 8 < noise < 20


def test_rasterised_lesions_match_the_analytic_diameters(gt):
    grid = Grid()
    for k in range(3):
        labels = render_labels(k, grid)
        for lesion in gt["lesions"]:
            rec = lesion["timepoints"][k]
            if not rec["present"] or lesion["is_nodal"]:
                continue
            z = rec["slice_index"]
            inside = np.isin(labels[z], sc.TUMOUR_LABELS)
            (x0, y0, _), (x1, y1, _) = rec["long_axis_endpoints_xyz_mm"]
            length = float(np.hypot(x1 - x0, y1 - y0))
            assert length == pytest.approx(rec["long_axis_mm"], abs=1e-3)
            # extent of the lesion's voxels along the long axis direction on that slice
            ys, xs = np.nonzero(inside)
            px = grid.xy0_mm + xs * grid.pixel_mm
            py = grid.xy0_mm + ys * grid.pixel_mm
            ux, uy = (x1 - x0) / length, (y1 - y0) / length
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            near = np.abs(-(px - cx) * uy + (py - cy) * ux) < grid.pixel_mm  # on the axis line
            along = (px - cx) * ux + (py - cy) * uy
            measured = float(along[near].max() - along[near].min()) + grid.pixel_mm
            assert measured == pytest.approx(rec["long_axis_mm"], abs=np.sqrt(2) * grid.pixel_mm)


def test_liver_and_tumour_volumes_are_the_rasterised_counts(gt):
    grid = Grid()
    for k, tp in enumerate(gt["timepoints"]):
        labels = render_labels(k, grid)
        tumour = np.isin(labels, sc.TUMOUR_LABELS).sum() * grid.voxel_ml
        assert tp["tumour_volume_ml"] == pytest.approx(tumour, abs=1e-3)
        analytic = sum(les["timepoints"][k]["volume_ml"] for les in gt["lesions"]
                       if les["timepoints"][k]["present"] and not les["is_nodal"])
        assert tumour == pytest.approx(analytic, rel=0.05)
        assert 1200 < tp["liver_volume_ml"] < 2500


def test_generation_is_deterministic(tmp_path):
    from response_tool.phantom.broken import write_broken_variants

    def digest(root):
        h = hashlib.sha256()
        for p in sorted(root.rglob("*")):
            if p.is_file():
                h.update(p.name.encode())
                h.update(p.read_bytes())
        return h.hexdigest()

    a = write_broken_variants(tmp_path / "a", seed=3)
    b = write_broken_variants(tmp_path / "b", seed=3)
    write_broken_variants(tmp_path / "c", seed=4)
    assert a == b
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a") != digest(tmp_path / "c")


def test_same_seed_same_uids_and_pixels(phantom_dir, gt, tmp_path):
    from response_tool.phantom import generate_phantom

    again = generate_phantom(tmp_path / "again", seed=0).ground_truth
    assert [t["study_instance_uid"] for t in again["timepoints"]] == \
        [t["study_instance_uid"] for t in gt["timepoints"]]
    rel = gt["timepoints"][1]["series"]["arterial"]["folder"]
    first = sorted((phantom_dir / rel).iterdir())[10].read_bytes()
    second = sorted((tmp_path / "again" / rel).iterdir())[10].read_bytes()
    assert first == second


def test_refuses_to_overwrite_without_force(tmp_path, capsys):
    from response_tool.cli import main

    (tmp_path / "keep.txt").write_text("x")
    assert main(["phantom", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not empty" in err and "--force" in err
    assert (tmp_path / "keep.txt").exists()
