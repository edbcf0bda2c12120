"""Burden outlines kept with the read, exported as DICOM SEG (overlapping liver and tumour
segments) and NIfTI; a SEG with overlapping segments read per segment instead of refused."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import SimpleITK as sitk

from response_tool.cli import main
from response_tool.io import load_image, load_label_map
from response_tool.io.masks import read_label_map
from response_tool.reading.store import ReadStore

from .conftest import run, tool

SLICES = (20, 30, 36, 44)


@pytest.fixture(scope="module")
def outlined(phantom_dir, phantom_store, tmp_path_factory):
    """A copy of the phantom store whose DEMO read has burden outlines at baseline (the truth's
    liver and tumour on four slices), exported with dicom-export."""
    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    tp = gt["timepoints"][0]
    image = load_image(phantom_dir / tp["series"]["portal-venous"]["folder"])
    truth = load_label_map(phantom_dir / tp["label_map"], image)
    outlines = np.zeros(truth.shape, np.uint8)
    for z in SLICES:
        outlines[z][np.isin(truth[z], gt["liver_labels"])] = 1
        outlines[z][np.isin(truth[z], gt["tumour_labels"])] = 2
    root = tmp_path_factory.mktemp("seg")
    store_path = root / "reads.sqlite"
    shutil.copy(phantom_store, store_path)
    with ReadStore(store_path) as store:
        key = [k for k in store.reads() if k.reader_id == "DEMO"][0]
        assert store.set_burden_outlines(key, tp["date"], tp["series"]["portal-venous"][
            "series_instance_uid"], outlines) == list(SLICES)
    out = root / "export"
    assert main(["dicom-export", "--store", str(store_path), "--images",
                 str(phantom_dir / "RT-PHANTOM-001"), "-o", str(out), "--reader", "DEMO"]) == 0
    return {"out": out, "outlines": outlines, "image": image, "gt": gt, "tp": tp,
            "store": store_path}


def test_outlines_are_kept_with_the_read(outlined):
    with ReadStore(outlined["store"]) as store:
        key = [k for k in store.reads() if k.reader_id == "DEMO"][0]
        (saved,) = store.burden_outlines(key)
    assert saved["date"] == outlined["tp"]["date"] and saved["slices"] == list(SLICES)
    assert np.array_equal(saved["labels"], outlined["outlines"])


def test_seg_passes_dciodvfy_and_has_overlapping_liver_and_tumour_segments(outlined):
    import highdicom as hd

    (seg_path,) = outlined["out"].glob("*_burden_SEG.dcm")
    assert seg_path.name == "RT-PHANTOM-001_DEMO_2026-01-12_baseline_burden_SEG.dcm"
    res = run([tool("dciodvfy"), str(seg_path)])
    assert [ln for ln in (res.stdout + res.stderr).splitlines() if ln.startswith(("Error",
                                                                                 "Warning"))] == []
    seg = hd.seg.segread(seg_path)
    assert [d.SegmentLabel for d in seg.SegmentSequence] == ["Liver", "Liver tumour"]
    liver = seg.get_volume(segment_numbers=[1], combine_segments=True).array > 0
    tumour = seg.get_volume(segment_numbers=[2], combine_segments=True).array > 0
    o = outlined["outlines"]
    assert liver.sum() == np.count_nonzero(o) and tumour.sum() == np.count_nonzero(o == 2)
    assert (tumour & ~liver).sum() == 0  # the tumour lies inside the liver segment
    with pytest.raises(RuntimeError, match="overlap"):  # what the old reader refused
        seg.get_volume(combine_segments=True)


def test_overlapping_seg_is_read_per_segment_onto_the_image(outlined):
    (seg_path,) = outlined["out"].glob("*_burden_SEG.dcm")
    lm = read_label_map(seg_path, outlined["image"])
    assert np.array_equal(lm.labels, outlined["outlines"])  # voxel for voxel on the image grid
    (note,) = lm.notes
    assert f"overlap in {np.count_nonzero(outlined['outlines'] == 2)} voxels" in note
    assert "--liver-label 1 --tumor-label 2" in note


def test_volumetric_burden_from_the_outlines_seg_is_refused_as_partial(outlined, phantom_dir,
                                                                       capsys):
    """Outlines on 4 slices are a semi-quantitative sample, not a volume: `burden` reads the
    overlapping SEG (no "segments overlap" refusal) and refuses it for what it is."""
    (seg_path,) = outlined["out"].glob("*_burden_SEG.dcm")
    capsys.readouterr()
    assert main(["burden", "--image", str(phantom_dir / outlined["tp"]["series"]["portal-venous"][
        "folder"]), "--liver-mask", str(seg_path), "--liver-label", "1", "--tumor-label", "2",
        "--json"]) == 2
    err = capsys.readouterr().err
    assert "overlap" not in err and "cut where the mask's grid ends" in err


def test_nifti_holds_the_outlines_on_the_series_geometry(outlined):
    (path,) = outlined["out"].glob("*_burden_outlines.nii.gz")
    img = sitk.ReadImage(str(path))
    assert np.array_equal(sitk.GetArrayFromImage(img), outlined["outlines"])
    image = outlined["image"]
    assert img.GetOrigin() == pytest.approx(image.origin_xyz_mm)
    assert img.GetSpacing() == pytest.approx(image.spacing_zyx_mm[::-1])
    # and it reads back onto the image as the same labels
    assert np.array_equal(load_label_map(path, image), outlined["outlines"])


def test_whole_liver_seg_with_overlapping_tumour_gives_the_phantom_htb(outlined, phantom_dir,
                                                                      tmp_path, capsys):
    """A SEG of the whole liver with its tumour segment inside it (as Slicer and highdicom write
    one): `burden` reads it per segment and gives the phantom's true HTB."""
    from response_tool.exchange.images import ImageIndex
    from response_tool.exchange.seg import outlines_seg

    gt, tp = outlined["gt"], outlined["tp"]
    truth = load_label_map(phantom_dir / tp["label_map"], outlined["image"])
    labels = np.where(np.isin(truth, gt["tumour_labels"]), 2,
                      np.where(np.isin(truth, gt["liver_labels"]), 1, 0)).astype(np.uint8)
    seg = outlines_seg(labels, tp["series"]["portal-venous"]["series_instance_uid"],
                       ImageIndex(phantom_dir / "RT-PHANTOM-001" / "20260112_baseline"))
    seg.save_as(tmp_path / "liver_tumour_seg.dcm", enforce_file_format=True)
    capsys.readouterr()
    assert main(["burden", "--image", str(phantom_dir / tp["series"]["portal-venous"]["folder"]),
                 "--liver-mask", str(tmp_path / "liver_tumour_seg.dcm"), "--liver-label", "1",
                 "--tumor-label", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["htb_pct"] == pytest.approx(tp["htb_pct"], abs=0.01)
    assert result["liver_volume_ml"] == pytest.approx(tp["liver_volume_ml"], rel=1e-3)
