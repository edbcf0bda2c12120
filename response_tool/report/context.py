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

    def table(self, name: str, frame: pd.DataFrame, index: bool = False) -> str:
        """Write ``frame`` as ``tables/name.csv``; its HTML and a link to the CSV."""
        path = self.work / "tables" / f"{name}.csv"
        frame.to_csv(path, index=index)
        self.tables[name] = self.out / "tables" / path.name
        return (frame.to_html(index=index, na_rep="", border=0, classes="t", escape=True)
                + f'<p class="src"><a href="tables/{path.name}">{path.name}</a></p>')

    def figure(self, name: str, fig: Any, caption: str) -> str:
        """Write ``fig`` as ``figures/name.png`` and ``.svg``; its HTML with the caption."""
        save(fig, self.work / "figures", name)
        self.figures[name] = self.out / "figures" / f"{name}.png"
        return (f'<figure><img src="figures/{name}.png" alt="{html.escape(caption)}">'
                f'<figcaption>{html.escape(caption)} (<a href="figures/{name}.svg">SVG</a>)'
                "</figcaption></figure>")
