"""Cohort report: response tables, RECIST × mRECIST concordance, waterfall / spider / Sankey plots
and survival by response and by hepatic tumour burden, as one self-contained HTML page.

``build_report(responses, out, bor=..., clinical=...)`` writes into ``out``:

* ``index.html`` — every table and figure, readable without the tool (relative links only);
* ``tables/*.csv`` — every table;
* ``figures/*.png`` and ``figures/*.svg`` — every figure.

Figures are drawn with matplotlib's object API (``matplotlib.figure.Figure``: no pyplot, no GUI
backend), Kaplan–Meier estimates and log-rank tests come from lifelines, exact (Clopper–Pearson)
intervals from statsmodels, agreement coefficients from :mod:`response_tool.agreement`.

The package, one module per concern: :mod:`~response_tool.report.inputs` (reading and checking
the inputs), :mod:`~response_tool.report.tables`, :mod:`~response_tool.report.figures`,
:mod:`~response_tool.report.survival`, :mod:`~response_tool.report.page` (the HTML) and
:mod:`~response_tool.report.context` (what the section writers take).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from response_tool.domain.errors import ReportInputError
from response_tool.report import page, survival
from response_tool.report.context import Context
from response_tool.report.figures import COLOURS, sankey, spider, waterfall
from response_tool.report.inputs import (
    CATEGORIES,
    CLINICAL_COLUMNS,
    CRITERIA,
    CRITERION_NAME,
    ENDPOINTS,
    Inputs,
    load,
    read_clinical,
)
from response_tool.report.survival import km_groups
from response_tool.report.tables import cross_table, distribution, exact_ci

#: the report's sections, in page order; each returns "" when it does not apply
SECTIONS: tuple[Callable[[Context], str], ...] = (
    page.distribution_section, page.cross_section, page.change_section, survival.section,
    page.htb_section, page.agreement_section)


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


def build_report(responses: str | Path | pd.DataFrame, out: str | Path,
                 bor: str | Path | pd.DataFrame | None = None,
                 clinical: str | Path | pd.DataFrame | None = None, reader: str | None = None,
                 followup: int = 1, confirmed: bool = False, agreement_boot: int = 200,
                 seed: int = 0, progress: Callable[[str], None] | None = None) -> Report:
    """Write the report into ``out`` (see the module docstring). Built in a temporary folder
    beside ``out`` and moved into place at the end: an error leaves no half-written report."""
    inputs = load(responses, bor, clinical, reader, followup, confirmed)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        ctx = Context(inputs, work, out, agreement_boot, seed, progress or (lambda _msg: None))
        _write(ctx)
        if out.exists():
            shutil.rmtree(out)
        work.replace(out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Report(out, inputs.reader, inputs.basis, ctx.tables, ctx.figures, ctx.notes)


def _write(ctx: Context) -> None:
    sections = [write(ctx) for write in SECTIONS]
    (ctx.work / "index.html").write_text(page.page(ctx, sections), encoding="utf-8")


__all__ = ["CATEGORIES", "CLINICAL_COLUMNS", "COLOURS", "CRITERIA", "CRITERION_NAME", "ENDPOINTS",
           "Context", "Inputs", "Report", "ReportInputError", "build_report", "cross_table",
           "distribution", "exact_ci", "km_groups", "read_clinical", "sankey", "spider",
           "waterfall"]
