"""The one-click segmentation on images whose truth is known (response_tool.reading.
click_segmentation and .lesion_extent): a lesion in noise, brighter or darker than its
surroundings, at any intensity scale, next to a vessel, on one slice or many; and what it
refuses. Real lesions: test_click_to_measure_real.py."""

from __future__ import annotations

import numpy as np
import pytest

from response_tool.domain.errors import ResponseToolError
from response_tool.reading.click_segmentation import noise_level, segment_slice
from response_tool.reading.diameters import slice_lines
from response_tool.reading.lesion_extent import segment_lesion

PIXEL = (0.7, 0.7)


def _image(radius_mm: float, contrast: float, noise: float, background: float = 100.0,
           size: int = 301, seed: int = 0, centre_px=(150, 150)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    inside = np.hypot((yy - centre_px[0]) * PIXEL[0], (xx - centre_px[1]) * PIXEL[1]) <= radius_mm
    return background + contrast * inside + rng.normal(0, noise, (size, size))


@pytest.mark.parametrize("radius_mm,contrast,noise", [
    (5.0, -60.0, 12.0),    # a 10 mm hypodense metastasis in liver
    (15.0, 40.0, 12.0),    # a 30 mm hypervascular one
    (25.0, -20.0, 10.0),   # a 50 mm lesion only 2 noise units darker (the HCC's contrast)
    (3.0, 300.0, 20.0),    # a 6 mm nodule, high contrast
])
def test_a_disk_in_noise_is_found_to_its_diameter(radius_mm, contrast, noise):
    image = _image(radius_mm, contrast, noise)
    seg = segment_slice(image, (150, 150), PIXEL)
    region = np.zeros(image.shape, bool)
    region[seg.box] = seg.region
    long_mm = slice_lines(region, PIXEL).long_mm
    assert long_mm == pytest.approx(2 * radius_mm + PIXEL[0], abs=max(1.5, 0.1 * radius_mm))
    assert seg.contrast == pytest.approx(abs(contrast), rel=0.35)


@pytest.mark.parametrize("scale,shift", [(1.0, 0.0), (40.0, 2000.0), (0.003, 0.0)])
def test_the_scale_of_the_intensities_does_not_matter(scale, shift):
    image = _image(8.0, -50.0, 10.0)
    base = segment_slice(image, (150, 150), PIXEL)
    scaled = segment_slice(image * scale + shift, (150, 150), PIXEL)
    assert np.array_equal(base.region, scaled.region)


def test_an_off_centre_click_finds_the_same_lesion():
    image = _image(10.0, -50.0, 10.0)
    centre = segment_slice(image, (150, 150), PIXEL)
    off = segment_slice(image, (150, 150 + int(6 / PIXEL[1])), PIXEL)  # 6 mm off a 10 mm radius
    a = np.zeros(image.shape, bool)
    b = np.zeros(image.shape, bool)
    a[centre.box] = centre.region
    b[off.box] = off.region
    assert (a & b).sum() / (a | b).sum() > 0.9


def test_a_vessel_touching_the_lesion_is_cut_off():
    """A 12 mm node against a 30 mm vessel as bright again (a node beside the aorta)."""
    image = _image(6.0, -60.0, 8.0, background=-100.0)       # a node (-40) in fat (-100)
    yy, xx = np.mgrid[:301, :301]
    vessel = np.hypot((yy - 150) * 0.7, (xx - 150 - 30) * 0.7) <= 15.0   # touching on the right
    image[vessel] = 150.0 + np.random.default_rng(1).normal(0, 8.0, vessel.sum())
    image[np.hypot((yy - 150) * 0.7, (xx - 150) * 0.7) <= 6.0] += 60.0 + 60.0  # the node at -40
    seg = segment_slice(image, (150, 150), PIXEL)
    region = np.zeros(image.shape, bool)
    region[seg.box] = seg.region
    assert not (region & vessel).sum() > 0.05 * region.sum()
    assert slice_lines(region, PIXEL).long_mm == pytest.approx(12.7, abs=2.0)


def test_tissue_with_nothing_in_it_is_refused():
    image = 100.0 + np.random.default_rng(3).normal(0, 10.0, (301, 301))
    with pytest.raises(ResponseToolError, match="nothing at the click stands out"):
        segment_slice(image, (150, 150), PIXEL)


def test_a_sphere_is_followed_through_its_slices():
    """A 20 mm sphere on 2.5 mm slices: every slice it crosses, and none beyond."""
    rng = np.random.default_rng(5)
    zz, yy, xx = np.mgrid[:21, :121, :121]
    dz, (dy, dx) = 2.5, PIXEL
    r = np.sqrt(((zz - 10) * dz) ** 2 + ((yy - 60) * dy) ** 2 + ((xx - 60) * dx) ** 2)
    volume = 100.0 - 60.0 * (r <= 10.0) + rng.normal(0, 8.0, r.shape)
    seg = segment_lesion(volume, (dz, dy, dx), (10, 60, 60))
    slices = seg.offset_zyx[0] + np.flatnonzero(seg.mask.any(axis=(1, 2)))
    assert set(slices) <= set(range(6, 15)) and {8, 9, 10, 11, 12} <= set(slices)
    # its volume within 25 % of the sphere's
    volume_mm3 = seg.mask.sum() * dz * dy * dx
    assert volume_mm3 == pytest.approx(4 / 3 * np.pi * 10.0 ** 3, rel=0.25)


def test_noise_is_measured_in_pixel_units():
    rng = np.random.default_rng(7)
    assert noise_level(rng.normal(0, 12.0, (200, 200))) == pytest.approx(12.0, rel=0.1)
