"""What a mask file may be, and how much of it the image covers (issue 15, items 2 and 3)."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from response_tool.domain.errors import DicomInputError
from response_tool.io.masks import PROBABILITY_THRESHOLD, load_label_map, read_label_map
from response_tool.io.volume import Volume


@pytest.fixture()
def image() -> Volume:
    """A 20 × 30 × 40 grid of 2 × 1 × 1 mm voxels at the origin."""
    return Volume(np.zeros((20, 30, 40), np.int16), (2.0, 1.0, 1.0), (0.0, 0.0, 0.0))


def _write(path, array, spacing=(1.0, 1.0, 2.0), origin=(0.0, 0.0, 0.0), vector=False):
    img = sitk.GetImageFromArray(array, isVector=vector)
    img.SetSpacing(spacing[: img.GetDimension()])
    img.SetOrigin(origin[: img.GetDimension()])
    sitk.WriteImage(img, str(path))
    return path


def _block(shape=(20, 30, 40), z=(5, 15), value=1, dtype=np.uint8) -> np.ndarray:
    a = np.zeros(shape, dtype)
    a[z[0]:z[1], 10:20, 10:30] = value
    return a


def test_probability_mask_is_thresholded_at_one_half(image, tmp_path):
    p = np.zeros((20, 30, 40), np.float32)
    p[5:10, 10:20, 10:30] = PROBABILITY_THRESHOLD          # counted (≥ 0.5)
    p[10:15, 10:20, 10:30] = np.nextafter(np.float32(0.5), np.float32(0))  # just below: not
    p[0, 0, 0] = 0.999
    lm = read_label_map(_write(tmp_path / "p.nii.gz", p), image)
    assert set(np.unique(lm.labels)) == {0, 1}
    assert int(lm.labels.sum()) == 5 * 10 * 20 + 1
    (note,) = lm.notes
    assert "probability mask (values 0–0.999): voxels ≥ 0.5 counted" in note


def test_whole_numbered_float_labels_and_a_single_volume_4d_file_are_labels(image, tmp_path):
    labels = _block(value=10).astype(np.float32) + _block(z=(15, 18), value=15).astype(np.float32)
    lm = read_label_map(_write(tmp_path / "f.nii.gz", labels), image)
    assert lm.notes == () and set(np.unique(lm.labels)) == {0, 10, 15}
    four = _write(tmp_path / "4d.nii.gz", _block()[None], (1.0, 1.0, 2.0, 1.0), (0, 0, 0, 0))
    assert int(load_label_map(four, image).sum()) == 10 * 10 * 20


@pytest.mark.parametrize(("array", "vector", "message"), [
    (_block()[7], False, r"the mask is 2-D \(40 × 30\); a mask is 3-D"),
    (np.stack([_block()] * 2), False, r"the mask is 4-D \(40 × 30 × 20 × 2\) with 2 volumes"),
    (np.stack([_block()] * 2, axis=-1), True, "has 2 .*one label per voxel"),
    (_block(dtype=np.int16) * -3, False, r"negative values \(down to -3\)"),
    (_block(dtype=np.float32) * 0.5 + _block(dtype=np.float32) * 7, False,
     "non-integer values from 0 to 7.5"),
], ids=["2-D", "4-D", "vector", "negative", "soft-0-7.5"])
def test_masks_that_are_not_label_maps_are_one_line_errors(image, tmp_path, array, vector,
                                                           message):
    path = _write(tmp_path / "m.nrrd", array, (1.0, 1.0, 2.0, 1.0), (0, 0, 0, 0), vector)
    with pytest.raises(DicomInputError, match=message) as err:
        load_label_map(path, image)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_nan_in_a_mask_is_refused(image, tmp_path):
    a = _block(dtype=np.float32)
    a[6, 12, 12] = np.nan
    with pytest.raises(DicomInputError, match=r"holds 1 NaN or infinite value"):
        load_label_map(_write(tmp_path / "nan.nrrd", a), image)


def test_foreground_outside_the_image_is_measured_per_label(image, tmp_path):
    # the mask's grid goes 10 slices (20 mm) below the image: label 1 has 5 of its 15 slices there
    mask = np.zeros((30, 30, 40), np.uint8)
    mask[5:20, 10:20, 10:30] = 1       # 15 slices, 5 below the image
    mask[22:25, 10:12, 10:12] = 2      # inside
    lm = read_label_map(_write(tmp_path / "m.nii.gz", mask, origin=(0.0, 0.0, -20.0)), image)
    voxel_ml = 2.0 / 1000
    assert lm.volume_ml([1]) == pytest.approx(15 * 200 * voxel_ml)
    assert lm.outside_ml([1]) == pytest.approx(5 * 200 * voxel_ml)
    assert lm.outside_ml([2]) == 0.0 and lm.outside_ml([1, 2]) == lm.outside_ml([1])
    assert int((lm.labels == 1).sum()) == 10 * 200  # what the image grid holds


def test_a_mask_cut_by_its_own_grid_inside_the_image(image, tmp_path):
    # the organ fills slices 2–17 of the image; the mask file stops at image slice 9
    organ = _block(z=(2, 18))
    lm = read_label_map(_write(tmp_path / "cut.nii.gz", organ[:10]), image)
    (cut,) = lm.cuts([1])
    assert cut.face == "z 18.0 mm" and cut.fraction == pytest.approx(1.0)
    assert cut.area_mm2 == pytest.approx(200.0)
    # the same organ on the mask's whole grid: ends inside its grid, nothing cut
    assert read_label_map(_write(tmp_path / "whole.nii.gz", organ), image).cuts([1]) == []
    # a mask grid that ends where the image ends: not a cut by the mask either
    assert read_label_map(_write(tmp_path / "edge.nii.gz", _block(z=(0, 20))), image).cuts([1]) == []
