"""Cohort report: response tables, RECIST × mRECIST concordance, waterfall / spider / Sankey plots
and survival by response and by hepatic tumour burden, as one self-contained HTML page.

``build_report(responses, out, bor=..., clinical=...)`` writes into ``out``:

* ``index.html`` — every table and figure, readable without the tool (relative links only);
* ``tables/*.csv`` — every table;
* ``figures/*.png`` and ``figures/*.svg`` — every figure;
* ``.response-tool-report`` — the marker listing these files: the next report into ``out``
  replaces them and nothing else.

Figures are drawn with matplotlib's object API (``matplotlib.figure.Figure``: no pyplot, no GUI
backend), Kaplan–Meier estimates and log-rank tests come from lifelines, exact (Clopper–Pearson)
intervals from statsmodels, agreement coefficients from :mod:`response_tool.agreement`.

The package, one module per concern: :mod:`~response_tool.report.inputs` (reading and checking
the inputs), :mod:`~response_tool.report.tables`, :mod:`~response_tool.report.figures`,
:mod:`~response_tool.report.survival`, :mod:`~response_tool.report.page` (the HTML) and
:mod:`~response_tool.report.context` (what the section writers take).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from response_tool.domain.errors import ReportInputError
from response_tool.io.export import ExportOptions, neutralise_csv_file
from response_tool.io.output import OwnedFolder
from response_tool.report import course, cycles_section, landmarks, models, page, survival
from response_tool.report.context import AnalysisOptions, Context
from response_tool.report.cycles import read_cycle_table
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
    page.distribution_section, page.cross_section, page.change_section, course.section,
    cycles_section.section, models.table1_section, survival.section, landmarks.section, models.cox_section,
    models.logistic_section, page.htb_section, page.agreement_section)


#: the file that marks a folder as written by the report (it lists the report's files)
MARKER = ".response-tool-report"


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
                 seed: int = 0, progress: Callable[[str], None] | None = None, *,
                 export: ExportOptions | None = None,
                 follow_symlinks: bool = False,
                 analysis: AnalysisOptions | None = None,
                 cycles: str | Path | pd.DataFrame | None = None) -> Report:
    """Write the report into ``out`` (see the module docstring).

    ``out`` is a new folder, an empty one, or one an earlier report wrote (recognised by its
    :data:`MARKER` file, which lists the files it wrote): only the report's own files are
    replaced and nothing else in the folder is touched. Any other existing folder — the working
    folder, the one holding the inputs — is refused before anything is read
    (:class:`~response_tool.domain.errors.OutputPathError`). The report is built in a staging
    folder and put in place as a set at the end: an error leaves the previous report (or
    nothing), never half a report. Its tables' formula-like cells are neutralised; ``export``
    pseudonymises the patient ids (:mod:`response_tool.io.export`); ``analysis`` chooses the
    covariates, reference levels, entry rule and landmark of the models
    (:class:`~response_tool.report.context.AnalysisOptions`); ``cycles`` is the per-cycle table
    ``assess --treatments`` writes (:mod:`response_tool.report.cycles`)."""
    folder = OwnedFolder(out, marker=MARKER, command="response-tool report",
                         inputs={"responses": responses, "--bor": bor, "--clinical": clinical,
                                 "--cycles": cycles},
                         follow_symlinks=follow_symlinks, earlier=_earlier_report,
                         not_empty_hint="give a new folder name (e.g. -o report), an empty "
                                        "folder or one `report` wrote before")
    inputs = load(responses, bor, clinical, reader, followup, confirmed)
    models.check_options(inputs, analysis or AnalysisOptions(), clinical)
    cycle_table = None if cycles is None else read_cycle_table(cycles)
    if export is not None and export.key is not None and cycle_table is not None:
        cycle_table = ExportOptions(export.key).apply(cycle_table)
    if export is not None and export.key is not None:
        inputs = _pseudonymised(inputs, export)
    out = Path(out)
    work = folder.stage()
    try:
        ctx = Context(inputs, work, out, agreement_boot, seed, progress or (lambda _msg: None),
                      analysis or AnalysisOptions(), cycle_table)
        _write(ctx)
        for table in sorted((work / "tables").glob("*.csv")):
            neutralise_csv_file(table)
        folder.commit()
    except BaseException:
        folder.discard()
        raise
    return Report(out, inputs.reader, inputs.basis, ctx.tables, ctx.figures, ctx.notes)


def _earlier_report(folder: Path) -> set[str] | None:
    """The files of a report written before the marker existed — only ``index.html`` (the
    report's page), ``tables/*.csv`` and ``figures/*.png|svg`` — or None for any other folder."""
    names = set(os.listdir(folder))
    if "index.html" not in names or not names <= {"index.html", "tables", "figures"}:
        return None
    index = folder / "index.html"
    if index.is_symlink() or not index.is_file():
        return None
    with index.open("rb") as fh:
        head = fh.read(1 << 16)
    if not head.startswith(b"<!doctype html><html lang=en><meta charset=utf-8><title>Response "
                           b"report</title>") or b"Written by response-tool (" not in head:
        return None
    files = {"index.html"}
    for sub, suffixes in (("tables", {".csv"}), ("figures", {".png", ".svg"})):
        if sub not in names:
            continue
        if (folder / sub).is_symlink() or not (folder / sub).is_dir():
            return None
        for entry in os.scandir(folder / sub):
            if not entry.is_file(follow_symlinks=False) or Path(entry.name).suffix not in suffixes:
                return None
            files.add(f"{sub}/{entry.name}")
    return files


def _pseudonymised(inputs: Inputs, export: ExportOptions) -> Inputs:
    """The inputs with every patient id replaced by its pseudonym (the same in every table, so
    the responses, the BOR and the clinical table still meet)."""
    def ids(frame: pd.DataFrame | None) -> pd.DataFrame | None:
        return None if frame is None else ExportOptions(export.key).apply(frame)

    htb = inputs.htb
    if htb is not None:
        names = export.mapping(htb.index)
        htb = htb.rename(index=lambda v: names[str(v)])
    return replace(inputs, responses=ids(inputs.responses), timepoints=ids(inputs.timepoints),
                   best=ids(inputs.best), bor=ids(inputs.bor), clinical=ids(inputs.clinical),
                   htb=htb, covariates=ids(inputs.covariates))


def _write(ctx: Context) -> None:
    sections = [write(ctx) for write in SECTIONS]
    (ctx.work / "index.html").write_text(page.page(ctx, sections), encoding="utf-8")


__all__ = ["AnalysisOptions", "CATEGORIES",
           "CLINICAL_COLUMNS", "COLOURS", "CRITERIA", "CRITERION_NAME", "ENDPOINTS",
           "MARKER", "Context", "Inputs", "Report", "ReportInputError", "build_report", "cross_table",
           "distribution", "exact_ci", "km_groups", "read_clinical", "sankey", "spider",
           "waterfall"]
