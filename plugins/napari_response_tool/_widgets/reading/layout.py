"""The Reading panel's widgets, their arrangement, and what they show (no reading logic here).

:class:`ReadingLayout` builds the controls (reader, time point, lesion, diameter kind, status
buttons), the lesion and response tables and the message lines; the panel
(:mod:`.panel`) connects them to the reading session and fills them through :meth:`show_lesions`,
:meth:`show_responses` and :meth:`show_messages`.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from response_tool.criteria import CRITERIA
from response_tool.domain.vocabulary import DiameterKind, Organ, Role, Status
from response_tool.reading.measure import VIABLE_K
from response_tool.reading.session import LesionRow

#: "mL": the current time point's volumes (the Now column's are mm; a short header, so the
#: table keeps its State column in the dock's width)
LESION_COLUMNS = ("Lesion", "Role", "Organ", "Baseline", "Previous", "Now", "mL", "State")
#: the mL cell's tooltip: what its figures are, and what its ``*`` means
VOLUME_TIP = ": of the lesion's 3-D mask from the accepted click-to-measure proposal"
EDITED_TIP = "; * a line was edited or redrawn since: the volumes are the mask's, not the lines'"
RESPONSE_ROWS = (("Sum (mm)", "sum_mm"), ("vs baseline (%)", "pct_change_from_baseline"),
                 ("vs nadir (%)", "pct_change_from_nadir"), ("Target", "target_response"),
                 ("Non-target", "non_target_response"), ("New lesions", "new_lesions"),
                 ("Overall", "overall_response"), ("Rule", "rule_id"))
#: the status buttons' action for "no arterial enhancement" (mRECIST: viable diameter 0 mm)
NO_ENHANCEMENT = "none"
#: the status buttons: label → what they record
STATUS_BUTTONS = (("Present", Status.PRESENT), ("Too small", Status.TOO_SMALL),
                  ("Disappeared", Status.ABSENT), ("Not evaluable", Status.NOT_EVALUATED),
                  ("No enhancement", NO_ENHANCEMENT), ("Progression", Status.PROGRESSION),
                  ("Equivocal", Status.EQUIVOCAL))
KIND_LABELS = {DiameterKind.LONG: "long axis", DiameterKind.SHORT: "short axis",
               DiameterKind.VIABLE: "viable, arterial"}
KINDS = tuple(DiameterKind)
#: rows of the lesion table in view without scrolling it
LESION_ROWS_SHOWN = 7
#: what the viable threshold box allows (spreads of the liver's noise)
VIABLE_K_RANGE = (1.0, 10.0)


class ReadingLayout(QWidget):
    """The Reading panel's widgets (see the module docstring); ``shortcuts`` is the key help."""

    def __init__(self, shortcuts: tuple[tuple[str, str], ...]) -> None:
        super().__init__()
        self.reader_box = QLineEdit(os.environ.get("RESPONSE_TOOL_READER", "R1"))
        self.lead_box = QLineEdit(os.environ.get("RESPONSE_TOOL_LEAD_READER", ""))
        self.lead_box.setPlaceholderText("none: each reader selects targets")
        self.lead_box.setToolTip("Study option: targets fixed by a lead reader. A new read starts "
                                 "with the lead reader's lesions (ids, roles, organs — no "
                                 "diameters), to be re-measured blind.")
        self.store_label = QLabel("")
        self.store_label.setWordWrap(True)
        self.date_box = QComboBox()

        self.role_box = QComboBox()
        self.role_box.addItems([r.value for r in Role])
        self.organ_box = QComboBox()
        self.organ_box.setEditable(True)
        self.organ_box.addItems([o.value for o in Organ])
        self.nodal_box = QCheckBox("nodal")
        self.add_button = QPushButton("Add lesion")

        self.kind_group = QButtonGroup(self)
        kinds = QHBoxLayout()
        kinds.addWidget(QLabel("Draw:"))
        for i, kind in enumerate(KINDS):
            button = QRadioButton(KIND_LABELS[kind])
            button.setChecked(i == 0)
            self.kind_group.addButton(button, i)
            kinds.addWidget(button)

        status_row = QGridLayout()
        #: what each status button records → the button
        self.status_buttons: dict[str, QPushButton] = {}
        for i, (label, status) in enumerate(STATUS_BUTTONS):
            b = QPushButton(label)
            self.status_buttons[str(status)] = b
            status_row.addWidget(b, i // 4, i % 4)

        self.lesion_table = QTableWidget(0, len(LESION_COLUMNS))
        self.lesion_table.setHorizontalHeaderLabels(list(LESION_COLUMNS))
        self.lesion_table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.lesion_table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.lesion_table.verticalHeader().setVisible(False)

        self.response_table = QTableWidget(len(RESPONSE_ROWS), len(CRITERIA))
        self.response_table.setHorizontalHeaderLabels([c.NAME for c in CRITERIA.values()])
        self.response_table.setVerticalHeaderLabels([r for r, _ in RESPONSE_ROWS])
        self.response_title = QLabel("Responses")
        self.problem_label = QLabel("")
        self.problem_label.setWordWrap(True)
        self.problem_label.setTextFormat(Qt.TextFormat.PlainText)  # messages hold "<" and ">"
        self.warning_label = QLabel("")
        self.warning_label.setWordWrap(True)
        self.warning_label.setTextFormat(Qt.TextFormat.PlainText)
        self.warning_label.setStyleSheet("color: #f0b030")
        self.open_button = QPushButton("Open the read of the patient in the Patient panel")
        self.export_button = QPushButton("Export CSVs…")
        self.dicom_export_button = QPushButton("Export DICOM SR / SEG…")
        self.dicom_export_button.setToolTip(
            "The read as DICOM: a TID 1500 structured report per time point (the lines on their "
            "images, lesion ids, statuses, both criteria's responses) and a SEG of the burden "
            "outlines — for PACS, OHIF or 3D Slicer")
        self.help_label = QLabel("")
        self.help_label.setWordWrap(True)
        self.show_keys(shortcuts)
        # the reading station: undo / redo, click-to-measure, predicted position, hanging protocol
        self.undo_button = QPushButton("Undo")
        self.redo_button = QPushButton("Redo")
        self.measure_button = QPushButton("Measure (click)")
        self.measure_button.setToolTip("The next click on the current study proposes the long, "
                                       "short and viable diameters of the lesion under it")
        self.accept_button = QPushButton("Accept proposal")
        self.predicted_button = QPushButton("Go to predicted")
        self.predicted_button.setToolTip("The selected lesion's position on this study, "
                                         "propagated from the prior through the registration")
        self.correct_button = QPushButton("Correct position")
        self.correct_button.setToolTip("The next click says where the selected lesion really is "
                                       "on this study: saved with the read, and later "
                                       "follow-ups are predicted from it")
        self.viable_k_box = QDoubleSpinBox()
        self.viable_k_box.setRange(*VIABLE_K_RANGE)
        self.viable_k_box.setSingleStep(0.5)
        self.viable_k_box.setDecimals(1)
        self.viable_k_box.setValue(VIABLE_K)
        self.viable_k_box.setSuffix(" × noise")
        self.viable_k_box.setToolTip(
            "Click-to-measure's viable (arterially enhancing) part: arterial HU above the "
            "surrounding liver by more than this many spreads of the liver's own noise. Lower "
            "it for faint enhancement, raise it when the proposal takes in liver.")
        self.hanging_box = QCheckBox("Prior | current")
        self.hanging_box.setChecked(True)
        self.hanging_box.setToolTip("At a follow-up: the prior study (left, read-only lines) "
                                    "beside the current one (right)")
        self.prior_box = QComboBox()
        self.prior_box.addItems(["baseline", "previous"])
        self.window_box = QComboBox()

        top = QGridLayout()
        top.addWidget(QLabel("Reader:"), 0, 0)
        top.addWidget(self.reader_box, 0, 1)
        top.addWidget(QLabel("Time point:"), 0, 2)
        top.addWidget(self.date_box, 0, 3)
        top.addWidget(QLabel("Targets from:"), 1, 0)
        top.addWidget(self.lead_box, 1, 1)
        top.addWidget(self.store_label, 2, 0, 1, 4)
        lesion_row = QHBoxLayout()
        lesion_row.addWidget(self.role_box)
        lesion_row.addWidget(self.organ_box, 1)
        lesion_row.addWidget(self.nodal_box)
        lesion_row.addWidget(self.add_button)

        self.setMinimumWidth(470)
        # everything in a scroll area: on a short dock the panel scrolls instead of Qt squeezing
        # the tables and message lines on top of each other
        content = QWidget()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        layout = QVBoxLayout(content)
        layout.addWidget(self.open_button)
        layout.addLayout(top)
        layout.addLayout(lesion_row)
        layout.addLayout(kinds)
        station = QGridLayout()
        for i, w in enumerate((self.measure_button, self.accept_button, self.undo_button,
                               self.predicted_button, self.correct_button, self.redo_button)):
            station.addWidget(w, i // 3, i % 3)
        threshold = QHBoxLayout()
        threshold.addWidget(QLabel("viable >"))
        threshold.addWidget(self.viable_k_box)
        station.addLayout(threshold, 0, 3)
        layout.addLayout(station)
        view_row = QHBoxLayout()
        view_row.addWidget(self.hanging_box)
        view_row.addWidget(QLabel("prior:"))
        view_row.addWidget(self.prior_box)
        view_row.addWidget(QLabel("window:"))
        view_row.addWidget(self.window_box, 1)
        layout.addLayout(view_row)
        layout.addLayout(status_row)
        self.response_table.setMinimumHeight(_rows_height(self.response_table, len(RESPONSE_ROWS)))
        self.lesion_table.setMinimumHeight(  # a read's usual 5 targets + non-targets in view
            _rows_height(self.lesion_table, LESION_ROWS_SHOWN))
        layout.addWidget(self.lesion_table, 2)
        layout.addWidget(self.response_title)
        layout.addWidget(self.response_table, 3)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.warning_label)
        exports = QHBoxLayout()
        exports.addWidget(self.export_button)
        exports.addWidget(self.dicom_export_button)
        layout.addLayout(exports)
        layout.addWidget(self.help_label)
        # the dock is never narrower than its controls (issue 23: "Add lesion", "viable,
        # arterial" and "Not evaluable" were cut, the lesion table scrolled sideways); the scroll
        # area is for height only
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for table in (self.lesion_table, self.response_table):  # columns share the width
            table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        widest = f"{VIABLE_K_RANGE[1]:.1f}{self.viable_k_box.suffix()}"  # + the arrows' room
        self.viable_k_box.setMinimumWidth(self.viable_k_box.fontMetrics().horizontalAdvance(widest)
                                          + 56)
        self.setMinimumWidth(content.minimumSizeHint().width()
                             + scroll.verticalScrollBar().sizeHint().width()
                             + 2 * scroll.frameWidth())

    def show_keys(self, shortcuts: tuple[tuple[str, str], ...]) -> None:
        """The key help line (the panel's current bindings)."""
        self.help_label.setText("Keys: " + ";  ".join(f"<b>{k}</b> {v}" for k, v in shortcuts))

    # -- the controls' state -----------------------------------------------------------------
    @property
    def kind(self) -> DiameterKind:
        """The diameter kind a line drawn now measures."""
        return KINDS[max(self.kind_group.checkedId(), 0)]

    def set_kind(self, kind: str) -> None:
        self.kind_group.button(KINDS.index(DiameterKind(kind))).setChecked(True)

    def selected_lesion(self) -> str | None:
        rows = self.lesion_table.selectionModel().selectedRows() if self.lesion_table.model() else []
        if not rows:
            return None
        item = self.lesion_table.item(rows[0].row(), 0)
        return item.text() if item else None

    def select_lesion(self, lesion_id: str) -> None:
        for row in range(self.lesion_table.rowCount()):
            if self.lesion_table.item(row, 0).text() == lesion_id:
                self.lesion_table.selectRow(row)
                return

    def step_lesion(self, delta: int) -> None:
        n = self.lesion_table.rowCount()
        if not n:
            return
        rows = self.lesion_table.selectionModel().selectedRows()
        current = rows[0].row() if rows else -1
        self.lesion_table.selectRow((current + delta) % n)

    def set_dates(self, dates: list[str]) -> None:
        """The time point box: baseline first, then the follow-ups (without emitting)."""
        self.date_box.blockSignals(True)
        self.date_box.clear()
        self.date_box.addItems([f"{d}{'  (baseline)' if i == 0 else f'  (follow-up {i})'}"
                                for i, d in enumerate(dates)])
        self.date_box.blockSignals(False)

    def show_date(self, index: int) -> None:
        self.date_box.blockSignals(True)
        self.date_box.setCurrentIndex(index)
        self.date_box.blockSignals(False)

    # -- what the widgets show ---------------------------------------------------------------
    def show_lesions(self, rows: list[LesionRow]) -> None:
        """The lesion table (keeps the selection; signals blocked while filling)."""
        selected = self.selected_lesion()
        self.lesion_table.blockSignals(True)
        resize = self.lesion_table.rowCount() != len(rows)
        self.lesion_table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            role = r.role + (" (node)" if r.is_nodal else "")
            for j, text in enumerate((r.lesion_id, role, r.organ, r.baseline, r.previous, r.current,
                                      r.volume, r.state)):
                resize |= _set_text(self.lesion_table, i, j, text)
            volume = self.lesion_table.item(i, LESION_COLUMNS.index("mL"))
            volume.setToolTip("" if not r.volume else r.volume_detail + VOLUME_TIP + (
                EDITED_TIP if r.volume.endswith("*") else ""))
        if resize:
            self.lesion_table.resizeColumnsToContents()
        self.lesion_table.blockSignals(False)
        if selected:
            self.select_lesion(selected)

    def show_responses(self, title: str, responses: dict[str, dict[str, Any]]) -> None:
        """The response table: one column per criterion (:data:`CRITERIA`), one row per value."""
        self.response_title.setText(title)
        resize = False
        for col, crit in enumerate(CRITERIA):
            rec = responses.get(crit, {})
            for row, (_, name) in enumerate(RESPONSE_ROWS):
                text = _fmt(rec.get(name), pct=name.startswith("pct"))
                resize |= _set_text(self.response_table, row, col, text)
        if resize:
            self.response_table.resizeColumnsToContents()

    def show_messages(self, problem: str, warnings: list[str]) -> None:
        _set_message(self.problem_label, problem)
        _set_message(self.warning_label, "\n".join(f"⚠ {w}" for w in warnings[:8]))

    def say(self, text: str) -> None:
        """A message to the reader (the problem line)."""
        _set_message(self.problem_label, text)


def _set_message(label: QLabel, text: str) -> None:
    """Show ``text`` in a word-wrapped message label, its height reserved for every wrapped line:
    the scroll area sizes the panel from its widgets' minimum heights, which a word-wrapped label
    does not report (Qt's height-for-width), so a message of several lines (a proposal with its
    warnings) was drawn over the response table."""
    label.setText(text)
    label.setMinimumHeight(label.heightForWidth(max(label.width(), 200)) if text else 0)


def _rows_height(table: QTableWidget, rows: int) -> int:
    """The height that shows the header and ``rows`` rows of ``table`` without scrolling."""
    return (table.horizontalHeader().sizeHint().height()
            + rows * table.verticalHeader().defaultSectionSize() + 2 * table.frameWidth() + 2)


def _fmt(value: Any, pct: bool = False) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (float, np.floating)):
        return f"{value:+.1f}" if pct else f"{value:.1f}"
    return str(value)


def _set_text(table: QTableWidget, row: int, col: int, text: str) -> bool:
    """Set a cell's text, reusing its item (a new item per update repaints the whole table);
    True when the text grew wider than the column may hold (the caller resizes columns)."""
    item = table.item(row, col)
    if item is None:
        table.setItem(row, col, QTableWidgetItem(text))
        return True
    if item.text() == text:
        return False
    grew = len(text) > len(item.text())
    item.setText(text)
    return grew
