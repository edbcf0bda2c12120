"""Survival: Kaplan–Meier curves by group with the number at risk, the log-rank test and the
median (95 % CI) per group (lifelines), and the report's survival sections — by response under
each criterion and by baseline hepatic tumour burden.
"""

from __future__ import annotations

import html
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from response_tool.domain.vocabulary import Response
from response_tool.report.context import Context
from response_tool.report.figures import COLOURS, OTHER_COLOURS, darker, new_figure
from response_tool.report.inputs import (
    CATEGORIES,
    CRITERION_NAME,
    ENDPOINTS,
    RESPONDERS,
    htb_order,
)

#: PFS by best response is circular: said once above the curves and the hazard ratios
CIRCULAR_PFS = (
    '<p class="note">Progression-free survival by best response is circular: a patient whose '
    "best response is PD progressed at a scan by definition (often the first), and a "
    "responder was progression-free at least until the response was seen. Read PFS by "
    "response as descriptive; a landmark analysis (--landmark MONTHS) compares only "
    "patients progression-free at the landmark.</p>")

#: the two groups of the responder curves: objective response or not
RESPONDER, NON_RESPONDER = "responder", "non-responder"
#: their colours: those of CR and of PD
_GROUP_COLOURS = {RESPONDER: COLOURS[Response.CR.value],
                  NON_RESPONDER: COLOURS[Response.PD.value]}


#: the y-axis words of every endpoint drawn (the clinical table's, and TTLP per cycle)
LABELS = {**ENDPOINTS, "ttlp": "Progression-free in the cycle"}
#: a median (or a CI bound) the curve never reaches: "not reached", as the papers print it
NOT_REACHED = "NR"


def km_groups(data: pd.DataFrame, endpoint: str, group: str, order: list[str],
              title: str, xlabel: str = "months from baseline") -> tuple[Any, pd.DataFrame]:
    """Kaplan–Meier curves of ``endpoint`` by ``group`` (lifelines), with the log-rank p and the
    median (95 % CI) per group (:data:`NOT_REACHED` where the curve does not fall to 0.5, or its
    band does not); returns the figure and the table."""
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test
    from lifelines.utils import median_survival_times

    t_col, e_col = f"{endpoint}_months", f"{endpoint}_event"
    d = data.dropna(subset=[t_col, e_col, group])
    d = d[d[group].isin(order)]
    groups = [g for g in order if (d[group] == g).any()]
    fig = new_figure(6.8, 4.9)
    grid = fig.add_gridspec(2, 1, height_ratios=[4, 1.0 + 0.12 * len(groups)])
    ax = fig.add_subplot(grid[0])
    risk = fig.add_subplot(grid[1], sharex=ax)
    horizon = float(d[t_col].max()) if len(d) else 12.0
    step = 12.0 if horizon > 36 else 6.0 if horizon > 12 else 3.0 if horizon > 4 else 1.0
    ticks = np.arange(0, horizon + 1e-9, step)
    rows = []
    palette = {**COLOURS, **_GROUP_COLOURS}
    extra = OTHER_COLOURS
    for k, g in enumerate(groups):
        sub = d[d[group] == g]
        kmf = KaplanMeierFitter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kmf.fit(sub[t_col], sub[e_col], label=str(g))
        colour = palette.get(str(g), extra[k % len(extra)])
        sf = kmf.survival_function_.iloc[:, 0]
        ax.step(sf.index, sf.to_numpy(), where="post", color=colour, lw=1.6,
                label=f"{g} (n = {len(sub)})")
        if len(groups) <= 2:  # bands of more curves hide each other
            ci = kmf.confidence_interval_
            ax.fill_between(ci.index, ci.iloc[:, 0], ci.iloc[:, 1], step="post", color=colour,
                            alpha=0.12, lw=0)
        # one tick per distinct censoring time (to 0.1 month): 20 000 ticks draw as ≤ 1000
        censored = pd.Series(np.unique(sub.loc[sub[e_col] == 0, t_col].round(1).to_numpy()))
        ax.plot(censored, kmf.survival_function_at_times(censored).to_numpy(), "|",
                color=colour, ms=5, mew=0.8)
        y = len(groups) - 1 - k
        for t in ticks:
            risk.text(t, y, str(int((sub[t_col] >= t).sum())), ha="center", va="center",
                      fontsize=7.5, color=darker(colour))
        med = kmf.median_survival_time_
        med_ci = median_survival_times(kmf.confidence_interval_)
        rows.append({"group": g, "n": len(sub), "events": int(sub[e_col].sum()),
                     "median_months": _median(med),
                     "median_ci95_low": _median(med_ci.iloc[0, 0]),
                     "median_ci95_high": _median(med_ci.iloc[0, 1])})
    p = math.nan
    if len(groups) >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = float(multivariate_logrank_test(d[t_col], d[group], d[e_col]).p_value)
    table = pd.DataFrame(rows)
    table["logrank_p"] = _p(p)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(-0.02 * horizon, horizon * 1.02)
    ax.set_xticks(ticks)
    ax.tick_params(labelbottom=False)
    ax.set_ylabel(f"{LABELS.get(endpoint, endpoint).lower()}\nprobability")
    ax.set_title(title + (f"\nlog-rank p {_p(p, eq=True)}" if len(groups) >= 2 else ""),
                 fontsize=10)
    if ax.get_legend_handles_labels()[0]:  # a group too small to draw has no curve to name
        ax.legend(fontsize=8, frameon=False, loc="upper right")
    risk.set_ylim(-0.6, len(groups) - 0.4)
    risk.set_yticks(range(len(groups)), [str(g) for g in groups][::-1], fontsize=7.5)
    risk.set_xlabel(xlabel)
    risk.set_title("number at risk", fontsize=8, loc="left")
    for side in ("top", "right", "left"):
        risk.spines[side].set_visible(False)
    risk.tick_params(axis="y", length=0)
    return fig, table


