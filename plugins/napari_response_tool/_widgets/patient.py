"""Patient panel: open a patient folder, list its studies and series with the detected contrast
phase (overridable), and load series as layers in millimetres with a CT window.

Both phases of a study share patient coordinates, so in grid mode ("side by side") the slice slider
moves both at the same physical position.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from response_tool.domain.errors import ResponseToolError
from response_tool.domain.vocabulary import Phase
from response_tool.io import PHASES, DicomScan, SeriesInfo, StudyInfo, load_series, scan_dicom

from .._context import ViewerContext
from .._layers import DEFAULT_WINDOW, WINDOW_PRESETS, volume_layer_data
from .._reader import reading_series

if TYPE_CHECKING:
    import napari

COLUMNS = ("Series", "Phase", "Slices", "Spacing z,y,x (mm)")
_SERIES_ROLE = Qt.ItemDataRole.UserRole


def _notify_error(message: str) -> None:
    from napari.utils.notifications import show_error

    show_error(message)


def _notify_warning(message: str) -> None:
    from napari.utils.notifications import show_warning

    show_warning(message)


class PatientPanel(QWidget):
    """Dock widget listing a patient's studies (baseline first) and their series."""

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.context = ViewerContext.of(napari_viewer)
        self.context.register_patient(self)  # the Reading panel takes the studies from here
        self.scan: DicomScan | None = None
        #: the patient folder open (None until one is)
        self.folder: Path | None = None
        self._series_by_uid: dict[tuple[str, int], SeriesInfo] = {}

        self.path_label = QLabel("No patient folder open.")
        self.path_label.setWordWrap(True)
        open_button = QPushButton("Open folder…")
        open_button.clicked.connect(self._choose_folder)

        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        self.tree.itemDoubleClicked.connect(lambda item, _col: self.load_items([item]))

        load_button = QPushButton("Load selected")
        load_button.clicked.connect(lambda: self.load_items(self.tree.selectedItems()))
        pair_button = QPushButton("Load arterial + portal-venous")
        pair_button.clicked.connect(self._load_reading_pair_of_selection)

        self.window_box = QComboBox()
        self.window_box.addItems(list(WINDOW_PRESETS))
        self.window_box.setCurrentText(DEFAULT_WINDOW)
        self.window_box.currentTextChanged.connect(self.apply_window)
        self.side_by_side = QCheckBox("Side by side")
        self.side_by_side.toggled.connect(self._set_grid)

        self.status = QLabel("")
        self.status.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(open_button)
        top.addWidget(self.path_label, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(load_button)
        buttons.addWidget(pair_button)
        view = QHBoxLayout()
        view.addWidget(QLabel("Window:"))
        view.addWidget(self.window_box)
        view.addWidget(self.side_by_side)
        view.addStretch(1)

        self.setMinimumWidth(440)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        layout.addLayout(view)
        layout.addWidget(self.status)

    # -- opening ---------------------------------------------------------------------------
    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open patient folder")
        if folder:
            self.open_folder(folder)

    def open_folder(self, folder: str | Path) -> DicomScan | None:
        """Scan ``folder`` (headers only) and list its studies, earliest (baseline) first."""
        self.status.setText(f"Scanning {folder} …")
        try:
            scan = scan_dicom(folder)
        except ResponseToolError as exc:
            self.status.setText(str(exc))
            _notify_error(str(exc))
            return None
        self.scan = scan
        self.folder = Path(folder)
        self.path_label.setText(str(folder))
        self._fill_tree(scan)
        n_series = sum(len(s.series) for s in scan.studies)
        note = f"; {len(scan.skipped)} file(s) skipped" if scan.skipped else ""
        self.status.setText(f"{len(scan.studies)} studies, {n_series} series{note}.")
        return scan

    def studies(self) -> list[StudyInfo]:
        """Studies of the open folder, in date order (the first is the baseline)."""
        if self.scan is None:
            return []
        return sorted(
            self.scan.studies, key=lambda s: (s.study_date is None, s.study_date or 0)
        )

    def _fill_tree(self, scan: DicomScan) -> None:
        self.tree.clear()
        self._series_by_uid.clear()
        for i, study in enumerate(self.studies()):
            date = study.study_date.isoformat() if study.study_date else "undated"
            label = f"{date}{'  baseline' if i == 0 else f'  follow-up {i}'}"
            study_item = QTreeWidgetItem([label, "", "", ""])
            study_item.setToolTip(0, f"{study.description}\n{study.study_instance_uid}")
            self.tree.addTopLevelItem(study_item)
            for series in study.series:
                self._add_series_item(study_item, series)
            study_item.setExpanded(True)
        for col in range(len(COLUMNS)):
            self.tree.resizeColumnToContents(col)
        self.tree.setColumnWidth(1, 130)

    def _add_series_item(self, parent: QTreeWidgetItem, series: SeriesInfo) -> None:
        spacing = ", ".join(f"{v:.2f}" for v in series.spacing_zyx_mm)
        name = series.description or series.series_instance_uid
        if series.warnings:
            name = f"⚠ {name}"
        item = QTreeWidgetItem([name, "", str(series.n_slices), spacing])
        item.setToolTip(0, "\n".join([series.series_instance_uid, *series.warnings]))
        key = (series.series_instance_uid, series.sub_series)
        self._series_by_uid[key] = series
        item.setData(0, _SERIES_ROLE, key)
        item.setToolTip(1, "\n".join(series.phase.evidence))
        parent.addChild(item)
        phase_box = QComboBox()
        phase_box.addItems(list(PHASES))
        phase_box.setCurrentText(series.phase.phase)
        phase_box.setToolTip("Detected: " + "\n".join(series.phase.evidence))
        phase_box.currentTextChanged.connect(lambda text, k=key: self.override_phase(k, text))
        self.tree.setItemWidget(item, 1, phase_box)

    def override_phase(self, key: tuple[str, int], phase: str) -> None:
        """Record the reader's phase for one series (the evidence keeps the override)."""
        series = self._series_by_uid[key]
        if phase != series.phase.phase:
            self._series_by_uid[key] = series.with_phase(phase, reason="set by the reader")

    # -- loading ---------------------------------------------------------------------------
    def series_for(self, item: QTreeWidgetItem) -> SeriesInfo | None:
        key = item.data(0, _SERIES_ROLE)
        return self._series_by_uid.get(tuple(key)) if key else None

    def load_items(self, items: list[QTreeWidgetItem]) -> None:
        series = [s for s in (self.series_for(i) for i in items) if s is not None]
        self.load_series(series)

    def _load_reading_pair_of_selection(self) -> None:
        items = self.tree.selectedItems()
        studies = self.studies()
        study = studies[0] if studies else None
        if items:
            top = items[0] if items[0].parent() is None else items[0].parent()
            study = studies[self.tree.indexOfTopLevelItem(top)]
        if study is not None:
            self.load_study(study)

    def load_study(self, study: StudyInfo) -> None:
        """Load the arterial and portal-venous series of ``study`` (all series if undetected)."""
        current = [self._series_by_uid.get((s.series_instance_uid, s.sub_series), s)
                   for s in study.series]
        chosen = reading_series(dataclasses.replace(study, series=tuple(current)))
        self.load_series(chosen)

    def load_series(self, series: list[SeriesInfo]) -> None:
        window = self.window_box.currentText()
        # portal-venous first, arterial last: the last layer is drawn on top.
        order = {Phase.PORTAL_VENOUS: 0, Phase.ARTERIAL: 1}
        warned: list[str] = []
        for s in sorted(series, key=lambda s: order.get(s.phase.phase, -1)):
            self.status.setText(f"Loading {s.description} ({s.n_slices} slices) …")
            try:
                volume = load_series(s)
            except ResponseToolError as exc:
                self.status.setText(str(exc))
                _notify_error(str(exc))
                continue
            data, kwargs, _ = volume_layer_data(volume, window=window)
            if volume.warnings:  # e.g. missing slices resampled: every number from it carries it
                kwargs["name"] = f"{kwargs['name']} ⚠"
                warned.append(f"{s.description}: " + "; ".join(volume.warnings))
                _notify_warning(warned[-1])
            kwargs["metadata"]["response_tool"]["volume"] = volume  # for click-to-measure
            self.viewer.add_image(data, **kwargs)
        self.status.setText(f"Loaded {len(series)} series." + "".join(f"\n⚠ {w}" for w in warned))

    # -- display -----------------------------------------------------------------------------
    def apply_window(self, name: str) -> None:
        """Apply a window preset to every image layer loaded from DICOM."""
        limits = WINDOW_PRESETS[name].contrast_limits
        for layer in self.viewer.layers:
            meta = getattr(layer, "metadata", {}).get("response_tool")
            # CT windows only on CT: MR keeps the window from its own statistics
            if meta is not None and (meta.get("modality") or "CT").upper() == "CT":
                layer.contrast_limits = limits

    def _set_grid(self, on: bool) -> None:
        self.viewer.canvas.grid.enabled = bool(on)
        self._label_grid()
        self.viewer.reset_view()

    def _label_grid(self) -> None:
        """Name the panes in side-by-side mode (pane k shows layer k of the layer list)."""
        overlay = self.viewer.canvas.overlays.text
        names = [layer.name for layer in self.viewer.layers]
        overlay.text = "   |   ".join(f"{i + 1}: {n}" for i, n in enumerate(names))
        overlay.visible = bool(self.viewer.canvas.grid.enabled and names)
        overlay.position = "top_center"
        overlay.font_size = 11
