"""What every section writer of the report takes: the checked inputs, the folder being written
and the options of the sections; it writes each table and figure and returns its HTML."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from response_tool.report.figures import save
from response_tool.report.inputs import Inputs


@dataclass(frozen=True)
class AnalysisOptions:
    """The options of the models sections (:mod:`response_tool.report.models`) and of the
    landmark analysis (:mod:`response_tool.report.survival`)."""

    #: clinical columns entered as covariates (Cox, logistic, Table 1)
    covariates: tuple[str, ...] = ()
    #: covariate → its reference level (default: the first in natural order)
    references: dict[str, str] = field(default_factory=dict)
    #: the response category the hazard ratios are relative to (Touloupas 2021: SD)
    response_reference: str = "SD"
    #: entry rule of the multivariable models: univariable p below it (Liu 2022, Xu 2022)
    entry_p: float = 0.1
    #: backward selection of the logistic model by AIC (Touloupas 2021)
    backward_aic: bool = False
    #: the landmark in months from baseline, or a follow-up index, or neither
    landmark_months: float | None = None
    landmark_followup: int | None = None


#: the HTML header of a CSV column (the CSV keeps the machine-readable name)
HEADERS = {"median_months": "median (months)", "median_ci95_low": "median 95 % CI, low",
           "median_ci95_high": "median 95 % CI, high", "logrank_p": "log-rank p",
           "ci95_low": "95 % CI, low", "ci95_high": "95 % CI, high", "pct": "%",
           "hr": "HR", "or": "OR", "fleiss_kappa": "Fleiss κ (95 % CI)",
           "gwet_ac1": "Gwet AC1 (95 % CI)", "icc_2_1_baseline_sum": "ICC(2,1) of baseline sums",
           "cr_vs_noncr_fleiss": "Fleiss κ, CR vs non-CR",
           "crpr_vs_sdpd_fleiss": "Fleiss κ, CR+PR vs SD+PD",
           "pd_vs_nonpd_fleiss": "Fleiss κ, PD vs non-PD", "patient_id": "patient",
           "first_pd_at": "first PD at", "events": "events", "responders": "responders"}


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its column names as the page shows them (:data:`HEADERS`, else the name
    with spaces for underscores)."""
    return frame.rename(columns=lambda c: HEADERS.get(str(c), str(c).replace("_", " ")))


@dataclass
class Context:
    """One report being written.

    Tables go to ``work/tables`` as CSV, figures to ``work/figures`` as PNG and SVG; the paths
    recorded in :attr:`tables` and :attr:`figures` are those under ``out``, where ``work`` is
    moved once the report is complete. Creating a context creates both folders.
    """

    #: the checked inputs (:func:`response_tool.report.inputs.load`)
    inputs: Inputs
    #: the temporary folder being written
    work: Path
    #: where the report goes once complete
    out: Path
    #: bootstrap samples of the agreement CIs, and their seed
    agreement_boot: int = 200
    seed: int = 0
    #: told the name of each long step as it starts
    say: Callable[[str], None] = lambda _msg: None
    #: the options of the models and of the landmark analysis
    analysis: AnalysisOptions = field(default_factory=AnalysisOptions)
    #: the per-cycle table of ``assess --treatments`` (report --cycles), if given
    cycles: pd.DataFrame | None = None
    #: the inputs' notes, then those the sections add
    notes: list[str] = field(init=False)
    #: name → CSV path (under ``out``) of every table written
    tables: dict[str, Path] = field(default_factory=dict)
    #: name → PNG path (under ``out``) of every figure written
    figures: dict[str, Path] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.notes = list(self.inputs.notes)
        (self.work / "figures").mkdir(exist_ok=True)
        (self.work / "tables").mkdir(exist_ok=True)

    def table(self, name: str, frame: pd.DataFrame, index: bool = False,
              max_rows: int | None = None, html_frame: pd.DataFrame | None = None) -> str:
        """Write ``frame`` as ``tables/name.csv``; its HTML (``html_frame`` if given, else the
        frame with readable headers, :func:`readable`; its first ``max_rows`` rows) and a link
        to the CSV."""
        path = self.work / "tables" / f"{name}.csv"
        frame.to_csv(path, index=index)
        self.tables[name] = self.out / "tables" / path.name
        shown = readable(frame) if html_frame is None else html_frame
        more = ""
        if max_rows is not None and len(shown) > max_rows:
            more = f" (first {max_rows} of {len(shown)} rows here; all in the CSV)"
            shown = shown.head(max_rows)
        body = "" if shown.columns.empty else shown.to_html(index=index, na_rep="", border=0,
                                                            classes="t", escape=True)
        return (body + f'<p class="src"><a href="tables/{path.name}">{path.name}</a>{more}</p>')

    def figure(self, name: str, fig: Any, caption: str) -> str:
        """Write ``fig`` as ``figures/name.png`` and ``.svg``; its HTML with the caption."""
        save(fig, self.work / "figures", name)
        self.figures[name] = self.out / "figures" / f"{name}.png"
        return (f'<figure><img src="figures/{name}.png" alt="{html.escape(caption)}">'
                f'<figcaption>{html.escape(caption)} (<a href="figures/{name}.svg">SVG</a>)'
                "</figcaption></figure>")
