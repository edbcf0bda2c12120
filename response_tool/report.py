"""Cohort report: response tables, RECIST × mRECIST concordance, waterfall / spider / Sankey plots
and survival by response and by hepatic tumour burden, as one self-contained HTML page.

``build_report(responses, out, bor=..., clinical=...)`` writes into ``out``:

* ``index.html`` — every table and figure, readable without the tool (relative links only);
* ``tables/*.csv`` — every table;
* ``figures/*.png`` and ``figures/*.svg`` — every figure.

Figures are drawn with matplotlib's object API (``matplotlib.figure.Figure``: no pyplot, no GUI
backend), Kaplan–Meier estimates and log-rank tests come from lifelines, exact (Clopper–Pearson)
intervals from statsmodels, agreement coefficients from :mod:`response_tool.agreement`.
"""

from __future__ import annotations

import html
import math
import shutil
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from response_tool.agreement import ADJUDICATOR, cohen_kappa
from response_tool.domain.errors import ReportInputError
from response_tool.io.tables import read_table

CRITERIA = ("recist1.1", "mrecist")
CRITERION_NAME = {"recist1.1": "RECIST 1.1", "mrecist": "mRECIST"}
CATEGORIES = ("CR", "PR", "SD", "PD", "NE")
#: NON-CR/NON-PD (no target lesion) is tabulated with SD: neither response nor progression.
_AS_CATEGORY = {"NON-CR/NON-PD": "SD"}
COLOURS = {"CR": "#1a9850", "PR": "#91cf60", "SD": "#f2c12e", "PD": "#d73027", "NE": "#9e9e9e"}
CLINICAL_COLUMNS = ("patient_id", "os_months", "os_event", "pfs_months", "pfs_event")
ENDPOINTS = {"os": "Overall survival", "pfs": "Progression-free survival"}



@dataclass
class Report:
    """What :func:`build_report` wrote, for callers and tests."""

    out: Path
    reader: str
    basis: str
    tables: dict[str, Path] = field(default_factory=dict)
    figures: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def index(self) -> Path:
        return self.out / "index.html"


# -- inputs -------------------------------------------------------------------------------------
def _read(source: str | Path | pd.DataFrame, what: str, needed: tuple[str, ...]) -> pd.DataFrame:
    return read_table(source, what, needed, ReportInputError)


def _numbers(frame: pd.DataFrame, column: str, where: str, integer01: bool = False) -> pd.Series:
    values = pd.to_numeric(frame[column].replace("", np.nan), errors="coerce")
    bad = values.isna() & frame[column].astype(str).ne("")
    if integer01:
        bad |= values.notna() & ~values.isin([0, 1])
    else:
        bad |= values < 0
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        rule = "0 or 1" if integer01 else "a number >= 0"
        raise ReportInputError(f"{where}, line {i + 2}: {column} = {frame[column].iloc[i]!r}; "
                               f"give {rule} ({int(bad.sum())} such row(s))")
    return values


