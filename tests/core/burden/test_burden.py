"""Hepatic tumour burden: schemes and their edges, volumetric and semi-quantitative estimates on the
phantom and on real data, and the ``burden`` command."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
import SimpleITK as sitk

from response_tool import burden
from response_tool.burden import estimates
from response_tool.cli import main
from response_tool.domain.errors import BurdenInputError
from response_tool.reading._checks import burden_values

# (scheme, value %, expected category): every edge, just below and just above
EDGES = [
    ("liu2022", 0, "<10%"), ("liu2022", 9.999, "<10%"), ("liu2022", 10, "10-25%"),
    ("liu2022", 10.001, "10-25%"), ("liu2022", 24.999, "10-25%"), ("liu2022", 25, "25-50%"),
    ("liu2022", 49.999, "25-50%"), ("liu2022", 50, "25-50%"), ("liu2022", 50.001, ">50%"),
    ("liu2022", 100, ">50%"),
    ("touloupas2021", 24.999, "<25%"), ("touloupas2021", 25, "25-50%"),
    ("touloupas2021", 49.999, "25-50%"), ("touloupas2021", 50, "50-75%"),
    ("touloupas2021", 75, "50-75%"), ("touloupas2021", 75.001, ">75%"),
    ("promid", 10, "<=10%"), ("promid", 10.001, ">10%"), ("promid", 0, "<=10%"),
    ("involvement50", 50, "<=50%"), ("involvement50", 50.001, ">50%"),
    ("custom:5,20", 4.999, "0-5%"), ("custom:5,20", 5, "5-20%"), ("custom:5,20", 20, "20-100%"),
    ("custom:5,20", 100, "20-100%"),
]


@pytest.mark.parametrize("scheme,value,expected", EDGES, ids=[f"{s}@{v}" for s, v, _ in EDGES])
def test_every_bin_edge(scheme, value, expected):
    assert burden.get_scheme(scheme).categorize(value) == expected


@pytest.mark.parametrize("scheme", list(burden.SCHEMES))
def test_bins_cover_0_to_100_without_overlap(scheme):
    s = burden.SCHEMES[scheme]
    for value in [Fraction(k, 8) for k in range(0, 801)]:
        assert sum(b.contains(value) for b in s.bins) == 1, (scheme, float(value))
    assert s.edge_rule and s.source


def test_exact_voxel_ratio_on_an_edge():
    # 1 voxel in 10 is exactly 10 %: liu2022 "10-25%", PROMID "<=10%"
    liver = np.ones((2, 5, 10), bool)
    tumour = np.zeros_like(liver)
    tumour.reshape(-1)[:10] = True
    est = burden.volumetric(liver, tumour, (2.0, 1.0, 1.0))
    assert est.htb_pct == 10.0
    assert est.categories == {"liu2022": "10-25%", "touloupas2021": "<25%", "promid": "<=10%",
                              "involvement50": "<=50%"}
    assert est.liver_volume_ml == pytest.approx(0.2) and est.tumor_volume_ml == pytest.approx(0.02)


def test_liver_is_the_union_of_liver_and_tumour():
    liver_with = np.zeros((4, 10, 10), bool)
    liver_with[:, 2:8, 2:8] = True
    tumour = np.zeros_like(liver_with)
    tumour[1:3, 3:5, 3:5] = True
    liver_without = liver_with & ~tumour
    a = burden.volumetric(liver_with, tumour, (1, 1, 1))
    b = burden.volumetric(liver_without, tumour, (1, 1, 1))
    assert a.htb_pct == b.htb_pct == pytest.approx(100 * 8 / 144)


@pytest.mark.parametrize("bad", ["custom:", "custom:50,10", "custom:0,10", "custom:x", "liu"])
def test_bad_schemes_are_refused(bad):
    with pytest.raises(BurdenInputError):
        burden.get_scheme(bad)


def test_propose_slices_spread_over_the_liver():
    liver = np.zeros((100, 4, 4), bool)
    liver[20:70] = True
    for n in (4, 5, 6):
        slices = burden.propose_slices(liver, n)
        assert len(slices) == n and min(slices) >= 20 and max(slices) < 70
        gaps = np.diff(slices)
        assert gaps.max() - gaps.min() <= 1  # evenly spread
    assert burden.propose_slices(liver, 5) == (25, 35, 45, 55, 65)
    with pytest.raises(BurdenInputError, match="empty"):
        burden.propose_slices(np.zeros((5, 2, 2), bool))


def test_semi_quantitative_estimate_and_bootstrap():
    est = burden.semi_quantitative([100, 200, 300, 200, 100], [10, 30, 60, 30, 0], "liu2022",
                                   slices=[1, 2, 3, 4, 5])
    assert est.htb_pct == pytest.approx(100 * 130 / 900)
    assert est.category == "10-25%" and est.method == "semi-quantitative"
    low, high = est.ci95_pct
    assert low < est.htb_pct < high
    assert est.ci95_pct == burden.semi_quantitative([100, 200, 300, 200, 100], [10, 30, 60, 30, 0],
                                                    "liu2022").ci95_pct  # seeded
    with pytest.raises(BurdenInputError, match="exceeds the liver area"):
        burden.semi_quantitative([100, 50], [10, 60])
    assert burden.semi_quantitative([100, 100], [1, 1]).notes  # fewer than 4 slices: noted


# -- a share stays a share: HTB and its interval within 0–100 % by construction ----------------
PX = 0.78 * 0.78  # the phantom's pixel (mm²); 100 × a / a rounds to 100.00000000000001 at 69 px
AT_100 = [
    # (what, liver areas mm², tumour areas mm², HTB %, 95 % interval) — each came out above 100 %
    ("one slice the lesion fills (no liver outlined there): the issue's 100.00000000000001",
     [69 * PX, 2000 * PX], [69 * PX, 0.0], 100 * 69 / 2069, (0.0, 100.0)),
    ("every slice the lesion fills (HTB 'outside 0-100 %' before)",
     [69 * PX], [69 * PX], 100.0, (100.0, 100.0)),
    ("tumour above the liver by less than the rounding allowance",
     [1e-3, 1000.0], [1e-3 + 0.5 * estimates.AREA_ROUNDING_MM2, 0.0], 1e-4, (0.0, 100.0)),
]


@pytest.mark.parametrize("liver,tumour,htb,ci", [a[1:] for a in AT_100],
                         ids=[a[0] for a in AT_100])
def test_semi_quantitative_share_and_interval_stay_within_0_100(liver, tumour, htb, ci):
    est = burden.semi_quantitative(liver, tumour, slices=range(20, 20 + len(liver)))
    assert est.htb_pct == pytest.approx(htb, rel=1e-6) and est.htb_pct <= 100.0
    assert est.ci95_pct == ci
    burden_values(est)  # the read store takes it ("ci95_pct high … must be 0 to 100 %" before)


# A bootstrap over areas (never negative) cannot fall below 0 %; the clamp also holds for an
# interval that would (a normal approximation near 0 %), so both bounds are tested on it.
@pytest.mark.parametrize("interval,clamped", [
    ((97.5, 100.00000000000001), (97.5, 100.0)),
    ((-0.3, 4.2), (0.0, 4.2)),
    ((-1.0, 101.0), (0.0, 100.0)),
    ((-2.0, -1.0), (0.0, 0.0)),
    ((101.0, 102.0), (100.0, 100.0)),
    ((0.0, 100.0), (0.0, 100.0)),
    ((2.0, 3.0), (2.0, 3.0)),
])
def test_interval_of_a_share_is_clamped_to_0_100(interval, clamped):
    assert estimates._share_interval(*interval) == clamped


def test_visual_category_is_checked_against_the_scheme():
    assert burden.visual(">75%", "touloupas2021").category == ">75%"
    with pytest.raises(BurdenInputError, match="not in scheme"):
        burden.visual(">80%", "touloupas2021")


# -- real data ---------------------------------------------------------------------------------

def test_totalsegmentator_liver_volume_from_positions(shared_data):
    from response_tool.io import load_image, load_label_map

    folder = shared_data / "totalsegmentator-example-ct"
    volume = load_image(folder / "example_ct_dicom")
    labels = load_label_map(folder / "example_seg_dicom.nii.gz", volume)
    est = burden.volumetric(labels == 5, np.zeros(labels.shape, bool), volume.spacing_zyx_mm)
    assert est.liver_volume_ml == pytest.approx(699.44, abs=0.5)  # not 1049 mL (SliceThickness)
    assert est.htb_pct == 0.0 and est.category == "<10%"


@pytest.mark.parametrize("mask", ["liver.dcm", "liver_seg.nrrd"], ids=["SEG", "NRRD"])
def test_dcmqi_liver_volume_from_seg_and_nrrd(shared_data, mask):
    from response_tool.io import load_image, load_mask

    folder = shared_data / "dcmqi-ct-3slice-liver"
    volume = load_image(folder)
    liver = load_mask(folder / mask, volume)
    est = burden.volumetric(liver, np.zeros_like(liver), volume.spacing_zyx_mm)
    assert est.liver_volume_ml == pytest.approx(70.3619, abs=0.01)


def test_cli_reads_seg_and_nrrd_together(shared_data, capsys):
    folder = shared_data / "dcmqi-ct-3slice-liver"
    # the SEG as liver, the NRRD of the same segmentation as "tumour": they agree voxel for voxel
    assert main(["burden", "--image", str(folder), "--liver-mask", str(folder / "liver.dcm"),
                 "--tumor-mask", str(folder / "liver_seg.nrrd"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["liver_volume_ml"] == pytest.approx(70.3619, abs=0.01)
    assert out["tumor_volume_ml"] == pytest.approx(70.3619, abs=0.01)
    assert out["htb_pct"] == 100.0 and out["category"] == ">50%"


# -- the phantom -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def phantom_truth(phantom_dir):
    truth = json.loads((phantom_dir / "ground_truth.json").read_text())
    return truth


def _series(phantom_dir, tp):
    return phantom_dir / tp["series"]["portal-venous"]["folder"]


def test_phantom_volumetric_and_semi_quantitative_htb(phantom_dir, phantom_truth):
    from response_tool.io import load_image, load_label_map

    liver_labels, tumour_labels = phantom_truth["liver_labels"], phantom_truth["tumour_labels"]
    for tp in phantom_truth["timepoints"]:
        volume = load_image(_series(phantom_dir, tp))
        labels = load_label_map(phantom_dir / tp["label_map"], volume)
        present = set(np.unique(labels).tolist())
        est = burden.volumetric_from_labels(labels, [v for v in liver_labels if v in present],
                                            [v for v in tumour_labels if v in present],
                                            volume.spacing_zyx_mm)
        assert est.htb_pct == pytest.approx(tp["htb_pct"], abs=0.5)
        assert est.liver_volume_ml == pytest.approx(tp["liver_volume_ml"], rel=0.01)
        assert est.category == burden.get_scheme("liu2022").categorize(tp["htb_pct"])
        semi = burden.semi_quantitative_from_masks(np.isin(labels, liver_labels),
                                                   np.isin(labels, tumour_labels),
                                                   volume.spacing_zyx_mm, n_slices=5)
        assert len(semi.slices) == 5
        assert semi.htb_pct == pytest.approx(tp["htb_pct"], abs=5.0)
        assert semi.category == burden.get_scheme("liu2022").categorize(tp["htb_pct"])


def test_phantom_cli_json_keys_and_errors(phantom_dir, phantom_truth, tmp_path, capsys):
    tp = phantom_truth["timepoints"][0]
    args = ["burden", "--image", str(_series(phantom_dir, tp)), "--liver-mask",
            str(phantom_dir / tp["label_map"]), "--liver-label", "10", "--tumor-label", "15",
            "--tumor-label", "16", "--tumor-label", "17"]
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"liver_volume_ml", "tumor_volume_ml", "htb_pct", "category"} <= set(out)
    assert out["htb_pct"] == pytest.approx(tp["htb_pct"], abs=0.01)
    assert out["method"] == "volumetric" and out["scheme"] == "liu2022"

    assert main([*args[:-6], "--tumor-label", "99"]) == 2
    assert "tumour label(s) 99 not in the mask" in capsys.readouterr().err
    assert main(args[:5] + ["--tumor-label", "15"]) == 2  # several labels, no --liver-label
    assert "say which is the liver with --liver-label" in capsys.readouterr().err
    # no tumour mask or label: the liver volume only (label 10 alone: the liver without tumour)
    assert main([*args[:7], "--json"]) == 0
    only = json.loads(capsys.readouterr().out)
    assert only["htb_pct"] is None and only["category"] is None
    assert only["liver_volume_ml"] == pytest.approx(tp["liver_volume_ml"] - tp["tumour_volume_ml"],
                                                    abs=0.01)
    assert any("liver volume only" in n for n in only["notes"])
    # a mask that lies elsewhere in space
    far = sitk.Image(8, 8, 4, sitk.sitkUInt8)
    far.SetOrigin((5000.0, 5000.0, 5000.0))
    far[2, 2, 2] = 1
    sitk.WriteImage(far, str(tmp_path / "far.nii.gz"))
    assert main(["burden", "--image", str(_series(phantom_dir, tp)), "--liver-mask",
                 str(tmp_path / "far.nii.gz"), "--tumor-label", "1"]) == 2
    assert "does not overlap the image" in capsys.readouterr().err


# -- HTB in the exported responses ------------------------------------------------------------

def test_assess_joins_burden_per_time_point(phantom_dir, phantom_truth, tmp_path, capsys):
    import csv

    burden_csv = tmp_path / "burden.csv"
    rows = [{"patient_id": phantom_truth["patient_id"], "timepoint_date": tp["date"],
             "htb_method": "volumetric", "htb_pct": tp["htb_pct"], "htb_category": ""}
            for tp in phantom_truth["timepoints"][:2]]
    rows.append({"patient_id": phantom_truth["patient_id"],
                 "timepoint_date": phantom_truth["timepoints"][2]["date"],
                 "htb_method": "visual", "htb_pct": "", "htb_category": "<25%"})
    with burden_csv.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "responses.csv"
    assert main(["assess", str(phantom_dir / "ground_truth_measurements.csv"), "-o", str(out),
                 "--burden", str(burden_csv), "--htb-scheme", "touloupas2021"]) == 0
    got = list(csv.DictReader(out.open()))
    assert len(got) == 6  # 2 criteria × 3 time points, every one with its HTB
    by_date = {(r["criterion"], r["timepoint_date"]): r for r in got}
    for tp in phantom_truth["timepoints"][:2]:
        r = by_date[("recist1.1", tp["date"])]
        assert float(r["htb_pct"]) == pytest.approx(tp["htb_pct"])
        assert (r["htb_category"], r["htb_method"]) == ("<25%", "volumetric")
    last = by_date[("mrecist", phantom_truth["timepoints"][2]["date"])]
    assert (last["htb_pct"], last["htb_category"], last["htb_method"]) == ("", "<25%", "visual")
    capsys.readouterr()

    # a row that matches no time point is an error naming its line, and nothing is written
    with burden_csv.open("a") as fh:
        fh.write(f"{phantom_truth['patient_id']},2027-01-01,volumetric,3.0,\n")
    out2 = tmp_path / "responses2.csv"
    assert main(["assess", str(phantom_dir / "ground_truth_measurements.csv"), "-o", str(out2),
                 "--burden", str(burden_csv), "--htb-scheme", "touloupas2021"]) == 2
    assert "burden table line 5: no time point" in capsys.readouterr().err
    assert not out2.exists()


@pytest.mark.parametrize("row,message", [
    ({"htb_method": "volumetric", "htb_pct": "120"}, "column htb_pct ('120'): a percentage"),
    ({"htb_method": "guess", "htb_pct": "5"}, "column htb_method ('guess')"),
    ({"htb_method": "visual", "htb_pct": "", "htb_category": "huge"}, "needs a category of liu2022"),
    ({"htb_method": "volumetric", "htb_pct": ""}, "needs its HTB %"),
    ({"timepoint_date": "5/3/2026"}, "column timepoint_date ('5/3/2026')"),
])
def test_burden_table_errors_name_line_and_column(row, message):
    import pandas as pd

    base = {"patient_id": "P1", "reader_id": "", "timepoint_date": "2026-03-05",
            "htb_method": "volumetric", "htb_pct": "5", "htb_category": ""}
    with pytest.raises(BurdenInputError, match="line 2") as info:
        burden.read_burden_table(pd.DataFrame([{**base, **row}]))
    assert message in str(info.value)