def _median(x: Any) -> float | str | None:
    """A median or CI bound in months, rounded to 0.1; "NR" when not reached (infinite)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    if math.isinf(v) and v > 0:
        return NOT_REACHED
    return None if not math.isfinite(v) else round(v, 1)


def _p(p: float, eq: bool = False) -> str:
    if not math.isfinite(p):
        return "n/a"
    if p < 0.001:
        return "< 0.001"
    return f"= {p:.3f}" if eq else f"{p:.3f}"


def section(ctx: Context) -> str:
    """The survival sections, when a clinical table is given: Kaplan–Meier curves and tables per
    endpoint, by response under each criterion and by baseline HTB."""
    best, clin, htb = ctx.inputs.best, ctx.inputs.clinical, ctx.inputs.htb
    if clin is None:
        return ""
    ctx.say("survival")
    responders = "+".join(RESPONDERS)
    others = "+".join(c for c in CATEGORIES if c not in RESPONDERS)
    landmark = ("the landmark analysis below compares patients alive and event-free at a "
                "landmark" if ctx.analysis.landmark_months is not None
                or ctx.analysis.landmark_followup is not None else
                "these curves do not use a landmark because none was asked for (a landmark "
                "leaves out every patient with an event before it, and which time suits a "
                "study is the study's choice): give --landmark MONTHS or --landmark-followup K")
    parts = ["<h2>Survival by response</h2><p>Kaplan–Meier estimates (lifelines), log-rank test; "
             f"median in months with 95 % CI ({NOT_REACHED}: not reached); ticks mark censored "
             f"patients. Patients are classified by their {html.escape(ctx.inputs.basis)} over "
             f"the whole follow-up, from baseline. Responders ({responders}) so classified are "
             "favoured by guarantee-time bias (they must live long enough to respond): read "
             f"these curves as descriptive; {landmark}.</p>"]
    known = set(clin["patient_id"])
    missing = sorted(set(best["patient_id"]) - known)
    if missing:
        ctx.notes.append(f"{len(missing)} patient(s) have responses but no clinical row and are "
                         f"left out of the survival analyses: {', '.join(missing[:10])}"
                         + (" …" if len(missing) > 10 else ""))
    endpoints = [e for e in ENDPOINTS if f"{e}_months" in clin.columns]
    if "pfs" in endpoints:
        parts.append(CIRCULAR_PFS)
    for crit in ctx.inputs.criteria:
        data = best[best["criterion"] == crit].merge(clin, on="patient_id")
        data["responder"] = np.where(data["category"].isin(RESPONDERS), RESPONDER,
                                     NON_RESPONDER)
        for e in endpoints:
            name = CRITERION_NAME[crit]
            circular = " (circular: see above)" if e == "pfs" else ""
            fig, tab = km_groups(data, e, "responder", [RESPONDER, NON_RESPONDER],
                                 f"{ENDPOINTS[e]} by {name} best response: {responders} vs the "
                                 "rest")
            parts.append(ctx.figure(f"km_{e}_{crit}_responders", fig,
                                    f"{ENDPOINTS[e]} by {name} response ({responders} vs "
                                    f"{others}){circular}"))
            parts.append(ctx.table(f"km_{e}_{crit}_responders", tab))
            fig, tab = km_groups(data, e, "category", list(CATEGORIES),
                                 f"{ENDPOINTS[e]} by {name} response category")
            parts.append(ctx.figure(f"km_{e}_{crit}_categories", fig,
                                    f"{ENDPOINTS[e]} by {name} category{circular}"))
            parts.append(ctx.table(f"km_{e}_{crit}_categories", tab))
    if htb is not None:
        data = clin.join(htb, on="patient_id").dropna(subset=["htb_category"])
        order = htb_order(list(data["htb_category"].unique()))
        parts.append("<h2>Survival by hepatic tumour burden</h2>")
        for e in endpoints:
            fig, tab = km_groups(data, e, "htb_category", order,
                                 f"{ENDPOINTS[e]} by baseline HTB")
            parts.append(ctx.figure(f"km_{e}_htb", fig,
                                    f"{ENDPOINTS[e]} by baseline HTB category"))
            parts.append(ctx.table(f"km_{e}_htb", tab))
    return "".join(parts)
