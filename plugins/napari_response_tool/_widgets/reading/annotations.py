"""The Reading panel's annotation layers ↔ the reading session, through one event handler.

The lines (diameters) and marks (non-target and new lesions) of each time point
(:mod:`.annotation_kinds`) go through one handler of their layers' data events, matched on
napari's :class:`~napari.layers.base._base_constants.ActionType`:

* ``ADDED`` — a line drawn / a point clicked: it belongs to the selected lesion (refused, and
  removed, when that lesion cannot take it), replaces the lesion's earlier one of the same kind,
  and is recorded;
* ``CHANGED`` — items moved: those whose coordinates differ from what is stored are recorded
  (a whole-data assignment names every item; one recompute per item that really moved);
* ``REMOVING`` then ``REMOVED`` — items deleted: the session forgets those diameters / marks.

The other way, the layers follow the session's events (:mod:`response_tool.reading.events`): a
measurement added, changed or removed by anything but a drawing on the canvas (an undo, a redo,
an accepted proposal, a status) changes only that lesion's items at that date
(:meth:`Annotations.on_measurement`); a read re-read from the store is restored whole.

Also here: restoring a read's lines and marks, showing one time point, jumping to a lesion.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from napari.layers.base._base_constants import ActionType

from response_tool.domain.errors import ResponseToolError
from response_tool.domain.vocabulary import DiameterKind
from response_tool.reading.events import MeasurementChanged
from response_tool.reading.session import ReadingSession

from ..._batch import batched, set_visible
from .annotation_kinds import Item, LayerKind, Lines, Marks
from .viewing import go_to

if TYPE_CHECKING:
    from .panel import ReadingPanel


class Annotations:
    """The lines and marks of the panel's read (see the module docstring)."""

    def __init__(self, panel: ReadingPanel) -> None:
        self.panel = panel
        self.lines = Lines(self)
        self.marks = Marks(self)
        self._syncing = False           # the panel itself is changing the layers
        self._removing: list[Item] = []  # items napari is deleting

    @property
    def session(self) -> ReadingSession:
        return self.panel.context.require_session()

    # -- the one handler ---------------------------------------------------------------------
    def on_data(self, kind: LayerKind, date: str, event: Any) -> None:
        """A data event of ``kind``'s layer of ``date`` (see the module docstring)."""
        if self._syncing or self.panel.context.session is None:
            return
        layer = kind.layers[date]
        match getattr(event, "action", None):
            case ActionType.ADDED:
                self._adopt(kind, date, layer, len(layer.data) - 1)
            case ActionType.CHANGED:
                for index in _indices(event, len(layer.data)):
                    if self._moved(kind, date, layer, index):
                        self._record(kind, date, layer, index)
            case ActionType.REMOVING:  # remember which items are about to go
                self._removing = [kind.item(layer, i)
                                  for i in _indices(event, len(layer.features))]
            case ActionType.REMOVED:
                for item in self._removing:
                    kind.forget(date, item)
                self._removing = []

    def _adopt(self, kind: LayerKind, date: str, layer: Any, index: int) -> None:
        """The item just added belongs to the selected lesion and replaces its earlier one."""
        item = kind.new_item(self.panel.selected_lesion())
        if item is None:
            self._remove(layer, index)
            return
        for j in range(index - 1, -1, -1):  # one line per lesion and kind, one mark per lesion
            if kind.item(layer, j) == item:
                self._remove(layer, j)
        index = len(layer.data) - 1
        kind.label(layer, index, item)
        self._record(kind, date, layer, index)

    def _moved(self, kind: LayerKind, date: str, layer: Any, index: int) -> bool:
        """Whether item ``index`` differs from what is stored for it."""
        stored = kind.stored(date, kind.item(layer, index))
        if stored is None:
            return True
        return not np.allclose(kind.coords(layer, index), np.asarray(stored, dtype=float),
                               atol=1e-6)

    def _record(self, kind: LayerKind, date: str, layer: Any, index: int) -> None:
        item = kind.item(layer, index)
        coords = kind.coords(layer, index)
        image = self.panel.context.current_image()
        slice_index = None
        if image.layer is not None:
            first = np.atleast_2d(coords)[0]
            slice_index = int(round(float(image.layer.world_to_data(first)[0])))
        if self.session.current != date:
            self.session.go_to(date)
        try:
            message = kind.store(item, coords, image, slice_index)
        except ResponseToolError as exc:
            self.panel.say(str(exc))
            return
        kind.label(layer, index, item)  # the label shows the new length
        self._syncing = True
        try:
            self.marks.relabel(date)  # a lesion's name once: on its line when it has one
        finally:
            self._syncing = False
        self.panel.say(message)

    def _remove(self, layer: Any, index: int) -> None:
        self._syncing = True
        try:
            layer.selected_data = {index}
            layer.remove_selected()
        finally:
            self._syncing = False

    # -- the session's changes on the canvas ------------------------------------------------
    def on_measurement(self, change: MeasurementChanged) -> None:
        """A measurement changed in the session: only that lesion's items at that date follow."""
        syncing, self._syncing = self._syncing, True
        try:  # (data changes only: napari's scene graph is not rebuilt for them)
            self.lines.sync(change.date, change.lesion_id, change.after)
            self.marks.sync(change.date, change.lesion_id, change.after)
        finally:
            self._syncing = syncing

    # -- the read's items on the canvas ------------------------------------------------------
    def restore(self) -> None:
        """Every stored line and mark, back on its time point's layer, exactly (opening a read,
        or a read re-read from the store)."""
        session = self.session
        modes = {id(x): x.mode for x in [*self.lines.layers.values(), *self.marks.layers.values()]}
        self._syncing = True
        try:
            with batched(self.panel.viewer):
                for date in session.dates:
                    self.lines.clear(self.lines.layer(date))
                for date in session.dates:
                    self.marks.clear(self.marks.layer(date))
                for m in session.read.measurements:
                    for kind in DiameterKind:
                        ends = m.endpoints(kind)
                        if ends:
                            self.lines.put(m.date, m.lesion_id, kind, ends)
                    if m.mark_point:
                        self.marks.put(m.date, m.lesion_id, m.mark_point)
                for date in session.dates:
                    self.marks.relabel(date)
        finally:
            self._syncing = False
        for layer in [*self.lines.layers.values(), *self.marks.layers.values()]:
            if id(layer) in modes and layer.mode != modes[id(layer)]:
                layer.mode = modes[id(layer)]  # a re-read does not end the reader's drawing
        self.show_date()

    def add_mark(self, lesion_id: str, point_mm: Any) -> None:
        """Mark a non-target or new lesion at ``point_mm`` (world z, y, x), as a click would."""
        self.panel.select_lesion(lesion_id)
        self.marks.layer(self.session.current).add(np.asarray([point_mm], dtype=float))

    def show_date(self, images: bool = True) -> None:
        """The current time point's lines, marks and (``images``) images; other time points
        hidden (only the layers whose visibility changes are touched, in one scene update).
        Switching time point, the hanging protocol shows the images of both panes: they are
        left to it, so none is hidden here and shown again there."""
        context = self.panel.context
        date = self.session.current
        context.ensure_images(date)
        viewer = self.panel.viewer
        with batched(viewer):
            for d, layer in [*self.lines.layers.items(), *self.marks.layers.items()]:
                set_visible(layer, d == date)
            if images and context.studies:
                current = {id(x) for x in context.images(date)}
                for layer in context.images():
                    set_visible(layer, id(layer) in current)
            ours = [*self.marks.layers.values(), *self.lines.layers.values()]
            for layer in ours:  # on top, moved only when not there yet
                index = list(viewer.layers).index(layer)
                if index < len(viewer.layers) - len(ours):
                    viewer.layers.move(index, len(viewer.layers))

    def jump_to(self, lesion_id: str, date: str | None = None) -> None:
        """Move the slice to where the lesion was measured (at ``date``, default the current)."""
        session = self.session
        m = session.measurement(lesion_id, date) or session.measurement(lesion_id, session.baseline)
        ends = m and (m.long_endpoints or m.short_endpoints or m.viable_endpoints
                      or ([m.mark_point] if m.mark_point else None))
        if ends:
            go_to(self.panel, np.mean(np.asarray(ends, dtype=float), axis=0))


def _indices(event: Any, n: int) -> list[int]:
    """The event's item indices that name an item of the layer (of ``n``)."""
    return [i for i in (getattr(event, "data_indices", ()) or ()) if 0 <= i < n]