def read_clinical(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    """The clinical table: ``patient_id`` and at least one complete pair of
    ``os_months, os_event`` / ``pfs_months, pfs_event`` (event 1 = died / progressed, 0 = censored)."""
    frame = _read(source, "clinical CSV (patient_id, os_months, os_event, pfs_months, pfs_event)",
                  ("patient_id",))
    where = "clinical CSV" if isinstance(source, pd.DataFrame) else str(source)
    pairs = [e for e in ENDPOINTS if {f"{e}_months", f"{e}_event"} <= set(frame.columns)]
    if not pairs:
        raise ReportInputError(f"{where}: no time-to-event columns; give os_months + os_event "
                               "and/or pfs_months + pfs_event (docs/report.md)")
    out = pd.DataFrame({"patient_id": frame["patient_id"].astype(str).str.strip()})
    for e in pairs:
        out[f"{e}_months"] = _numbers(frame, f"{e}_months", where)
        out[f"{e}_event"] = _numbers(frame, f"{e}_event", where, integer01=True)
    dup = out["patient_id"].duplicated()
    if dup.any():
        raise ReportInputError(f"{where}: patient {out['patient_id'][dup].iloc[0]} is listed more "
                               "than once; give one row per patient")
    return out


def _category(label: Any) -> str:
    text = str(label).strip() if label is not None else ""
    text = _AS_CATEGORY.get(text, text)
    return text if text in CATEGORIES else "NE"


# -- statistics ---------------------------------------------------------------------------------
def exact_ci(k: int, n: int) -> tuple[float, float]:
    """Clopper–Pearson 95 % interval of k/n (statsmodels), in %."""
    from statsmodels.stats.proportion import proportion_confint

    if n == 0:
        return (math.nan, math.nan)
    lo, hi = proportion_confint(k, n, alpha=0.05, method="beta")
    return (float(lo) * 100, float(hi) * 100)


def distribution(best: pd.DataFrame) -> pd.DataFrame:
    """Per criterion: n and % of each category, ORR (CR+PR) and DCR (CR+PR+SD) with exact CIs."""
    rows = []
    for crit in CRITERIA:
        sub = best[best["criterion"] == crit]
        n = len(sub)
        if n == 0:
            continue
        counts = sub["category"].value_counts()
        for cat in CATEGORIES:
            k = int(counts.get(cat, 0))
            rows.append({"criterion": CRITERION_NAME[crit], "measure": cat, "n": k, "N": n,
                         "pct": round(100 * k / n, 1), "ci95_low": None, "ci95_high": None})
        for name, cats in (("ORR (CR+PR)", ("CR", "PR")), ("DCR (CR+PR+SD)", ("CR", "PR", "SD"))):
            k = int(sum(counts.get(c, 0) for c in cats))
            lo, hi = exact_ci(k, n)
            rows.append({"criterion": CRITERION_NAME[crit], "measure": name, "n": k, "N": n,
                         "pct": round(100 * k / n, 1), "ci95_low": round(lo, 1),
                         "ci95_high": round(hi, 1)})
    return pd.DataFrame(rows)


def cross_table(best: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """RECIST 1.1 (rows) × mRECIST (columns) for patients assessed by both, with Cohen κ."""
    wide = best.pivot_table(index="patient_id", columns="criterion", values="category",
                            aggfunc="first").dropna()
    if not set(CRITERIA) <= set(wide.columns) or wide.empty:
        return pd.DataFrame(), {}
    table = pd.crosstab(pd.Categorical(wide["recist1.1"], CATEGORIES),
                        pd.Categorical(wide["mrecist"], CATEGORIES), dropna=False)
    table.index.name, table.columns.name = "RECIST 1.1", "mRECIST"
    on_scale = wide[wide["recist1.1"].ne("NE") & wide["mrecist"].ne("NE")]
    code = {c: i for i, c in enumerate(CATEGORIES[:4])}
    a = on_scale["recist1.1"].map(code).to_numpy()
    b = on_scale["mrecist"].map(code).to_numpy()
    stats = {"n": len(wide), "n_on_scale": len(on_scale),
             "concordance_pct": round(100 * float(np.mean(wide["recist1.1"] == wide["mrecist"])), 1),
             "cohen_kappa": cohen_kappa(a, b, 4) if len(a) else math.nan,
             "weighted_kappa_linear": cohen_kappa(a, b, 4, "linear") if len(a) else math.nan}
    return table, stats


# -- figures ------------------------------------------------------------------------------------
def _figure(width: float = 7.0, height: float = 4.2) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _save(fig: Any, folder: Path, name: str) -> Path:
    png = folder / f"{name}.png"
    fig.savefig(png)
    fig.savefig(folder / f"{name}.svg")
    return png


def waterfall(best: pd.DataFrame, crit: str) -> Any:
    """Best % change of the target sum from baseline per patient, sorted, coloured by category."""
    sub = best[(best["criterion"] == crit) & best["best_pct"].notna()].sort_values(
        "best_pct", ascending=False)
    fig = _figure()
    ax = fig.add_subplot()
    x = np.arange(len(sub))
    ax.bar(x, sub["best_pct"].clip(upper=100), width=1.0,
           color=[COLOURS[c] for c in sub["category"]], edgecolor="none")
    ax.axhline(20, color="#555", lw=0.8, ls="--")
    ax.axhline(-30, color="#555", lw=0.8, ls="--")
    ax.text(len(sub) - 0.5, 21, "+20 %", ha="right", va="bottom", fontsize=8)
    ax.text(len(sub) - 0.5, -31, "−30 %", ha="right", va="top", fontsize=8)
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
    fig = _figure()
    ax = fig.add_subplot()
    few = sub["patient_id"].nunique() <= 20  # few patients: thicker lines, time points marked
    for pid, g in sub.groupby("patient_id", sort=False):
        g = g.sort_values("weeks")
        ax.plot(g["weeks"], g["pct"], color=COLOURS.get(cat.get(pid, "NE"), "#999"),
                lw=1.8 if few else 0.7, alpha=0.9 if few else 0.6, marker="o" if few else None,
                ms=4)
    ax.axhline(20, color="#555", lw=0.8, ls="--")
    ax.axhline(-30, color="#555", lw=0.8, ls="--")
    ax.set_ylim(-105, max(105.0, min(float(sub["pct"].max(skipna=True) or 0) + 5, 300)))
    ax.set_xlabel("weeks since baseline")
    ax.set_ylabel("change of the sum from baseline (%)")
    ax.set_title(f"{CRITERION_NAME[crit]}: spider plot (n = {sub['patient_id'].nunique()})")
    _legend(ax, [c for c in CATEGORIES if (cat == c).any()], "best response", loc="lower left")
    return fig


def sankey(table: pd.DataFrame) -> Any:
    """RECIST 1.1 → mRECIST flows between categories (an alluvial diagram)."""
    fig = _figure(6.5, 4.6)
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
    ax.text(0.1, total + gap * len(cats), "RECIST 1.1", ha="center", va="bottom",
            fontweight="bold")
    ax.text(0.9, total + gap * len(cats), "mRECIST", ha="center", va="bottom", fontweight="bold")
    ax.set_title(f"Best response, RECIST 1.1 → mRECIST (n = {int(total)})", pad=18)
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


def km_groups(data: pd.DataFrame, endpoint: str, group: str, order: list[str],
              title: str) -> tuple[Any, pd.DataFrame]:
    """Kaplan–Meier curves of ``endpoint`` by ``group`` (lifelines), with the log-rank p and the
    median (95 % CI) per group; returns the figure and the table."""
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test
    from lifelines.utils import median_survival_times

    t_col, e_col = f"{endpoint}_months", f"{endpoint}_event"
    d = data.dropna(subset=[t_col, e_col, group])
    d = d[d[group].isin(order)]
    groups = [g for g in order if (d[group] == g).any()]
    fig = _figure(6.8, 4.9)
    grid = fig.add_gridspec(2, 1, height_ratios=[4, 1.0 + 0.12 * len(groups)])
    ax = fig.add_subplot(grid[0])
    risk = fig.add_subplot(grid[1], sharex=ax)
    horizon = float(d[t_col].max()) if len(d) else 12.0
    ticks = np.arange(0, horizon + 1e-9, 12.0 if horizon > 36 else 6.0)
    rows = []
    palette = {**COLOURS, "responder": "#1a9850", "non-responder": "#d73027"}
    extra = ["#4575b4", "#fdae61", "#d73027", "#762a83", "#1b9e77"]
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
        censored = sub[sub[e_col] == 0][t_col]
        ax.plot(censored, kmf.survival_function_at_times(censored).to_numpy(), "|",
                color=colour, ms=5, mew=0.8)
        y = len(groups) - 1 - k
        for t in ticks:
            risk.text(t, y, str(int((sub[t_col] >= t).sum())), ha="center", va="center",
                      fontsize=7.5, color=_darker(colour))
        med = kmf.median_survival_time_
        med_ci = median_survival_times(kmf.confidence_interval_)
        rows.append({"group": g, "n": len(sub), "events": int(sub[e_col].sum()),
                     "median_months": _round(med), "median_ci95_low": _round(med_ci.iloc[0, 0]),
                     "median_ci95_high": _round(med_ci.iloc[0, 1])})
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
    ax.set_ylabel(f"{ENDPOINTS[endpoint].lower()}\nprobability")
    ax.set_title(title + (f"\nlog-rank p {_p(p, eq=True)}" if len(groups) >= 2 else ""),
                 fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="upper right")
    risk.set_ylim(-0.6, len(groups) - 0.4)
    risk.set_yticks(range(len(groups)), [str(g) for g in groups][::-1], fontsize=7.5)
    risk.set_xlabel("months from baseline")
    risk.set_title("number at risk", fontsize=8, loc="left")
    for side in ("top", "right", "left"):
        risk.spines[side].set_visible(False)
    risk.tick_params(axis="y", length=0)
    return fig, table


def _darker(colour: str, factor: float = 0.75) -> tuple[float, float, float]:
    """The colour darkened, for text on white (light greens and yellows are hard to read)."""
    from matplotlib.colors import to_rgb

    return tuple(c * factor for c in to_rgb(colour))  # type: ignore[return-value]


def _round(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if not math.isfinite(v) else round(v, 1)


def _p(p: float, eq: bool = False) -> str:
    if not math.isfinite(p):
        return "n/a"
    if p < 0.001:
        return "< 0.001"
    return f"= {p:.3f}" if eq else f"{p:.3f}"


# -- the report ---------------------------------------------------------------------------------
def _choose_reader(tp: pd.DataFrame, reader: str | None, notes: list[str]) -> str:
    readers = sorted(set(tp["reader_id"]))
    if reader is not None:
        if reader not in readers:
            raise ReportInputError(f"reader {reader!r} not in the responses (readers: "
                                   f"{', '.join(readers)})")
        return reader
    if len(readers) == 1:
        return readers[0]
    chosen = ADJUDICATOR if ADJUDICATOR in readers else readers[0]
    notes.append(f"The responses hold {len(readers)} readers ({', '.join(readers)}); the tables "
                 f"and figures use reader {chosen}"
                 + (" (the adjudicated read)" if chosen == ADJUDICATOR else
                    " (no adjudicated read ADJ; choose another with --reader)")
                 + ". Inter-reader agreement is in its own section.")
    return chosen


def _timepoints(tp: pd.DataFrame) -> pd.DataFrame:
    tp = tp.copy()
    tp["date"] = pd.to_datetime(tp["timepoint_date"], errors="coerce")
    base = tp[tp["is_baseline"].astype(str).str.lower().isin(("true", "1"))]
    start = base.groupby(["patient_id", "criterion"])["date"].min()
    tp = tp.join(start.rename("start"), on=["patient_id", "criterion"])
    tp["weeks"] = (tp["date"] - tp["start"]).dt.days / 7.0
    tp["pct"] = pd.to_numeric(tp["pct_change_from_baseline"], errors="coerce")
    tp.loc[tp["is_baseline"].astype(str).str.lower().isin(("true", "1")), "pct"] = 0.0
    return tp


def _best(tp: pd.DataFrame, bor: pd.DataFrame | None, followup: int, confirmed: bool,
          reader: str) -> tuple[pd.DataFrame, str]:
    follow = tp[~tp["is_baseline"].astype(str).str.lower().isin(("true", "1"))]
    best_pct = follow.groupby(["patient_id", "criterion"])["pct"].min().rename("best_pct")
    if bor is not None:
        col = "confirmed_best_overall_response" if confirmed else "best_overall_response"
        b = bor[bor["reader_id"] == reader]
        out = pd.DataFrame({"patient_id": b["patient_id"], "criterion": b["criterion"],
                            "category": b[col].map(_category)})
        basis = ("confirmed " if confirmed else "") + "best overall response"
    else:
        follow = follow.sort_values("date")
        follow = follow.assign(k=follow.groupby(["patient_id", "criterion"]).cumcount() + 1)
        at = follow[follow["k"] == followup]
        if at.empty:
            raise ReportInputError(f"no patient has a follow-up {followup}; choose --followup "
                                   "within the responses or give --bor")
        out = pd.DataFrame({"patient_id": at["patient_id"], "criterion": at["criterion"],
                            "category": at["overall_response"].map(_category)})
        basis = f"overall response at follow-up {followup}"
    out = out.join(best_pct, on=["patient_id", "criterion"])
    return out.reset_index(drop=True), basis


def build_report(responses: str | Path | pd.DataFrame, out: str | Path,
                 bor: str | Path | pd.DataFrame | None = None,
                 clinical: str | Path | pd.DataFrame | None = None, reader: str | None = None,
                 followup: int = 1, confirmed: bool = False, agreement_boot: int = 200,
                 seed: int = 0, progress: Callable[[str], None] | None = None) -> Report:
    """Write the report into ``out`` (see the module docstring). Built in a temporary folder
    beside ``out`` and moved into place at the end: an error leaves no half-written report."""
    say = progress or (lambda _msg: None)
    tp_all = _read(responses, "responses CSV written by `response-tool assess`",
                   ("patient_id", "reader_id", "criterion", "timepoint_date", "is_baseline",
                    "pct_change_from_baseline", "overall_response"))
    if tp_all.empty:
        raise ReportInputError("the responses CSV has no rows")
    bor_all = None if bor is None else _read(
        bor, "BOR CSV written by `response-tool assess --bor`",
        ("patient_id", "reader_id", "criterion", "best_overall_response",
         "confirmed_best_overall_response"))
    clin = None if clinical is None else read_clinical(clinical)
    notes: list[str] = []
    chosen = _choose_reader(tp_all, reader, notes)
    tp = _timepoints(tp_all[tp_all["reader_id"] == chosen])
    best, basis = _best(tp, bor_all, followup, confirmed, chosen)
    if basis.startswith("overall response at follow-up"):
        notes.append("No BOR file given: categories are the overall response at follow-up "
                     f"{followup}; give --bor BOR.csv for the best overall response.")

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        report = _write(work, out, tp, tp_all, best, basis, chosen, bor_all, clin, notes,
                        followup, agreement_boot, seed, say)
        if out.exists():
            shutil.rmtree(out)
        work.replace(out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return report


def _write(work: Path, out: Path, tp: pd.DataFrame, tp_all: pd.DataFrame, best: pd.DataFrame,
           basis: str, reader: str, bor_all: pd.DataFrame | None, clin: pd.DataFrame | None,
           notes: list[str], followup: int, agreement_boot: int, seed: int,
           say: Callable[[str], None]) -> Report:
    figs, tabs = work / "figures", work / "tables"
    figs.mkdir()
    tabs.mkdir()
    report = Report(out, reader, basis, notes=notes)
    sections: list[str] = []
    crits = [c for c in CRITERIA if (best["criterion"] == c).any()]

    def table(name: str, frame: pd.DataFrame, index: bool = False) -> str:
        path = tabs / f"{name}.csv"
        frame.to_csv(path, index=index)
        report.tables[name] = out / "tables" / path.name
        return (frame.to_html(index=index, na_rep="", border=0, classes="t", escape=True)
                + f'<p class="src"><a href="tables/{path.name}">{path.name}</a></p>')

    def figure(name: str, fig: Any, caption: str) -> str:
        _save(fig, figs, name)
        report.figures[name] = out / "figures" / f"{name}.png"
        return (f'<figure><img src="figures/{name}.png" alt="{html.escape(caption)}">'
                f'<figcaption>{html.escape(caption)} (<a href="figures/{name}.svg">SVG</a>)'
                "</figcaption></figure>")

    say("response distribution")
    dist = distribution(best)
    sections.append(f"<h2>Response distribution ({html.escape(basis)})</h2>"
                    "<p>n (%) per category; ORR and DCR with exact (Clopper–Pearson) 95 % CIs. "
                    "NON-CR/NON-PD is counted with SD.</p>" + table("response_distribution", dist))
    say("RECIST 1.1 × mRECIST")
    cross, stats = cross_table(best)
    if stats:
        text = (f"<p>{stats['n']} patients assessed by both; identical category in "
                f"{stats['concordance_pct']} %; Cohen κ {_fmt(stats['cohen_kappa'])}, linearly "
                f"weighted κ {_fmt(stats['weighted_kappa_linear'])} (on CR/PR/SD/PD, "
                f"n = {stats['n_on_scale']}).</p>")
        sections.append("<h2>RECIST 1.1 × mRECIST</h2>" + text + table("recist_x_mrecist", cross,
                                                                       index=True)
                        + figure("sankey_recist_mrecist", sankey(cross),
                                 "Flows from the RECIST 1.1 to the mRECIST category"))
    say("waterfall and spider plots")
    plots = []
    for crit in crits:
        plots.append(figure(f"waterfall_{crit}", waterfall(best, crit),
                            f"{CRITERION_NAME[crit]}: best % change of the target sum"))
        plots.append(figure(f"spider_{crit}", spider(tp, best, crit),
                            f"{CRITERION_NAME[crit]}: % change of the target sum over time"))
    sections.append("<h2>Change of the target sums</h2><p>Dashed lines: −30 % (PR) and +20 % "
                    "(PD) thresholds. Colours: the patient's category above.</p>" + "".join(plots))
    htb = _baseline_htb(tp)
    if clin is not None:
        say("survival")
        sections.append(_survival(best, clin, htb, table, figure, notes))
    if htb is not None:
        joined = best.join(htb, on="patient_id").dropna(subset=["htb_category"])
        order = _htb_order(list(joined["htb_category"].unique()))
        by_htb = pd.crosstab(
            [joined["criterion"].map(CRITERION_NAME).rename("criterion"),
             pd.Series(pd.Categorical(joined["htb_category"], order), index=joined.index,
                       name="baseline HTB")],
            pd.Series(pd.Categorical(joined["category"], CATEGORIES), index=joined.index,
                      name="category"), dropna=False)
        sections.append("<h2>Response by hepatic tumour burden (baseline)</h2>"
                        + table("response_by_htb", by_htb, index=True))
    readers = sorted(set(tp_all["reader_id"]) - {ADJUDICATOR})
    if len(readers) >= 2:
        say("inter-reader agreement")
        sections.append(_agreement_section(tp_all, bor_all, followup, agreement_boot, seed,
                                           table))
    page = _page(report, sections)
    (work / "index.html").write_text(page, encoding="utf-8")
    return report


def _baseline_htb(tp: pd.DataFrame) -> pd.Series | None:
    if "htb_category" not in tp.columns:
        return None
    base = tp[tp["is_baseline"].astype(str).str.lower().isin(("true", "1"))
              & tp["htb_category"].astype(str).ne("")]
    if base.empty:
        return None
    return base.groupby("patient_id")["htb_category"].first()


def _survival(best: pd.DataFrame, clin: pd.DataFrame, htb: pd.Series | None, table: Any,
              figure: Any, notes: list[str]) -> str:
    parts = ["<h2>Survival by response</h2><p>Kaplan–Meier estimates (lifelines), log-rank test; "
             "median in months with 95 % CI; ticks mark censored patients. Responders (CR+PR) "
             "classified by their best response are favoured by guarantee-time bias (they must "
             "live long enough to respond): read these curves as descriptive, or classify at a "
             "fixed follow-up (--followup K without --bor) for a landmark-style comparison.</p>"]
    known = set(clin["patient_id"])
    missing = sorted(set(best["patient_id"]) - known)
    if missing:
        notes.append(f"{len(missing)} patient(s) have responses but no clinical row and are left "
                     f"out of the survival analyses: {', '.join(missing[:10])}"
                     + (" …" if len(missing) > 10 else ""))
    endpoints = [e for e in ENDPOINTS if f"{e}_months" in clin.columns]
    for crit in [c for c in CRITERIA if (best["criterion"] == c).any()]:
        data = best[best["criterion"] == crit].merge(clin, on="patient_id")
        data["responder"] = np.where(data["category"].isin(["CR", "PR"]), "responder",
                                     "non-responder")
        for e in endpoints:
            name = CRITERION_NAME[crit]
            fig, tab = km_groups(data, e, "responder", ["responder", "non-responder"],
                                 f"{ENDPOINTS[e]} by {name} best response: CR+PR vs the rest")
            parts.append(figure(f"km_{e}_{crit}_responders", fig,
                                f"{ENDPOINTS[e]} by {name} response (CR+PR vs SD+PD+NE)"))
            parts.append(table(f"km_{e}_{crit}_responders", tab))
            fig, tab = km_groups(data, e, "category", list(CATEGORIES),
                                 f"{ENDPOINTS[e]} by {name} response category")
            parts.append(figure(f"km_{e}_{crit}_categories", fig,
                                f"{ENDPOINTS[e]} by {name} category"))
            parts.append(table(f"km_{e}_{crit}_categories", tab))
    if htb is not None:
        data = clin.join(htb, on="patient_id").dropna(subset=["htb_category"])
        order = _htb_order(list(data["htb_category"].unique()))
        parts.append("<h2>Survival by hepatic tumour burden</h2>")
        for e in endpoints:
            fig, tab = km_groups(data, e, "htb_category", order,
                                 f"{ENDPOINTS[e]} by baseline HTB")
            parts.append(figure(f"km_{e}_htb", fig, f"{ENDPOINTS[e]} by baseline HTB category"))
            parts.append(table(f"km_{e}_htb", tab))
    return "".join(parts)


def _htb_order(labels: list[str]) -> list[str]:
    def key(label: str) -> float:
        digits = "".join(ch if ch.isdigit() or ch == "." else " " for ch in label).split()
        first = float(digits[0]) if digits else math.inf
        return first - 0.5 if label.strip().startswith("<") else first

    return sorted(labels, key=key)


def _agreement_section(tp_all: pd.DataFrame, bor_all: pd.DataFrame | None, followup: int,
                       n_boot: int, seed: int, table: Any) -> str:
    from response_tool.agreement import AgreementInputError, agreement

    rows = []
    for crit in CRITERIA:
        try:
            res = agreement(tp_all, crit, followup=followup, bor=bor_all, n_boot=n_boot,
                            seed=seed)
        except AgreementInputError as exc:
            rows.append({"criterion": CRITERION_NAME[crit], "note": str(exc)})
            continue
        row = {"criterion": CRITERION_NAME[crit], "compared": res["compared"],
               "readers": ", ".join(res["readers"]), "n": res["n_complete"],
               "dropped": res["n_dropped"]}
        for key in ("fleiss_kappa", "gwet_ac1"):
            ci = res.get(f"{key}_ci95")
            row[key] = _fmt(res[key]) + (f" ({_fmt(ci[0])}–{_fmt(ci[1])})" if ci else "")
        for name, part in res["partitions"].items():
            row[f"{name}_fleiss"] = _fmt(part["fleiss_kappa"])
        base = res["sums"].get("baseline")
        if base:
            row["icc_2_1_baseline_sum"] = _fmt(base["icc_2_1"]["icc"])
        rows.append(row)
    return ("<h2>Inter-reader agreement</h2><p>Complete cases; bootstrap 95 % CIs "
            f"({n_boot} samples, seed {seed}). Pairwise and partition details: "
            "<code>response-tool agreement RESPONSES.csv --json</code>.</p>"
            + table("agreement", pd.DataFrame(rows)))


def _fmt(x: Any) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if not math.isfinite(v) else f"{v:.3f}"


_CSS = """body{font-family:system-ui,Segoe UI,Helvetica,Arial,sans-serif;max-width:1000px;
margin:2em auto;padding:0 1em;color:#222}h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;
border-bottom:1px solid #ddd}table.t{border-collapse:collapse;font-size:.85em;margin:.5em 0}
table.t td,table.t th{border:1px solid #ccc;padding:.2em .5em;text-align:right}
table.t th{background:#f3f3f3}figure{margin:1em 0}img{max-width:100%}
figcaption,.src{font-size:.8em;color:#555}.note{background:#fff8e1;padding:.5em 1em}"""


def _page(report: Report, sections: list[str]) -> str:
    notes = "".join(f'<p class="note">{html.escape(n)}</p>' for n in report.notes)
    return (f"<!doctype html><html lang=en><meta charset=utf-8><title>Response report</title>"
            f"<style>{_CSS}</style><h1>Tumour response report</h1>"
            f"<p>Reader {html.escape(report.reader)}; categories: {html.escape(report.basis)}. "
            "Written by response-tool (RECIST 1.1 and mRECIST rules with their sources: "
            "docs/criteria.md).</p>" + notes + "".join(sections) + "</html>\n")


__all__ = ["Report", "ReportInputError", "build_report", "cross_table", "distribution",
           "exact_ci", "km_groups", "read_clinical", "sankey", "spider", "waterfall"]
