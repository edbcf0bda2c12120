"""The report's treatment-cycle section (``report --cycles CYCLES.csv``, the table
``assess --treatments`` writes): responses per cycle against each cycle's own baseline
(Touloupas 2021 Table 3), first against best response, and time to progression per cycle."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from response_tool.report.context import Context
from response_tool.report.cycles import first_and_best, per_cycle_summary
from response_tool.report.inputs import CATEGORIES, CRITERION_NAME
from response_tool.report.survival import km_groups

#: the cycle groups of the TTLP curves
GROUPS = ("cycle 1", "cycle 2", "cycle ≥ 3")


def section(ctx: Context) -> str:
    table = ctx.cycles
    if table is None:
        return ""
    ctx.say("treatment cycles")
    mine = table[table["reader_id"].astype(str) == ctx.inputs.reader]
    if mine.empty:
        ctx.notes.append(f"The cycles CSV has no row of reader {ctx.inputs.reader}; the cycle "
                         "section is left out.")
        return ""
    n_cycles = len(mine[["patient_id", "cycle"]].drop_duplicates())
    parts = ["<h2>Treatment cycles</h2><p>Each cycle assessed against its own pre-treatment "
             "scan (the last scan on or before its treatment): its best overall response "
             f"(unconfirmed) and first response; {n_cycles} cycles of "
             f"{mine['patient_id'].nunique()} patients (reader "
             f"{html.escape(ctx.inputs.reader)}). Overall = every cycle pooled.</p>"]
    summary = per_cycle_summary(mine)
    summary["criterion"] = summary["criterion"].map(lambda c: CRITERION_NAME.get(c, c))
    parts.append(ctx.table("cycles_response", summary))
    fb = first_and_best(mine)
    for crit in [c for c in ctx.inputs.criteria if (fb["criterion"] == c).any()]:
        sub = fb[fb["criterion"] == crit]
        cross = pd.crosstab(pd.Categorical(sub["first_response"], CATEGORIES),
                            pd.Categorical(sub["best_response"], CATEGORIES), dropna=False)
        cross.index.name, cross.columns.name = "first response", "best response"
        same = float(np.mean(sub["first_response"] == sub["best_response"])) * 100
        name = CRITERION_NAME[crit]
        parts.append(f"<h3>{html.escape(name)}: first against best response</h3><p>First: "
                     "the response at the first follow-up after the first treatment; best: "
                     f"the best response of any cycle. The same for {same:.1f} % of "
                     f"{len(sub)} patients.</p>")
        parts.append(ctx.table(f"cycles_first_best_{crit}", cross, index=True))
        ttlp = mine[mine["criterion"] == crit].assign(
            group=lambda t: np.where(t["cycle"] >= 3, GROUPS[2], "cycle " + t["cycle"]
                                     .astype(str)))
        fig, tab = km_groups(ttlp, "ttlp", "group", list(GROUPS),
                             f"Time to progression per cycle, {name}",
                             xlabel="months from the cycle's treatment")
        parts.append(ctx.figure(f"km_ttlp_{crit}", fig, f"{name}: time to progression (first "
                                "PD of the cycle) from each cycle's treatment"))
        parts.append(ctx.table(f"km_ttlp_{crit}", tab))
    return "".join(parts)
