"""Cox proportional hazards tables (lifelines): hazard ratios with 95 % CIs, Wald p, n and events
per level; univariable screening and a multivariable model by an entry rule; the
proportional-hazards check by the Schoenfeld-residual test, with a warning when it fails.

The table of every model has the columns :data:`COLUMNS` — ``term, level, reference, hr,
ci95_low, ci95_high, p, n, events`` — one row per level of a categorical term (its reference
first: ``hr`` 1, no CI, ``p`` the term's overall Wald test with levels − 1 degrees of freedom,
as the papers print it on the reference row) and one per numeric term (``level`` and
``reference`` empty, the HR per unit). ``n`` and ``events`` count the patients (and events) of
the level, or of the whole model for a numeric term. Ties by Efron's method (lifelines' and R's
default). Covariate coding: :mod:`response_tool.analysis.coding`.

Liu 2022 and Xu 2022 enter into the multivariable model every covariate whose univariable
p < 0.1; Touloupas 2021 gives OS by response category with SD as the reference, univariable
and multivariable.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from response_tool.analysis.coding import CATEGORICAL, Term, complete, design

#: the columns of every hazard-ratio table (the table contract of issue 13)
COLUMNS = ("term", "level", "reference", "hr", "ci95_low", "ci95_high", "p", "n", "events")
#: entry rule of the multivariable models: univariable p below this (Liu 2022, Xu 2022)
ENTRY_P = 0.1
#: a Schoenfeld-residual test below this p is reported as a failed proportional-hazards check
PH_ALPHA = 0.05
#: Newton–Raphson step sizes tried in turn (lifelines' default first): many tied event times
#: (scans every 12 weeks) can make the full step diverge where a shorter one converges
STEP_SIZES = (0.95, 0.5, 0.25)
#: decimals written in the tables (hazard ratios and CIs; p keeps 4 significant digits)
DECIMALS = 3


@dataclass
class Model:
    """One fitted model: its table (:data:`COLUMNS`), the proportional-hazards check and what the
    reader should know (patients left out, levels not estimable, a failed check)."""

    table: pd.DataFrame
    n: int = 0
    events: int = 0
    #: Schoenfeld-residual test per design column: term, level, statistic, p
    ph: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)
    #: the unrounded estimates per design column (coef, se), for checks
    coef: pd.Series = field(default_factory=pd.Series)
    #: each term's overall Wald p
    term_p: dict[str, float] = field(default_factory=dict)

    @property
    def ph_failed(self) -> list[str]:
        if self.ph.empty:
            return []
        bad = self.ph[self.ph["p"] < PH_ALPHA]
        return [f"{t}={lv}" if lv else t for t, lv in zip(bad["term"], bad["level"], strict=True)]


def fit(data: pd.DataFrame, time: str, event: str, names: list[str],
        references: dict[str, str] | None = None, fixed: dict[str, Term] | None = None,
        what: str = "", ph: bool = True) -> Model:
    """Fit a Cox model of ``time``/``event`` on the variables ``names`` of ``data`` (complete
    cases). A level with no event among them cannot be estimated (its HR is 0 or infinite): its
    patients are left out of the model, its row is written without an HR and a note says so.
    ``ph``: run the proportional-hazards check (the screening of covariates one by one does
    not: the check is of the models whose hazard ratios are read)."""
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError

    label = f"Cox model{' of ' + what if what else ''}"
    x, terms = design(data, names, references, fixed)
    frame = pd.concat([data[[time, event]].astype(float), x], axis=1)
    frame, dropped = complete(frame, list(frame.columns))
    notes = []
    if dropped:
        notes.append(f"{label}: {dropped} patient(s) with a missing value left out")
    frame, empty = _drop_levels_without_events(frame, terms, event)
    for term, level, k in empty:
        notes.append(f"{label}: {term} = {level} has no event among its {k} patient(s); its "
                     "hazard ratio cannot be estimated and those patients are left out")
    design_cols = [c for t in terms for c in t.columns
                   if c in frame.columns and frame[c].nunique() > 1]
    if frame.empty or frame[event].sum() == 0 or not design_cols:
        notes.append(f"{label}: nothing to estimate ({len(frame)} patient(s), "
                     f"{int(frame[event].sum()) if len(frame) else 0} event(s))")
        return Model(_table(terms, frame, event, pd.DataFrame(), {}, empty), len(frame),
                     int(frame[event].sum()) if len(frame) else 0, notes=notes)
    model = frame[[time, event, *design_cols]]
    cph = CoxPHFitter()
    for step in STEP_SIZES:  # Newton–Raphson with smaller steps when a full step diverges
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cph.fit(model, duration_col=time, event_col=event,
                        fit_options={"step_size": step} if step != STEP_SIZES[0] else None)
            break
        except ConvergenceError as exc:
            failure = str(exc).splitlines()[0]
    else:
        notes.append(f"{label}: did not converge ({failure})")
        return Model(_table(terms, frame, event, pd.DataFrame(), {}, empty), len(frame),
                     int(frame[event].sum()), notes=notes)
    summary = cph.summary
    term_p = {t.name: wald_p(cph.params_, cph.variance_matrix_, [c for c in t.columns
                                                                 if c in design_cols])
              for t in terms}
    ph = _ph_check(cph, model, terms) if ph else pd.DataFrame(
        columns=["term", "level", "statistic", "p"])
    result = Model(_table(terms, frame, event, summary, term_p, empty), len(frame),
                   int(frame[event].sum()), ph, notes, cph.params_.copy(), term_p)
    if result.ph_failed:
        shown = ", ".join(result.ph_failed)
        notes.append(f"{label}: the proportional-hazards assumption may not hold for {shown} "
                     f"(Schoenfeld residual test p < {PH_ALPHA}); read the hazard ratio as an "
                     "average over follow-up, or stratify")
    return result


def wald_p(params: pd.Series, cov: pd.DataFrame, cols: list[str]) -> float:
    """The Wald test p of the coefficients ``cols`` being all 0 (χ² with len(cols) df)."""
    from scipy.stats import chi2

    if not cols:
        return math.nan
    b = params[cols].to_numpy(float)
    v = cov.loc[cols, cols].to_numpy(float)
    try:
        stat = float(b @ np.linalg.solve(v, b))
    except np.linalg.LinAlgError:
        return math.nan
    return float(chi2.sf(stat, len(cols)))


def _drop_levels_without_events(frame: pd.DataFrame, terms: list[Term], event: str,
                                all_events: bool = False
                                ) -> tuple[pd.DataFrame, list[tuple[str, str, int]]]:
    """Leave out the patients of each categorical level with no event (and, with
    ``all_events``, of each level where every patient has one: a logistic model cannot
    estimate either); the levels left out, with their patient counts."""
    empty = []
    for term in terms:
        if term.kind != CATEGORICAL:
            continue
        levels = [(term.reference, None)] + list(zip(term.levels, term.columns, strict=True))
        for level, col in levels:
            rows = (frame[list(term.columns)].sum(axis=1) == 0) if col is None else frame[col] == 1
            k = frame.loc[rows, event].sum()
            if rows.any() and (k == 0 or (all_events and k == rows.sum())):
                empty.append((term.name, level, int(rows.sum())))
                frame = frame[~rows]
    return frame, empty


def _ph_check(cph, model: pd.DataFrame, terms: list[Term]) -> pd.DataFrame:
    """The Schoenfeld-residual test (lifelines ``proportional_hazard_test``, rank transform) per
    design column."""
    from lifelines.statistics import proportional_hazard_test

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = proportional_hazard_test(cph, model, time_transform="rank").summary
    except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
        return pd.DataFrame(columns=["term", "level", "statistic", "p"])
    rows = []
    for term in terms:
        for level, col in (zip(term.levels, term.columns, strict=True)
                           if term.kind == CATEGORICAL else [("", term.name)]):
            if col in res.index:
                rows.append({"term": term.name, "level": level,
                             "statistic": round(float(res.loc[col, "test_statistic"]), DECIMALS),
                             "p": float(f"{float(res.loc[col, 'p']):.4g}")})
    return pd.DataFrame(rows, columns=["term", "level", "statistic", "p"])


def _table(terms: list[Term], frame: pd.DataFrame, event: str, summary: pd.DataFrame,
           term_p: dict[str, float], empty: list[tuple[str, str, int]]) -> pd.DataFrame:
    rows = []
    n_all = len(frame)
    e_all = int(frame[event].sum()) if n_all else 0
    for term in terms:
        if term.kind != CATEGORICAL:
            rows.append(_row(term.name, "", "", summary, term.name, n_all, e_all))
            continue
        cols = [c for c in term.columns if c in frame.columns]
        is_ref = frame[cols].sum(axis=1) == 0 if cols else pd.Series(True, index=frame.index)
        ref = {"term": term.name, "level": term.reference, "reference": term.reference,
               "hr": 1.0, "ci95_low": None, "ci95_high": None,
               "p": _p(term_p.get(term.name, math.nan)), "n": int(is_ref.sum()),
               "events": int(frame.loc[is_ref, event].sum())}
        rows.append(ref)
        gone = {lv: k for t, lv, k in empty if t == term.name}
        for level, col in zip(term.levels, term.columns, strict=True):
            if level in gone:
                rows.append({"term": term.name, "level": level, "reference": term.reference,
                             "hr": None, "ci95_low": None, "ci95_high": None, "p": None,
                             "n": gone[level], "events": 0})
                continue
            sel = frame[col] == 1
            rows.append(_row(term.name, level, term.reference, summary, col, int(sel.sum()),
                             int(frame.loc[sel, event].sum())))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _row(term: str, level: str, reference: str, summary: pd.DataFrame, col: str, n: int,
         events: int) -> dict:
    row = {"term": term, "level": level, "reference": reference, "hr": None, "ci95_low": None,
           "ci95_high": None, "p": None, "n": n, "events": events}
    if col in summary.index:
        s = summary.loc[col]
        row.update(hr=_r(s["exp(coef)"]), ci95_low=_r(s["exp(coef) lower 95%"]),
                   ci95_high=_r(s["exp(coef) upper 95%"]), p=_p(s["p"]))
    return row


def _r(x: float) -> float | None:
    v = float(x)
    return round(v, DECIMALS) if math.isfinite(v) else None


def _p(x: float) -> float | None:
    v = float(x)
    return float(f"{v:.4g}") if math.isfinite(v) else None


@dataclass
class Analysis:
    """Univariable and multivariable models of one endpoint, the way the papers lay them out."""

    #: the exposure alone (e.g. the response category, reference SD): the crude model
    crude: Model
    #: each covariate alone, one after the other (the screening of the entry rule)
    screening: Model
    #: the exposure with the covariates that passed the entry rule (None without covariates)
    adjusted: Model | None
    #: the covariates entered into the adjusted model
    entered: list[str]
    entry_p: float

    @property
    def notes(self) -> list[str]:
        models = [self.crude, self.screening] + ([self.adjusted] if self.adjusted else [])
        return [n for m in models for n in m.notes]


def analyse(data: pd.DataFrame, time: str, event: str, exposure: str | None,
            covariates: list[str], references: dict[str, str] | None = None,
            fixed: dict[str, Term] | None = None, entry_p: float = ENTRY_P,
            what: str = "") -> Analysis:
    """The crude model of ``exposure``, the univariable model of each covariate, and the
    multivariable model of the exposure with every covariate whose univariable overall p is
    below ``entry_p`` (the exposure always enters). Without an exposure the multivariable model
    holds the covariates that passed."""
    exposure_names = [exposure] if exposure else []

    def named(part: str) -> str:
        return f"{what}, {part}" if what else part

    crude = (fit(data, time, event, exposure_names, references, fixed, what)
             if exposure else Model(pd.DataFrame(columns=list(COLUMNS))))
    tables, notes, term_p = [], [], {}
    for name in covariates:
        one = fit(data, time, event, [name], references, fixed, named(f"{name} alone"),
                  ph=False)
        tables.append(one.table)
        notes += one.notes
        term_p[name] = one.term_p.get(name, math.nan)
    screening = Model(pd.concat(tables, ignore_index=True) if tables
                      else pd.DataFrame(columns=list(COLUMNS)), notes=notes, term_p=term_p)
    entered = [c for c in covariates if term_p.get(c, math.nan) < entry_p]
    adjusted = None
    if covariates:
        adjusted = fit(data, time, event, exposure_names + entered, references, fixed,
                       named("adjusted"))
        if not entered:
            adjusted.notes.append(f"Cox model of {named('adjusted')}: no covariate had a univariable "
                                  f"p < {entry_p:g}; the adjusted model is the crude one")
    return Analysis(crude, screening, adjusted, entered, entry_p)
