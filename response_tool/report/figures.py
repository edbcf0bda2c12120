"""The cohort figures: waterfall, spider and Sankey plots, and the matplotlib helpers every
figure of the report (Kaplan–Meier curves included) is drawn with.

Figures are drawn with matplotlib's object API (``matplotlib.figure.Figure``: no pyplot, no GUI
backend) and written as PNG and SVG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from response_tool.criteria import CRITERIA as RULES
from response_tool.domain.vocabulary import Response
from response_tool.report.inputs import CATEGORIES, CRITERION_NAME, CROSSED, NOT_EVALUABLE

#: the colour of each response category in every figure: the Okabe–Ito palette (Okabe & Ito,
#: "Color Universal Design", 2008; Wong, Nat Methods 2011;8:441), told apart with every common
#: colour-vision deficiency — responses in blues, stable orange, progression vermillion
COLOURS = {Response.CR.value: "#0072B2", Response.PR.value: "#56B4E9",
           Response.SD.value: "#E69F00", Response.PD.value: "#D55E00",
           Response.NE.value: "#999999"}
#: further groups (e.g. HTB categories), from the same palette
OTHER_COLOURS = ("#009E73", "#CC79A7", "#0072B2", "#E69F00", "#000000", "#56B4E9")
#: a spider plot draws at most this many patients (a seeded random sample beyond)
SPIDER_MAX = 300


def new_figure(width: float = 7.0, height: float = 4.2) -> Any:
    """An empty figure of the report's resolution and layout."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def save(fig: Any, folder: Path, name: str) -> Path:
    """Write ``fig`` as ``folder/name.png`` and ``folder/name.svg``; the PNG's path."""
    png = folder / f"{name}.png"
    fig.savefig(png)
    fig.savefig(folder / f"{name}.svg")
    return png

def thresholds(crit: str) -> tuple[float, float]:
    """The dashed lines of ``crit``'s figures, in % change: its PR decrease (negative) and its PD
    increase, from its criterion module (:data:`response_tool.criteria.CRITERIA`)."""
    rules = RULES[crit]
    return -rules.PR_DECREASE.as_float, rules.PD_INCREASE.as_float


def percent(change: float) -> str:
    """A signed threshold as the figures and the page write it: "+20 %", "−30 %"."""
    return f"{'+' if change >= 0 else '−'}{abs(change):g} %"


def _threshold_lines(ax: Any, crit: str) -> tuple[float, float]:
    pr, pd_ = thresholds(crit)
    ax.axhline(pd_, color="#555", lw=0.8, ls="--")
    ax.axhline(pr, color="#555", lw=0.8, ls="--")
    return pr, pd_


def waterfall(best: pd.DataFrame, crit: str) -> Any:
    """Best % change of the target sum from baseline per patient, sorted, coloured by category
    (one filled outline per category, so that 200 000 bars draw as fast as 20)."""
    from matplotlib.patches import StepPatch

    sub = best[(best["criterion"] == crit) & best["best_pct"].notna()].sort_values(
        "best_pct", ascending=False, kind="stable")
    fig = new_figure()
    ax = fig.add_subplot()
    values = sub["best_pct"].clip(upper=100).to_numpy(float)
    edges = np.arange(len(sub) + 1) - 0.5
    cats = sub["category"].to_numpy()
    for c in CATEGORIES:
        at = np.flatnonzero(cats == c)
        if len(at):  # sorted by change: a category is nearly one block, drawn over its span
            lo, hi = at[0], at[-1] + 1
            # as an artist: add_patch would walk its 40 000 vertices for the axis limits,
            # which are set below
            ax.add_artist(StepPatch(np.where(cats[lo:hi] == c, values[lo:hi], 0.0),
                                    edges[lo:hi + 1], fill=True, color=COLOURS[c], lw=0))
    pr, pd_ = _threshold_lines(ax, crit)
    ax.text(len(sub) - 0.5, pd_ + 1, percent(pd_), ha="right", va="bottom", fontsize=8)
    ax.text(len(sub) - 0.5, pr - 1, percent(pr), ha="right", va="top", fontsize=8)
    ax.set_xlim(-1, max(len(sub), 1))
    ax.set_ylim(-105, 105)
    ax.set_xticks([])
    ax.set_xlabel(f"patients (n = {len(sub)}), sorted")
    ax.set_ylabel("best change of the sum from baseline (%)")
    ax.set_title(f"{CRITERION_NAME[crit]}: waterfall of the best change (bars capped at +100 %)")
    _legend(ax, [c for c in CATEGORIES if (sub["category"] == c).any()], "best response")
    return fig


