"""Each patient's course: the swimmer plot (time on study, the response at every scan, the first
progression, death or censoring) and the time-point course table (the overall response at each
follow-up), so that a single patient's SD → PD is visible where the best response hides it."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from response_tool.analysis.landmark import DAYS_PER_MONTH
from response_tool.domain.vocabulary import Response
from response_tool.report.context import Context
from response_tool.report.figures import COLOURS, darker, new_figure
from response_tool.report.inputs import AS_CATEGORY, CATEGORIES, CRITERION_NAME, NOT_EVALUABLE

#: a swimmer plot shows at most this many patients (a seeded random sample beyond)
SWIMMER_MAX = 40
#: the HTML shows this many rows of the course table (the CSV holds every patient)
COURSE_ROWS = 15


def course_table(tp: pd.DataFrame, crit: str) -> pd.DataFrame:
    """One row per patient: the overall response at each follow-up (``FU1``, ``FU2``, …), the
    first PD's follow-up and the best response by the time points."""
    follow = tp[(tp["criterion"] == crit) & (tp["weeks"] > 0)].sort_values(
        ["patient_id", "weeks"], kind="stable")
    follow = follow.assign(k=follow.groupby("patient_id").cumcount() + 1,
                           r=follow["overall_response"].astype(str).map(
                               lambda v: AS_CATEGORY.get(v, v)))
    wide = follow.pivot(index="patient_id", columns="k", values="r")
    wide.columns = [f"FU{k}" for k in wide.columns]
    is_pd = follow[follow["r"] == Response.PD.value].groupby("patient_id")["k"].min()
    wide["first_pd_at"] = is_pd.reindex(wide.index).map(lambda k: "" if pd.isna(k)
                                                        else f"FU{int(k)}")
    return wide.fillna("").reset_index()


def swimmer(tp: pd.DataFrame, clinical: pd.DataFrame | None, crit: str,
            seed: int = 0) -> object:
    """One bar per patient from baseline to the end of follow-up (overall survival time when the
    clinical table has it, else the last scan), a mark at each scan coloured by its overall
    response; ▲ death, → alive at the end (censored). Beyond :data:`SWIMMER_MAX` patients a
    seeded random sample is drawn."""
    sub = tp[tp["criterion"] == crit].dropna(subset=["weeks"])
    sub = sub.assign(months=sub["weeks"] * 7 / DAYS_PER_MONTH,
                     r=sub["overall_response"].astype(str).map(lambda v: AS_CATEGORY.get(v, v)))
    last = sub.groupby("patient_id")["months"].max().rename("end")
    end = last.to_frame()
    end["died"] = np.nan
    if clinical is not None and {"os_months", "os_event"} <= set(clinical.columns):
        os_ = clinical.set_index("patient_id")[["os_months", "os_event"]]
        os_ = os_.reindex(end.index)
        end["end"] = np.fmax(end["end"], os_["os_months"].fillna(-np.inf))
        end["died"] = os_["os_event"]
    total = len(end)
    if total > SWIMMER_MAX:
        keep = np.random.default_rng(seed).choice(end.index.to_numpy(), SWIMMER_MAX,
                                                  replace=False)
        end = end.loc[keep]
    end = end.sort_values("end", kind="stable")
    fig = new_figure(7.0, 1.6 + 0.13 * len(end))
    ax = fig.add_subplot()
    y = {pid: i for i, pid in enumerate(end.index)}
    ax.barh(range(len(end)), end["end"], height=0.55, color="#d9d9d9", lw=0)
    scans = sub[sub["patient_id"].isin(y) & (sub["months"] > 0)]
    for c in CATEGORIES:
        pts = scans[scans["r"].where(scans["r"].isin(CATEGORIES), NOT_EVALUABLE) == c]
        if len(pts):
            ax.plot(pts["months"], pts["patient_id"].map(y), "o" if c != Response.PD.value
                    else "D", color=COLOURS[c], ms=4.5, ls="none", label=c,
                    mec=darker(COLOURS[c]), mew=0.5)
    died = end[end["died"] == 1]
    alive = end[end["died"] == 0]
    ax.plot(died["end"], [y[p] for p in died.index], "^", color="#222", ms=5, ls="none",
            label="died")
    ax.plot(alive["end"] + 0.6, [y[p] for p in alive.index], ">", color="#222", ms=4,
            ls="none", mfc="white", label="alive (censored)")
    ax.set_yticks(range(len(end)), list(end.index), fontsize=6)
    ax.set_ylim(-0.8, len(end) - 0.2)
    ax.set_xlabel("months since baseline")
    shown = f"{len(end)} of {total} patients drawn at random, seed {seed}" \
        if total > SWIMMER_MAX else f"n = {total}"
    ax.set_title(f"{CRITERION_NAME[crit]}: swimmer plot ({shown})", fontsize=10)
    ax.legend(fontsize=7.5, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              title="overall response", title_fontsize=7.5)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig


def section(ctx: Context) -> str:
    """The swimmer plot and the course table per criterion."""
    ctx.say("patient course")
    tp, clin = ctx.inputs.timepoints, ctx.inputs.clinical
    parts = ["<h2>Patient course</h2><p>The overall response at each follow-up, so that a "
             "course such as SD → PD is seen, not only the best response. Swimmer plot: one "
             "bar per patient to the end of follow-up (overall survival when the clinical table "
             "gives it); the course table's first rows here, every patient in its CSV.</p>"]
    for crit in ctx.inputs.criteria:
        name = CRITERION_NAME[crit]
        parts.append(ctx.figure(f"swimmer_{crit}", swimmer(tp, clin, crit, ctx.seed),
                                f"{name}: each patient's time on study and responses"))
        table = course_table(tp, crit)
        parts.append(f"<h3>{html.escape(name)}: response at each follow-up</h3>")
        parts.append(ctx.table(f"course_{crit}", table, max_rows=COURSE_ROWS))
    return "".join(parts)
