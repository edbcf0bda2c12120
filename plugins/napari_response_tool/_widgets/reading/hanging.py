"""The hanging protocol in the viewer: at a follow-up, the prior study (left pane, its lines
read-only) beside the current one (right pane), each in its arterial or portal-venous phase.

The decisions are Qt-free (:mod:`napari_response_tool._hanging`); this module only moves layers:

* the two panes are napari's grid, the layers ordered in two blocks (:func:`grid_order`): one
  camera, so zoom and pan are linked; one slice slider, and the prior is shifted by the
  registration (when the core stored one) so the slider shows the same anatomy in both panes;
* the window is linked: changing one CT image's window sets it on every CT image of the read;
* one key swaps the phase of both panes (:meth:`HangingProtocol.toggle_phase`);
* the prior's lines are copied onto a ``prior lines`` layer that is read-only (an edit there is
  undone, and the reader told), labelled like the current ones;
* each pane says which study, series and phase it shows, its window and the slice position in
  the study's own millimetres, with the orientation letters at its edges
  (:mod:`napari_response_tool._pane_overlay`); a scale bar in mm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from response_tool.domain.vocabulary import DiameterKind, Phase
from response_tool.reading.events import MeasurementChanged, RegistrationSaved

from ..._batch import batched, set_visible
from ..._context import unwrap
from ..._hanging import (
    grid_order,
    orientation_letters,
    pane_text,
    prior_date,
    prior_shift_zyx,
    shifted_placement,
    time_point_tag,
    top_letter_position,
    window_of,
)
from ..._layers import AUTO_WINDOW, WINDOW_PRESETS
from ..._pane_overlay import hide_pane_texts, set_pane_texts
from .annotation_kinds import COLORS, LINE_TEXT, WIDTHS, lesion_labels

if TYPE_CHECKING:
    from .panel import ReadingPanel

_META = "response_tool"
MM = ("mm", "mm", "mm")


def _key(layer: Any) -> int:
    """A layer's identity, the same for the layer and napari's proxy of it."""
    return id(unwrap(layer))


def _meta(layer: Any) -> dict[str, Any]:
    return getattr(layer, "metadata", {}).get(_META, {})


def _phase_order(layer: Any) -> int:  # portal-venous below, arterial above
    return {Phase.PORTAL_VENOUS: 0, Phase.ARTERIAL: 1}.get(_meta(layer).get("phase"), -1)


class HangingProtocol:
    """Prior | current of one Reading panel (see the module docstring)."""

    def __init__(self, panel: ReadingPanel) -> None:
        self.panel = panel
        self.viewer = panel.viewer
        #: the phase shown in both panes
        self.phase: str = Phase.ARTERIAL
        #: the study in the left pane (None: one pane)
        self.prior: str | None = None
        self.shift = np.zeros(3)
        self._prior_lines: Any = None
        self._prior_shown: Any = None  # what the prior lines layer shows (skip a same refill)
        self._filling = False
        self._pads: list[Any] = []
        self._placement: dict[int, dict[str, Any]] = {}  # id(layer) → its own placement
        self._linking = False
        self._linked: set[int] = set()
        panel.window_box.addItems([*WINDOW_PRESETS, AUTO_WINDOW])
        panel.window_box.currentTextChanged.connect(self.set_window)
        panel.hanging_box.toggled.connect(lambda _on: self.apply())
        panel.prior_box.currentTextChanged.connect(lambda _mode: self.apply())
        self.viewer.dims.events.point.connect(self._on_slice)
        # a resized canvas may make the panes too narrow for the top letter beside the pane text
        self.viewer.canvas.events.size.connect(self._on_slice)
        self.viewer.scale_bar.visible = True
        self.viewer.scale_bar.gridded = True

    # -- the reader's controls -----------------------------------------------------------------
    def toggle(self) -> None:
        self.panel.hanging_box.setChecked(not self.panel.hanging_box.isChecked())

    def toggle_prior(self) -> None:
        box = self.panel.prior_box
        box.setCurrentIndex(1 - box.currentIndex())

    def next_window(self) -> None:
        box = self.panel.window_box
        box.setCurrentIndex((box.currentIndex() + 1) % box.count())

    def toggle_phase(self) -> None:
        """Arterial ↔ portal-venous in both panes."""
        self.phase = Phase.PORTAL_VENOUS if self.phase == Phase.ARTERIAL else Phase.ARTERIAL
        with batched(self.viewer):
            self._show_phase()
        self.panel.say(f"both panes: {self.phase}")

    def set_window(self, name: str) -> None:
        """A window preset on every CT image of the read (MR images: their own automatic window)."""
        if name not in WINDOW_PRESETS:
            return
        self._linking = True
        try:
            for layer in self.panel.context.images():
                if (_meta(layer).get("modality") or "CT").upper() == "CT":
                    layer.contrast_limits = WINDOW_PRESETS[name].contrast_limits
        finally:
            self._linking = False
        self._update_texts()

    # -- laying out the panes ------------------------------------------------------------------
    def apply(self) -> None:
        """Lay out the panes for the current time point (one pane at the baseline or when off):
        the layers moved and hidden in one scene update, then the grid (napari must not change
        its panes inside a batch: their overlays would be placed in panes not built yet), then
        each pane's phase."""
        if self.panel.session is None:
            return
        with batched(self.viewer):
            stride = self.lay_out()
        self.finish(stride)

    def lay_out(self) -> int | None:
        """Place, hide and order the layers (call inside a :func:`batched`, then :meth:`finish`
        outside it); the grid's stride for two panes (None: one pane)."""
        return None if self.panel.session is None else self._lay_out()

    def finish(self, stride: int | None) -> None:
        """The grid for ``stride`` (see :meth:`lay_out`) and each pane's phase."""
        grid = self.viewer.canvas.grid
        if stride is None:
            if grid.enabled and tuple(grid.shape) == (1, 2):
                # one pane: the grid off, its shape and stride kept (each change of either
                # rebuilds napari's panes: three scene updates per switch where one will do)
                grid.enabled = False
                self.viewer.reset_view()
        else:
            # a fixed shape: napari rebuilds its panes whenever the grid's shape changes, and a
            # pane built while the layers are being moved starts with a degenerate size (napari
            # 0.9: the view came up ~100x zoomed in); other panels' visible layers share the panes
            if tuple(grid.shape) != (1, 2):
                grid.shape = (1, 2)
            if grid.stride != stride:
                grid.stride = stride
            if not grid.enabled:
                grid.enabled = True
                self.viewer.reset_view()
        with batched(self.viewer):
            self._show_phase()

    def _lay_out(self) -> int | None:
        """Place, hide and order the layers; the grid's stride for two panes (None: one)."""
        panel, session = self.panel, self.panel.session
        context, current = panel.context, session.current
        on = panel.hanging_box.isChecked()
        prior = prior_date(session.dates, current, panel.prior_box.currentText()) if on else None
        if prior is not None:
            context.ensure_images(prior)
            if not context.images(prior):
                prior = None
        self.prior = prior
        self._register_in_background(current, prior)  # each as soon as its images are in
        for layer in context.images():
            self._link_window(layer)
        current_images = sorted(context.images(current), key=_phase_order)
        if prior is None:
            self._place(list(context.images()), np.zeros(3))
            if self._prior_lines is not None:
                set_visible(self._prior_lines, False)
            shown = {_key(x) for x in current_images}
            for layer in context.images():  # one pane: only the current study's images
                if _key(layer) not in shown:
                    set_visible(layer, False)
            return None
        prior_images = sorted(context.images(prior), key=_phase_order)
        self.shift = self._shift(prior, current)
        prior_keys = {_key(x) for x in prior_images}
        self._place([x for x in context.images() if _key(x) not in prior_keys], np.zeros(3))
        self._place(prior_images, self.shift)
        lines = self._fill_prior_lines(prior)
        annotations = panel.annotations
        right = [*current_images, annotations.lines.layer(current),
                 annotations.marks.layer(current)]
        for extra in (panel.station.proposal_layer, panel.locator.marker_layer):
            if extra is not None and extra in self.viewer.layers:
                right.append(extra)  # proposals, predicted position: on the current study
        left = [*prior_images, lines]
        ours = {_key(x) for x in [*context.images(), *annotations.lines.layers.values(),
                                  *annotations.marks.layers.values(), *self._pads, lines,
                                  *right]}
        in_panes = {_key(x) for x in [*left, *right]}
        hidden = [x for x in self.viewer.layers if _key(x) in ours and _key(x) not in in_panes]
        for layer in hidden:
            set_visible(layer, False)
        others = [x for x in self.viewer.layers if _key(x) not in ours]
        plan = grid_order(left, right, hidden, others, pad=self._pad)
        self._reorder(plan.order)
        return plan.stride

    # -- the session's events ------------------------------------------------------------------
    def on_measurement(self, change: MeasurementChanged) -> None:
        """A measurement of the prior changed (an undo reaching back to it): its read-only lines
        follow. The current study's lines are the annotation layers' (:mod:`.annotations`)."""
        if self.prior is not None and change.date == self.prior and self._prior_lines is not None:
            self._fill_prior_lines(self.prior)

    def on_registration(self, saved: RegistrationSaved) -> None:
        """A registration was saved (in the background, or a correction): the prior follows."""
        self.reshift()

    def reshift(self) -> None:
        """A registration came in: only the prior's shift changes (its images and read-only
        lines move onto the current's anatomy) — not the whole layout, which costs a few hundred
        ms of UI time that the reader would feel as a freeze."""
        session = self.panel.session
        if session is None or self.prior is None or not self.panel.hanging_box.isChecked():
            return
        shift = self._shift(self.prior, session.current)
        if np.allclose(shift, self.shift):
            return
        self.shift = shift
        self._place(sorted(self.panel.context.images(self.prior), key=_phase_order), shift)
        if self._prior_lines is not None and self._prior_lines in self.viewer.layers:
            self._prior_lines.translate = tuple(shift)
        self._update_texts()

    def _pad(self) -> Any:
        """An empty hidden layer holding a place in a pane's block (hidden layers of other time
        points are used first; this is only when there are none)."""
        pad = self.viewer.add_points(np.empty((0, 3)), ndim=3, name="·", visible=False,
                                     units=MM)
        self._pads.append(pad)
        return pad

    def _reorder(self, order: list[Any]) -> None:
        """The layer list in ``order`` (bottom to top), one move per misplaced layer."""
        layers = unwrap(self.viewer).layers
        for target, layer in enumerate(order):
            keys = [_key(x) for x in layers]
            here = keys.index(_key(layer))
            if here != target:
                layers.move(here, target)

    def _place(self, images: list[Any], shift: np.ndarray) -> None:
        for layer in images:
            base = self._placement.setdefault(_key(layer), (
                {"affine": np.asarray(layer.affine.affine_matrix)}
                if not np.allclose(layer.affine.affine_matrix, np.eye(4))
                else {"translate": tuple(float(v) for v in layer.translate)}))
            placed = shifted_placement(base, shift)
            if "affine" in placed:
                if not np.allclose(layer.affine.affine_matrix, placed["affine"]):
                    layer.affine = placed["affine"]
            elif not np.allclose(layer.translate, placed["translate"]):
                layer.translate = placed["translate"]

    def _shift(self, prior: str, current: str) -> np.ndarray:
        """World shift of the prior so that the slider shows the same anatomy in both panes: from
        the registrations the core stored with the read (identity when none)."""
        session = self.panel.session
        registration = getattr(session, "registration", None)
        if registration is None:
            return np.zeros(3)

        def mapping(date: str) -> Any:
            if date == session.baseline:
                return None
            reg = registration(date)
            return None if reg is None else reg.to_followup_mm

        return prior_shift_zyx(mapping(current), mapping(prior), self._centre())

    def _centre(self) -> np.ndarray:
        """Where the shift is taken: the middle of the baseline's lines, else of the image."""
        session = self.panel.session
        ends = [e for m in session.read.measurements if m.date == session.baseline
                for e in (m.long_endpoints or [])]
        if ends:
            return np.mean(np.asarray(ends, dtype=float), axis=0)
        images = self.panel.context.images(session.baseline)
        if images:
            extent = np.asarray(images[0].extent.world, dtype=float)
            return extent.mean(axis=0)
        return np.zeros(3)

    def _show_phase(self) -> None:
        """In each pane the image of :attr:`phase` (or the pane's only image) is visible."""
        context, session = self.panel.context, self.panel.session
        dates = [d for d in (self.prior, session.current if session else None) if d]
        for date in dates:
            images = context.images(date)
            chosen = [x for x in images if _meta(x).get("phase") == self.phase] or images[-1:]
            shown = {_key(x) for x in chosen}
            for layer in images:
                set_visible(layer, _key(layer) in shown)
        self._update_texts()

    # -- the prior's lines (read-only) ---------------------------------------------------------
    def _fill_prior_lines(self, prior: str) -> Any:
        """The prior's lines on the read-only layer, all in one addition — and not at all when
        it already shows them (a time point switch back and forth, Go to predicted)."""
        layer = self._prior_lines
        if layer is None or layer not in self.viewer.layers:
            layer = self.viewer.add_shapes(
                ndim=3, name="prior lines (read-only)", face_color="transparent", units=MM,
                features={"kind": np.array([], dtype=object), "label": np.array([], dtype=object)},
                text=LINE_TEXT)
            layer.events.data.connect(self._prior_edited)
            self._prior_lines = layer
            self._prior_shown = None
        rows, lines = [], []
        for m in self.panel.session.read.measurements:
            if m.date != prior:
                continue
            for kind in DiameterKind:
                ends = m.endpoints(kind)
                if ends:
                    length = float(np.linalg.norm(np.subtract(ends[-1], ends[0])))
                    rows.append((m.lesion_id, str(kind), length))
                    lines.append((kind, np.asarray(ends, dtype=float)))
        shown = (prior, tuple(rows), tuple(e.tobytes() for _, e in lines))
        if shown != self._prior_shown:
            self._filling = True
            try:
                layer.data = []
                if lines:
                    layer.feature_defaults = {"kind": str(lines[0][0]), "label": ""}
                    layer.add_lines([e for _, e in lines],
                                    edge_color=[COLORS[k] for k, _ in lines],
                                    edge_width=[WIDTHS[k] for k, _ in lines])
                    features = layer.features.copy()
                    features["kind"] = [str(k) for k, _ in lines]
                    features["label"] = lesion_labels(rows)
                    layer.features = features
            finally:
                self._filling = False
            self._prior_shown = shown
        if not np.allclose(layer.translate, self.shift):
            layer.translate = tuple(self.shift)
        set_visible(layer, True)
        return layer

    def _prior_edited(self, event: Any) -> None:
        if self._filling or self.prior is None:
            return
        if str(getattr(event, "action", "")).lower().endswith(("added", "changed", "removed")):
            self.panel.say(f"the prior ({self.prior}) is read-only: its lines are as measured")
            self._prior_shown = None  # put back as measured
            self._fill_prior_lines(self.prior)

    # -- linked window, pane texts -------------------------------------------------------------
    def _link_window(self, layer: Any) -> None:
        if _key(layer) in self._linked:
            return
        self._linked.add(_key(layer))
        layer.events.contrast_limits.connect(lambda _e, src=layer: self._window_changed(src))

    def _window_changed(self, source: Any) -> None:
        if self._linking:
            return
        modality = (_meta(source).get("modality") or "CT").upper()
        self._linking = True
        try:
            for layer in self.panel.context.images():
                if _key(layer) != _key(source) and (_meta(layer).get("modality") or "CT").upper() \
                        == modality == "CT":
                    layer.contrast_limits = source.contrast_limits
        finally:
            self._linking = False
        self._update_texts()

    def _on_slice(self, _event: Any = None) -> None:
        self._update_texts()

    def _update_texts(self) -> None:
        session = self.panel.session
        if session is None:
            return
        z_world = float(self.viewer.dims.point[0])
        panes = {session.current: ("current", 0.0)}
        if self.prior is not None:
            panes[self.prior] = ("prior", float(self.shift[0]))
        pane_width = float(self.viewer.canvas.viewbox_size(self.viewer.layers)[1])
        for layer in self.panel.context.images():
            meta = _meta(layer)
            date = meta.get("study_date")
            if date not in panes or not layer.visible:
                hide_pane_texts(layer)
                continue
            role, dz = panes[date]
            z_mm = z_world - dz  # the study's own patient z
            index = int(round(float(layer.world_to_data([z_world, 0.0, 0.0])[0])))
            in_range = 0 <= index < layer.data.shape[0]
            letters = orientation_letters(None)
            info = pane_text(role, date, time_point_tag(session.dates, date),
                             meta.get("series_description"), meta.get("phase"),
                             window_of(layer.contrast_limits), z_mm, index if in_range else None)
            set_pane_texts(layer, {
                "rt_info": info,
                "rt_left": letters["left"], "rt_right": letters["right"],
                "rt_top": letters["top"], "rt_bottom": letters["bottom"]},
                positions={"rt_top": top_letter_position(info, pane_width)})

    def ensure_registration(self, date: str) -> Any:
        """The registration of ``date`` to the baseline, computed and stored with the read when
        there is none yet and both studies are loaded (portal-venous, else arterial) — in the
        background worker, waited for here (scripts, the demo); the reader's path does not wait
        (:mod:`.registering`)."""
        session = self.panel.session
        if session is None or date == session.baseline:
            return None
        return self.panel.registrar.wait(date)

    def _register_in_background(self, *dates: str | None) -> None:
        session = self.panel.session
        for date in dates:
            if date is not None and session is not None and date != session.baseline:
                self.panel.registrar.start(date)

    # -- for the station -----------------------------------------------------------------------
    def current_volumes(self) -> dict[str, Any]:
        """phase → the current study's loaded Volume (kept by the Patient panel in the metadata)."""
        session = self.panel.session
        return self.volumes(session.current) if session else {}

    def volumes(self, date: str) -> dict[str, Any]:
        """phase → the loaded Volume of the study of ``date`` (a series still loading — only its
        displayed slice in — is left out: nothing measures or registers on it)."""
        out: dict[str, Any] = {}
        for layer in self.panel.context.images(date):
            volume = _meta(layer).get("volume")
            if volume is not None and not _meta(layer).get("partial"):
                out[str(_meta(layer).get("phase"))] = volume
        return out