def until_progression(tp: pd.DataFrame) -> pd.DataFrame:
    """Each patient's time points up to and including the first PD (the course after a PD is no
    longer the response to the treatment read), with ``is_pd`` marking that time point."""
    tp = tp.sort_values(["patient_id", "weeks"], kind="stable")
    if "overall_response" not in tp.columns:
        return tp.assign(is_pd=False)
    is_pd = tp["overall_response"].astype(str).eq(Response.PD.value)
    before = is_pd.groupby(tp["patient_id"]).cumsum() - is_pd.astype(int)
    kept = tp[before.eq(0)]
    return kept.assign(is_pd=is_pd[before.eq(0)])


def spider(tp: pd.DataFrame, best: pd.DataFrame, crit: str, seed: int = 0) -> Any:
    """% change of the sum from baseline over time, one line per patient, coloured by category;
    each line stops at the patient's first PD, marked ×. Beyond :data:`SPIDER_MAX` patients a
    seeded random sample is drawn (the title says so), with each category's median line."""
    from matplotlib.collections import LineCollection

    sub = until_progression(tp[tp["criterion"] == crit].dropna(subset=["weeks", "pct"]))
    cat = best[best["criterion"] == crit].set_index("patient_id")["category"]
    patients = sub["patient_id"].unique()
    total = len(patients)
    shown, full = patients, sub
    if total > SPIDER_MAX:
        shown = np.sort(np.random.default_rng(seed).choice(patients, SPIDER_MAX, replace=False))
        sub = sub[sub["patient_id"].isin(shown)]
    fig = new_figure()
    ax = fig.add_subplot()
    few = len(shown) <= 20  # few patients: thicker lines, time points marked
    sub = sub.assign(category=sub["patient_id"].map(cat).fillna(NOT_EVALUABLE))
    for c, g in sub.groupby("category", sort=False):
        lines = [np.column_stack([p["weeks"].to_numpy(float), p["pct"].to_numpy(float)])
                 for _, p in g.groupby("patient_id", sort=False)]
        colour = COLOURS.get(str(c), "#999")
        ax.add_collection(LineCollection(lines, colors=colour, lw=1.8 if few else 0.7,
                                         alpha=0.9 if few else 0.6))
        if few:
            ax.plot(g["weeks"], g["pct"], "o", color=colour, ms=4, ls="none")
        marks = g[g["is_pd"]]
        ax.plot(marks["weeks"], marks["pct"].clip(upper=300), "x", color=darker(colour),
                ms=5 if few else 3.5, mew=1.2, ls="none")
    if total > SPIDER_MAX:  # the median of every patient, not only those drawn
        full = full.assign(category=full["patient_id"].map(cat).fillna(NOT_EVALUABLE))
        for c, g in full.groupby("category", sort=False):
            med = g.assign(w=(g["weeks"] / 12).round() * 12).groupby("w")["pct"].median()
            ax.plot(med.index, med.to_numpy(), color=darker(COLOURS.get(str(c), "#999"), 0.6),
                    lw=2.4)
    _threshold_lines(ax, crit)
    ax.set_xlim(-1, max(float(sub["weeks"].max()) if len(sub) else 1.0, 1.0) * 1.03)
    ax.set_ylim(-105, max(105.0, min(float(sub["pct"].max(skipna=True) or 0) + 5, 300)))
    ax.set_xlabel("weeks since baseline")
    ax.set_ylabel("change of the sum from baseline (%)")
    title = f"{CRITERION_NAME[crit]}: spider plot (n = {total}"
    title += (f"; {len(shown)} drawn at random, seed {seed})\nbold: median of all {total} per "
              "category; " if total > SPIDER_MAX else ")\n")
    ax.set_title(title + "× first PD, where the line stops", fontsize=9.5)
    _legend(ax, [c for c in CATEGORIES if (sub["category"] == c).any()], "best response",
            loc="outside")
    return fig


