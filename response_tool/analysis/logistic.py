"""Logistic regression of objective response (statsmodels): odds ratios with 95 % CIs (Wald),
Wald p, n and responders per level; univariable screening, a multivariable model by an entry
rule, and optionally backward selection by AIC (Touloupas 2021: "a top-down selection
procedure based on the Akaike information criterion").

The table has the columns :data:`COLUMNS` — those of the Cox tables with ``or`` for ``hr`` and
``responders`` for ``events`` — and the same rows (reference first, ``p`` on it the term's
overall Wald test). The outcome is 1 for a responder (CR or PR), 0 otherwise. Covariate coding:
:mod:`response_tool.analysis.coding`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from response_tool.analysis.coding import Term, complete, design
from response_tool.analysis.cox import (
    ENTRY_P,
    Model,
    _drop_levels_without_events,
    _table,
    wald_p,
)

COLUMNS = ("term", "level", "reference", "or", "ci95_low", "ci95_high", "p", "n", "responders")


@dataclass
class Fitted:
    """The model, its AIC and the sample it was fitted on (for backward selection)."""

    model: Model
    aic: float


def fit(data: pd.DataFrame, outcome: str, names: list[str],
        references: dict[str, str] | None = None, fixed: dict[str, Term] | None = None,
        what: str = "") -> Fitted:
    """Fit a logistic model of the 0/1 ``outcome`` on ``names`` (complete cases, intercept
    included). A categorical level where every patient, or none, responds cannot be estimated
    (separation): its patients are left out and a note says so."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationError, PerfectSeparationWarning

    label = f"logistic model{' of ' + what if what else ''}"
    x, terms = design(data, names, references, fixed)
    frame = pd.concat([data[[outcome]].astype(float), x], axis=1)
    frame, dropped = complete(frame, list(frame.columns))
    notes = [f"{label}: {dropped} patient(s) with a missing value left out"] if dropped else []
    frame, empty = _drop_levels_without_events(frame, terms, outcome, all_events=True)
    for term, level, k in empty:
        notes.append(f"{label}: {term} = {level}: all or none of its {k} patient(s) respond; "
                     "its odds ratio cannot be estimated and those patients are left out")
    cols = [c for t in terms for c in t.columns if c in frame.columns and frame[c].nunique() > 1]
    y = frame[outcome]
    if frame.empty or y.nunique() < 2:
        notes.append(f"{label}: nothing to estimate ({len(frame)} patient(s), "
                     f"{int(y.sum()) if len(frame) else 0} responder(s))")
        return Fitted(_model(terms, frame, outcome, pd.DataFrame(), {}, empty, notes), math.nan)
    exog = sm.add_constant(frame[cols], has_constant="add")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", PerfectSeparationWarning)
            res = sm.Logit(y, exog).fit(disp=0, maxiter=200)
    except (PerfectSeparationError, PerfectSeparationWarning, np.linalg.LinAlgError) as exc:
        notes.append(f"{label}: cannot be estimated ({type(exc).__name__}: the covariates "
                     "separate responders from non-responders)")
        return Fitted(_model(terms, frame, outcome, pd.DataFrame(), {}, empty, notes), math.nan)
    if not res.mle_retvals.get("converged", True):
        notes.append(f"{label}: did not converge; its estimates are not shown")
        return Fitted(_model(terms, frame, outcome, pd.DataFrame(), {}, empty, notes), math.nan)
    ci = res.conf_int()
    summary = pd.DataFrame({"exp(coef)": np.exp(res.params),
                            "exp(coef) lower 95%": np.exp(ci[0]),
                            "exp(coef) upper 95%": np.exp(ci[1]), "p": res.pvalues})
    cov = res.cov_params()
    term_p = {t.name: wald_p(res.params, cov, [c for c in t.columns if c in cols])
              for t in terms}
    model = _model(terms, frame, outcome, summary, term_p, empty, notes)
    model.coef = res.params.copy()
    model.term_p = term_p
    return Fitted(model, float(res.aic))


def _model(terms: list[Term], frame: pd.DataFrame, outcome: str, summary: pd.DataFrame,
           term_p: dict[str, float], empty: list, notes: list[str]) -> Model:
    table = _table(terms, frame, outcome, summary, term_p, empty)
    table = table.rename(columns={"hr": "or", "events": "responders"})
    n = len(frame)
    return Model(table, n, int(frame[outcome].sum()) if n else 0, notes=notes)


@dataclass
class Analysis:
    """Univariable screening, the multivariable model and, if asked, its AIC-selected form."""

    screening: Model
    adjusted: Model | None
    entered: list[str]
    #: after backward selection by AIC (None unless asked): the model and the terms kept
    selected: Model | None
    kept: list[str]
    #: each step of the selection: the terms of the model and its AIC
    steps: list[tuple[list[str], float]]

    @property
    def notes(self) -> list[str]:
        models = [self.screening] + [m for m in (self.adjusted, self.selected) if m is not None]
        return [n for m in models for n in m.notes]


def analyse(data: pd.DataFrame, outcome: str, covariates: list[str],
            references: dict[str, str] | None = None, entry_p: float = ENTRY_P,
            backward_aic: bool = False, fixed: dict[str, Term] | None = None,
            what: str = "") -> Analysis:
    """Each covariate alone; the model of every covariate with a univariable overall p below
    ``entry_p``; with ``backward_aic`` that model reduced step by step, each step leaving out
    the term whose removal lowers the AIC most, until none does — possibly down to the
    intercept alone (every step on the same complete cases, so the AICs compare)."""
    def named(part: str) -> str:
        return f"{what}, {part}" if what else part

    tables, notes, term_p = [], [], {}
    for name in covariates:
        one = fit(data, outcome, [name], references, fixed, named(f"{name} alone")).model
        tables.append(one.table)
        notes += one.notes
        term_p[name] = one.term_p.get(name, math.nan)
    screening = Model(pd.concat(tables, ignore_index=True) if tables
                      else pd.DataFrame(columns=list(COLUMNS)), notes=notes, term_p=term_p)
    entered = [c for c in covariates if term_p.get(c, math.nan) < entry_p]
    adjusted = fit(data, outcome, entered, references, fixed, named("multivariable")).model \
        if entered else None
    selected, kept, steps = None, list(entered), []
    if backward_aic and entered:
        sample = data.dropna(subset=[outcome, *entered])
        current = fit(sample, outcome, kept, references, fixed, named("AIC-selected"))
        steps.append((list(kept), current.aic))
        while kept:  # down to the intercept alone, as R's step() may go
            trials = [(fit(sample, outcome, [k for k in kept if k != drop], references, fixed,
                           named("AIC-selected")), drop) for drop in kept]
            best, drop = min(trials, key=lambda t: t[0].aic if math.isfinite(t[0].aic)
                             else math.inf)
            if not best.aic < current.aic:
                break
            kept.remove(drop)
            current = best
            steps.append((list(kept), current.aic))
        selected = current.model
    return Analysis(screening, adjusted, entered, selected, kept, steps)
