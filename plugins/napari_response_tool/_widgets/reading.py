"""Reading panel: lesions and their diameters per time point, RECIST 1.1 and mRECIST side by side.

The reader picks a lesion and a diameter kind (long, short, viable), then draws a line with
napari's line tool on the current axial slice; the line's length in millimetres, its endpoints,
slice, series UID and phase are stored at once (:mod:`response_tool.reading.store`) and the responses are
recomputed. Editing a line (moving a vertex) updates every number. Lines live in one shapes
layer per time point, in patient millimetres, labelled on the canvas with the lesion id.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from response_tool.domain.errors import ResponseToolError
from response_tool.reading.session import KINDS, ORGANS, LineRecord, ReadingSession
from response_tool.reading.store import ReadKey, ReadStore

if TYPE_CHECKING:
    import napari

LESION_COLUMNS = ("Lesion", "Role", "Organ", "Baseline", "Previous", "Now", "State")
RESPONSE_ROWS = (("Sum (mm)", "sum_mm"), ("vs baseline (%)", "pct_change_from_baseline"),
                 ("vs nadir (%)", "pct_change_from_nadir"), ("Target", "target_response"),
                 ("Non-target", "non_target_response"), ("New lesions", "new_lesions"),
                 ("Overall", "overall_response"), ("Rule", "rule_id"))
SHORTCUTS = (("t", "new target (organ, nodal as set)"), ("n / p", "next / previous lesion"),
             ("1 / 2 / 3", "draw long / short / viable diameter"), ("s", "too small to measure"),
             ("d", "disappeared"), ("e", "no arterial enhancement (viable 0 mm)"),
             ("] / [", "next / previous time point"), ("a", "toggle arterial / portal-venous"))
COLORS = {"long": "yellow", "short": "cyan", "viable": "orange"}
#: the Reading panel of each viewer (the Burden panel works on the same read)
PANELS: weakref.WeakValueDictionary[int, ReadingPanel] = weakref.WeakValueDictionary()
#: the Patient panel of each viewer (where a read's studies come from)
PATIENT_PANELS: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()


def viewer_key(viewer: Any) -> int:
    """One key per viewer, whether napari hands a widget the viewer or a proxy of it."""
    return id(getattr(viewer, "__wrapped__", viewer))
#: canvas label per diameter kind: "T1" (long), "T1 ⊥" (short), "T1 v" (viable)
SUFFIX = {"long": "", "short": " ⊥", "viable": " v"}


def _fmt(value: Any, pct: bool = False) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (float, np.floating)):
        return f"{value:+.1f}" if pct else f"{value:.1f}"
    return str(value)


class ReadingPanel(QWidget):
    """Dock widget: the read of the open patient by one reader (see the module docstring)."""

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.session: ReadingSession | None = None
        self.store_path: Path | None = None
        self._layers: dict[str, Any] = {}       # date → shapes layer (diameters)
        self._marks: dict[str, Any] = {}        # date → points layer (non-target / new lesions)
        self._series: dict[str, dict[str, dict[str, Any]]] = {}  # date → phase → series info
        self._syncing = False
        self._studies: dict[str, Any] = {}
        self._load_study: Any = None
        self._removing: list[tuple[str, str]] = []  # diameters whose lines napari is deleting

        PANELS[viewer_key(napari_viewer)] = self
        self.reader_box = QLineEdit(os.environ.get("RESPONSE_TOOL_READER", "R1"))
        self.lead_box = QLineEdit(os.environ.get("RESPONSE_TOOL_LEAD_READER", ""))
        self.lead_box.setPlaceholderText("none: each reader selects targets")
        self.lead_box.setToolTip("Study option: targets fixed by a lead reader. A new read starts "
                                 "with the lead reader's lesions (ids, roles, organs — no "
                                 "diameters), to be re-measured blind.")
        #: called with the new date whenever the time point changes (the Adjudication panel)
        self.date_listeners: list[Any] = []
        self.store_label = QLabel("")
        self.store_label.setWordWrap(True)
        self.date_box = QComboBox()
        self.date_box.currentIndexChanged.connect(self._date_chosen)

        self.role_box = QComboBox()
        self.role_box.addItems(["target", "non-target", "new"])
        self.organ_box = QComboBox()
        self.organ_box.setEditable(True)
        self.organ_box.addItems(list(ORGANS))
        self.nodal_box = QCheckBox("nodal")
        add_button = QPushButton("Add lesion (t)")
        add_button.clicked.connect(self.add_lesion_from_controls)

        self.kind_group = QButtonGroup(self)
        kinds = QHBoxLayout()
        kinds.addWidget(QLabel("Draw:"))
        for i, kind in enumerate(KINDS):
            button = QRadioButton({"long": "long axis (1)", "short": "short axis (2)",
                                   "viable": "viable, arterial (3)"}[kind])
            button.setChecked(i == 0)
            self.kind_group.addButton(button, i)
            kinds.addWidget(button)

        status_row = QGridLayout()
        for i, (label, action) in enumerate( (("Present", "present"), ("Too small (s)", "too-small"),
                              ("Disappeared (d)", "absent"), ("Not evaluable", "not-evaluated"),
                              ("No enhancement (e)", "none"), ("Progression", "progression"),
                              ("Equivocal", "equivocal"))):
            b = QPushButton(label)
            b.clicked.connect(lambda _=False, a=action: self._status_clicked(a))
            status_row.addWidget(b, i // 4, i % 4)

        self.lesion_table = QTableWidget(0, len(LESION_COLUMNS))
        self.lesion_table.setHorizontalHeaderLabels(list(LESION_COLUMNS))
        self.lesion_table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.lesion_table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.lesion_table.itemSelectionChanged.connect(self._lesion_selected)
        self.lesion_table.verticalHeader().setVisible(False)

        self.response_table = QTableWidget(len(RESPONSE_ROWS), 2)
        self.response_table.setHorizontalHeaderLabels(["RECIST 1.1", "mRECIST"])
        self.response_table.setVerticalHeaderLabels([r for r, _ in RESPONSE_ROWS])
        self.response_title = QLabel("Responses")
        self.problem_label = QLabel("")
        self.problem_label.setWordWrap(True)
        self.problem_label.setTextFormat(Qt.TextFormat.PlainText)  # messages hold "<" and ">"
        self.warning_label = QLabel("")
        self.warning_label.setWordWrap(True)
        self.warning_label.setTextFormat(Qt.TextFormat.PlainText)
        self.warning_label.setStyleSheet("color: #f0b030")
        open_button = QPushButton("Open the read of the patient in the Patient panel")
        open_button.clicked.connect(self.open_from_patient_panel)
        export_button = QPushButton("Export CSVs…")
        export_button.clicked.connect(self._choose_export)
        help_label = QLabel("Keys: " + ";  ".join(f"<b>{k}</b> {v}" for k, v in SHORTCUTS))
        help_label.setWordWrap(True)

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
        lesion_row.addWidget(add_button)

        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.addWidget(open_button)
        layout.addLayout(top)
        layout.addLayout(lesion_row)
        layout.addLayout(kinds)
        layout.addLayout(status_row)
        self.response_table.setMinimumHeight(
            self.response_table.horizontalHeader().height() + 27 * len(RESPONSE_ROWS))
        layout.addWidget(self.lesion_table, 2)
        layout.addWidget(self.response_title)
        layout.addWidget(self.response_table, 3)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.warning_label)
        layout.addWidget(export_button)
        layout.addWidget(help_label)
        self._bind_keys()

    # -- opening a read ---------------------------------------------------------------------
    def start(self, patient_id: str, studies: list[Any], store: ReadStore | str | Path | None = None,
              reader_id: str | None = None, load_study: Any = None) -> ReadingSession:
        """Open (or create) the read of ``patient_id`` over ``studies`` (StudyInfo, date order).

        ``load_study(study)`` loads a study's reading series as layers (the Patient panel's
        ``load_study``); with it, switching time point brings that study's images up."""
        self._studies = {s.study_date.isoformat(): s for s in studies if s.study_date}
        self._load_study = load_study
        if reader_id:
            self.reader_box.setText(reader_id)
        if not isinstance(store, ReadStore):
            store = ReadStore(store)
        self.store_path = store.path
        self.store_label.setText(f"Saved on every change to {store.path}")
        dates = [s.study_date.isoformat() for s in studies if s.study_date]
        self._series = {s.study_date.isoformat(): {x.phase.phase: {
            "series_uid": x.series_instance_uid, "description": x.description} for x in s.series}
            for s in studies if s.study_date}
        key = store.open_read(patient_id, self.reader_box.text().strip() or "R1")
        lead = self.lead_box.text().strip()
        if lead and lead != key.reader_id and not store.lesions(key) \
                and lead in store.readers(patient_id):
            copied = store.copy_lesions(ReadKey(patient_id, lead), key)
            self._say(f"targets fixed by {lead}: {', '.join(copied)} — measure them blind")
        for s in studies:
            if s.study_date:
                store.add_timepoint(key, s.study_date, s.study_instance_uid)
        self.session = ReadingSession(store, key, dates)
        self._syncing = True
        self.date_box.clear()
        self.date_box.addItems([f"{d}{'  (baseline)' if i == 0 else f'  (follow-up {i})'}"
                                for i, d in enumerate(self.session.dates)])
        self._syncing = False
        self._restore_lines()
        self.update_views()
        return self.session

    def open_from_patient_panel(self) -> ReadingSession | None:
        """Start (or resume) this reader's read of the patient open in the Patient panel, saved in
        the default store (the user's data folder, or ``$RESPONSE_TOOL_STORE``)."""
        patient = PATIENT_PANELS.get(viewer_key(self.viewer))
        studies = patient.studies() if patient is not None else []
        if not studies:
            self._say("open a patient folder in the Patient panel first")
            return None
        patient_id = studies[0].patient_id or Path(str(patient.path_label.text())).name
        try:
            return self.start(patient_id, studies, None, load_study=patient.load_study)
        except ResponseToolError as exc:
            self._say(str(exc))
            return None

    def _shapes(self, date: str) -> Any:
        if date not in self._layers:
            layer = self.viewer.add_shapes(
                ndim=3, name=f"diameters {date}", edge_width=0.8, edge_color="yellow",
                face_color="transparent", features={"lesion_id": np.array([], dtype=object),
                                                   "kind": np.array([], dtype=object),
                                                   "label": np.array([], dtype=object)},
                text={"string": "{label}", "size": 12, "color": "white",
                      "anchor": "upper_left", "translation": (0, -2, 0)})
            layer.events.data.connect(lambda event, d=date: self._shapes_changed(d, event))
            self._layers[date] = layer
        return self._layers[date]

    def _points(self, date: str) -> Any:
        if date not in self._marks:
            layer = self.viewer.add_points(
                np.empty((0, 3)), ndim=3, name=f"lesion marks {date}", size=6, symbol="ring",
                face_color="transparent", border_color="magenta",
                features={"lesion_id": np.array([], dtype=object)},
                text={"string": "{lesion_id}", "size": 11, "color": "magenta",
                      "anchor": "upper_left"})
            layer.events.data.connect(lambda event, d=date: self._points_changed(d, event))
            self._marks[date] = layer
        return self._marks[date]

    def _points_changed(self, date: str, event: Any) -> None:
        if self._syncing or self.session is None:
            return
        action = str(getattr(event, "action", ""))
        layer = self._marks[date]
        if action.endswith("added"):
            index = len(layer.data) - 1
            lesion_id = self.selected_lesion()
            role = self.session.lesion(lesion_id).role if lesion_id else None
            if role not in ("non-target", "new"):
                self._say("select a non-target or new lesion, then click where it is")
                self._remove_point(layer, index)
                return
            for j in range(len(layer.data) - 2, -1, -1):  # one mark per lesion
                if layer.features.loc[j, "lesion_id"] == lesion_id:
                    self._remove_point(layer, j)
            features = layer.features.copy()
            features.loc[len(layer.data) - 1, "lesion_id"] = lesion_id
            layer.features = features
            self._record_point(date, layer, len(layer.data) - 1)
        elif action.endswith("changed"):
            for index in getattr(event, "data_indices", ()) or ():
                if 0 <= index < len(layer.data):
                    self._record_point(date, layer, index)
        elif action.endswith("removing"):
            indices = [i for i in (getattr(event, "data_indices", ()) or ())
                       if 0 <= i < len(layer.features)]
            self._removing = [(str(layer.features.loc[i, "lesion_id"]), "mark") for i in indices]
        elif action.endswith("removed"):
            for lesion_id, _ in self._removing:
                self.session.clear_point(lesion_id, date)
            self._removing = []
            self.update_views()

    def _remove_point(self, layer: Any, index: int) -> None:
        self._syncing = True
        try:
            layer.selected_data = {index}
            layer.remove_selected()
        finally:
            self._syncing = False

    def _record_point(self, date: str, layer: Any, index: int) -> None:
        assert self.session is not None
        lesion_id = str(layer.features.loc[index, "lesion_id"])
        world = np.asarray(layer.data_to_world(layer.data[index]), dtype=float)
        image = self._current_image()
        slice_index = None
        if image["layer"] is not None:
            slice_index = int(round(float(image["layer"].world_to_data(world)[0])))
        if self.session.current != date:
            self.session.go_to(date)
        try:
            self.session.record_point(lesion_id, world.tolist(), image["series_uid"],
                                      image["phase"], slice_index)
        except ResponseToolError as exc:
            self._say(str(exc))
            return
        self._say(f"{lesion_id} marked at slice {slice_index}")
        self.update_views()

    def add_mark(self, lesion_id: str, point_mm: Any) -> None:
        """Mark a non-target or new lesion at ``point_mm`` (world z, y, x), as a click would."""
        assert self.session is not None
        self.select_lesion(lesion_id)
        self._points(self.session.current).add(np.asarray([point_mm], dtype=float))

    def _restore_lines(self) -> None:
        """Lines of every stored measurement, back on their time point's layer, exactly."""
        assert self.session is not None
        self._syncing = True
        try:
            for date in self.session.dates:
                layer = self._shapes(date)
                layer.data = []
                layer.features = {"lesion_id": np.array([], dtype=object),
                                  "kind": np.array([], dtype=object),
                                  "label": np.array([], dtype=object)}
            for date in self.session.dates:
                marks = self._points(date)
                marks.data = np.empty((0, 3))
                marks.features = {"lesion_id": np.array([], dtype=object)}
            for m in self.session.read.measurements:
                for kind in KINDS:
                    ends = m.endpoints(kind)
                    if ends:
                        self._add_line(m.date, m.lesion_id, kind, np.asarray(ends))
                if m.mark_point:
                    marks = self._points(m.date)
                    marks.feature_defaults = {"lesion_id": m.lesion_id}
                    marks.add(np.asarray([m.mark_point], dtype=float))
        finally:
            self._syncing = False
        self._show_date_layers()

    def _add_line(self, date: str, lesion_id: str, kind: str, ends: np.ndarray) -> None:
        layer = self._shapes(date)
        layer.feature_defaults = {"lesion_id": lesion_id, "kind": kind,
                                  "label": lesion_id + SUFFIX[kind]}
        layer.add_lines([ends], edge_color=COLORS[kind])

    # -- drawing ----------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return KINDS[max(self.kind_group.checkedId(), 0)]

    def set_kind(self, kind: str) -> None:
        self.kind_group.button(KINDS.index(kind)).setChecked(True)

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

    def _current_image(self) -> dict[str, Any]:
        """Series UID and phase of the topmost visible image of the current time point."""
        for layer in reversed(list(self.viewer.layers)):
            meta = getattr(layer, "metadata", {}).get("response_tool")
            if meta and layer.visible and layer.__class__.__name__ == "Image":
                return {"series_uid": meta.get("series_instance_uid"), "phase": meta.get("phase"),
                        "layer": layer}
        return {"series_uid": None, "phase": None, "layer": None}

    def _shapes_changed(self, date: str, event: Any) -> None:
        if self._syncing or self.session is None:
            return
        action = str(getattr(event, "action", ""))
        layer = self._layers[date]
        if action.endswith("added"):
            index = len(layer.data) - 1
            lesion_id = self.selected_lesion()
            if lesion_id is None:
                self._say("select a lesion first (or add one with t), then draw")
                self._remove_shape(layer, index)
                return
            features = layer.features.copy()
            features.loc[index, "lesion_id"] = lesion_id
            features.loc[index, "kind"] = self.kind
            features.loc[index, "label"] = lesion_id + SUFFIX[self.kind]
            layer.features = features  # re-assigning refreshes the canvas labels
            # one line per lesion and kind: a new one replaces the old
            for j in range(len(layer.data) - 2, -1, -1):
                if (layer.features.loc[j, "lesion_id"], layer.features.loc[j, "kind"]) == \
                        (lesion_id, self.kind):
                    self._remove_shape(layer, j)
            colors = np.asarray(layer.edge_color).copy()
            colors[len(layer.data) - 1] = _rgba(COLORS[self.kind])
            layer.edge_color = colors
            self._record(date, layer, len(layer.data) - 1)
        elif action.endswith("changed"):
            # napari names the moved shape; a whole-data assignment names every shape: record
            # only the lines whose ends really moved (one recompute per moved line)
            for index in getattr(event, "data_indices", ()) or ():
                if 0 <= index < len(layer.data) and self._moved(date, layer, index):
                    self._record(date, layer, index)
        elif action.endswith("removing"):  # remember which diameters are about to go
            indices = [i for i in (getattr(event, "data_indices", ()) or ())
                       if 0 <= i < len(layer.features)]
            self._removing = [(str(layer.features.loc[i, "lesion_id"]),
                               str(layer.features.loc[i, "kind"])) for i in indices]
        elif action.endswith("removed"):
            for lesion_id, kind in self._removing:
                self.session.clear_diameter(lesion_id, kind, date)
            self._removing = []
            self.update_views()

    def _remove_shape(self, layer: Any, index: int) -> None:
        self._syncing = True
        try:
            layer.selected_data = {index}
            layer.remove_selected()
        finally:
            self._syncing = False

    def _moved(self, date: str, layer: Any, index: int) -> bool:
        """Whether line ``index`` differs from the endpoints stored for its lesion and kind."""
        assert self.session is not None
        lesion_id = str(layer.features.loc[index, "lesion_id"])
        kind = str(layer.features.loc[index, "kind"])
        m = self.session.measurement(lesion_id, date)
        stored = None if m is None else m.endpoints(kind)
        if stored is None:
            return True
        data = np.asarray(layer.data[index], dtype=float)
        world = np.asarray([layer.data_to_world(p) for p in (data[0], data[-1])], dtype=float)
        return not np.allclose(world, np.asarray(stored, dtype=float), atol=1e-6)

    def _record(self, date: str, layer: Any, index: int) -> None:
        assert self.session is not None
        lesion_id = str(layer.features.loc[index, "lesion_id"])
        kind = str(layer.features.loc[index, "kind"])
        data = np.asarray(layer.data[index], dtype=float)
        ends = [data[0], data[-1]]
        world = np.asarray([layer.data_to_world(p) for p in ends], dtype=float)
        image = self._current_image()
        slice_index = None
        if image["layer"] is not None:
            slice_index = int(round(float(image["layer"].world_to_data(world[0])[0])))
        if self.session.current != date:
            self.session.go_to(date)
        try:
            length = self.session.record_line(lesion_id, kind, LineRecord(
                world.tolist(), image["series_uid"], image["phase"], slice_index))
        except ResponseToolError as exc:
            self._say(str(exc))
            return
        self._say(f"{lesion_id} {kind} diameter {length:.1f} mm")
        self.update_views()

    # -- actions ----------------------------------------------------------------------------
    def add_lesion_from_controls(self) -> str | None:
        return self.add_lesion(self.role_box.currentText(), self.organ_box.currentText(),
                               self.nodal_box.isChecked())

    def add_lesion(self, role: str, organ: str, nodal: bool = False) -> str | None:
        if self.session is None:
            self._say("open a patient first")
            return None
        try:
            lesion_id = self.session.new_lesion(role, organ, nodal)
        except ResponseToolError as exc:
            self._say(str(exc))
            return None
        self.update_views()
        self.select_lesion(lesion_id)
        self._say(f"{lesion_id} added: draw its {'short' if nodal else 'long'} axis")
        self.set_kind("short" if nodal and role == "target" else "long")
        return lesion_id

    def _status_clicked(self, action: str) -> None:
        lesion_id = self.selected_lesion()
        if self.session is None or lesion_id is None:
            self._say("select a lesion first")
            return
        try:
            if action == "none":
                self.session.no_enhancement(lesion_id)
            else:
                self.session.set_status(lesion_id, action)
        except ResponseToolError as exc:
            self._say(str(exc))
            return
        self.update_views()
        self.select_lesion(lesion_id)

    def go_to(self, date: str) -> None:
        assert self.session is not None
        self.session.go_to(date)
        self._syncing = True
        self.date_box.setCurrentIndex(self.session.dates.index(date))
        self._syncing = False
        self._show_date_layers()
        self.update_views()
        for listener in list(self.date_listeners):
            listener(date)

    def reload(self) -> None:
        """Re-read the open read from the store (after a change made elsewhere, e.g. a value
        taken into the adjudicated read) and redraw its lines."""
        if self.session is None:
            return
        self.session.reload()
        self._restore_lines()
        self.update_views()

    def _date_chosen(self, index: int) -> None:
        if self._syncing or self.session is None or index < 0:
            return
        self.go_to(self.session.dates[index])

    def _images(self, date: str | None = None) -> list[Any]:
        """Image layers loaded from DICOM (of the study of ``date`` when given)."""
        study = self._studies.get(date) if date else None
        out = []
        for layer in self.viewer.layers:
            meta = getattr(layer, "metadata", {}).get("response_tool")
            if meta and layer.__class__.__name__ == "Image" and (
                    study is None or meta.get("study_instance_uid") == study.study_instance_uid):
                out.append(layer)
        return out

    def _show_date_layers(self) -> None:
        """The current time point's lines and images; other time points hidden."""
        if self.session is None:
            return
        date = self.session.current
        if self._load_study is not None and date in self._studies and not self._images(date):
            self._load_study(self._studies[date])
        for d, layer in [*self._layers.items(), *self._marks.items()]:
            layer.visible = d == date
        if self._studies:
            current = {id(x) for x in self._images(date)}
            for layer in self._images():
                layer.visible = id(layer) in current
        for layer in [*self._marks.values(), *self._layers.values()]:  # marks, lines on top
            index = list(self.viewer.layers).index(layer)
            self.viewer.layers.move(index, len(self.viewer.layers))

    def jump_to(self, lesion_id: str, date: str | None = None) -> None:
        """Move the slice to where the lesion was measured (at ``date``, default the current)."""
        assert self.session is not None
        m = self.session.measurement(lesion_id, date) or self.session.measurement(
            lesion_id, self.session.baseline)
        ends = m and (m.long_endpoints or m.short_endpoints or m.viable_endpoints
                      or ([m.mark_point] if m.mark_point else None))
        if ends:
            middle = np.mean(np.asarray(ends, dtype=float), axis=0)
            self.viewer.dims.set_point(0, float(middle[0]))
            self.viewer.scene.camera.center = tuple(float(v) for v in middle)

    def _lesion_selected(self) -> None:
        lesion_id = self.selected_lesion()
        if lesion_id and self.session is not None:
            self.jump_to(lesion_id)

    def step_lesion(self, delta: int) -> None:
        n = self.lesion_table.rowCount()
        if not n:
            return
        rows = self.lesion_table.selectionModel().selectedRows()
        current = rows[0].row() if rows else -1
        self.lesion_table.selectRow((current + delta) % n)

    def toggle_phase(self) -> None:
        """Show the arterial or the portal-venous layer (the other is hidden)."""
        images = self._images(self.session.current if self.session else None)
        arterial = [lay for lay in images if lay.metadata["response_tool"].get("phase") == "arterial"]
        if not arterial:
            return
        show_arterial = not arterial[0].visible
        for lay in images:
            lay.visible = (lay.metadata["response_tool"].get("phase") == "arterial") == show_arterial

    def _bind_keys(self) -> None:
        bindings = {
            "t": lambda v: self.add_lesion("target", self.organ_box.currentText(),
                                           self.nodal_box.isChecked()),
            "n": lambda v: self.step_lesion(1), "p": lambda v: self.step_lesion(-1),
            "1": lambda v: self.set_kind("long"), "2": lambda v: self.set_kind("short"),
            "3": lambda v: self.set_kind("viable"),
            "s": lambda v: self._status_clicked("too-small"),
            "d": lambda v: self._status_clicked("absent"),
            "e": lambda v: self._status_clicked("none"),
            "]": lambda v: self._step_date(1), "[": lambda v: self._step_date(-1),
            "a": lambda v: self.toggle_phase(),
        }
        for key, fn in bindings.items():
            self.viewer.bind_key(key, fn, overwrite=True)

    def _step_date(self, delta: int) -> None:
        if self.session is not None:
            i = min(max(self.session.dates.index(self.session.current) + delta, 0),
                    len(self.session.dates) - 1)
            self.go_to(self.session.dates[i])

    # -- views ------------------------------------------------------------------------------
    def update_views(self) -> None:
        if self.session is None:
            return
        selected = self.selected_lesion()
        rows = self.session.rows()
        self.lesion_table.blockSignals(True)
        resize = self.lesion_table.rowCount() != len(rows)
        self.lesion_table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            role = r.role + (" (node)" if r.is_nodal else "")
            for j, text in enumerate((r.lesion_id, role, r.organ, r.baseline, r.previous, r.current,
                                      r.state)):
                resize |= _set_text(self.lesion_table, i, j, text)
        if resize:
            self.lesion_table.resizeColumnsToContents()
        self.lesion_table.blockSignals(False)
        if selected:
            self.select_lesion(selected)
        responses = self.session.responses()
        date = self.session.current
        tag = "baseline" if date == self.session.baseline else \
            f"follow-up {self.session.dates.index(date)}"
        self.response_title.setText(f"<b>Responses at {date} ({tag})</b> — updated in "
                                    f"{self.session.last_update_ms:.0f} ms")
        resize = False
        for col, crit in enumerate(("recist1.1", "mrecist")):
            rec = responses.get(crit, {})
            for row, (_, name) in enumerate(RESPONSE_ROWS):
                value = rec.get(name)
                text = _fmt(value, pct=name.startswith("pct"))
                resize |= _set_text(self.response_table, row, col, text)
        if resize:
            self.response_table.resizeColumnsToContents()
        self.problem_label.setText(self.session.problem)
        self.warning_label.setText("\n".join(f"⚠ {w}" for w in self.session.warnings[:8]))

    def _say(self, text: str) -> None:
        self.problem_label.setText(text)

    # -- export -----------------------------------------------------------------------------
    def _choose_export(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export measurements and responses to")
        if folder:
            self.export(folder)

    def export(self, folder: str | Path, burden: Any = None,
               htb_scheme: str = "liu2022") -> dict[str, Path]:
        """measurements.csv (engine input), responses.csv and bor.csv (engine output); with a
        ``burden`` table (see :func:`response_tool.burden.read_burden_table`) the responses carry
        each time point's HTB."""
        assert self.session is not None
        out = Path(folder)
        paths = {"measurements": out / "measurements.csv", "responses": out / "responses.csv",
                 "bor": out / "bor.csv"}
        if self.session.result is None:
            raise ResponseToolError(f"no responses to export yet: {self.session.problem}")
        self.session.store.export_measurements_csv(paths["measurements"], [self.session.key])
        if burden is None:  # the burden estimates saved with the time points, if any
            saved = self.session.store.burden_frame([self.session.key])
            burden = saved if len(saved) else None
        # the read's own options, also when a burden table joins the responses
        result = self.session.result if burden is None else \
            self.session.assess_with_burden(burden, htb_scheme)
        result.to_csv(paths["responses"], paths["bor"])
        self._say(f"exported to {out}")
        return paths


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


def _rgba(name: str) -> list[float]:
    from napari.utils.colormaps.standardize_color import transform_color

    return list(transform_color(name)[0])
