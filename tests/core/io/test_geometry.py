"""Slices stacked by their positions (issue 15, item 2): missing slices, positions off the grid,
duplicates, a slice without a position, pixel data shorter than its header, memory — on series
built from the phantom and from real data, with positions asserted in millimetres."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest

from response_tool.cli import main
from response_tool.domain.errors import DicomInputError
from response_tool.io import dicom_load, load_series, scan_dicom
from response_tool.io.masks import load_label_map


def _z(path: Path) -> float:
    return float(pydicom.dcmread(path, stop_before_pixels=True).ImagePositionPatient[2])


def _copy(src: Path, dst: Path) -> list[Path]:
    """A copy of the series ``src`` in ``dst``, its files in z order."""
    shutil.copytree(src, dst)
    return sorted(dst.iterdir(), key=_z)


def _edit(path: Path, **values: object) -> None:
    ds = pydicom.dcmread(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k, v in values.items():
            if v is None:
                delattr(ds, k)
            else:
                setattr(ds, k, v)
        pydicom.dcmwrite(path, ds)


@pytest.fixture(scope="module")
def baseline(phantom_dir):
    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    tp = gt["timepoints"][0]
    return gt, tp, phantom_dir / tp["series"]["portal-venous"]["folder"], phantom_dir / tp["label_map"]


@pytest.fixture(scope="module")
def original(baseline):
    (series,) = scan_dicom(baseline[2]).series
    return load_series(series)


def test_five_missing_slices_are_resampled_at_their_positions(baseline, original, tmp_path, capsys):
    gt, tp, folder, label_map = baseline
    files = _copy(folder, tmp_path / "gap")
    assert [_z(f) for f in files[30:35]] == [15.0, 17.5, 20.0, 22.5, 25.0]
    for f in files[30:35]:
        f.unlink()
    (series,) = scan_dicom(tmp_path / "gap").series
    assert (series.n_slices, series.n_planes) == (59, 64)
    assert series.plan is not None and series.plan.interpolated == (30, 31, 32, 33, 34)
    volume = load_series(series)
    assert volume.array.shape == (64, 512, 512) and volume.array.dtype == np.int16
    assert volume.spacing_zyx_mm[0] == pytest.approx(2.5)
    assert volume.interpolated_slices == (30, 31, 32, 33, 34)
    (warning,) = volume.warnings
    assert "about 5 slice(s) absent" in warning and "slice(s) 30–34 (15.0…25.0 mm)" in warning
    # the top of the liver (its last slice, z = 90 mm) is at 90 mm, not 12.5 mm lower as when the
    # 59 slices were stacked at 2.5 mm (index 55: z = 77.5 mm)
    liver = np.isin(load_label_map(label_map, volume), gt["liver_labels"])
    top = int(np.flatnonzero(liver.any(axis=(1, 2)))[-1])
    assert volume.index_zyx_to_xyz_mm([top, 0, 0])[2] == pytest.approx(90.0)
    assert np.array_equal(volume.array[top], original.array[top])
    assert np.array_equal(volume.array[35:], original.array[35:])  # acquired slices unchanged
    assert np.array_equal(volume.array[:30], original.array[:30])
    # slice 32 (20 mm) lies halfway between the acquired 12.5 and 27.5 mm slices
    half = np.rint((original.array[29].astype(np.float32) + original.array[35]) / 2)
    assert np.abs(volume.array[32] - half).max() <= 1
    # the liver's volume and the HTB are those of the whole series, and the result says why
    assert liver.sum() * volume.voxel_volume_mm3 / 1000 == pytest.approx(tp["liver_volume_ml"])
    code = main(["burden", "--image", str(tmp_path / "gap"), "--liver-mask", str(label_map),
                 "--liver-label", "10", *sum((["--tumor-label", str(v)] for v in (15, 16)), []),
                 "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["liver_volume_ml"] == pytest.approx(tp["liver_volume_ml"], abs=1e-3)
    assert out["htb_pct"] == pytest.approx(tp["htb_pct"], abs=1e-3)
    assert out["notes"] == [f"image: {warning}"]


def test_small_jitter_is_stacked_as_acquired(baseline, original, tmp_path):
    files = _copy(baseline[2], tmp_path / "jitter")
    rng = np.random.default_rng(0)
    for f in files:
        x, y, z = (float(v) for v in pydicom.dcmread(f, stop_before_pixels=True).ImagePositionPatient)
        _edit(f, ImagePositionPatient=[f"{x:.4f}", f"{y:.4f}", f"{z + rng.uniform(-0.25, 0.25):.4f}"])
    (series,) = scan_dicom(tmp_path / "jitter").series
    assert series.plan is None and series.refusal is None
    volume = load_series(series)
    assert volume.array.shape == original.array.shape and volume.interpolated_slices == ()
    assert np.array_equal(volume.array, original.array)
    assert volume.spacing_zyx_mm[0] == pytest.approx(2.5, abs=0.1)
    assert all("resampled" not in w for w in volume.warnings)


def test_irregular_steps_are_resampled_onto_a_regular_grid(phantom_dir, tmp_path):
    files = _copy(phantom_dir / "broken" / "jpeg2000", tmp_path / "irregular")
    for f, z in zip(files, [0.0, 2.5, 5.0, 8.0, 11.0, 14.0], strict=True):
        _edit(f, ImagePositionPatient=[-25.0, -25.0, z])  # steps 2.5, 2.5, 3, 3, 3
    (series,) = scan_dicom(tmp_path / "irregular").series
    assert series.plan is not None
    assert series.n_planes == 6 and series.spacing_zyx_mm[0] == pytest.approx(14.0 / 5)
    volume = load_series(series)  # JPEG 2000: the decoded slices are resampled too
    assert volume.array.shape[0] == 6
    assert volume.index_zyx_to_xyz_mm([5, 0, 0])[2] == pytest.approx(14.0)
    # grid 0, 2.8, 5.6, 8.4, 11.2, 14 mm: the slices at 2.5, 8 and 11 mm are within a fifth of a
    # step of their place and kept as acquired; 5.6 mm lies between 5 and 8 mm and is interpolated
    assert volume.interpolated_slices == (2,)
    assert series.plan.lo == (0, 1, 2, 3, 4, 5) and series.plan.weight[2] == pytest.approx(0.2)
    assert "non-uniform slice spacing" in volume.warnings[0] and "2.80 mm grid" in volume.warnings[0]


def test_a_gap_of_six_slices_is_refused(baseline, tmp_path):
    files = _copy(baseline[2], tmp_path / "wide")
    for f in files[20:26]:
        f.unlink()
    (series,) = scan_dicom(tmp_path / "wide").series
    assert series.refusal is not None and "too many to interpolate" in series.refusal
    assert series.warnings[-1] == f"cannot be loaded: {series.refusal}"
    assert str(files[19]) in series.refusal and str(files[26]) in series.refusal
    with pytest.raises(DicomInputError, match="a gap of 17.5 mm between the slices at -12.5 and "
                                              "5.0 mm"):
        load_series(series)
    files[27].unlink()  # five in a row are interpolated
    for f in files[20:25]:
        shutil.copy(baseline[2] / f.name, f)
    (series,) = scan_dicom(tmp_path / "wide").series
    assert series.refusal is None and series.plan is not None


def test_two_images_at_one_position_are_refused_and_copies_dropped(phantom_dir, tmp_path):
    files = _copy(phantom_dir / "broken" / "jpeg2000", tmp_path / "dup")
    shutil.copy(files[2], tmp_path / "dup" / "COPY")  # the same image under another name
    (series,) = scan_dicom(tmp_path / "dup").series
    assert series.n_slices == 6 and series.refusal is None and series.plan is None
    assert "1 file(s) are copies of another slice" in series.warnings[0]
    assert load_series(series).array.shape[0] == 6
    _edit(files[3], ImagePositionPatient=pydicom.dcmread(files[2]).ImagePositionPatient)
    (series,) = scan_dicom(tmp_path / "dup").series
    assert series.refusal is not None and "two different images at one position" in series.refusal
    assert str(files[3]) in series.refusal
    with pytest.raises(DicomInputError, match="two different images at one position"):
        load_series(series)


def test_one_slice_without_a_position_refuses_the_series(baseline, tmp_path, capsys):
    files = _copy(baseline[2], tmp_path / "noipp")
    _edit(files[40], ImagePositionPatient=None)
    scan = scan_dicom(tmp_path / "noipp")
    (series,) = scan.series
    assert (files[40], scan.skipped[0][1]) == scan.skipped[0] and series.n_slices == 63
    assert series.refusal.startswith(f"{files[40]} (1 of 64 files of this series): no "
                                     "ImagePositionPatient")
    with pytest.raises(DicomInputError, match="the rest of the series loads"):
        load_series(series)
    assert main(["inspect", str(tmp_path / "noipp")]) == 0  # inspect lists it, with the reason
    assert f"WARNING: cannot be loaded: {files[40]}" in capsys.readouterr().out
    files[40].unlink()  # as the message says: without it, the series loads, slice 40 interpolated
    volume = load_series(scan_dicom(tmp_path / "noipp").series[0])
    assert volume.interpolated_slices == (40,) and volume.array.shape[0] == 64


def test_pixel_data_shorter_than_the_header_is_refused_before_allocating(phantom_dir, tmp_path,
                                                                          monkeypatch):
    files = _copy(phantom_dir / "broken" / "missing_slice", tmp_path / "huge")  # uncompressed
    _edit(files[0], Rows=65535, Columns=65535, PixelData=bytes(32))
    (series,) = scan_dicom(tmp_path / "huge").series
    assert "pixel data holds 32 bytes, but Rows 65535 × Columns 65535 × 16 bits need 8.0 GiB" \
        in series.refusal

    def no_allocation(*args, **kwargs):
        raise AssertionError("allocated")
    monkeypatch.setattr(dicom_load.np, "empty", no_allocation)
    with pytest.raises(DicomInputError, match=str(files[0])):
        load_series(series)


def test_a_volume_larger_than_the_memory_available_is_refused(phantom_dir, monkeypatch):
    (series,) = scan_dicom(phantom_dir / "broken" / "jpeg2000").series
    monkeypatch.setattr(dicom_load, "MEMORY_CHECK_BYTES", 0)
    monkeypatch.setattr(dicom_load, "_available_memory", lambda: 1024)
    with pytest.raises(DicomInputError, match=r"needs 0\.0 GiB of memory \(6 slices of 64 × 64\)"):
        load_series(series)


def test_deflate_that_is_not_deflated_and_enhanced_ct_are_one_line(phantom_dir, tmp_path):
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset, write_file_meta_info
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    src = sorted((phantom_dir / "broken" / "jpeg2000").iterdir())[0]
    ds = pydicom.dcmread(sorted((phantom_dir / "broken" / "non_dicom_file").glob("IM*"))[0])
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    head, body = DicomBytesIO(), DicomBytesIO()
    for fp in (head, body):
        fp.is_little_endian, fp.is_implicit_VR = True, False
    head.write(b"\0" * 128 + b"DICM")
    write_file_meta_info(head, ds.file_meta, enforce_standard=True)
    write_dataset(body, ds)
    (tmp_path / "deflated.dcm").write_bytes(head.getvalue() + body.getvalue())
    with pytest.raises(DicomInputError, match="deflated.dcm: its transfer syntax says Deflated .* "
                                              "not deflated"):
        scan_dicom(tmp_path / "deflated.dcm")
    shutil.copy(src, tmp_path / "enhanced.dcm")
    _edit(tmp_path / "enhanced.dcm", SOPClassUID="1.2.840.10008.5.1.4.1.1.2.1", NumberOfFrames=4)
    with pytest.raises(DicomInputError, match="Enhanced CT image .*not supported yet"):
        scan_dicom(tmp_path / "enhanced.dcm")


# -- real data ----------------------------------------------------------------------------------
def test_totalsegmentator_with_three_slices_missing(shared_data, tmp_path, capsys):
    folder = shared_data / "totalsegmentator-example-ct"
    files = _copy(folder / "example_ct_dicom", tmp_path / "ct")
    assert [_z(f) for f in files[9:12]] == [-786.5, -784.5, -782.5]
    for f in files[9:12]:
        f.unlink()
    (series,) = scan_dicom(tmp_path / "ct").series
    assert (series.n_slices, series.n_planes) == (17, 20) and series.plan.interpolated == (9, 10, 11)
    volume = load_series(series)  # JPEG 2000 lossless, decoded then resampled
    assert volume.index_zyx_to_xyz_mm([19, 0, 0])[2] == pytest.approx(-766.5)  # the top slice
    liver = load_label_map(folder / "example_seg_dicom.nii.gz", volume) == 5
    # the liver label on the restored 2 mm grid: as on the complete series (366 708 voxels)
    assert int(liver.sum()) == 366_708
    assert liver.sum() * volume.voxel_volume_mm3 / 1000 == pytest.approx(699.44, abs=0.5)
    assert main(["burden", "--image", str(tmp_path / "ct"), "--liver-mask",
                 str(folder / "example_seg_dicom.nii.gz"), "--liver-label", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["liver_volume_ml"] == pytest.approx(699.44, abs=0.5) and out["htb_pct"] is None
    assert any("slice(s) 9–11 (-786.5…-782.5 mm) are interpolated" in n for n in out["notes"])
    # 40 mm of a liver: it lies across the first and last slices, and the note says so
    assert sum("the liver reaches the image's" in n for n in out["notes"]) == 2


def test_real_tcia_slices_pass_the_new_checks(shared_data):
    scan = scan_dicom(shared_data / "tcia-hcc-tace-seg-first-slices")
    assert len(scan.series) == 99
    assert [r for _, r in scan.skipped] == ["not a DICOM file"]  # the README only
    for s in scan.series:
        assert s.refusal is None and s.plan is None and s.n_slices == 1
        assert [w.split(":")[0] for w in s.warnings] == ["single slice"]
        assert s.slices[0].pixel_length >= s.rows * s.columns * s.bits_allocated // 8
    volume = load_series(scan.series[0])
    assert volume.array.shape == (1, 512, 512)


def test_dcmqi_seg_and_nrrd_cover_the_image(shared_data, capsys):
    from response_tool.io.masks import read_label_map

    folder = shared_data / "dcmqi-ct-3slice-liver"
    volume = load_series(scan_dicom(folder).series[0])
    for name in ("liver.dcm", "liver_seg.nrrd"):
        lm = read_label_map(folder / name, volume)
        assert lm.outside_ml([1]) == 0.0 and lm.cuts([1]) == []
        assert lm.volume_ml([1]) == pytest.approx(70.3619, abs=1e-3)
    assert main(["burden", "--image", str(folder), "--liver-mask", str(folder / "liver.dcm")]) == 0
    out = capsys.readouterr().out
    assert "liver_volume_ml 70.36" in out
    assert "note: the liver reaches the image's first slice (z -128.7 mm)" in out


def test_a_file_unreadable_at_load_says_permission_denied(phantom_dir, monkeypatch):
    import builtins

    (series,) = scan_dicom(phantom_dir / "broken" / "missing_slice").series
    victim, real_open = series.files[2], builtins.open

    def fake_open(file, *args, **kwargs):
        if str(file) == str(victim):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)
    monkeypatch.setattr(builtins, "open", fake_open)
    with pytest.raises(DicomInputError, match=f"{victim}: cannot be read: permission denied"):
        load_series(series)
