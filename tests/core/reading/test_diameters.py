"""RECIST lines from a mask (response_tool.reading.diameters): the long axis between the two
farthest voxels plus one pixel (each end voxel covers half a pixel beyond its centre), the
longest perpendicular chord plus one pixel, the slice where the long axis is longest."""

from __future__ import annotations

import numpy as np
import pytest

from response_tool.domain.errors import ResponseToolError
from response_tool.reading.diameters import largest_part_lines, longest_slice, slice_lines


def _rect(h: int, w: int, pad: int = 3) -> np.ndarray:
    m = np.zeros((h + 2 * pad, w + 2 * pad), bool)
    m[pad:pad + h, pad:pad + w] = True
    return m


def _disk(radius_px: float, size: int = 61) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size] - size // 2
    return yy ** 2 + xx ** 2 <= radius_px ** 2


@pytest.mark.parametrize("mask,pixel,long_mm,short_mm", [
    (_rect(1, 10), (1.0, 1.0), 10.0, 1.0),                       # a line of 10 pixels
    (_rect(1, 10), (2.0, 0.5), 9 * 0.5 + 1.25, None),   # anisotropic: + the mean pixel
    (_rect(3, 3), (1.0, 1.0), np.hypot(2, 2) + 1, None),          # the diagonal of a square
    (_rect(1, 1), (0.7, 0.7), 0.7, 0.7),                          # one voxel: a pixel either way
    (_disk(10), (0.5, 0.5), 10.5, 10.5),                          # 21 px across at 0.5 mm
])
def test_the_long_axis_is_the_farthest_pair_plus_a_pixel(mask, pixel, long_mm, short_mm):
    lines = slice_lines(mask, pixel)
    assert lines.long_mm == pytest.approx(long_mm, abs=0.05)
    assert np.linalg.norm(lines.b - lines.a) == pytest.approx(lines.long_mm, abs=1e-6)
    if short_mm is not None:
        assert lines.short_mm == pytest.approx(short_mm, abs=0.6)
    # perpendicular: the short axis is at right angles to the long one
    u, v = lines.b - lines.a, lines.q - lines.p
    if lines.long_mm > 1 and lines.short_mm > 1:
        assert abs(u @ v) / (np.linalg.norm(u) * np.linalg.norm(v)) < 1e-6


def test_the_short_axis_is_the_longest_perpendicular_chord():
    m = _rect(6, 20)  # 20 x 6 pixels of 1 mm
    lines = slice_lines(m, (1.0, 1.0))
    assert lines.long_mm == pytest.approx(np.hypot(19, 5) + 1, abs=0.01)
    # the chord perpendicular to the diagonal inside a 20 x 6 rectangle
    assert 5.0 < lines.short_mm < 8.0


def test_the_slice_where_the_long_axis_is_longest_wins_and_ties_go_to_the_wider():
    m = np.zeros((3, 15, 15), bool)
    m[0, 5:8, 2:12] = True      # 10 x 3
    m[1, 5:6, 2:13] = True      # 11 x 1: the longest
    m[2, 4:9, 2:13] = True      # 11 x 5: as long, wider
    z, lines = longest_slice(m, (1.0, 1.0))
    assert z == 2
    assert lines.long_mm == pytest.approx(np.hypot(10, 4) + 1, abs=0.01)


def test_an_empty_mask_is_refused():
    with pytest.raises(ResponseToolError, match="empty"):
        longest_slice(np.zeros((2, 5, 5), bool), (1.0, 1.0))


def test_the_viable_diameter_is_the_largest_parts():
    m = np.zeros((1, 30, 30), bool)
    m[0, 2:4, 2:20] = True       # an 18-pixel enhancing rim part
    m[0, 10:20, 10:20] = True    # a 10 x 10 nodule: larger (100 px vs 36)
    z, lines = largest_part_lines(m, (1.0, 1.0))
    assert z == 0 and lines.long_mm == pytest.approx(np.hypot(9, 9) + 1, abs=0.01)
    assert largest_part_lines(np.zeros((1, 4, 4), bool), (1.0, 1.0)) is None
