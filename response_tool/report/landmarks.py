"""The landmark section of the report: patients classified by their best overall response at
the scans up to a landmark, only those alive and event-free at it, times measured from it
(:mod:`response_tool.analysis.landmark`); Kaplan–Meier curves of responders against the rest
and the hazard ratios by category (reference SD) per endpoint and criterion."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from response_tool.analysis import cox
from response_tool.analysis.coding import CATEGORICAL, Term
from response_tool.analysis.landmark import DAYS_PER_MONTH, at_landmark, landmark_months
from response_tool.domain.errors import ReportInputError
from response_tool.report.context import Context
from response_tool.report.inputs import AS_CATEGORY, CATEGORIES, CRITERION_NAME, ENDPOINTS, RESPONDERS
from response_tool.report.survival import NON_RESPONDER, RESPONDER, km_groups


def timepoints(ctx: Context, crit: str) -> pd.DataFrame:
    """The chosen reader's time points under ``crit``: ``patient_id``, ``months`` since
    baseline, ``response`` (NON-CR/NON-PD counted as SD)."""
    tp = ctx.inputs.timepoints
    tp = tp[(tp["criterion"] == crit)].dropna(subset=["weeks"])
    return pd.DataFrame({"patient_id": tp["patient_id"],
                         "months": tp["weeks"] * 7 / DAYS_PER_MONTH,
                         "response": tp["overall_response"].astype(str).map(
                             lambda v: AS_CATEGORY.get(v, v))})


def section(ctx: Context) -> str:
    opts = ctx.analysis
    clin = ctx.inputs.clinical
    if clin is None or (opts.landmark_months is None and opts.landmark_followup is None):
        return ""
    ctx.say("landmark analysis")
    endpoints = [e for e in ENDPOINTS if f"{e}_months" in clin.columns]
    parts = []
    for crit in ctx.inputs.criteria:
        tp = timepoints(ctx, crit)
        months = opts.landmark_months
        if months is None:
            try:
                months = landmark_months(tp, opts.landmark_followup)
            except ValueError as exc:
                raise ReportInputError(f"--landmark-followup {opts.landmark_followup}: {exc}; "
                                       "choose a follow-up the responses have") from None
        name = CRITERION_NAME[crit]
        where = (f"{months:.1f} months" if opts.landmark_months is not None else
                 f"follow-up {opts.landmark_followup} (median {months:.1f} months)")
        parts.append(f"<h3>{html.escape(name)}: landmark at {html.escape(where)}</h3>")
        for e in endpoints:
            lm = at_landmark(tp, clin, months, f"{e}_months", f"{e}_event")
            data = lm.data.rename(columns={"time": f"{e}_months", "event": f"{e}_event"})
            data["responder"] = np.where(data["category"].isin(RESPONDERS), RESPONDER,
                                         NON_RESPONDER)
            parts.append(f"<p>{ENDPOINTS[e]}: {len(data)} patient(s) compared; "
                         f"{len(lm.not_at_risk)} with an event or censored by the landmark and "
                         f"{len(lm.not_assessed)} without an evaluable response by it are left "
                         "out.</p>")
            fig, tab = km_groups(data, e, "responder", [RESPONDER, NON_RESPONDER],
                                 f"{ENDPOINTS[e]} from the landmark by {name} response "
                                 f"up to it", xlabel="months from the landmark")
            parts.append(ctx.figure(f"km_{e}_{crit}_landmark", fig,
                                    f"{ENDPOINTS[e]} from the landmark ({where}) by {name} "
                                    "best response up to it"))
            parts.append(ctx.table(f"km_{e}_{crit}_landmark", tab))
            present = [c for c in CATEGORIES if (data["category"] == c).any()]
            ref = opts.response_reference
            if ref in present and len(present) > 1:
                term = Term("response", CATEGORICAL, ref, tuple(c for c in present if c != ref))
                model = cox.fit(data.rename(columns={"category": "response"}), f"{e}_months",
                                f"{e}_event", ["response"], fixed={"response": term},
                                what=f"{ENDPOINTS[e]} from the landmark, {name}")
                parts.append(ctx.table(f"cox_{e}_{crit}_landmark", model.table))
                ctx.notes.extend(n for n in model.notes if n not in ctx.notes)
    return ("<h2>Landmark analysis</h2><p>Each patient is classified by the best of their "
            "overall responses at the scans up to the landmark (unconfirmed, time-point "
            "responses); only patients alive and event-free at the landmark are compared, and "
            "their times run from it (Anderson, Cain &amp; Gelber 1983). This removes the "
            "guarantee-time bias of classifying by the best response over the whole "
            "follow-up.</p>" + "".join(parts))
