"""Logistic regression of response (response_tool.analysis.logistic) against published and
independent results: Spector & Mazzeo's teaching data (statsmodels.datasets.spector), whose
coefficients, standard errors and AIC R's glm prints and Greene (Econometric Analysis, 5th ed.,
Table 21.1) publishes; an independent Newton–Raphson fit in numpy for categorical coding; and
R's step() result on the same data for the AIC backward selection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.stats import norm

from response_tool.analysis import LOGISTIC_COLUMNS, logistic

#: glm(GRADE ~ GPA + TUCE + PSI, family = binomial) — Greene, Table 21.1 (logit column)
PUBLISHED = {"const": (-13.02135, 4.93132), "GPA": (2.82611, 1.26294),
             "TUCE": (0.09516, 0.14155), "PSI": (2.37869, 1.06456)}
PUBLISHED_AIC = 33.779


@pytest.fixture(scope="module")
def spector() -> pd.DataFrame:
    return sm.datasets.spector.load_pandas().data


def test_spector_coefficients_and_aic_equal_the_published_ones(spector):
    fitted = logistic.fit(spector, "GRADE", ["GPA", "TUCE", "PSI"])
    for name, (coef, _se) in PUBLISHED.items():
        assert fitted.model.coef[name] == pytest.approx(coef, abs=5e-5), name
    assert fitted.aic == pytest.approx(PUBLISHED_AIC, abs=5e-4)
    t = fitted.model.table.set_index("term")
    assert list(fitted.model.table.columns) == list(LOGISTIC_COLUMNS)
    for name in ("GPA", "TUCE", "PSI"):
        coef, se = PUBLISHED[name]
        z = norm.ppf(0.975)
        assert t.loc[name, "or"] == pytest.approx(np.exp(coef), abs=1e-3 * max(1, np.exp(coef)))
        assert t.loc[name, "ci95_low"] == pytest.approx(np.exp(coef - z * se), rel=1e-3)
        assert t.loc[name, "ci95_high"] == pytest.approx(np.exp(coef + z * se), rel=1e-3)
        assert t.loc[name, "p"] == pytest.approx(2 * norm.sf(abs(coef / se)), abs=1e-3)
    assert (t["n"] == 32).all() and (t["responders"] == 11).all()


def test_backward_aic_drops_tuce_as_r_step_does(spector):
    a = logistic.analyse(spector, "GRADE", ["GPA", "TUCE", "PSI"], entry_p=1.0,
                         backward_aic=True)
    assert a.entered == ["GPA", "TUCE", "PSI"]
    assert a.kept == ["GPA", "PSI"]  # step(): GRADE ~ GPA + PSI, AIC 32.25
    assert [round(aic, 2) for _, aic in a.steps] == [33.78, 32.25]
    assert set(a.selected.table["term"]) == {"GPA", "PSI"}


def _newton(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    beta = np.zeros(x.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-x @ beta))
        w = p * (1 - p)
        info = x.T @ (x * w[:, None])
        beta = beta + np.linalg.solve(info, x.T @ (y - p))
    p = 1 / (1 + np.exp(-x @ beta))
    info = x.T @ (x * (p * (1 - p))[:, None])
    return beta, np.sqrt(np.diag(np.linalg.inv(info)))


def test_categorical_odds_ratios_equal_an_independent_newton_fit():
    rng = np.random.default_rng(4)
    n = 300
    grade = rng.choice(["G1", "G2", "G3"], n, p=[0.4, 0.4, 0.2])
    htb = rng.uniform(1, 80, n)
    eta = 0.8 - np.select([grade == "G2", grade == "G3"], [-0.6, -1.5], 0) - 0.02 * htb
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    d = pd.DataFrame({"responder": y, "grade": grade, "htb": htb})
    model = logistic.fit(d, "responder", ["grade", "htb"]).model
    x = np.column_stack([np.ones(n), grade == "G2", grade == "G3", htb]).astype(float)
    beta, se = _newton(x, y.astype(float))
    t = model.table.set_index(["term", "level"])
    for (term, level), j in {("grade", "G2"): 1, ("grade", "G3"): 2, ("htb", ""): 3}.items():
        assert t.loc[(term, level), "or"] == pytest.approx(np.exp(beta[j]), abs=1.01e-3)
        assert t.loc[(term, level), "ci95_low"] == pytest.approx(
            np.exp(beta[j] - 1.959964 * se[j]), abs=1.01e-3)
    g1 = t.loc[("grade", "G1")]
    assert g1["or"] == 1.0 and (g1["n"], g1["responders"]) == ((grade == "G1").sum(),
                                                                 y[grade == "G1"].sum())


def test_a_level_where_everyone_responds_is_left_out_and_said():
    d = pd.DataFrame({"r": [1, 0, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1],
                      "site": ["a", "a", "a", "a", "b", "b", "b", "b", "c", "c", "c", "c"]})
    d.loc[d.site == "c", "r"] = 1
    m = logistic.fit(d, "r", ["site"]).model
    c = m.table.set_index("level").loc["c"]
    assert pd.isna(c["or"]) and c["n"] == 4
    assert any("site = c: all or none" in n for n in m.notes)
    assert m.n == 8


def test_backward_aic_may_end_with_the_intercept_alone():
    rng = np.random.default_rng(2)
    d = pd.DataFrame({"r": rng.integers(0, 2, 200), "noise": rng.normal(size=200)})
    a = logistic.analyse(d, "r", ["noise"], entry_p=1.0, backward_aic=True)
    null = sm.Logit(d["r"].astype(float), np.ones((200, 1))).fit(disp=0)
    full = sm.Logit(d["r"].astype(float), sm.add_constant(d[["noise"]])).fit(disp=0)
    assert null.aic < full.aic  # pure noise: the intercept alone has the lower AIC
    assert a.kept == [] and a.steps[-1] == ([], pytest.approx(null.aic))
    assert a.selected.table.empty
