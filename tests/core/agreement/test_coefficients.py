"""Each agreement coefficient against a published worked example (sources in docs/agreement.md)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from response_tool.agreement import bland_altman, cohen_kappa, fleiss_kappa, gwet_ac1, icc_2_1

NAN = np.nan

# Stata [R] kap, example "two unique raters" (rate.dta): two radiologists classify 85
# xeromammograms as normal / benign / suspected cancer / cancer (Boyd et al., J Natl Cancer Inst
# 1982;68:357-363). Stata reports kappa 0.4728, linearly weighted ("wgt(w)") 0.5684.
XEROMAMMOGRAMS = np.array([[21, 12, 0, 0], [4, 17, 1, 0], [3, 9, 15, 2], [0, 0, 0, 1]])

# Fleiss' kappa, Wikipedia's worked example: 10 subjects, 14 raters, 5 categories; kappa 0.210.
FLEISS_WIKIPEDIA = np.array([[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
                             [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
                             [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]])

# Gwet KL. Handbook of Inter-Rater Reliability, 4th ed. 2014 (dataset cac.raw4raters of his irrCAC
# package): 12 subjects, 4 raters, categories 1-5, some ratings missing; AC1 = 0.7754.
GWET_RAW4 = np.array([[1, 1, NAN, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2],
                      [1, 2, 3, 4], [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [NAN, 5, 5, 5],
                      [NAN, NAN, 1, 1], [NAN, NAN, 3, NAN]]) - 1

# Shrout PE, Fleiss JL. Psychol Bull 1979;86:420-428, Table 2: 6 targets, 4 judges;
# Table 4: ICC(1,1) = .17, ICC(2,1) = .29, ICC(3,1) = .71.
SHROUT_FLEISS = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9],
                          [6, 2, 4, 7]], dtype=float)

# Bland JM, Altman DG. Lancet 1986;i:307-310, Table 1: peak expiratory flow (l/min) of 17 people,
# first reading with the Wright and the mini Wright meter. Mean difference -2.1, SD 38.8, limits
# (mean ± 2 SD) -79.7 to 75.5 l/min.
PEFR_WRIGHT = [494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427]
PEFR_MINI = [512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451]


def _pairs(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.nonzero(np.ones_like(table))
    counts = table.ravel()
    return np.repeat(a, counts), np.repeat(b, counts)


def _codes_from_counts(counts: np.ndarray) -> np.ndarray:
    return np.array([np.repeat(np.arange(counts.shape[1]), row) for row in counts])


@pytest.mark.parametrize(("weights", "published"), [(None, 0.4728), ("linear", 0.5684)],
                         ids=["unweighted", "linear"])
def test_cohen_kappa_matches_the_xeromammogram_example(weights, published):
    a, b = _pairs(XEROMAMMOGRAMS)
    assert cohen_kappa(a, b, 4, weights) == pytest.approx(published, abs=5e-5)


def test_fleiss_kappa_matches_the_worked_example():
    assert fleiss_kappa(_codes_from_counts(FLEISS_WIKIPEDIA), 5) == pytest.approx(0.210, abs=5e-4)


def test_gwet_ac1_matches_gwets_example_with_missing_ratings():
    assert gwet_ac1(GWET_RAW4, 5) == pytest.approx(0.77544, abs=5e-6)


def test_icc_2_1_matches_shrout_and_fleiss():
    assert icc_2_1(SHROUT_FLEISS)["icc"] == pytest.approx(0.29, abs=0.005)


def test_bland_altman_matches_the_lancet_example():
    ba = bland_altman(PEFR_WRIGHT, PEFR_MINI, multiplier=2.0)  # the paper's mean ± 2 SD
    assert ba["bias"] == pytest.approx(-2.1, abs=0.05)
    assert ba["sd"] == pytest.approx(38.8, abs=0.05)
    assert (ba["loa_low"], ba["loa_high"]) == pytest.approx((-79.7, 75.5), abs=0.1)
    default = bland_altman(PEFR_WRIGHT, PEFR_MINI)
    assert default["loa_high"] - default["bias"] == pytest.approx(1.96 * default["sd"])


# -- a category no reader used ---------------------------------------------------------------
def test_an_unused_category_leaves_unweighted_kappas_unchanged():
    a, b = _pairs(XEROMAMMOGRAMS)
    assert cohen_kappa(a, b, 5) == pytest.approx(cohen_kappa(a, b, 4))  # a 5th, empty category
    codes = _codes_from_counts(FLEISS_WIKIPEDIA)
    assert fleiss_kappa(codes, 6) == pytest.approx(fleiss_kappa(codes, 5))


def test_an_unused_middle_category_widens_the_linear_distances():
    # nobody rates PR (code 1): CR is 2 steps from SD and 3 from PD on CR < PR < SD < PD
    a = np.array([0, 0, 2, 2, 3, 3, 2, 2])
    b = np.array([0, 0, 2, 2, 3, 3, 3, 3])
    # by hand, w_ij = |i - j|: observed disagreement 2 x 1 / 8; margins a = (2, 0, 4, 2)/8,
    # b = (2, 0, 2, 4)/8: sum_ij |i-j| a_i b_j = (2 x 16 + 4 x 8 + 2 x 8)/64 = 80/64
    expected = 1 - Fraction(2, 8) / Fraction(80, 64)  # = 0.8
    assert cohen_kappa(a, b, 4, "linear") == pytest.approx(float(expected))
    # on a scale without the unused category the distances shrink and kappa changes (5/7)
    squeezed = np.array([0, 0, 1, 2])
    assert cohen_kappa(squeezed[a], squeezed[b], 3, "linear") == pytest.approx(5 / 7)


def test_gwet_ac1_counts_every_category_of_the_scale():
    # 4 subjects, 2 raters; only categories 0 and 2 of 4 used. By hand: pa = 3/4,
    # pi = (5/8, 0, 3/8, 0), pe = sum pi (1 - pi) / (q - 1)
    codes = np.array([[0, 0], [0, 0], [2, 2], [2, 0]])
    assert gwet_ac1(codes, 4) == pytest.approx(19 / 27)   # q = 4: pe = 15/32 / 3
    assert gwet_ac1(codes, 3) == pytest.approx(float((Fraction(3, 4) - Fraction(15, 64))
                                                     / (1 - Fraction(15, 64))))
    assert gwet_ac1(codes[:, [0, 1]][:, ::-1], 4) == pytest.approx(19 / 27)  # symmetric


# -- perfect agreement and undefined cases ----------------------------------------------------
def test_perfect_agreement_is_one():
    a = np.array([0, 1, 2, 3, 2, 1])
    assert cohen_kappa(a, a, 4) == 1.0
    assert cohen_kappa(a, a, 4, "linear") == 1.0
    assert fleiss_kappa(np.stack([a, a, a], axis=1), 4) == pytest.approx(1.0)
    assert gwet_ac1(np.stack([a, a], axis=1), 4) == pytest.approx(1.0)


def test_kappa_is_undefined_when_everyone_gives_one_category_but_ac1_is_not():
    same = np.zeros(10, dtype=int)
    assert np.isnan(cohen_kappa(same, same, 4))
    assert np.isnan(fleiss_kappa(np.stack([same, same], axis=1), 4))
    assert gwet_ac1(np.stack([same, same], axis=1), 4) == pytest.approx(1.0)


def test_icc_needs_three_subjects():
    assert np.isnan(icc_2_1(np.array([[1.0, 2.0], [3.0, 4.0]]))["icc"])


def test_icc_interval_is_mcgraw_and_wongs():
    # pingouin 0.5-0.7 (intraclass_corr, ICC2 row; it rounds the interval to 2 decimals) gives
    # [0.02, 0.76] on Shrout & Fleiss' table; ours is the same interval unrounded
    icc = icc_2_1(SHROUT_FLEISS)
    assert (icc["ci95_low"], icc["ci95_high"]) == pytest.approx((0.02, 0.76), abs=0.005)
    assert icc["ci95_low"] < icc["icc"] < icc["ci95_high"]
    assert np.isnan(icc_2_1(np.tile([[3.0], [5.0], [8.0]], 2))["ci95_low"])  # perfect: undefined


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_icc_matches_pingouin_where_it_is_installed(seed):
    """pingouin is no longer a dependency; where it is installed it is the oracle (its ICC2 /
    ICC(A,1) row), and its neighbours ICC1 / ICC3 stay the Shrout & Fleiss values."""
    pg = pytest.importorskip("pingouin")
    rng = np.random.default_rng(seed)
    values = rng.normal(50, 10, (30, 1)) + rng.normal(0, 5, (30, 3)) + rng.normal(0, 3, 3)
    n, k = values.shape
    long = pd.DataFrame({"t": np.repeat(np.arange(n), k), "r": np.tile(np.arange(k), n),
                         "v": values.ravel()})
    table = pg.intraclass_corr(long, targets="t", raters="r", ratings="v")
    row = table[table["Type"].isin(["ICC2", "ICC(A,1)"])].iloc[0]
    ci = row["CI95%"] if "CI95%" in row.index else row["CI95"]
    ours = icc_2_1(values)
    assert ours["icc"] == pytest.approx(float(row["ICC"]), abs=1e-12)
    assert (ours["ci95_low"], ours["ci95_high"]) == pytest.approx(tuple(ci), abs=0.005)
    sf = pd.DataFrame({"t": np.repeat(np.arange(6), 4), "r": np.tile(np.arange(4), 6),
                       "v": SHROUT_FLEISS.ravel()})
    assert pg.intraclass_corr(sf, targets="t", raters="r", ratings="v")["ICC"].round(2).tolist()[:3] \
        == [0.17, 0.29, 0.71]
