"""The HTML page: the section writers of the tables and the response figures, and the page that
holds every section (one self-contained file, relative links only)."""

from __future__ import annotations

import html

from response_tool.domain.vocabulary import ADJUDICATOR
from response_tool.report import figures, tables
from response_tool.report.context import Context
from response_tool.report.inputs import AS_CATEGORY, CRITERIA, CRITERION_NAME, CROSSED
from response_tool.report.tables import ON_SCALE, kappa_text

#: "RECIST 1.1 × mRECIST"
_CROSSED = " × ".join(CRITERION_NAME[c] for c in CROSSED)


def distribution_section(ctx: Context) -> str:
    """n (%) per category, ORR and DCR with exact CIs, per criterion."""
    ctx.say("response distribution")
    dist = tables.distribution(ctx.inputs.best)
    return (f"<h2>Response distribution ({html.escape(ctx.inputs.basis)})</h2>"
            "<p>n (%) per category; ORR and DCR with exact (Clopper–Pearson) 95 % CIs. "
            + "".join(f"{a} is counted with {b}. " for a, b in AS_CATEGORY.items()).rstrip()
            + "</p>" + ctx.table("response_distribution", dist))


def cross_section(ctx: Context) -> str:
    """RECIST 1.1 × mRECIST: concordance, κ, the cross table and its Sankey diagram."""
    ctx.say(_CROSSED)
    cross, stats = tables.cross_table(ctx.inputs.best)
    if not stats:
        return ""
    n = stats["n_on_scale"]
    text = (f"<p>{stats['n']} patients assessed by both; identical category in "
            f"{stats['concordance_pct']} %; Cohen κ {kappa_text(stats['cohen_kappa'], n)}, "
            f"linearly weighted κ {kappa_text(stats['weighted_kappa_linear'], n)} (on "
            f"{'/'.join(ON_SCALE)}, n = {n}).</p>")
    rows, cols = (CRITERION_NAME[c] for c in CROSSED)
    return (f"<h2>{_CROSSED}</h2>" + text
            + ctx.table("recist_x_mrecist", cross, index=True)
            + ctx.figure("sankey_recist_mrecist", figures.sankey(cross),
                         f"Flows from the {rows} to the {cols} category"))


def change_section(ctx: Context) -> str:
    """Waterfall and spider plots of the change of the target sums, per criterion."""
    ctx.say("waterfall and spider plots")
    best, tp = ctx.inputs.best, ctx.inputs.timepoints
    plots = []
    for crit in ctx.inputs.criteria:
        plots.append(ctx.figure(f"waterfall_{crit}", figures.waterfall(best, crit),
                                f"{CRITERION_NAME[crit]}: best % change of the target sum"))
        plots.append(ctx.figure(f"spider_{crit}", figures.spider(tp, best, crit),
                                f"{CRITERION_NAME[crit]}: % change of the target sum over time"))
    return ("<h2>Change of the target sums</h2><p>Dashed lines: " + _thresholds(ctx)
            + ". Colours: the patient's category above.</p>" + "".join(plots))


def _thresholds(ctx: Context) -> str:
    """The dashed lines of the plots, in words: "−30 % (PR) and +20 % (PD) thresholds" when the
    criteria drawn share them, else each criterion's."""
    drawn = ctx.inputs.criteria or list(CRITERIA)
    lines = {crit: figures.thresholds(crit) for crit in drawn}
    if len(set(lines.values())) == 1:
        pr, pd_ = lines[drawn[0]]
        return f"{figures.percent(pr)} (PR) and {figures.percent(pd_)} (PD) thresholds"
    return "the PR and PD thresholds of each criterion (" + "; ".join(
        f"{CRITERION_NAME[crit]}: {figures.percent(pr)} and {figures.percent(pd_)}"
        for crit, (pr, pd_) in lines.items()) + ")"


def htb_section(ctx: Context) -> str:
    """Response category by baseline HTB, when the responses carry it."""
    if ctx.inputs.htb is None:
        return ""
    return ("<h2>Response by hepatic tumour burden (baseline)</h2>"
            + ctx.table("response_by_htb", tables.by_htb(ctx.inputs.best, ctx.inputs.htb),
                        index=True))


def agreement_section(ctx: Context) -> str:
    """Inter-reader agreement, when two readers or more (the adjudicator aside) read."""
    readers = sorted(set(ctx.inputs.responses["reader_id"]) - {ADJUDICATOR})
    if len(readers) < 2:
        return ""
    ctx.say("inter-reader agreement")
    summary = tables.agreement_summary(ctx.inputs.responses, ctx.inputs.bor, ctx.inputs.followup,
                                       ctx.agreement_boot, ctx.seed)
    return ("<h2>Inter-reader agreement</h2><p>Complete cases; bootstrap 95 % CIs "
            f"({ctx.agreement_boot} samples, seed {ctx.seed}). Pairwise and partition details: "
            "<code>response-tool agreement RESPONSES.csv --json</code>.</p>"
            + ctx.table("agreement", summary))


def _which_bor(ctx: Context) -> str:
    """Which BOR the categories are, in words: confirmed or not, and how to get the other."""
    if ctx.inputs.bor is None:
        return ""
    if ctx.inputs.basis.startswith("confirmed"):
        return (" (the BOR file's confirmed_best_overall_response: a CR or PR counts only "
                "when a later scan confirms it)")
    return (" (the BOR file's best_overall_response, unconfirmed: a single CR or PR scan "
            "counts; report --confirmed uses the confirmed BOR)")


_CSS = """body{font-family:system-ui,Segoe UI,Helvetica,Arial,sans-serif;max-width:1000px;
margin:2em auto;padding:0 1em;color:#222}h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;
border-bottom:1px solid #ddd}table.t{border-collapse:collapse;font-size:.85em;margin:.5em 0}
table.t td,table.t th{border:1px solid #ccc;padding:.2em .5em;text-align:right}
table.t th{background:#f3f3f3}figure{margin:1em 0}img{max-width:100%}
figcaption,.src{font-size:.8em;color:#555}.note{background:#fff8e1;padding:.5em 1em}"""


def page(ctx: Context, sections: list[str]) -> str:
    """The whole page: title, reader and basis, the notes, then the sections."""
    notes = "".join(f'<p class="note">{html.escape(n)}</p>' for n in ctx.notes)
    rules = " and ".join(CRITERION_NAME[c] for c in CRITERIA)
    return (f"<!doctype html><html lang=en><meta charset=utf-8><title>Response report</title>"
            f"<style>{_CSS}</style><h1>Tumour response report</h1>"
            f"<p>Reader {html.escape(ctx.inputs.reader)}; categories: "
            f"{html.escape(ctx.inputs.basis)}{html.escape(_which_bor(ctx))}. "
            f"Written by response-tool ({rules} rules with their sources: "
            "docs/criteria.md).</p>" + notes + "".join(sections) + "</html>\n")
