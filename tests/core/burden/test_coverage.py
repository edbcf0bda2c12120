"""Coverage of the HTB (issue 15, item 2): tumour away from the liver, masks across the image's
faces, and the ``burden`` command's refusals and notes with their numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest
import SimpleITK as sitk

from response_tool import burden
from response_tool.cli import main


def _liver() -> np.ndarray:
    liver = np.zeros((20, 40, 40), bool)
    liver[4:16, 5:25, 5:25] = True
    return liver


def test_tumour_inside_next_to_and_away_from_the_liver():
    liver = _liver()
    inside = np.zeros_like(liver)
    inside[8:10, 10:12, 10:12] = True
    assert burden.tumour_outside_liver(liver, inside) == burden.OutsideLiver(0, 0, None)
    # excluded from a liver mask that leaves out its tumours: touching, liver tumour
    hole = liver & ~inside
    assert burden.tumour_outside_liver(hole, inside).voxels == 0
    # exophytic: overlapping the liver's surface and sticking out
    exo = np.zeros_like(liver)
    exo[8:10, 22:30, 10:12] = True
    assert burden.tumour_outside_liver(liver, exo).voxels == 0
    # away from it (the spleen): one region of 2 × 3 × 4 voxels, centred at (9.5, 32, 33.5)
    away = inside.copy()
    away[9:11, 31:34, 32:36] = True
    got = burden.tumour_outside_liver(liver, away)
    assert (got.voxels, got.regions) == (24, 1)
    assert got.largest_centre_zyx == pytest.approx((9.5, 32.0, 33.5))
    # diagonal contact counts as touching (26-neighbourhood)
    corner = np.zeros_like(liver)
    corner[16, 25, 25] = True
    assert burden.tumour_outside_liver(liver, corner).voxels == 0


def test_edge_contacts_say_where_the_liver_is_cut():
    liver = _liver()
    assert burden.edge_contacts(liver) == []
    cut = liver[8:]  # the grid starts inside the liver: its whole cross-section on the face
    (c,) = burden.edge_contacts(cut)
    assert (c.axis, c.last, c.voxels, c.fraction) == (0, False, 400, 1.0)
    # a liver that merely ends on the face (a small cap) is not reported
    cap = np.zeros((10, 40, 40), bool)
    cap[0, 10:12, 10:12] = True
    cap[1:8, 5:25, 5:25] = True
    assert burden.edge_contacts(cap) == []


@pytest.fixture()
def case(phantom_dir, tmp_path):
    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    tp = gt["timepoints"][0]
    image = phantom_dir / tp["series"]["portal-venous"]["folder"]
    labels_img = sitk.ReadImage(str(phantom_dir / tp["label_map"]))
    labels = sitk.GetArrayFromImage(labels_img)

    def write(name: str, array: np.ndarray, crop: slice | None = None) -> str:
        img = sitk.GetImageFromArray(array.astype(np.uint8))
        img.CopyInformation(labels_img)
        if crop is not None:
            img = img[:, :, crop]
        sitk.WriteImage(img, str(tmp_path / name))
        return str(tmp_path / name)

    return tp, str(image), labels, write


def test_spleen_as_tumour_is_refused_with_its_volume(case, capsys):
    tp, image, labels, write = case
    liver = write("liver.nii", labels == 10)
    tumour = write("tumour.nii", np.isin(labels, (9, 15, 16, 17)))
    assert main(["burden", "--image", image, "--liver-mask", liver, "--tumor-mask", tumour]) == 2
    err = capsys.readouterr().err
    assert "tumour.nii: 290.1 mL (89.0 %) of the tumour lies away from the liver" in err
    # before: merged into the liver, HTB 16.26 % instead of 2.09 %
    assert main(["burden", "--image", image, "--liver-mask", liver, "--tumor-mask",
                 write("t.nii", np.isin(labels, (15, 16, 17))), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["htb_pct"] == pytest.approx(tp["htb_pct"], abs=1e-3)


def test_a_few_stray_tumour_voxels_are_noted_and_counted(case, capsys):
    tp, image, labels, write = case
    tumour = np.isin(labels, (15, 16, 17))
    tumour[30, 250:252, 480:482] = True  # 4 voxels in the abdominal wall, far from the liver
    assert main(["burden", "--image", image, "--liver-mask", write("liver.nii", labels == 10),
                 "--tumor-mask", write("tumour.nii", tumour), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["coverage"]["tumour_ml_away_from_liver"] == round(4 * 0.78 * 0.78 * 2.5 / 1e3, 4)
    (note,) = out["notes"]
    assert "tumour.nii: 0.006 mL (0.02 %) of the tumour lies away from the liver" in note


def test_mask_of_part_of_the_liver_is_refused(case, capsys):
    tp, image, labels, write = case
    liver = write("slab.nii", np.isin(labels, (10, 15, 16, 17)), crop=slice(20, 45))
    tumour = write("tumour.nii", np.isin(labels, (15, 16, 17)))
    assert main(["burden", "--image", image, "--liver-mask", liver, "--tumor-mask", tumour]) == 2
    err = capsys.readouterr().err
    assert "slab.nii: the mask's liver is cut where the mask's grid ends, at z -10.0 mm" in err
    assert "71 % of its largest cross-section" in err  # before: HTB 3.09 % of the slab, silently


def test_image_of_part_of_the_liver_is_refused_with_the_share_outside(case, tmp_path, capsys):
    import shutil

    import pydicom

    tp, image, labels, write = case
    part = tmp_path / "upper"
    shutil.copytree(image, part)
    for f in part.iterdir():
        if float(pydicom.dcmread(f, stop_before_pixels=True).ImagePositionPatient[2]) < 15.0:
            f.unlink()  # the image keeps z 15…97.5 mm
    liver = write("liver.nii", np.isin(labels, (10, 15, 16, 17)))
    assert main(["burden", "--image", str(part), "--liver-mask", liver, "--tumor-mask",
                 write("tumour.nii", np.isin(labels, (15, 16, 17)))]) == 2
    err = capsys.readouterr().err
    assert "liver.nii: 642.9 mL (37.5 %) of the mask's liver lies outside the image" in err
    assert "image covers x -199.7..199.7, y -199.7..199.7, z 13.8..98.8 mm" in err


def test_semi_quantitative_with_a_probability_liver_mask_carries_the_notes(case, tmp_path,
                                                                          capsys):
    tp, image, labels, write = case
    ref = sitk.ReadImage(write("ref.nii", labels > 0))
    prob = sitk.GetImageFromArray(np.isin(labels, (10, 15, 16, 17)).astype(np.float32) * 0.8)
    prob.CopyInformation(ref)
    sitk.WriteImage(prob, str(tmp_path / "prob.nii"))
    assert main(["burden", "--image", image, "--liver-mask", str(tmp_path / "prob.nii"),
                 "--tumor-mask", write("tumour.nii", np.isin(labels, (15, 16, 17))),
                 "--method", "semi-quantitative", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["method"] == "semi-quantitative" and len(out["slices"]) == 5
    assert out["liver_volume_ml"] == pytest.approx(tp["liver_volume_ml"], abs=1e-3)
    assert out["notes"] == ["prob.nii: a probability mask (values 0–0.8): voxels ≥ 0.5 "
                            "counted as the mask (label 1)"]
    assert out["coverage"] == {"liver_ml_in_mask_file": pytest.approx(tp["liver_volume_ml"]),
                               "liver_ml_outside_image": 0.0, "tumour_ml_in_mask_file":
                               pytest.approx(tp["tumour_volume_ml"]), "tumour_ml_outside_image":
                               0.0, "tumour_ml_away_from_liver": 0.0}