def sankey(table: pd.DataFrame) -> Any:
    """RECIST 1.1 → mRECIST flows between categories (an alluvial diagram) of the cross table
    (:func:`response_tool.report.tables.cross_table`)."""
    rows, cols = (CRITERION_NAME[c] for c in CROSSED)
    fig = new_figure(6.5, 4.6)
    ax = fig.add_subplot()
    total = float(table.to_numpy().sum())
    gap = 0.02 * total
    cats = list(CATEGORIES)

    def stack(sizes: list[float]) -> list[float]:
        tops, y = [], total + gap * (len(sizes) - 1)
        for s in sizes:
            tops.append(y)
            y -= s + gap
        return tops

    left = table.sum(axis=1).reindex(cats, fill_value=0).to_numpy(dtype=float)
    right = table.sum(axis=0).reindex(cats, fill_value=0).to_numpy(dtype=float)
    ltop, rtop = stack(list(left)), stack(list(right))
    lcur, rcur = list(ltop), list(rtop)
    xs = np.linspace(0.1, 0.9, 60)
    s = (1 - np.cos(np.pi * (xs - 0.1) / 0.8)) / 2  # smooth S-curve from 0 to 1
    for i, a in enumerate(cats):
        for j, b in enumerate(cats):
            f = float(table.loc[a, b]) if a in table.index and b in table.columns else 0.0
            if f <= 0:
                continue
            y0_top, y1_top = lcur[i], rcur[j]
            top = y0_top + (y1_top - y0_top) * s
            ax.fill_between(xs, top - f, top, color=COLOURS[a], alpha=0.55, lw=0)
            lcur[i] -= f
            rcur[j] -= f
    for x, sizes, tops, side in ((0.1, left, ltop, "right"), (0.9, right, rtop, "left")):
        for c, size, top in zip(cats, sizes, tops, strict=True):
            if size <= 0:
                continue
            ax.add_patch(_rect(x - 0.02 if side == "right" else x, top - size, 0.02, size,
                               COLOURS[c]))
            tx = x - 0.03 if side == "right" else x + 0.03
            ax.text(tx, top - size / 2, f"{c} {int(size)}", ha=side, va="center", fontsize=9)
    ax.set_xlim(-0.1, 1.1)
    ax.set_ylim(-gap, total + gap * len(cats))
    ax.axis("off")
    ax.text(0.1, total + gap * len(cats), rows, ha="center", va="bottom", fontweight="bold")
    ax.text(0.9, total + gap * len(cats), cols, ha="center", va="bottom", fontweight="bold")
    ax.set_title(f"Best response, {rows} → {cols} (n = {int(total)})", pad=18)
    return fig


def _rect(x: float, y: float, w: float, h: float, colour: str) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, color=colour, ec="#333", lw=0.5)


def _legend(ax: Any, cats: list[str], title: str, loc: str = "upper right") -> None:
    from matplotlib.patches import Patch

    if cats and loc == "outside":  # right of the axes: lines never hide under it
        ax.legend(handles=[Patch(color=COLOURS[c], label=c) for c in cats], title=title,
                  fontsize=8, title_fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  frameon=False)
    elif cats:
        ax.legend(handles=[Patch(color=COLOURS[c], label=c) for c in cats], title=title,
                  fontsize=8, title_fontsize=8, loc=loc, frameon=False,
                  ncols=len(cats) if loc == "lower left" else 1)


def darker(colour: str, factor: float = 0.75) -> tuple[float, float, float]:
    """The colour darkened, for text on white (light greens and yellows are hard to read)."""
    from matplotlib.colors import to_rgb

    return tuple(c * factor for c in to_rgb(colour))  # type: ignore[return-value]
