"""Outline assistance for the semi-quantitative HTB, in the core and without napari: proposed
slices, the liver grown from one click, tumour outlines started from measured diameters, areas per
slice, and the messages for bad input. Every image is synthetic, built here with numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from response_tool import burden
from response_tool.domain.errors import BurdenInputError, ResponseToolError


def disc(shape: tuple[int, int], centre: tuple[float, float], radius: float) -> np.ndarray:
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    return (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius ** 2


def slice_image(mask: np.ndarray, inside_hu: float, outside_hu: float, noise_hu: float,
                seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.where(mask, inside_hu, outside_hu) + rng.normal(0.0, noise_hu, mask.shape)


# -- the liver grown from one click ------------------------------------------------------------
# (disc radius px, disc HU, background HU, noise SD HU, seed offset from the centre px)
GROW = [
    (40, 100, -100, 0, (0, 0)),      # clean, high contrast
    (40, 60, -50, 10, (5, -7)),      # liver-like contrast, noisy, seed off centre
    (25, 120, 0, 15, (0, 10)),       # small disc, noisier
    (60, 55, 20, 5, (0, 0)),         # low contrast (35 HU), little noise
    (40, 60, -50, 10, (30, 0)),      # seed near the border
]


@pytest.mark.parametrize("radius,inside,outside,noise,offset", GROW,
                         ids=[f"r{r}-c{i - o}-sd{n}-off{off}" for r, i, o, n, off in GROW])
def test_grown_region_covers_the_disc_and_nothing_outside(radius, inside, outside, noise, offset):
    shape, centre = (200, 220), (100, 110)
    truth = disc(shape, centre, radius)
    image = slice_image(truth, inside, outside, noise)
    grown = burden.grow_region_2d(image, (centre[0] + offset[0], centre[1] + offset[1]))
    assert grown.shape == shape and grown.dtype == bool
    # the disc's area within a few percent (against the ideal π r², not just the pixel count)
    assert grown.sum() == pytest.approx(math.pi * radius ** 2, rel=0.04)
    assert (grown & truth).sum() >= 0.95 * truth.sum()
    # nothing outside the disc (a one-pixel border allowed for the smoothing of the edge)
    assert not (grown & ~ndimage.binary_dilation(truth)).any()


def test_the_region_stops_at_a_neighbouring_organ_of_the_same_density():
    a = disc((160, 240), (80, 70), 45)
    b = disc((160, 240), (80, 170), 45)  # 10 px of background between them
    grown = burden.grow_region_2d(slice_image(a | b, 60, -50, 10, seed=1), (80, 70))
    assert not (grown & b).any()
    assert grown.sum() == pytest.approx(a.sum(), rel=0.03)


def test_a_tumour_inside_the_liver_is_filled_in():
    # the liver outline includes its tumours: a darker lesion enclosed by liver is part of it
    liver = disc((200, 200), (100, 100), 60)
    tumour = disc((200, 200), (100, 120), 15)
    image = np.where(liver, 60.0, -50.0)
    image[tumour] = -10.0
    image += np.random.default_rng(2).normal(0, 8, image.shape)
    grown = burden.grow_region_2d(image, (100, 60))
    assert grown[tumour].all()
    assert grown.sum() == pytest.approx(liver.sum(), rel=0.03)
    assert not (grown & ~ndimage.binary_dilation(liver)).any()


def test_an_explicit_tolerance_is_used():
    truth = disc((100, 100), (50, 50), 30)
    image = np.where(truth, 60.0, -50.0)
    # within the disc's HU only: the disc
    narrow = burden.grow_region_2d(image, (50, 50), tolerance_hu=5.0)
    assert narrow.sum() == pytest.approx(truth.sum(), rel=0.03)
    assert not (narrow & ~ndimage.binary_dilation(truth)).any()
    # wider than the 110 HU contrast: the region leaks into the background, all of the slice
    assert burden.grow_region_2d(image, (50, 50), tolerance_hu=200.0).all()


def test_paint_liver_keeps_the_tumour_already_drawn():
    plane = np.zeros((6, 6), np.uint8)
    plane[2:4, 2:4] = burden.TUMOUR_LABEL
    region = np.zeros((6, 6), bool)
    region[1:5, 1:5] = True
    burden.paint_liver(plane, region)
    assert (plane[2:4, 2:4] == burden.TUMOUR_LABEL).all()
    assert (plane[region] != 0).all() and (plane[~region] == 0).all()
    assert int((plane == burden.LIVER_LABEL).sum()) == 16 - 4


# -- proposed slices -------------------------------------------------------------------------
# (slices, first liver slice, last liver slice, n)
EXTENTS = [(120, 30, 89, 5), (120, 30, 89, 4), (120, 30, 89, 6), (60, 0, 59, 5), (200, 150, 151, 5),
           (80, 40, 40, 4), (300, 17, 263, 6),
           (10, 2, 7, 5)]


@pytest.mark.parametrize("depth,first,last,n", EXTENTS,
                         ids=[f"{d}sl-z{f}-{la}-n{n}" for d, f, la, n in EXTENTS])
def test_proposed_slices_lie_inside_the_liver_and_spread_over_it(depth, first, last, n):
    liver = np.zeros((depth, 8, 8), bool)
    liver[first:last + 1, 2:6, 2:6] = True
    slices = burden.propose_slices(liver, n)
    extent = last - first + 1
    assert list(slices) == sorted(set(slices))
    assert all(first <= z <= last for z in slices)
    assert all(liver[z].any() for z in slices)
    assert len(slices) == min(n, extent)
    if extent >= n:
        # the k-th slice sits at the centre of the k-th of n equal parts of the extent (to the
        # slice below it), so the steps between them differ by one slice at most
        centres = [first + (k + 0.5) * extent / n for k in range(n)]
        assert all(0 <= c - z < 1 for z, c in zip(slices, centres, strict=True))
        steps = np.diff(slices)
        assert steps.max() - steps.min() <= 1
    # the same slices from the first and last slice alone
    assert burden.propose_slices_between(first, last, n) == slices
    assert burden.propose_slices_between(last, first, n) == slices


def test_a_liver_on_two_separate_stretches_is_spread_over_as_one_extent():
    # the extent counts, from the first to the last slice with liver: a proposed slice may hold
    # no liver (the reader moves it)
    liver = np.zeros((100, 4, 4), bool)
    liver[10:20, 1, 1] = True
    liver[80:90, 1, 1] = True
    slices = burden.propose_slices(liver, 5)
    assert slices[0] >= 10 and slices[-1] <= 89
    assert slices == burden.propose_slices_between(10, 89, 5)


# -- tumour outlines from measured diameters ------------------------------------------------
# (long mm, short mm or None, angle of the long axis °, pixel (y, x) mm, dz mm)
ELLIPSES = [
    (40.0, 20.0, 0.0, (0.5, 0.5), 0.0),
    (40.0, 20.0, 30.0, (0.5, 0.5), 0.0),
    (60.0, 25.0, 117.0, (0.7, 0.7), 0.0),
    (30.0, None, 45.0, (0.5, 0.5), 0.0),    # no short axis: a circle of the long axis
    (40.0, 20.0, 0.0, (0.5, 0.8), 0.0),     # anisotropic pixels
    (40.0, 20.0, 60.0, (0.5, 0.5), 6.0),    # off the measured slice: a smaller section
    (40.0, 20.0, 60.0, (0.5, 0.5), -8.0),
]


@pytest.mark.parametrize("long_mm,short_mm,angle,pixel,dz", ELLIPSES,
                         ids=[f"{lo}x{s}-{a}deg-px{p[0]}x{p[1]}-dz{d}" for lo, s, a, p, d in ELLIPSES])
def test_ellipse_from_diameters_has_the_area_pi_a_b_over_4(long_mm, short_mm, angle, pixel, dz):
    shape, origin = (240, 200), (-20.0, 5.0)
    centre = np.array([origin[0] + 0.5 * shape[0] * pixel[0], origin[1] + 0.47 * shape[1] * pixel[1]])
    u = np.array([math.sin(math.radians(angle)), math.cos(math.radians(angle))])
    ends = np.stack([centre - u * long_mm / 2, centre + u * long_mm / 2])
    mask = burden.ellipse_on_slice(shape, ends, short_mm, dz, pixel, origin)
    short = short_mm or long_mm
    # the ellipsoid's semi-axis through the slices is the short one
    shrink2 = 1.0 - (dz / (short / 2)) ** 2
    expected = math.pi * long_mm * short / 4 * shrink2
    assert mask.sum() * pixel[0] * pixel[1] == pytest.approx(expected, rel=0.03)
    # centred on the middle of the long axis
    yy, xx = np.nonzero(mask)
    assert origin[0] + yy.mean() * pixel[0] == pytest.approx(centre[0], abs=pixel[0])
    assert origin[1] + xx.mean() * pixel[1] == pytest.approx(centre[1], abs=pixel[1])
    # the long axis runs along the measured direction: the endpoints' midpoints ± a half-length
    # (shrunk off the measured slice) are inside, a little beyond them is not
    for sign in (-1, 1):
        for reach, inside in ((0.9, True), (1.1, False)):
            p = centre + sign * u * reach * math.sqrt(shrink2) * long_mm / 2
            iy, ix = (int(round((p[k] - origin[k]) / pixel[k])) for k in (0, 1))
            assert bool(mask[iy, ix]) is inside


@pytest.mark.parametrize("dz", [10.0, -10.0, 12.5])
def test_no_section_beyond_the_short_semi_axis(dz):
    ends = np.array([[20.0, 10.0], [20.0, 50.0]])
    assert not burden.ellipse_on_slice((80, 80), ends, 20.0, dz, (1.0, 1.0), (0.0, 0.0)).any()


def test_tumours_from_diameters_paint_the_slices_the_lesions_cross():
    outlines = np.zeros((30, 100, 100), np.uint8)
    outlines[:, 10:90, 10:90] = burden.LIVER_LABEL
    slices = (4, 10, 14, 20, 26)
    slice_z = [2.0 * z for z in slices]  # 2 mm slices, z = 0 at slice 0
    lesions = [
        (np.array([[20.0, 50.0, 30.0], [20.0, 50.0, 60.0]]), 16.0),  # at z = 20 mm (slice 10)
        (np.array([[52.0, 30.0, 30.0], [52.0, 30.0, 50.0]]), None),  # at 52 mm, 20 mm round
    ]
    started = burden.tumours_from_diameters(outlines, slices, slice_z, lesions, (1.0, 1.0),
                                            (0.0, 0.0))
    # lesion 1 reaches ± 8 mm: slices 10 (0 mm) and 14 (8 mm: the edge, nothing); lesion 2 ± 10
    # mm: slices 26 (0 mm) and 20 (-12 mm: nothing)
    touched = started.drawn
    assert touched == {10, 26} and started.without_liver == ()
    for z in set(range(30)) - touched:
        assert not (outlines[z] == burden.TUMOUR_LABEL).any()
    tumour_mm2 = [float((outlines[z] == burden.TUMOUR_LABEL).sum()) for z in (10, 26)]
    assert tumour_mm2[0] == pytest.approx(math.pi * 30 * 16 / 4, rel=0.04)
    assert tumour_mm2[1] == pytest.approx(math.pi * 20 * 20 / 4, rel=0.04)
    # the areas per slice count tumour as liver too
    liver_a, tumour_a = burden.slice_areas_mm2(outlines, slices, 0.25)
    assert liver_a == [80 * 80 * 0.25] * len(slices)
    assert tumour_a[1] == pytest.approx(tumour_mm2[0] * 0.25) and tumour_a[0] == 0.0


# Tumour only where the liver is outlined: a tumour alone on a slice counts as all of its liver
# (issue 23: 22.2 % against a true 2.09 %). Lesions at z 20 mm (slice 10, ± 8 mm: slices 10 only)
# and at 52 mm (± 10 mm: slice 26), slices (4, 10, 14, 20, 26) at 2 mm.
# (what, slices with a liver outline, slices drawn, (lesion, slice) left out)
LIVER_ON = [
    ("liver on every slice", (4, 10, 14, 20, 26), {10, 26}, ()),
    ("no liver outlined yet", (), set(), ((0, 10), (1, 26))),
    ("liver on lesion 1's slice only", (10,), {10}, ((1, 26),)),
    ("liver on the slices no lesion crosses", (4, 14, 20), set(), ((0, 10), (1, 26))),
]


@pytest.mark.parametrize("with_liver,drawn,left_out", [c[1:] for c in LIVER_ON],
                         ids=[c[0] for c in LIVER_ON])
def test_tumours_only_on_slices_with_a_liver_outline(with_liver, drawn, left_out):
    outlines = np.zeros((30, 100, 100), np.uint8)
    for z in with_liver:
        outlines[z, 10:90, 10:90] = burden.LIVER_LABEL
    before = outlines.copy()
    slices = (4, 10, 14, 20, 26)
    lesions = [(np.array([[20.0, 50.0, 30.0], [20.0, 50.0, 60.0]]), 16.0),
               (np.array([[52.0, 30.0, 30.0], [52.0, 30.0, 50.0]]), None)]
    started = burden.tumours_from_diameters(outlines, slices, [2.0 * z for z in slices], lesions,
                                            (1.0, 1.0), (0.0, 0.0))
    assert started.drawn == drawn and started.without_liver == left_out
    for z in range(30):  # nothing at all on the slices left out: the reader outlines them first
        changed = (outlines[z] != before[z]).any()
        assert changed == (z in drawn), z
        assert (outlines[z] == burden.TUMOUR_LABEL).any() == (z in drawn), z
    liver_a, tumour_a = burden.slice_areas_mm2(outlines, slices, 1.0)
    assert all(t < la for la, t in zip(liver_a, tumour_a, strict=True) if t)  # never the whole


def test_slice_areas_count_liver_and_tumour_with_the_pixel_area():
    outlines = np.zeros((3, 10, 10), np.uint8)
    outlines[1, :4, :5] = burden.LIVER_LABEL   # 20 px liver
    outlines[1, 5:7, :3] = burden.TUMOUR_LABEL  # 6 px tumour
    outlines[2, 0, 0] = 7                       # another label: neither
    liver, tumour = burden.slice_areas_mm2(outlines, (0, 1, 2), 0.5)
    assert liver == [0.0, 13.0, 0.0] and tumour == [0.0, 3.0, 0.0]


# -- bad input: a message that says what to do, never a bare traceback --------------------------
IMAGE = np.zeros((20, 30))
BAD = [
    ("seed below the slice", lambda: burden.grow_region_2d(IMAGE, (20, 3)), r"seed \(20, 3\) lies outside"),
    ("seed left of the slice", lambda: burden.grow_region_2d(IMAGE, (3, -1)), r"outside the slice \(20, 30\)"),
    ("seed not a number", lambda: burden.grow_region_2d(IMAGE, (float("nan"), 3)), "two finite numbers"),
    ("seed with three values", lambda: burden.grow_region_2d(IMAGE, (1, 2, 3)), r"\(row, column\)"),
    ("seed missing", lambda: burden.grow_region_2d(IMAGE, None), r"\(row, column\)"),
    ("a volume, not a slice", lambda: burden.grow_region_2d(np.zeros((2, 5, 5)), (1, 1)), "one axial slice"),
    ("empty liver mask", lambda: burden.propose_slices(np.zeros((9, 4, 4), bool)), "liver mask is empty"),
    ("no slices asked for", lambda: burden.propose_slices(np.ones((9, 4, 4), bool), 0), "between 4 and 6"),
    ("too many slices", lambda: burden.propose_slices_between(0, 50, 21), "between 4 and 6"),
    ("region on another grid", lambda: burden.paint_liver(np.zeros((4, 4), np.uint8), np.ones((5, 4), bool)),
     "not on one grid"),
    ("lesion without two 3-D ends", lambda: burden.tumours_from_diameters(
        np.zeros((3, 8, 8), np.uint8), (1,), (1.0,), [(np.zeros((2, 2)), 5.0)], (1, 1), (0, 0)),
     r"two\s+endpoints as \(z, y, x\)"),
    ("slice positions missing", lambda: burden.tumours_from_diameters(
        np.zeros((3, 8, 8), np.uint8), (0, 1), (0.0,), [], (1, 1), (0, 0)), "one z"),
]


@pytest.mark.parametrize("call,message", [(c, m) for _, c, m in BAD], ids=[i for i, _, _ in BAD])
def test_bad_input_gives_a_clear_message(call, message):
    with pytest.raises(BurdenInputError, match=message) as info:
        call()
    assert isinstance(info.value, ResponseToolError)  # the CLI and the panel show its text
