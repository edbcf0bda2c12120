"""Adjudication panel: the blinded readers' reads of the open patient side by side.

Readers never see each other's lines in the Reading panel (it shows one reader's read at a time).
This panel is for the adjudicator: it draws every reader's lines of the current time point in their
own colour, lists each lesion's values and each time point's responses per reader with the
differences highlighted (:func:`response_tool.reading.adjudication.compare`), and builds the adjudicated
read — reader ``ADJ`` in the same store — from one reader's read, then value by value. The ADJ
read opens in the Reading panel, where the adjudicator can also redraw any line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtGui import QBrush, QColor
from qtpy.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from response_tool.domain.errors import ResponseToolError
from response_tool.domain.vocabulary import DiameterKind
from response_tool.reading.adjudication import (
    ADJUDICATOR,
    Comparison,
    agreement_counts,
    compare,
    start_adjudication,
    take_value,
)
from response_tool.reading.store import ReadKey

from .._context import ViewerContext
from .reading.annotation_kinds import line_label

if TYPE_CHECKING:
    import napari

READER_COLOURS = ("#00e5ff", "#ff9100", "#76ff03", "#ff4081", "#ffea00", "#b388ff")
DIFF_BRUSH = QColor(120, 30, 30)


class AdjudicationPanel(QWidget):
    """Dock widget: compare the readers of the patient open in the Reading panel; build ADJ."""

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.context = ViewerContext.of(napari_viewer)  # the read open in the Reading panel
        self.comparison: Comparison | None = None
        self._layers: dict[str, Any] = {}   # reader → shapes layer of their lines (current date)
        self.readers_box = QLineEdit("")
        self.readers_box.setPlaceholderText("all readers but ADJ (or e.g. R1,R2)")
        compare_button = QPushButton("Compare readers")
        compare_button.clicked.connect(lambda: self.compare())
        self.summary = QLabel("Open a read in the Reading panel, then compare its readers.")
        self.summary.setWordWrap(True)
        self.lesion_table = QTableWidget(0, 0)
        self.lesion_table.verticalHeader().setVisible(False)
        self.response_table = QTableWidget(0, 0)
        self.response_table.verticalHeader().setVisible(False)
        self.source_box = QComboBox()
        start_button = QPushButton("Start ADJ from")
        start_button.clicked.connect(lambda: self.start_adj(self.source_box.currentText()))
        take_button = QPushButton("Take the selected reader's value into ADJ")
        take_button.clicked.connect(self._take_selected)

        row = QHBoxLayout()
        row.addWidget(QLabel("Readers:"))
        row.addWidget(self.readers_box, 1)
        row.addWidget(compare_button)
        adj_row = QHBoxLayout()
        adj_row.addWidget(start_button)
        adj_row.addWidget(self.source_box, 1)
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.summary)
        layout.addWidget(QLabel("<b>Lesions</b> (values that differ are highlighted)"))
        layout.addWidget(self.lesion_table, 3)
        layout.addWidget(QLabel("<b>Overall responses</b>"))
        layout.addWidget(self.response_table, 2)
        layout.addLayout(adj_row)
        layout.addWidget(take_button)

    # -- comparing ------------------------------------------------------------------------------
    def compare(self, readers: list[str] | None = None) -> Comparison | None:
        """Compare the readers of the patient open in the Reading panel and draw their lines."""
        try:
            session = self.context.require_session()
            text = self.readers_box.text().strip()
            readers = readers or ([r.strip() for r in text.split(",") if r.strip()] or None)
            self.comparison = compare(session.store, session.key.patient_id, readers)
        except ResponseToolError as exc:
            self.summary.setText(str(exc))
            return None
        if self._follow not in self.context.date_listeners:
            self.context.date_listeners.append(self._follow)
        self._fill_tables()
        self.source_box.clear()
        self.source_box.addItems(self.comparison.readers)
        self.show_lines(session.current)
        return self.comparison

    def _follow(self, date: str) -> None:
        if self.comparison is not None:
            self.show_lines(date)

    def _fill_tables(self) -> None:
        c = self.comparison
        assert c is not None
        counts = agreement_counts(c)
        problems = "; ".join(f"{r}: {p}" for r, p in c.problems.items())
        self.summary.setText(
            f"Patient {c.patient_id}, readers {', '.join(c.readers)}: {counts['lesion_values']} of "
            f"{counts['lesion_rows']} lesion values and {counts['responses']} of "
            f"{counts['response_rows']} responses differ." + (f" {problems}" if problems else ""))
        _fill(self.lesion_table, ["Date", "Lesion", "Role", *c.readers],
              [[r["date"], r["lesion_id"], r["role"], *[r[x] for x in c.readers]]
               for r in c.lesions.to_dict("records")], list(c.lesions["differs"]), first=3)
        resp = c.responses
        _fill(self.response_table, ["Date", "Criterion", *c.readers],
              [[r["date"], r["criterion"], *[str(r.get(x, "")) for x in c.readers]]
               for r in resp.to_dict("records")], list(resp.get("differs", [])), first=2)

    def show_lines(self, date: str) -> None:
        """Every compared reader's lines at ``date``, each reader in their own colour."""
        c = self.comparison
        if c is None:
            return
        store = self.context.require_session().store
        for i, reader in enumerate(c.readers):
            lines, labels = [], []
            for m in store.measurements(ReadKey(c.patient_id, reader)):
                if m.date != date:
                    continue
                for kind in DiameterKind:
                    ends = m.endpoints(kind)
                    if ends:
                        lines.append(np.asarray(ends, dtype=float))
                        labels.append(f"{reader}: {line_label(m.lesion_id, kind)}")
            layer = self._layer(reader, READER_COLOURS[i % len(READER_COLOURS)], i)
            layer.data = []
            layer.features = {"label": np.array([], dtype=object)}
            if lines:
                layer.add_lines(lines)
                layer.features = {"label": np.array(labels, dtype=object)}
                layer.refresh_text()
            layer.name = f"reader {reader} lines {date}"

    def _layer(self, reader: str, colour: str, index: int) -> Any:
        layer = self._layers.get(reader)
        if layer is None or layer not in self.viewer.layers:
            # labels below the lesion, one row per reader (the Reading panel's sit above it)
            layer = self.viewer.add_shapes(
                ndim=3, name=f"reader {reader} lines", edge_width=0.8, edge_color=colour,
                face_color="transparent", features={"label": np.array([], dtype=object)},
                text={"string": "{label}", "size": 11, "color": colour, "anchor": "lower_left",
                      "translation": (0, 6.0 + 6.0 * index, 0)})
            layer.current_edge_color = colour
            layer.editable = False  # the readers' lines are evidence, not editable here
            self._layers[reader] = layer
        return layer

    # -- the adjudicated read ---------------------------------------------------------------------
    def start_adj(self, from_reader: str) -> ReadKey | None:
        """Start (or restart) the ADJ read from ``from_reader``'s read and open it for editing."""
        try:
            session = self.context.require_session()
            key = start_adjudication(session.store, session.key.patient_id, from_reader)
        except ResponseToolError as exc:
            self.summary.setText(str(exc))
            return None
        self._open_adj()
        self.summary.setText(f"ADJ started from {from_reader}'s read; saved in "
                             f"{session.store.path}. Take other readers' values or redraw.")
        return key

    def take(self, from_reader: str, lesion_id: str, date: str) -> None:
        """Put ``from_reader``'s value of ``lesion_id`` at ``date`` into ADJ."""
        session = self.context.require_session()
        patient = session.key.patient_id
        if ADJUDICATOR not in session.store.readers(patient):
            raise ResponseToolError("start ADJ from one reader first")
        take_value(session.store, patient, from_reader, lesion_id, date)
        self._open_adj()
        self.summary.setText(f"ADJ now has {from_reader}'s {lesion_id} at {date}.")

    def _take_selected(self) -> None:
        c = self.comparison
        items = self.lesion_table.selectedItems()
        if c is None or not items:
            self.summary.setText("select a reader's value in the lesion table")
            return
        row, col = items[0].row(), items[0].column()
        if col < 3:
            self.summary.setText("select the cell of the reader whose value ADJ should take")
            return
        rec = c.lesions.iloc[row]
        try:
            self.take(c.readers[col - 3], str(rec["lesion_id"]), str(rec["date"]))
        except ResponseToolError as exc:
            self.summary.setText(str(exc))

    def _open_adj(self) -> None:
        """The ADJ read, open (or re-read) in the Reading panel at the same time point."""
        if self.context.require_session().key.reader_id != ADJUDICATOR:
            self.context.open_reader(ADJUDICATOR)
        else:
            self.context.reload_read()


def _fill(table: QTableWidget, header: list[str], rows: list[list[Any]],
          differs: list[bool], first: int) -> None:
    """Fill ``table``; on rows that differ, the readers' cells (from column ``first``) are
    highlighted."""
    table.clear()
    table.setColumnCount(len(header))
    table.setHorizontalHeaderLabels(header)
    table.setRowCount(len(rows))
    for i, values in enumerate(rows):
        for j, value in enumerate(values):
            item = QTableWidgetItem("" if value is None else str(value))
            if i < len(differs) and differs[i] and j >= first:
                item.setBackground(QBrush(DIFF_BRUSH))
            table.setItem(i, j, item)
    table.resizeColumnsToContents()
