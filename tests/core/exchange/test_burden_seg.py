"""``burden --seg / --nifti``: the masks a volumetric burden measured, written as a DICOM SEG on
the image's DICOM files (liver and tumour segments, overlapping) and as a NIfTI label map; both
read back through response_tool.io.masks to the same voxels and the same HTB."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from response_tool.cli import main
from response_tool.io import load_image
from response_tool.io.masks import read_label_map

from .conftest import run, tool


@pytest.fixture
def dcmqi(shared_data: Path) -> Path:
    return shared_data / "dcmqi-ct-3slice-liver"


def _dciodvfy(path: Path) -> list[str]:
    res = run([tool("dciodvfy"), str(path)])
    return [ln for ln in (res.stdout + res.stderr).splitlines()
            if ln.startswith(("Error", "Warning"))]


def _burden_json(capsys, *args: str) -> dict:
    capsys.readouterr()
    assert main(["burden", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _htb(liver: np.ndarray, tumour: np.ndarray) -> float:
    """The HTB of two boolean masks, counted here: tumour / (liver ∪ tumour) x 100."""
    return 100.0 * np.count_nonzero(tumour) / np.count_nonzero(liver | tumour)


@pytest.fixture(scope="module")
def phantom_seg(phantom_dir, tmp_path_factory):
    """The phantom's baseline: volumetric burden from its label map, with --seg and --nifti."""
    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    tp = gt["timepoints"][0]
    image_dir = phantom_dir / tp["series"]["portal-venous"]["folder"]
    labels = phantom_dir / tp["label_map"]
    present = set(np.unique(sitk.GetArrayFromImage(sitk.ReadImage(str(labels)))).tolist())
    liver = [v for v in gt["liver_labels"] if v in present]
    tumour = [v for v in gt["tumour_labels"] if v in present]
    out = tmp_path_factory.mktemp("burden_seg")
    args = ["--image", str(image_dir), "--liver-mask", str(labels),
            *[a for v in liver for a in ("--liver-label", str(v))],
            *[a for v in tumour for a in ("--tumor-label", str(v))]]
    assert main(["burden", *args, "--seg", str(out / "seg.dcm"),
                 "--nifti", str(out / "masks.nii.gz"), "--json"]) == 0
    image = load_image(image_dir)
    truth = read_label_map(labels, image).labels
    return {"image_dir": image_dir, "image": image, "out": out, "tp": tp, "args": args,
            "liver": np.isin(truth, liver) | np.isin(truth, tumour),
            "tumour": np.isin(truth, tumour)}


def test_phantom_seg_passes_dciodvfy_with_overlapping_segments(phantom_seg):
    import highdicom as hd

    seg_path = phantom_seg["out"] / "seg.dcm"
    assert _dciodvfy(seg_path) == []
    seg = hd.seg.segread(seg_path)
    assert [d.SegmentLabel for d in seg.SegmentSequence] == ["Liver", "Liver tumour"]
    assert seg.SeriesDescription == "HTB masks (volumetric)"
    # every frame references an image of the burden's series, by SOP Instance UID
    sops = {p.name: None for p in phantom_seg["image_dir"].iterdir()}
    import pydicom

    series_sops = {str(pydicom.dcmread(phantom_seg["image_dir"] / n, stop_before_pixels=True)
                       .SOPInstanceUID) for n in sops}
    refs = {str(r.ReferencedSOPInstanceUID) for s in seg.ReferencedSeriesSequence
            for r in s.ReferencedInstanceSequence}
    liver_slices = np.flatnonzero(phantom_seg["liver"].any(axis=(1, 2)))
    assert refs <= series_sops and len(refs) == liver_slices.max() - liver_slices.min() + 1


def test_phantom_seg_reads_back_to_the_same_voxels_and_htb(phantom_seg, capsys):
    seg_path = phantom_seg["out"] / "seg.dcm"
    lm = read_label_map(seg_path, phantom_seg["image"])
    liver, tumour = phantom_seg["liver"], phantom_seg["tumour"]
    assert np.array_equal(lm.labels == 2, tumour)
    assert np.array_equal(lm.labels > 0, liver)  # segment 1 is liver ∪ tumour
    nifti = read_label_map(phantom_seg["out"] / "masks.nii.gz", phantom_seg["image"]).labels
    assert np.array_equal(nifti, lm.labels)
    before = _burden_json(capsys, *phantom_seg["args"])
    after = _burden_json(capsys, "--image", str(phantom_seg["image_dir"]), "--liver-mask",
                         str(seg_path), "--liver-label", "1", "--tumor-label", "2")
    assert after["htb_pct"] == before["htb_pct"] == pytest.approx(_htb(liver, tumour), abs=1e-4)
    assert after["htb_pct"] == pytest.approx(phantom_seg["tp"]["htb_pct"], abs=0.01)
    assert after["liver_volume_ml"] == before["liver_volume_ml"]
    assert after["tumor_volume_ml"] == before["tumor_volume_ml"]


