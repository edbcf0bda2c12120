"""Click-to-measure on real patients' lesions (issue 22): ``../shared/data/real-lesions``, expert
masks, reference diameters recomputed from them (tests/real_lesions.py). The whole benchmark (more
lesions, every click, the figures) is benchmarks/bench_measure_real.py; these are the cases that
must hold, and the honesty that must hold for every click."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from real_lesions import README_REFERENCE, shared_lesion, shared_lesions

from response_tool.domain.errors import ResponseToolError
from response_tool.io.volume import Volume
from response_tool.reading.measure import ENHANCING_LABEL, propose

#: The issue's target: the long axis within 20 % of the reference.
WITHIN = 0.20


@pytest.fixture(autouse=True)
def _shared(shared_data):  # noqa: PT004 - the real data must be there (a failure, not a skip)
    return shared_data


def _error(p, lesion) -> float:
    return abs(p.long_mm - lesion.long_mm) / lesion.long_mm


@pytest.mark.parametrize("lesion_id", sorted(README_REFERENCE))
def test_the_reference_diameters_are_the_shared_readmes(lesion_id):
    """Our reference (largest Feret over the slices, + one pixel; the perpendicular chord) is the
    one the shared README publishes."""
    lesion = shared_lesion(lesion_id)
    long_mm, short_mm = README_REFERENCE[lesion_id]
    assert lesion.long_mm == pytest.approx(long_mm, abs=0.1)
    assert lesion.short_mm == pytest.approx(short_mm, abs=0.3)  # hcc034: 45.65 vs 45.9


@pytest.mark.parametrize("lesion_id,click,what", [
    ("lung2", "centre", "lung tumour against the mediastinum and chest wall"),
    ("lung2", "+x", "the same, 3 mm off centre"),
    ("lung2", "-y", "the same, 3 mm off centre"),
    ("lung1", "centre", "part-solid lung nodule"),
    ("lung1", "-x", "the same, 3 mm off centre"),
    ("brain1-1", "+x", "MR (no Hounsfield units), 3 mm off centre"),
    ("brain1-1", "-x", "the same, the other side"),
    ("brain2", "+x", "MR: a faint lesion"),
    ("hcc034", "+x", "hepatocellular carcinoma ~20 HU darker than the arterial-phase liver"),
])
def test_a_click_proposes_the_real_lesions_long_axis(lesion_id, click, what):
    lesion = shared_lesion(lesion_id)
    p = propose(lesion.volume, lesion.clicks()[click])
    assert _error(p, lesion) <= WITHIN, (what, p.long_mm, lesion.long_mm, p.warnings)
    assert np.isclose(np.linalg.norm(np.subtract(*p.long)), p.long_mm, atol=0.05)
    assert p.short_mm <= p.long_mm


def test_the_lung_tumour_against_the_chest_wall_is_cut_from_it():
    """lung2 touches the mediastinum: the proposal is the tumour, not the wall (its short axis
    within 20 % too, and its volume within 30 % of the expert mask's)."""
    lesion = shared_lesion("lung2")
    p = propose(lesion.volume, lesion.centre_click_zyx_mm())
    assert abs(p.short_mm - lesion.short_mm) / lesion.short_mm <= WITHIN, p.short_mm
    expert_mm3 = lesion.mask.sum() * float(np.prod(lesion.volume.spacing_zyx_mm))
    assert abs(p.volume_mm3 - expert_mm3) / expert_mm3 <= 0.30, (p.volume_mm3, expert_mm3)


LESIONS = [x.lesion_id for x in shared_lesions()]


@pytest.mark.parametrize("lesion_id", LESIONS)
def test_a_proposal_far_off_always_says_so(lesion_id):
    """Honest uncertainty: of every click (centre and 3 mm off), a proposal more than 50 % off
    the reference carries a warning and is not proposed as sure."""
    lesion = shared_lesion(lesion_id)
    for name, click in lesion.clicks().items():
        try:
            p = propose(lesion.volume, click)
        except ResponseToolError as exc:  # a refusal says what to do
            assert "click" in str(exc) or "draw" in str(exc), (name, exc)
            continue
        if _error(p, lesion) > 0.5:
            assert p.warnings and p.confidence != "high", (name, p.long_mm, lesion.long_mm)


def test_the_hcc_on_its_arterial_slice_is_never_sent_to_the_arterial_series():
    """The old method refused the HCC at every click and said "measure on the arterial series"
    although it was the arterial series: now it proposes (or says what is faint), never that."""
    lesion = shared_lesion("hcc034")
    proposed = 0
    for click in lesion.clicks().values():
        try:
            p = propose(lesion.volume, click)
            proposed += 1
            assert all("arterial series" not in w for w in p.warnings)
        except ResponseToolError as exc:
            assert "arterial series" not in str(exc)
    assert proposed >= 4


def test_one_slice_gives_lines_but_no_volume():
    lesion = shared_lesion("hcc034")  # a single 2-D slice
    p = propose(lesion.volume, lesion.clicks()["+x"])
    assert p.volume_mm3 is None and any("one slice" in w for w in p.warnings)
    assert p.mask is not None and p.mask.labels.shape[0] == 1


@pytest.mark.parametrize("lesion_id,offset_mm", [
    ("lung1", (0.0, 30.0, 0.0)),      # aerated lung, 3 cm from the nodule
    ("hcc034", (0.0, -45.0, 0.0)),    # liver parenchyma, above the carcinoma
    ("hcc034", (0.0, 40.0, -40.0)),   # fat by the liver
])
def test_a_click_outside_any_lesion_is_refused(lesion_id, offset_mm):
    lesion = shared_lesion(lesion_id)
    click = lesion.centre_click_zyx_mm() + np.asarray(offset_mm)
    with pytest.raises(ResponseToolError, match="click inside the lesion"):
        propose(lesion.volume, click)


@pytest.mark.parametrize("scale,shift", [(1.0, 0.0), (7.3, 1000.0), (0.01, -3.0)])
def test_mr_intensities_have_no_scale(scale, shift):
    """No Hounsfield unit is assumed: an MR series rescaled (another scanner, another unit)
    gives the same lesion."""
    lesion = shared_lesion("brain1-1")
    volume = dataclasses.replace(lesion.volume,
                                 array=lesion.volume.array.astype(np.float32) * scale + shift)
    p = propose(volume, lesion.clicks()["+x"])
    base = propose(lesion.volume, lesion.clicks()["+x"])
    assert p.long_mm == pytest.approx(base.long_mm, abs=0.1)
    assert p.volume_mm3 == pytest.approx(base.volume_mm3, rel=0.02)


def test_the_arterial_series_gives_an_enhancing_volume_within_the_lesion():
    """An MR lesion brighter than the brain around it, its series given as the arterial one too:
    its bright part is the enhancing part, inside the lesion's mask, no larger than the lesion."""
    lesion = shared_lesion("brain1-1")
    arterial = Volume(lesion.volume.array, lesion.volume.spacing_zyx_mm,
                      lesion.volume.origin_xyz_mm, lesion.volume.direction_xyz)
    p = propose(lesion.volume, lesion.clicks()["+x"], arterial)
    assert p.enhancing_volume_mm3 is not None and 0 < p.enhancing_volume_mm3 <= p.volume_mm3
    assert p.viable_mm is not None and 0 < p.viable_mm <= p.long_mm
    labels = p.mask.labels
    assert set(np.unique(labels)) <= {0, 1, ENHANCING_LABEL}
