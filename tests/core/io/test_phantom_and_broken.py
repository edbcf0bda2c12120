"""The loader and ``response-tool inspect`` on the phantom and on its broken variants."""

from __future__ import annotations

import json

import numpy as np
import pytest

from response_tool.cli import main
from response_tool.domain.errors import DicomInputError
from response_tool.io import load_series, scan_dicom


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_inspect_phantom_json(phantom_dir, capsys):
    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    code, out, err = run_cli(capsys, "inspect", str(phantom_dir / gt["patient_dir"]), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert len(data["studies"]) == 3
    assert [s["study_date"] for s in data["studies"]] == [t["date"] for t in gt["timepoints"]]
    for study, tp in zip(data["studies"], gt["timepoints"], strict=True):
        assert study["study_instance_uid"] == tp["study_instance_uid"]
        assert len(study["series"]) == 3
        by_uid = {s["series_instance_uid"]: s for s in study["series"]}
        for phase, expected in tp["series"].items():
            got = by_uid[expected["series_instance_uid"]]
            assert got["phase"] == phase, got["phase_evidence"]
            assert got["n_slices"] == gt["grid"]["n_slices"]
            assert got["spacing_zyx_mm"] == pytest.approx(gt["grid"]["spacing_zyx_mm"])
            assert got["warnings"] == []
            assert got["phase_evidence"]


def test_phantom_series_loads_in_hu_sorted_by_position(phantom_dir):
    scan = scan_dicom(phantom_dir / "RT-PHANTOM-001")
    baseline = scan.studies[0]
    art = next(s for s in baseline.series if s.phase.phase == "arterial")
    numbers = [s.instance_number for s in art.slices]
    assert numbers == sorted(numbers, reverse=True)  # instance 1 is the cranial slice
    v = load_series(art)
    assert v.array.dtype == np.int16
    assert v.origin_xyz_mm[2] == pytest.approx(-60.0)
    # aorta in the arterial phase ≈ 300 HU, air ≈ −1000 HU
    centre = np.round(v.xyz_mm_to_index_zyx([18.0, 38.0, 20.0])).astype(int)
    z, y, x = centre
    assert v.array[z, y - 3:y + 4, x - 3:x + 4].mean() == pytest.approx(300, abs=15)
    assert v.array[z, 0:10, 0:10].mean() == pytest.approx(-1000, abs=15)


@pytest.mark.parametrize(
    ("variant", "expected_warning"),
    [("one_slice", "single slice"), ("missing_slice", "about 1 slice(s) absent")],
)
def test_broken_variants_that_load_with_a_warning(phantom_dir, variant, expected_warning):
    (series,) = scan_dicom(phantom_dir / "broken" / variant).series
    assert any(expected_warning in w for w in series.warnings), series.warnings
    volume = load_series(series)
    assert volume.array.shape[0] == series.n_planes  # the missing slice is interpolated back
    assert volume.warnings == series.warnings


def test_mixed_orientation_is_split_into_sub_series(phantom_dir):
    series = scan_dicom(phantom_dir / "broken" / "mixed_orientation").series
    assert len(series) == 2
    assert {s.sub_series for s in series} == {1, 2}
    assert len({s.series_instance_uid for s in series}) == 1
    assert all("split into 2 sub-series" in s.warnings[0] for s in series)
    normals = {tuple(np.round(np.asarray(s.direction_xyz)[:, 2], 3)) for s in series}
    assert len(normals) == 2
    for s in series:
        assert load_series(s).array.shape == (6, 64, 64)


def test_truncated_file_names_the_file(phantom_dir):
    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    victim = gt["broken_variants"]["truncated_file"]["file"]
    (series,) = scan_dicom(phantom_dir / "broken" / "truncated_file").series
    with pytest.raises(DicomInputError, match=rf"{victim}: truncated pixel data"):
        load_series(series)


def test_jpeg2000_series_decodes_like_the_uncompressed_original(phantom_dir):
    (series,) = scan_dicom(phantom_dir / "broken" / "jpeg2000").series
    assert series.transfer_syntax_uid == "1.2.840.10008.1.2.4.90"
    volume = load_series(series)
    assert volume.array.dtype == np.int16
    assert volume.array[:, 32, 32].mean() == pytest.approx(60, abs=15)
    assert volume.array[:, 0, 0].mean() == pytest.approx(-1000, abs=15)


def test_non_dicom_files_are_skipped_with_a_note(phantom_dir):
    scan = scan_dicom(phantom_dir / "broken" / "non_dicom_file")
    assert sorted(p.name for p, _ in scan.skipped) == ["NOTES", "THUMB"]
    assert all(r == "not a DICOM file" for _, r in scan.skipped)
    assert len(scan.series) == 1 and scan.series[0].n_slices == 6


def test_missing_pixel_spacing_says_what_to_do(phantom_dir, capsys):
    folder = phantom_dir / "broken" / "missing_pixel_spacing"
    code, out, err = run_cli(capsys, "inspect", str(folder))
    assert code == 2 and out == ""
    assert "no PixelSpacing" in err and "re-export" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("make_path", "message"),
    [
        (lambda tmp: tmp / "does-not-exist", "no such file or folder"),
        (lambda tmp: tmp, "the folder is empty"),
        (lambda tmp: (tmp / "notes.txt").write_text("x") and tmp, "no DICOM image series"),
    ],
    ids=["missing-path", "empty-folder", "non-dicom-folder"],
)
def test_inspect_bad_paths_exit_2_with_one_line(tmp_path, capsys, make_path, message):
    path = make_path(tmp_path)
    code, out, err = run_cli(capsys, "inspect", str(path))
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_inspect_every_broken_variant_without_crashing(phantom_dir, capsys):
    for folder in sorted((phantom_dir / "broken").iterdir()):
        code, out, err = run_cli(capsys, "inspect", str(folder), "--json")
        assert code in (0, 2), folder
        if code == 2:
            assert err.startswith("response-tool inspect: error: ") and "Traceback" not in err
        else:
            assert json.loads(out)["studies"]
