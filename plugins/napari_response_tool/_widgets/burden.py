"""Burden panel: semi-quantitative hepatic tumour burden on 4–6 proposed axial slices.

The reader marks the liver's first and last slice (or lets the panel take them from an outline),
the panel proposes slices spread evenly between them, and the reader outlines the liver (label 1)
and its tumours (label 2) on those slices in a labels layer on the image grid — *Assist liver*
grows the liver outline on the slice on screen from the cursor (SimpleITK, editable), and
*Tumours from annotated lesions* starts tumour outlines from the measured lesions on the slices
whose liver is outlined. The panel shows the area per slice, the running HTB % with its bootstrap
interval and the category under the chosen scheme, and *Save* stores the estimate with the time
point in the read store.
"""

from __future__ import annotations

import html
import time
from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtWidgets import (
    QComboBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from response_tool import burden
from response_tool.domain.errors import ResponseToolError
from response_tool.domain.vocabulary import Organ, Phase

from .._context import ViewerContext

if TYPE_CHECKING:
    import napari

LIVER, TUMOUR = burden.LIVER_LABEL, burden.TUMOUR_LABEL


def slice_numbers(*slices: int) -> str:
    """Slice indices as the reader sees them: numbered from 1, as each pane's text says
    "slice N" (``_hanging.pane_text``). The panel keeps indices from 0, as the read store, the
    ``burden`` command and the exports do."""
    return ", ".join(str(int(z) + 1) for z in slices)


class BurdenPanel(QWidget):
    """Dock widget (see the module docstring)."""

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.context = ViewerContext.of(napari_viewer)  # the read, its time point and images
        self.first: int | None = None
        self.last: int | None = None
        self.slices: tuple[int, ...] = ()
        self.estimate: burden.BurdenEstimate | None = None
        self.last_update_ms = 0.0
        self._outlines: dict[str, Any] = {}

        self.scheme_box = QComboBox()
        self.scheme_box.addItems(list(burden.SCHEMES))
        self.scheme_box.currentTextChanged.connect(lambda _: self.update_estimate())
        self.n_box = QSpinBox()
        self.n_box.setRange(4, 6)
        self.n_box.setValue(5)
        first_button = QPushButton("Liver starts here")
        first_button.clicked.connect(lambda: self.set_extent(first=self._current_z()))
        last_button = QPushButton("Liver ends here")
        last_button.clicked.connect(lambda: self.set_extent(last=self._current_z()))
        propose_button = QPushButton("Propose slices")
        propose_button.clicked.connect(lambda: self.propose())
        assist_button = QPushButton("Assist liver at cursor")
        assist_button.clicked.connect(self._assist_at_cursor)
        move_button = QPushButton("Move selected slice here")
        move_button.clicked.connect(self._move_selected_here)
        lesions_button = QPushButton("Tumours from annotated lesions")
        lesions_button.clicked.connect(lambda: self.tumours_from_lesions())
        save_button = QPushButton("Save to read")
        save_button.clicked.connect(self.save)
        self.visual_box = QComboBox()
        self._fill_visual(self.scheme_box.currentText())
        self.scheme_box.currentTextChanged.connect(self._fill_visual)
        visual_button = QPushButton("Save visual estimate")
        visual_button.clicked.connect(lambda: self.save_visual(self.visual_box.currentText()))
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Slice", "Liver mm²", "Tumour mm²"])
        self.table.verticalHeader().setVisible(False)
        self.table.cellDoubleClicked.connect(lambda row, _c: self.go_to_slice(self.slices[row]))
        self.result_label = QLabel("Mark the liver's first and last slice, then propose slices.")
        self.result_label.setWordWrap(True)

        grid = QGridLayout()
        grid.addWidget(QLabel("Scheme:"), 0, 0)
        grid.addWidget(self.scheme_box, 0, 1)
        grid.addWidget(QLabel("Slices:"), 0, 2)
        grid.addWidget(self.n_box, 0, 3)
        grid.addWidget(first_button, 1, 0, 1, 2)
        grid.addWidget(last_button, 1, 2, 1, 2)
        grid.addWidget(propose_button, 2, 0, 1, 2)
        grid.addWidget(assist_button, 2, 2, 1, 2)
        grid.addWidget(move_button, 3, 0, 1, 2)
        grid.addWidget(lesions_button, 3, 2, 1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(QLabel("Outline on each proposed slice: label 1 liver, label 2 tumour "
                                "(double-click a row to go there)."))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.result_label)
        layout.addWidget(save_button)
        visual_row = QGridLayout()
        visual_row.addWidget(QLabel("Or by eye:"), 0, 0)
        visual_row.addWidget(self.visual_box, 0, 1)
        visual_row.addWidget(visual_button, 0, 2)
        layout.addLayout(visual_row)

    # -- the read ----------------------------------------------------------------------------
    def _date(self) -> str:
        """The read's current time point (raises with a message when no read is open)."""
        return self.context.require_session().current

    def _image(self) -> Any:
        images = self.context.images(self._date())
        portal = [x for x in images
                  if x.metadata["response_tool"].get("phase") == Phase.PORTAL_VENOUS]
        if not (portal or images):
            raise ResponseToolError("load this time point's images first")
        return (portal or images)[0]

    def outlines(self) -> Any:
        """The labels layer of the current time point's outlines (created on the image grid)."""
        date = self._date()
        if date not in self._outlines:
            image = self._image()
            layer = self.viewer.add_labels(
                np.zeros(image.data.shape, dtype=np.uint8), name=f"burden outlines {date}",
                scale=image.scale, translate=image.translate, units=("mm", "mm", "mm"),
                opacity=0.45)
            layer.events.paint.connect(lambda _e: self.update_estimate())
            layer.events.data.connect(lambda _e: self.update_estimate())
            self._outlines[date] = layer
        return self._outlines[date]

    def _current_z(self) -> int:
        image = self._image()
        return int(round(float(image.world_to_data(self.viewer.dims.point)[0])))

    def _seed_on_screen(self) -> tuple[int, tuple[int, int]]:
        """The slice on screen (the viewer's current point) and the cursor's row and column on
        it, read when the reader presses *Assist*. Not the z of the cursor's position, which need
        not be the slice shown (issue 23: the same slice grown five times after the reader had
        moved on)."""
        image = self._image()
        world = [float(v) for v in self.viewer.dims.point]
        cursor = [float(v) for v in self.viewer.cursor.position]
        if len(cursor) != len(world):
            raise ResponseToolError("no cursor position on this image yet: point at the liver on "
                                    "the canvas, then press Assist liver at cursor")
        for d in self.viewer.dims.displayed:
            world[d] = cursor[d]
        z, y, x = (int(round(float(v))) for v in image.world_to_data(world)[-3:])
        if not 0 <= z < image.data.shape[0]:
            raise ResponseToolError(f"the slice on screen is outside {image.name} (slices 1–"
                                    f"{image.data.shape[0]}): go to a slice of the liver")
        return z, (y, x)

    def _say(self, *lines: str) -> None:
        """Add lines to the result (they stay until the next change redraws the result)."""
        added = "".join(f"<br>{html.escape(line)}" for line in lines)
        self.result_label.setText(f"{self.result_label.text()}{added}")

    def go_to_slice(self, z: int) -> None:
        image = self._image()
        world = image.data_to_world((z, 0, 0))
        self.viewer.dims.set_point(0, float(world[0]))

    # -- steps -------------------------------------------------------------------------------
    def set_extent(self, first: int | None = None, last: int | None = None) -> None:
        if first is not None:
            self.first = int(first)
        if last is not None:
            self.last = int(last)
        ends = [slice_numbers(z) if z is not None else "?" for z in (self.first, self.last)]
        self.result_label.setText(f"Liver from slice {ends[0]} to {ends[1]}.")

    def propose(self, n: int | None = None) -> tuple[int, ...]:
        """Slices spread evenly over the liver: from the marked extent, or from the liver already
        outlined in the layer."""
        n = n or self.n_box.value()
        if self.first is not None and self.last is not None:
            self.slices = burden.propose_slices_between(self.first, self.last, n)
        else:
            data = np.asarray(self.outlines().data)
            if not data.any():
                self.result_label.setText("Mark the liver's first and last slice first.")
                return ()
            self.slices = burden.propose_slices(data > 0, n)
        self.update_estimate()
        if self.slices:
            self.go_to_slice(self.slices[0])
        return self.slices

    def assist_liver(self, z: int, seed_yx: tuple[int, int]) -> int:
        """Grow the liver outline on slice ``z`` from ``seed_yx``; keeps tumour already drawn."""
        image = self._image()
        grown = burden.grow_region_2d(np.asarray(image.data[z]), seed_yx)
        layer = self.outlines()
        data = np.asarray(layer.data)
        burden.paint_liver(data[z], grown, LIVER, TUMOUR)
        layer.data = data  # one undoable change; triggers the update
        return int(grown.sum())

    def move_slice(self, index: int, z: int) -> tuple[int, ...]:
        """The reader moves proposed slice ``index`` to slice ``z``."""
        slices = list(self.slices)
        slices[index] = int(z)
        self.slices = tuple(sorted(set(slices)))
        self.update_estimate()
        return self.slices

    def _move_selected_here(self) -> None:
        rows = self.table.selectionModel().selectedRows() if self.table.model() else []
        index = rows[0].row() if rows else self.table.currentRow()
        if 0 <= index < len(self.slices):
            self.move_slice(index, self._current_z())

    def tumours_from_lesions(self) -> int:
        """Start tumour outlines (label 2) on the proposed slices from the lesions measured at
        this time point: each an ellipsoid from its long (and short) axis, on the slices whose
        liver is outlined (label 1) only — a tumour alone on a slice would count as all of its
        liver. The panel names the lesions left out and where. Returns the number of slices
        drawn on; the reader edits the result."""
        session = self.context.session
        if session is None or not self.slices:
            self.result_label.setText("Propose slices first (with a read open in the Reading "
                                      "panel), then outline the liver on them.")
            return 0
        image = self._image()
        layer = self.outlines()
        data = np.asarray(layer.data)
        lesions = {les.lesion_id: les for les in session.lesions()}
        measured, names = [], []  # liver lesions measured now: (long-axis ends, world z y x mm;
        for m in session.store.measurements(session.key):  # short mm), and their ids
            les = lesions[m.lesion_id]
            if m.date != session.current or not m.long_endpoints or les.is_nodal \
                    or Organ.LIVER not in les.organ.lower():
                continue
            measured.append((np.asarray(m.long_endpoints, dtype=float), m.short_axis_mm))
            names.append(m.lesion_id)
        if not measured:
            self._say(f"No liver lesion with a long axis measured at {session.current}: measure "
                      "them in the Reading panel, or paint tumour (label 2) by hand.")
            return 0
        started = burden.tumours_from_diameters(
            data, self.slices, [float(image.data_to_world((z, 0, 0))[0]) for z in self.slices],
            measured, (float(image.scale[1]), float(image.scale[2])),
            (float(image.translate[1]), float(image.translate[2])), TUMOUR, liver_label=LIVER)
        layer.data = data  # one undoable change; triggers the update
        self._say(*_started_lines(started, names))
        return len(started.drawn)

    def _assist_at_cursor(self) -> None:
        """*Assist liver at cursor*: grow the liver on the slice on screen from the cursor."""
        try:
            z, seed = self._seed_on_screen()
            grown_px = self.assist_liver(z, seed)
            scale = self._image().scale
        except ResponseToolError as exc:
            self.result_label.setText(html.escape(str(exc)))
            return
        where = "" if z in self.slices else " (not a proposed slice)"
        self._say(f"Liver grown on slice {slice_numbers(z)}{where} from the cursor (row {seed[0]}, column "
                  f"{seed[1]}): {grown_px * float(scale[1] * scale[2]):.0f} mm².")

    def update_estimate(self) -> burden.BurdenEstimate | None:
        """Areas per proposed slice → HTB, bootstrap interval, category (timed)."""
        t0 = time.perf_counter()
        if not self.slices:
            return None
        self._date()  # finds the read (raises with a message when there is none)
        image = self._image()
        pixel_mm2 = float(image.scale[1] * image.scale[2])
        liver, tumour = burden.slice_areas_mm2(np.asarray(self.outlines().data), self.slices,
                                               pixel_mm2, LIVER, TUMOUR)
        self.table.setRowCount(len(self.slices))
        for i, (z, la, ta) in enumerate(zip(self.slices, liver, tumour, strict=True)):
            for j, text in enumerate((slice_numbers(z), f"{la:.0f}", f"{ta:.0f}")):
                self.table.setItem(i, j, QTableWidgetItem(text))
        if not sum(liver):
            self.estimate = None
            self.result_label.setText("Outline the liver (label 1) and tumours (label 2) on the "
                                      f"proposed slices {slice_numbers(*self.slices)}.")
        else:
            self.estimate = burden.semi_quantitative(liver, tumour, self.scheme_box.currentText(),
                                                     slices=self.slices)
            e = self.estimate
            outlined = sum(1 for a in liver if a > 0)
            ci = f" (95 % CI {e.ci95_pct[0]:.1f}–{e.ci95_pct[1]:.1f})" if e.ci95_pct else ""
            alone = [z for z, la, ta in zip(self.slices, liver, tumour, strict=True) if ta and ta == la]
            warn = (f"<br>⚠ slice {slice_numbers(*alone)}: tumour (label 2) but no liver "
                    "(label 1) outlined — counted as all of the liver there; outline the liver "
                    "on it") if alone else ""
            self.result_label.setText(
                f"<b>HTB {e.htb_pct:.1f} %</b>{ci} — <b>{html.escape(e.category)}</b> "
                f"({e.scheme}); {outlined} of {len(self.slices)} slices outlined{warn}")
        self.last_update_ms = (time.perf_counter() - t0) * 1000.0
        return self.estimate

    def _fill_visual(self, scheme: str) -> None:
        self.visual_box.clear()
        self.visual_box.addItems(list(burden.get_scheme(scheme).labels))

    def save_visual(self, category: str) -> burden.BurdenEstimate | None:
        """The reader's visual category for the current time point (method ``visual``)."""
        try:
            self._date()
            estimate = burden.visual(category, self.scheme_box.currentText())
            s = self.context.require_session()
            s.store.set_burden(s.key, s.current, estimate, expect=s.version)
        except ResponseToolError as exc:
            self.result_label.setText(str(exc))
            return None
        s.wrote_through_store()
        self.result_label.setText(f"visual estimate {html.escape(category)} "
                                  f"({estimate.scheme}) saved with {s.current}")
        return estimate

    def save(self) -> None:
        """Store the estimate with the current time point in the read store."""
        s = self.context.session
        if self.estimate is None or s is None:
            self.result_label.setText("nothing to save yet: outline the proposed slices")
            return
        try:
            s.store.set_burden(s.key, s.current, self.estimate, expect=s.version)
            s.wrote_through_store()
            series = self._image().metadata["response_tool"].get("series_instance_uid")
            if series:  # the outlines it was measured on, kept with the read (dicom-export: SEG)
                s.store.set_burden_outlines(s.key, s.current, series,
                                            np.asarray(self.outlines().data), expect=s.version)
                s.wrote_through_store()
        except ResponseToolError as exc:  # changed in another window: say so, nothing lost here
            self.result_label.setText(str(exc))
            return
        self._say(f"Saved with {s.current}.")


def _started_lines(started: burden.TumourStarts, names: list[str]) -> list[str]:
    """What *Tumours from annotated lesions* drew, and which lesions it left out where."""
    parts = []
    if started.drawn:
        parts.append(f"Tumours started on slice(s) {slice_numbers(*sorted(started.drawn))} "
                     "from the lesions' diameters: check and edit them.")
    left: dict[str, list[int]] = {}
    for k, z in started.without_liver:
        left.setdefault(names[k], [])
        if z not in left[names[k]]:
            left[names[k]].append(z)
    if left:
        where = "; ".join(f"{name} on slice(s) {slice_numbers(*sorted(zs))}"
                          for name, zs in left.items())
        parts.append(f"⚠ Not drawn — no liver outline there yet: {where}. Outline the liver on "
                     "those slices first (label 1, or Assist liver at cursor), then press "
                     "Tumours from annotated lesions again.")
    if not parts:
        parts.append("No measured liver lesion reaches the proposed slices: paint tumour "
                     "(label 2) by hand where there is any.")
    return parts
