"""Loader and masks on real third-party data (values from ../shared/data/*/README.md)."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from response_tool.io import load_mask, load_series, scan_dicom
from response_tool.io.masks import load_label_map


@pytest.fixture(scope="module")
def totalseg(shared_data):
    folder = shared_data / "totalsegmentator-example-ct"
    scan = scan_dicom(folder / "example_ct_dicom")
    (series,) = scan.series
    return folder, series, load_series(series)


def test_totalsegmentator_series_geometry_from_positions(totalseg):
    _, series, volume = totalseg
    assert series.n_slices == 20
    # SliceThickness says 3 mm; the positions say 2 mm — the positions win.
    assert pydicom.dcmread(series.files[0], stop_before_pixels=True).SliceThickness == 3
    assert volume.spacing_zyx_mm == pytest.approx((2.0, 0.9765625, 0.9765625))
    assert volume.array.shape == (20, 512, 512)
    assert volume.array.dtype == np.int16
    zs = [s.position_xyz_mm[2] for s in series.slices]
    assert zs == sorted(zs) and zs[0] == pytest.approx(-804.5) and zs[-1] == pytest.approx(-766.5)
    # instance numbers run the other way: sorting by them would flip the volume
    numbers = [s.instance_number for s in series.slices]
    assert numbers == sorted(numbers, reverse=True)
    assert series.transfer_syntax_uid == "1.2.840.10008.1.2.4.90"  # JPEG 2000 lossless
    assert series.warnings == ()


def test_totalsegmentator_liver_hu_and_volume(totalseg):
    folder, _, volume = totalseg
    liver = load_mask(folder / "example_seg_dicom.nii.gz", volume, label=5)
    assert int(liver.sum()) == 366_708
    assert float(volume.array[liver].mean()) == pytest.approx(89.3, abs=0.1)
    volume_ml = liver.sum() * volume.voxel_volume_mm3 / 1000.0
    assert volume_ml == pytest.approx(699.44, abs=0.5)
    assert abs(volume_ml - 1049.16) > 300  # what SliceThickness would have given


@pytest.mark.parametrize("mask_name", ["liver.dcm", "liver_seg.nrrd"], ids=["SEG", "NRRD"])
def test_dcmqi_liver_statistics(shared_data, mask_name):
    folder = shared_data / "dcmqi-ct-3slice-liver"
    scan = scan_dicom(folder)
    (series,) = scan.series
    volume = load_series(series)
    assert volume.spacing_zyx_mm[0] == pytest.approx(1.0)
    mask = load_mask(folder / mask_name, volume)
    assert int(mask.sum()) == 107_098
    hu = volume.array[mask]
    assert float(hu.mean()) == pytest.approx(37.3289, abs=1e-3)
    assert (int(hu.min()), int(hu.max())) == (-778, 221)
    assert float(hu.std(ddof=1)) == pytest.approx(59.1691, abs=1e-3)
    assert mask.sum() * volume.voxel_volume_mm3 == pytest.approx(70361.9, abs=0.1)
    # slices sorted z ascending: −128.69, −127.69, −126.69
    areas = mask.sum(axis=(1, 2)) * volume.spacing_zyx_mm[1] * volume.spacing_zyx_mm[2]
    assert areas == pytest.approx([23804.59, 23418.28, 23139.06], abs=0.01)


def test_dcmqi_folder_skips_non_image_objects_with_a_note(shared_data):
    scan = scan_dicom(shared_data / "dcmqi-ct-3slice-liver")
    reasons = {p.name: r for p, r in scan.skipped}
    assert "SEG" in reasons["liver.dcm"] and "skipped" in reasons["liver.dcm"]
    assert reasons["README.md"] == "not a DICOM file"
    assert len(scan.series) == 1


def test_label_map_absent_label_lists_the_present_ones(shared_data):
    from response_tool.domain.errors import MaskAlignmentError

    folder = shared_data / "dcmqi-ct-3slice-liver"
    volume = load_series(scan_dicom(folder).series[0])
    with pytest.raises(MaskAlignmentError, match=r"label 7 is not in this mask \(labels present: 1\)"):
        load_mask(folder / "liver_seg.nrrd", volume, label=7)
    labels = load_label_map(folder / "liver_seg.nrrd", volume)
    assert set(np.unique(labels)) == {0, 1}


def test_mask_that_does_not_overlap_the_image_is_an_error(shared_data, tmp_path):
    import SimpleITK as sitk

    from response_tool.domain.errors import MaskAlignmentError

    folder = shared_data / "dcmqi-ct-3slice-liver"
    volume = load_series(scan_dicom(folder).series[0])
    moved = sitk.ReadImage(str(folder / "liver_seg.nrrd"))
    origin = list(moved.GetOrigin())
    origin[2] += 500.0  # half a metre above the image
    moved.SetOrigin(origin)
    path = tmp_path / "moved.nrrd"
    sitk.WriteImage(moved, str(path))
    with pytest.raises(MaskAlignmentError, match="does not overlap the image") as err:
        load_mask(path, volume)
    assert str(path) in str(err.value) and "z 370.8..373.8 mm" in str(err.value)


def test_fast_header_reader_agrees_with_pydicom(shared_data, phantom_dir):
    from response_tool.io._header import _Fallback, _fast, _slow

    files = sorted((phantom_dir / "RT-PHANTOM-001").rglob("IM00[0-1]*"))[:30]
    files += sorted((shared_data / "totalsegmentator-example-ct" / "example_ct_dicom").iterdir())[:3]
    fast_used = 0
    for path in files:
        slow = _slow(path)
        try:
            fast = _fast(path)
        except _Fallback:
            continue
        fast_used += 1
        assert fast.values == slow.values, path
        assert (fast.pixel_offset, fast.pixel_length) == (slow.pixel_offset, slow.pixel_length)
        assert fast.transfer_syntax_uid == slow.transfer_syntax_uid
    assert fast_used >= 30  # the phantom is explicit VR little endian: the fast path reads it


def test_inspect_adds_image_evidence_where_the_header_leaves_the_phase_open(shared_data, capsys):
    """`inspect --image-evidence` on the 99 real TCIA slices: series whose header leaves the
    phase unknown get what the pixels say, with the numbers (aorta HU, where); a series named
    only as a 3-phase protocol ("3 PHASE LIVER (ABD)") is found to have contrast."""
    import json

    from response_tool.cli import main

    assert main(["inspect", str(shared_data / "tcia-hcc-tace-seg-first-slices"), "--json",
                 "--image-evidence"]) == 0
    scan = json.loads(capsys.readouterr().out)
    series = [s for st in scan["studies"] for s in st["series"]]
    read = [s for s in series if any(e.startswith("image:") for e in s["phase_evidence"])]
    assert len(read) >= 10
    assert all(s["phase"] == "unknown" or s["phase_confidence"] in ("low", "medium") for s in read)
    contrast = [s for s in read if any("contrast was given" in e for e in s["phase_evidence"])]
    assert contrast and all(any(" HU" in e and "aorta" in e for e in s["phase_evidence"])
                            for s in contrast)
    # headers that are sure of their phase are not re-read
    sure = [s for s in series if s["phase_confidence"] in ("high", "medium")
            and not any(e.startswith("image:") for e in s["phase_evidence"])]
    assert sure
