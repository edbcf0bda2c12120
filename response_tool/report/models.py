"""The report's model sections, laid out like the source papers' tables: Cox hazard ratios of
OS and PFS by response category under each criterion (reference SD, Touloupas 2021 Table 4) and
of the covariates, univariable and multivariable (Liu 2022 Table 3, Xu 2022 Tables 2–3);
logistic regression of objective response (Liu 2022 Table 4, Touloupas 2021); Table 1 of the
baseline characteristics by responder.

Files (``<e>`` = ``os`` / ``pfs``, ``<criterion>`` = ``recist1.1`` / ``mrecist``), every
hazard-ratio table with the columns ``term, level, reference, hr, ci95_low, ci95_high, p, n,
events`` (:data:`response_tool.analysis.COX_COLUMNS`):

* ``cox_<e>_<criterion>.csv`` — the univariable analysis: the response category alone (term
  ``response``), then each covariate alone;
* ``cox_<e>_<criterion>_multivariable.csv`` — the response with the covariates that passed the
  entry rule (with ``--covariates``);
* ``cox_<e>_<criterion>_ph.csv`` — the Schoenfeld-residual test of each model's terms;
* ``logistic_<criterion>.csv``, ``logistic_<criterion>_multivariable.csv``,
  ``logistic_<criterion>_aic.csv`` — odds ratios of objective response (with ``--covariates``);
* ``table1_<criterion>.csv`` — baseline characteristics by objective response.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import pandas as pd

from response_tool.analysis import cox, logistic
from response_tool.analysis.coding import CATEGORICAL, Term
from response_tool.analysis.table1 import baseline_table
from response_tool.domain.errors import ReportInputError
from response_tool.report.context import AnalysisOptions, Context
from response_tool.report.inputs import (
    CATEGORIES,
    CRITERION_NAME,
    ENDPOINTS,
    NOT_EVALUABLE,
    RESPONDERS,
    Inputs,
)
from response_tool.report.survival import CIRCULAR_PFS

#: the term of the response category in every model
RESPONSE = "response"
#: the 0/1 outcome of the logistic models, and the grouping of Table 1
RESPONDER = "responder"


def check_options(inputs: Inputs, opts: AnalysisOptions, clinical: object) -> None:
    """Every covariate and reference named is a column of the clinical CSV, and the models'
    options make sense — else a ReportInputError before anything is written."""
    where = clinical if isinstance(clinical, (str, Path)) else "the clinical table"
    if (opts.covariates or opts.references) and inputs.clinical is None:
        raise ReportInputError("--covariates and --reference need --clinical CLINICAL.csv")
    have = [] if inputs.covariates is None else [c for c in inputs.covariates.columns
                                                 if c != "patient_id"]
    for name in (*opts.covariates, *opts.references):
        if name not in have:
            raise ReportInputError(f"{where}: no column {name!r} for --covariates / --reference "
                                   f"(its covariate columns: {', '.join(have) or 'none'})")
    for name in opts.references:
        if name not in opts.covariates:
            raise ReportInputError(f"--reference {name}=…: {name} is not among --covariates")
    if opts.response_reference not in CATEGORIES or opts.response_reference == NOT_EVALUABLE:
        raise ReportInputError(f"--response-reference {opts.response_reference}: give one of "
                               f"{', '.join(c for c in CATEGORIES if c != NOT_EVALUABLE)}")
    if not 0 < opts.entry_p <= 1:
        raise ReportInputError(f"--entry-p {opts.entry_p:g}: give a p between 0 and 1")
    if opts.landmark_months is not None and not opts.landmark_months > 0:
        raise ReportInputError(f"--landmark {opts.landmark_months:g}: give months > 0")
    if opts.landmark_followup is not None and opts.landmark_followup < 1:
        raise ReportInputError(f"--landmark-followup {opts.landmark_followup}: give K >= 1")


def model_data(ctx: Context, crit: str) -> tuple[pd.DataFrame, list[str]]:
    """One row per patient with a category under ``crit`` and a clinical row: the category as
    ``response`` (NE left out), ``responder`` 1/0, the endpoints and the covariates; the
    notes."""
    best, clin, cov = ctx.inputs.best, ctx.inputs.clinical, ctx.inputs.covariates
    data = best.loc[best["criterion"] == crit, ["patient_id", "category"]].merge(
        clin, on="patient_id")
    if cov is not None:
        clash = {c for c in cov.columns if c != "patient_id"} & set(data.columns)
        if clash:
            raise ReportInputError(f"clinical CSV: column {sorted(clash)[0]!r} is a name the "
                                   "report uses; rename it")
        data = data.merge(cov, on="patient_id", how="left")
    notes = []
    ne = int((data["category"] == NOT_EVALUABLE).sum())
    if ne:
        notes.append(f"{CRITERION_NAME[crit]}: {ne} patient(s) whose category is "
                     f"{NOT_EVALUABLE} are left out of the models")
    data = data[data["category"] != NOT_EVALUABLE].rename(columns={"category": RESPONSE})
    data[RESPONDER] = data[RESPONSE].isin(RESPONDERS).astype(int)
    return data.reset_index(drop=True), notes


def response_term(data: pd.DataFrame, reference: str) -> Term | None:
    """The response category as a categorical term with ``reference`` (None when no patient
    has that category: there is nothing to compare against)."""
    present = [c for c in CATEGORIES if (data[RESPONSE] == c).any()]
    if reference not in present:
        return None
    return Term(RESPONSE, CATEGORICAL, reference, tuple(c for c in present if c != reference))


def paper_table(uni: pd.DataFrame, multi: pd.DataFrame | None, est: str = "hr",
                events: str = "events") -> pd.DataFrame:
    """The univariable and multivariable columns side by side, as the papers print them:
    ``Ref`` on the reference level, "HR (95 % CI)" and p per model."""
    label = est.upper()

    def cells(t: pd.DataFrame) -> dict[tuple[str, str], tuple[str, str]]:
        out = {}
        for row in t.to_dict("records"):
            key = (row["term"], row["level"] if isinstance(row["level"], str) else "")
            if key[1] and key[1] == row["reference"]:
                out[key] = ("Ref", _p(row["p"]))
            elif pd.isna(row[est]):
                out[key] = ("not estimable", "")
            else:
                out[key] = (f"{row[est]:.3f} ({row['ci95_low']:.3f}–{row['ci95_high']:.3f})",
                            _p(row["p"]))
        return out

    u = cells(uni)
    m = cells(multi) if multi is not None else {}
    rows = []
    for row in uni.to_dict("records"):
        key = (row["term"], row["level"] if isinstance(row["level"], str) else "")
        line = {"variable": key[0], "level": key[1], "n": row["n"], events: row[events],
                f"univariable {label} (95 % CI)": u[key][0], "univariable p": u[key][1]}
        if multi is not None:
            mm = m.get(key, ("", ""))
            line[f"multivariable {label} (95 % CI)"] = mm[0]
            line["multivariable p"] = mm[1]
        rows.append(line)
    return pd.DataFrame(rows)


def _p(p: object) -> str:
    try:
        v = float(p)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(v):
        return ""
    return "< 0.001" if v < 0.001 else f"{v:.3f}"


def cox_section(ctx: Context) -> str:
    """Hazard ratios by response (and covariates) per endpoint and criterion."""
    clin = ctx.inputs.clinical
    if clin is None:
        return ""
    ctx.say("Cox models")
    opts = ctx.analysis
    covariates = list(opts.covariates)
    endpoints = [e for e in ENDPOINTS if f"{e}_months" in clin.columns]
    parts = [
        "<h2>Hazard ratios (Cox proportional hazards)</h2><p>lifelines, Efron ties; HR with "
        "95 % CI and Wald p; the p on a reference (Ref) row is the term's overall Wald test. "
        f"Response category relative to {html.escape(opts.response_reference)}"
        f" ({html.escape(ctx.inputs.basis)}; the same guarantee-time bias as the curves). "
        + (f"Covariates: {html.escape(', '.join(covariates))}; each enters the multivariable "
           f"model when its univariable p &lt; {opts.entry_p:g} (Liu 2022, Xu 2022); the "
           "response always enters." if covariates else
           "No covariates (give <code>--covariates COL,COL</code> of the clinical CSV for "
           "the multivariable models).")
        + " Proportional hazards checked by the Schoenfeld-residual test (rank time) in the "
          "response model and the multivariable one.</p>"]
    if not covariates and ctx.inputs.covariates is not None:
        others = [c for c in ctx.inputs.covariates.columns if c != "patient_id"]
        ctx.notes.append("The clinical CSV has columns the models do not use: "
                         f"{', '.join(others)} (give --covariates to enter them).")
    for crit in ctx.inputs.criteria:
        data, notes = model_data(ctx, crit)
        ctx.notes.extend(n for n in notes if n not in ctx.notes)
        term = response_term(data, opts.response_reference)
        if term is None:
            ctx.notes.append(f"{CRITERION_NAME[crit]}: no patient is "
                             f"{opts.response_reference}; no hazard ratios relative to it")
            continue
        for e in endpoints:
            name = f"{ENDPOINTS[e]}, {CRITERION_NAME[crit]}"
            res = cox.analyse(data, f"{e}_months", f"{e}_event", RESPONSE, covariates,
                              opts.references, {RESPONSE: term}, opts.entry_p, name)
            uni = pd.concat([t for t in (res.crude.table, res.screening.table) if len(t)],
                            ignore_index=True) if len(res.crude.table) or len(
                res.screening.table) else res.crude.table
            multi = res.adjusted.table if res.adjusted is not None else None
            heading = f"{name}: hazard ratios"
            if e == "pfs":
                heading += " (circular for PD: see below)"
            parts.append(f"<h3>{html.escape(heading)}</h3>")
            if e == "pfs":
                parts.append(CIRCULAR_PFS)
            if multi is not None:
                entered = ", ".join(res.entered) or "none"
                parts.append(f"<p>Entered into the multivariable model: response, "
                             f"{html.escape(entered)}.</p>")
            parts.append(ctx.table(f"cox_{e}_{crit}", uni, html_frame=paper_table(uni, multi)))
            if multi is not None:
                parts.append(ctx.table(f"cox_{e}_{crit}_multivariable", multi,
                                       html_frame=_hidden()))
            ph = _ph(res)
            parts.append(ctx.table(f"cox_{e}_{crit}_ph", ph, html_frame=_hidden()))
            for n in res.notes:
                if n not in ctx.notes:
                    ctx.notes.append(n)
    return "".join(parts)


def _hidden() -> pd.DataFrame:
    """No HTML of its own (the paper table shows it): only the link to the CSV."""
    return pd.DataFrame()


def _ph(res: cox.Analysis) -> pd.DataFrame:
    frames = []
    for model, label in ((res.crude, "univariable"), (res.adjusted, "multivariable")):
        if model is not None and not model.ph.empty:
            frames.append(model.ph.assign(model=label))
    if not frames:
        return pd.DataFrame(columns=["model", "term", "level", "statistic", "p"])
    return pd.concat(frames, ignore_index=True)[["model", "term", "level", "statistic", "p"]]


def logistic_section(ctx: Context) -> str:
    """Odds ratios of objective response on the covariates, per criterion."""
    opts = ctx.analysis
    covariates = list(opts.covariates)
    if ctx.inputs.clinical is None or not covariates:
        return ""
    ctx.say("logistic models")
    parts = ["<h2>Predictors of objective response (logistic regression)</h2><p>statsmodels "
             f"Logit; {'+'.join(RESPONDERS)} against the rest; OR with 95 % Wald CI; entry "
             f"into the multivariable model at univariable p &lt; {opts.entry_p:g}"
             + ("; then backward selection by AIC (Touloupas 2021)" if opts.backward_aic
                else "") + ".</p>"]
    for crit in ctx.inputs.criteria:
        data, _ = model_data(ctx, crit)
        name = f"Objective response, {CRITERION_NAME[crit]}"
        res = logistic.analyse(data, RESPONDER, covariates, opts.references, opts.entry_p,
                               opts.backward_aic, what=name)
        multi = res.adjusted.table if res.adjusted is not None else None
        parts.append(f"<h3>{html.escape(name)}</h3><p>Entered: "
                     f"{html.escape(', '.join(res.entered) or 'none')}.</p>")
        parts.append(ctx.table(f"logistic_{crit}", res.screening.table,
                               html_frame=paper_table(res.screening.table, multi, "or",
                                                      "responders")))
        if multi is not None:
            parts.append(ctx.table(f"logistic_{crit}_multivariable", multi,
                                   html_frame=_hidden()))
        if res.selected is not None:
            steps = "; ".join(f"{' + '.join(t) or 'intercept only'}: AIC {aic:.2f}"
                              for t, aic in res.steps)
            parts.append(f"<p>Backward selection by AIC: {html.escape(steps)}. Kept: "
                         f"{html.escape(', '.join(res.kept) or 'none')}.</p>")
            parts.append(ctx.table(f"logistic_{crit}_aic", res.selected.table))
        for n in res.notes:
            if n not in ctx.notes:
                ctx.notes.append(n)
    return "".join(parts)


def table1_section(ctx: Context) -> str:
    """Baseline characteristics by objective response under each criterion."""
    cov = ctx.inputs.covariates
    if ctx.inputs.clinical is None or cov is None:
        return ""
    variables = list(ctx.analysis.covariates) or [c for c in cov.columns if c != "patient_id"]
    ctx.say("Table 1")
    parts = ["<h2>Baseline characteristics (Table 1)</h2><p>Mean ± SD (Student t) and median "
             "(IQR) (Wilcoxon rank-sum) of numeric variables, n (%) of categorical ones "
             "(Pearson χ², or Fisher's exact test for a 2 × 2 table with an expected count "
             "below 5), by objective response.</p>"]
    for crit in ctx.inputs.criteria:
        data, _ = model_data(ctx, crit)
        data = data.assign(**{RESPONDER: data[RESPONDER].map({1: "yes", 0: "no"})})
        table = baseline_table(data, variables, RESPONDER, order=["yes", "no"])
        parts.append(f"<h3>By {html.escape(CRITERION_NAME[crit])} objective response</h3>")
        parts.append(ctx.table(f"table1_{crit}", table))
    return "".join(parts)
