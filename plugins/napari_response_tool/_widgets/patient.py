"""Patient panel: open a patient folder, list its studies and series with the detected contrast
phase (overridable), and load series as layers in millimetres with a CT window.

Both phases of a study share patient coordinates, so in grid mode ("side by side") the slice slider
moves both at the same physical position.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QObject, Qt, Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from response_tool.domain.errors import ResponseToolError
from response_tool.io import PHASES, DicomScan, SeriesInfo, StudyInfo, load_series, scan_dicom

from .._context import ViewerContext
from .._layers import (
    DEFAULT_WINDOW,
    WINDOW_PRESETS,
    ImageRecord,
    complete_layer,
    stacking_key,
    volume_layer_data,
)
from .._loading import load_steps
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


class _Life:
    """Whether a panel still lives, told by its ``destroyed`` signal; on closing, the load that
    may be running is stopped at its next step."""

    def __init__(self, panel: QObject) -> None:
        self.closed = False
        #: the running load's worker and its first-slice event (the panel's own attributes
        #: cannot be read once it is deleted)
        self.worker: Any = None
        self.shown: threading.Event | None = None
        panel.destroyed.connect(self.close)

    def close(self, *_args: Any) -> None:
        self.closed = True
        if self.worker is not None:
            self.worker.quit()
        if self.shown is not None:
            self.shown.set()  # a worker waiting for its first slice to be shown goes on, and stops


class _Progress(QObject):
    """Carries a worker thread's progress (description, done, total) to the UI thread."""

    moved = Signal(str, int, int)


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
        mask_button = QPushButton("Open mask…")
        mask_button.setToolTip("A DICOM SEG, NIfTI or NRRD mask as a labels layer on its series")
        mask_button.clicked.connect(self._choose_mask)

        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        self.tree.itemDoubleClicked.connect(
            lambda item, _col: self.load_items([item], background=True))

        load_button = QPushButton("Load selected")
        load_button.clicked.connect(
            lambda: self.load_items(self.tree.selectedItems(), background=True))
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
        self.progress_bar = QProgressBar()
        self.progress_bar.setVisible(False)
        self._progress = _Progress()
        self._progress.moved.connect(self._show_progress)
        #: set when the panel is closed (its viewer closed) while a load may still be running —
        #: a plain object: Qt does not call a slot of the widget being destroyed
        self._life = _Life(self)
        #: the worker loading series now (None: none); timings of the last background load
        self.worker = None
        self.load_timing: dict[str, float] = {}

        top = QHBoxLayout()
        top.addWidget(open_button)
        top.addWidget(self.path_label, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(load_button)
        buttons.addWidget(pair_button)
        buttons.addWidget(mask_button)
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
        layout.addWidget(self.progress_bar)
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

    # -- masks -------------------------------------------------------------------------------
    def _choose_mask(self) -> None:
        from .._masks import MASK_FILTER

        path, _ = QFileDialog.getOpenFileName(self, "Open mask (SEG, NIfTI, NRRD)",
                                              str(self.folder or ""), MASK_FILTER)
        if path:
            self.open_mask(path)

    def open_mask(self, path: str | Path) -> Any:
        """The mask at ``path`` as a labels layer on its series (``_masks.open_mask``). A SEG
        whose series is in the open folder but not on screen loads it first (in the
        background; the layer follows): returns the labels layer, or None (loading, or an error,
        which is the status line)."""
        from .._masks import referenced_series, series_shown

        series = referenced_series(path)
        wanted = [s for (uid, _sub), s in self._series_by_uid.items() if uid == series]
        if wanted and not series_shown(self.viewer, series):
            self.status.setText(f"Loading the series {Path(path).name} was drawn on …")
            self.load_series_async(wanted[:1], done=lambda: self._open_mask_now(path))
            return None
        return self._open_mask_now(path)

    def _open_mask_now(self, path: str | Path) -> Any:
        from .._masks import open_mask, opened_text

        try:
            layer = open_mask(self.viewer, path)
        except ResponseToolError as exc:
            self.status.setText(str(exc))
            _notify_error(str(exc))
            return None
        self.status.setText(opened_text(layer))
        return layer

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

    def load_items(self, items: list[QTreeWidgetItem], background: bool = False) -> None:
        series = [s for s in (self.series_for(i) for i in items) if s is not None]
        if background:
            self.load_series_async(series)
        else:
            self.load_series(series)

    def _load_reading_pair_of_selection(self) -> None:
        items = self.tree.selectedItems()
        studies = self.studies()
        study = studies[0] if studies else None
        if items:
            top = items[0] if items[0].parent() is None else items[0].parent()
            study = studies[self.tree.indexOfTopLevelItem(top)]
        if study is not None:
            self.load_study_async(study)

    def _reading_series(self, study: StudyInfo) -> list[SeriesInfo]:
        current = [self._series_by_uid.get((s.series_instance_uid, s.sub_series), s)
                   for s in study.series]
        return reading_series(dataclasses.replace(study, series=tuple(current)))

    def load_study(self, study: StudyInfo) -> None:
        """Load the arterial and portal-venous series of ``study`` (all series if undetected)."""
        self.load_series(self._reading_series(study))

    def load_study_async(self, study: StudyInfo, done: Any = None) -> Any:
        """:meth:`load_study` off the UI thread (see :meth:`load_series_async`)."""
        return self.load_series_async(self._reading_series(study), done)

    def load_series_async(self, series: list[SeriesInfo], done: Any = None) -> Any:
        """Load ``series`` in a napari thread worker (:mod:`napari_response_tool._loading`):
        each series' displayed slice appears first, then the whole series replaces it; a
        progress bar counts the slices; the UI stays responsive. ``done()`` is called on the UI
        thread when every series is in. Returns the worker."""
        from napari.qt.threading import thread_worker

        if self.closed:
            return None
        ordered = sorted(series, key=lambda s: stacking_key(s.phase.phase))
        shown = [x for x in self.viewer.layers if ImageRecord.of(x) is not None]
        z = float(self.viewer.dims.point[0]) if shown else None
        window = self.window_box.currentText()
        self.progress_bar.setRange(0, max(1, sum(s.n_slices for s in ordered)))
        self.progress_bar.setValue(0)
        self.progress_bar.setVisible(True)
        self.status.setText(f"Loading {len(ordered)} series …")
        layers: dict[str, Any] = {}
        self.load_timing = {}
        start = time.perf_counter()
        self._shown = threading.Event()  # the first slice is on screen: the worker reads on
        worker = thread_worker(load_steps, start_thread=False)(ordered, z, self._progress.moved.emit,
                                                               self._shown)
        worker.yielded.connect(lambda step: self.closed or self._loaded_step(step, window, layers,
                                                                             start))
        worker.finished.connect(lambda: self.closed or self._load_finished(ordered, start, done))
        self.worker = self._life.worker = worker
        self._life.shown = self._shown
        self._offset = 0
        worker.start()
        return worker

    @property
    def closed(self) -> bool:
        """The panel was closed: a load still running is not shown (its widgets are gone)."""
        return self._life.closed

    def _loaded_step(self, step: tuple[str, Any, Any], window: str, layers: dict[str, Any],
                     start: float) -> None:
        what, info, payload = step
        key = f"{info.series_instance_uid}/{info.sub_series}"
        if what == "error":
            self.status.setText(payload)
            _notify_error(payload)
        elif what == "first":
            try:
                # one slice of it so far: nothing may measure or register on it yet
                layers[key] = self._add_volume(payload, window, partial=True)
                self.load_timing.setdefault("first_slice_s", time.perf_counter() - start)
            finally:
                self._shown.set()
        elif key in layers:  # the whole series in place of its displayed slice
            complete_layer(layers[key], payload)
        else:
            layers[key] = self._add_volume(payload, window)
            self.load_timing.setdefault("first_slice_s", time.perf_counter() - start)
        if what == "full":
            self._offset += info.n_slices
            self.progress_bar.setValue(self._offset)

    def _show_progress(self, description: str, done: int, total: int) -> None:
        if self.closed:
            return
        self.progress_bar.setValue(self._offset + done)
        self.status.setText(f"Loading {description}: {done} / {total} slices …")

    def _load_finished(self, series: list[SeriesInfo], start: float, done: Any) -> None:
        self.load_timing["full_s"] = time.perf_counter() - start
        self.progress_bar.setVisible(False)
        self.worker = None
        self.status.setText(f"Loaded {len(series)} series in {self.load_timing['full_s']:.1f} s "
                            f"(first slice on screen after "
                            f"{self.load_timing.get('first_slice_s', float('nan')):.2f} s).")
        if done is not None:
            done()

    def _add_volume(self, volume: Any, window: str, partial: bool = False) -> Any:
        """One loaded series as an image layer in millimetres, made as the File ▸ Open reader
        makes it (:func:`~napari_response_tool._layers.volume_layer_data`: warnings in its name,
        its record with the volume for click-to-measure)."""
        data, kwargs, _ = volume_layer_data(volume, window=window, partial=partial)
        if volume.warnings:  # e.g. missing slices resampled: every number from it carries it
            _notify_warning(f"{volume.series.description}: " + "; ".join(volume.warnings))
        return self.viewer.add_image(data, **kwargs)

    def load_series(self, series: list[SeriesInfo]) -> None:
        """Load ``series`` now, on this thread (scripts, tests; the buttons load in the
        background: :meth:`load_series_async`)."""
        window = self.window_box.currentText()
        warned: list[str] = []
        for s in sorted(series, key=lambda s: stacking_key(s.phase.phase)):
            self.status.setText(f"Loading {s.description} ({s.n_slices} slices) …")
            try:
                volume = load_series(s)
            except ResponseToolError as exc:
                self.status.setText(str(exc))
                _notify_error(str(exc))
                continue
            if volume.warnings:
                warned.append(f"{s.description}: " + "; ".join(volume.warnings))
            self._add_volume(volume, window)
        self.status.setText(f"Loaded {len(series)} series." + "".join(f"\n⚠ {w}" for w in warned))

    # -- display -----------------------------------------------------------------------------
    def apply_window(self, name: str) -> None:
        """Apply a window preset to every image layer loaded from DICOM."""
        limits = WINDOW_PRESETS[name].contrast_limits
        for layer in self.viewer.layers:
            record = ImageRecord.of(layer)
            # CT windows only on CT: MR keeps the window from its own statistics
            if record is not None and record.is_ct:
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