def test_real_ct_liver_seg_and_a_tumour_written_as_seg(dcmqi, tmp_path, capsys):
    """dcmqi's real 3-slice CT and its Slicer liver SEG, with a tumour drawn here (a disk inside
    the liver on the middle slice): the SEG on those CT files passes dciodvfy and reads back."""
    image = load_image(dcmqi)
    liver = read_label_map(dcmqi / "liver.dcm", image).labels > 0
    tumour = np.zeros_like(liver)
    z, ys, xs = 1, *np.nonzero(liver[1])
    cy, cx = int(np.median(ys)), int(np.median(xs))
    yy, xx = np.ogrid[:liver.shape[1], :liver.shape[2]]
    tumour[z] = ((yy - cy) ** 2 + (xx - cx) ** 2 <= 30 ** 2) & liver[z]
    img = sitk.GetImageFromArray(tumour.astype(np.uint8))
    image.copy_geometry_to(img)
    sitk.WriteImage(img, str(tmp_path / "tumour.nii.gz"))
    args = ["--image", str(dcmqi), "--liver-mask", str(dcmqi / "liver.dcm"),
            "--tumor-mask", str(tmp_path / "tumour.nii.gz")]
    first = _burden_json(capsys, *args, "--seg", str(tmp_path / "seg.dcm"))
    assert first["htb_pct"] == pytest.approx(_htb(liver, tumour), abs=1e-4)
    # the one dciodvfy remark is about the CT's own PatientName "JANCT000" (no caret), copied
    # from the images as the SEG must; the CT files themselves carry it too
    assert _dciodvfy(tmp_path / "seg.dcm") == [
        "Warning - Value dubious for this VR - (0x0010,0x0010) PN Patient's Name  PN [1] = "
        "<JANCT000> - Retired Person Name form"]
    lm = read_label_map(tmp_path / "seg.dcm", image)
    assert np.array_equal(lm.labels == 2, tumour) and np.array_equal(lm.labels > 0, liver)
    again = _burden_json(capsys, "--image", str(dcmqi), "--liver-mask", str(tmp_path / "seg.dcm"),
                         "--liver-label", "1", "--tumor-label", "2")
    assert again["htb_pct"] == first["htb_pct"]
    assert again["liver_volume_ml"] == first["liver_volume_ml"] == pytest.approx(70.3619, abs=1e-3)


def test_liver_only_writes_one_segment(dcmqi, tmp_path, capsys):
    import highdicom as hd

    out = _burden_json(capsys, "--image", str(dcmqi), "--liver-mask", str(dcmqi / "liver.dcm"),
                       "--seg", str(tmp_path / "liver.dcm"), "--nifti", str(tmp_path / "l.nii"))
    assert out["htb_pct"] is None
    seg = hd.seg.segread(tmp_path / "liver.dcm")
    assert [d.SegmentLabel for d in seg.SegmentSequence] == ["Liver"]
    image = load_image(dcmqi)
    original = read_label_map(dcmqi / "liver.dcm", image).labels
    assert np.array_equal(read_label_map(tmp_path / "liver.dcm", image).labels, original)
    assert np.count_nonzero(original) == 107098  # the README's count
    assert np.array_equal(read_label_map(tmp_path / "l.nii", image).labels, original)


@pytest.mark.parametrize(("extra", "message"), [
    (["--image", "{nrrd}", "--seg", "{tmp}/s.dcm"], "is not DICOM, and a DICOM SEG references"),
    (["--seg", "{tmp}/s.dcm", "--method", "semi-quantitative"], "writes the masks of a volumetric"),
    (["--nifti", "{tmp}/s.nrrd"], "a NIfTI file name ends in .nii.gz or .nii"),
    (["--seg", "{mask}"], "is the input --liver-mask"),
    (["--seg", "{tmp}/same.nii.gz", "--nifti", "{tmp}/same.nii.gz"], "given for both --seg and"),
    (["--seg", "{tmp}/no/such/folder/s.dcm"], "folder"),
])
def test_refused_before_anything_is_written(extra, message, dcmqi, tmp_path, capsys):
    fill = {"nrrd": str(dcmqi / "liver_seg.nrrd"), "tmp": str(tmp_path),
            "mask": str(dcmqi / "liver.dcm")}
    base = {"--image": str(dcmqi), "--liver-mask": str(dcmqi / "liver.dcm")}
    extra = [a.format(**fill) for a in extra]
    for flag in list(base):
        if flag in extra:
            base.pop(flag)
    capsys.readouterr()
    assert main(["burden", *[a for kv in base.items() for a in kv], *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) <= 2
    assert list(tmp_path.iterdir()) == []


def test_seg_on_a_series_with_a_missing_slice_is_refused_and_nothing_written(phantom_seg,
                                                                             tmp_path, capsys):
    """A slice missing inside the liver: the loaded grid has an interpolated plane there, which
    no SEG frame can reference; the burden is computed but neither --seg nor --nifti written."""
    import shutil

    import pydicom

    series = tmp_path / "series"
    shutil.copytree(phantom_seg["image_dir"], series)
    files = sorted(series.iterdir(), key=lambda p: float(pydicom.dcmread(
        p, stop_before_pixels=True).ImagePositionPatient[2]))
    liver_slices = np.flatnonzero(phantom_seg["liver"].any(axis=(1, 2)))
    k = int(liver_slices[len(liver_slices) // 2])
    files[k].unlink()
    args = [a if a != str(phantom_seg["image_dir"]) else str(series) for a in phantom_seg["args"]]
    out = tmp_path / "out"
    out.mkdir()
    capsys.readouterr()
    assert main(["burden", *args, "--seg", str(out / "s.dcm"), "--nifti",
                 str(out / "m.nii.gz")]) == 2
    err = capsys.readouterr().err
    assert f"slice {k} of series" in err and "interpolated plane" in err
    assert "drop --seg and write the masks with --nifti" in err
    assert list(out.iterdir()) == []
