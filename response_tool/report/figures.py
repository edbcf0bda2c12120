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

#: the colour of each response category in every figure (the report's own)
COLOURS = {Response.CR.value: "#1a9850", Response.PR.value: "#91cf60",
           Response.SD.value: "#f2c12e", Response.PD.value: "#d73027",
           Response.NE.value: "#9e9e9e"}


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
    """Best % change of the target sum from baseline per patient, sorted, coloured by category."""
    sub = best[(best["criterion"] == crit) & best["best_pct"].notna()].sort_values(
        "best_pct", ascending=False)
    fig = new_figure()
    ax = fig.add_subplot()
    x = np.arange(len(sub))
    ax.bar(x, sub["best_pct"].clip(upper=100), width=1.0,
           color=[COLOURS[c] for c in sub["category"]], edgecolor="none")
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


def spider(tp: pd.DataFrame, best: pd.DataFrame, crit: str) -> Any:
    """% change of the sum from baseline over time, one line per patient, coloured by category."""
    sub = tp[(tp["criterion"] == crit)]
    cat = best[best["criterion"] == crit].set_index("patient_id")["category"]
    fig = new_figure()
    ax = fig.add_subplot()
    few = sub["patient_id"].nunique() <= 20  # few patients: thicker lines, time points marked
    for pid, g in sub.groupby("patient_id", sort=False):
        g = g.sort_values("weeks")
        ax.plot(g["weeks"], g["pct"], color=COLOURS.get(cat.get(pid, NOT_EVALUABLE), "#999"),
                lw=1.8 if few else 0.7, alpha=0.9 if few else 0.6, marker="o" if few else None,
                ms=4)
    _threshold_lines(ax, crit)
    ax.set_ylim(-105, max(105.0, min(float(sub["pct"].max(skipna=True) or 0) + 5, 300)))
    ax.set_xlabel("weeks since baseline")
    ax.set_ylabel("change of the sum from baseline (%)")
    ax.set_title(f"{CRITERION_NAME[crit]}: spider plot (n = {sub['patient_id'].nunique()})")
    _legend(ax, [c for c in CATEGORIES if (cat == c).any()], "best response", loc="lower left")
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

    if cats:
        ax.legend(handles=[Patch(color=COLOURS[c], label=c) for c in cats], title=title,
                  fontsize=8, title_fontsize=8, loc=loc, frameon=False,
                  ncols=len(cats) if loc == "lower left" else 1)


def darker(colour: str, factor: float = 0.75) -> tuple[float, float, float]:
    """The colour darkened, for text on white (light greens and yellows are hard to read)."""
    from matplotlib.colors import to_rgb

    return tuple(c * factor for c in to_rgb(colour))  # type: ignore[return-value]
