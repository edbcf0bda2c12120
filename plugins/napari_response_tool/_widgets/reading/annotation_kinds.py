"""The two kinds of annotation layer of the Reading panel, and what their items mean.

One napari layer of each kind per time point, in patient millimetres:

* :class:`Lines` (a shapes layer, ``diameters <date>``): a lesion's long, short or viable
  diameter, labelled on the canvas (``T1``, ``T1 ⊥``, ``T1 v``) and coloured by kind;
* :class:`Marks` (a points layer, ``lesion marks <date>``): where a non-target or new lesion is.

A kind says how its items map onto the reading session (which lesion and diameter an item is,
what is stored for it, how to record and forget it); the events of both are handled by one
handler (:mod:`.annotations`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

import numpy as np

from response_tool.domain.model import Measurement
from response_tool.domain.vocabulary import DiameterKind, Role
from response_tool.reading.session import LineRecord

from ..._batch import set_visible

if TYPE_CHECKING:
    from ..._context import CurrentImage
    from .annotations import Annotations

#: what an item of a layer is: (lesion id, what — a diameter kind, or MARK)
Item = tuple[str, str]
MARK = "mark"
#: the viable diameter is a wide, half-transparent red band, the total lines thin and opaque: where
#: the viable diameter lies on the long axis both stay visible (a yellow core in a red band),
#: whichever is drawn on top
COLORS = {DiameterKind.LONG: (1.0, 1.0, 0.0, 0.95), DiameterKind.SHORT: (0.0, 1.0, 1.0, 0.95),
          DiameterKind.VIABLE: (1.0, 0.2, 0.2, 0.55)}
#: line width per kind (mm on the canvas)
WIDTHS = {DiameterKind.LONG: 1.2, DiameterKind.SHORT: 1.2, DiameterKind.VIABLE: 3.5}
# (no per-shape z_index: napari 0.9 then leaves opaque lines of a 3-d shapes layer undrawn)
#: canvas label per diameter kind: "T1" (long), "T1 ⊥" (short), "T1 v" (viable)
SUFFIX = {DiameterKind.LONG: "", DiameterKind.SHORT: " ⊥", DiameterKind.VIABLE: " v"}


def line_label(lesion_id: str, kind: str, length_mm: float | None = None) -> str:
    """A line's canvas label (``T1``, ``T1 ⊥``, ``T1 v``), with its length when given."""
    text = lesion_id + SUFFIX[DiameterKind(kind)]
    return text if length_mm is None else f"{text} {length_mm:.1f}"


def lesion_labels(rows: list[tuple[str, str, float]]) -> list[str]:
    """The canvas label of each line (lesion id, kind, length mm): a lesion's lines share one
    label, on its long axis (else its first line): ``T1 44.0 ⊥ 12.1 v 19.2`` — two labels at
    the same place (the viable diameter often lies on the long axis) would cover each other."""
    by_lesion: dict[str, dict[str, float]] = {}
    carrier: dict[str, int] = {}
    for i, (lesion_id, kind, length) in enumerate(rows):
        by_lesion.setdefault(lesion_id, {})[kind] = length
        if lesion_id not in carrier or kind == DiameterKind.LONG:
            carrier[lesion_id] = i
    out = []
    for i, (lesion_id, _, _) in enumerate(rows):
        if carrier[lesion_id] != i:
            out.append("")
            continue
        lengths = by_lesion[lesion_id]
        parts = [lesion_id] + [f"{SUFFIX[k].strip()} {lengths[k]:.1f}".strip()
                               for k in DiameterKind if k in lengths]
        out.append(" ".join(parts))
    return out


def _length(ends: Any) -> float:
    ends = np.asarray(ends, dtype=float)
    return float(np.linalg.norm(ends[-1] - ends[0]))


class LayerKind(ABC):
    """One kind of annotation layer, one layer per time point; what its items mean."""

    def __init__(self, owner: Annotations) -> None:
        self.owner = owner
        self.panel = owner.panel
        #: date → layer
        self.layers: dict[str, Any] = {}

    def layer(self, date: str) -> Any:
        """The layer of ``date`` (created on first use, wired to the one handler)."""
        if date not in self.layers:
            layer = self._create(date)
            # another time point's layer is made hidden: showing it for a moment costs a redraw
            set_visible(layer, date == self.owner.session.current)
            layer.events.data.connect(lambda event, d=date: self.owner.on_data(self, d, event))
            self.layers[date] = layer
        return self.layers[date]

    def _remove(self, layer: Any, indices: list[int]) -> None:
        if indices:
            layer.selected_data = set(indices)
            layer.remove_selected()

    # -- what a kind says ------------------------------------------------------------------
    @abstractmethod
    def _create(self, date: str) -> Any:
        """A new, empty layer of ``date`` in the viewer."""

    @abstractmethod
    def clear(self, layer: Any) -> None:
        """Empty ``layer`` (items and features)."""

    @abstractmethod
    def item(self, layer: Any, index: int) -> Item:
        """What item ``index`` of ``layer`` is (lesion id, diameter kind or MARK)."""

    @abstractmethod
    def new_item(self, lesion_id: str | None) -> Item | None:
        """What an item added now (``lesion_id`` selected) is, or None to refuse it (the reader
        is told why)."""

    @abstractmethod
    def label(self, layer: Any, index: int, item: Item) -> None:
        """Make item ``index`` show what it is (features, canvas label, colour)."""

    @abstractmethod
    def coords(self, layer: Any, index: int) -> np.ndarray:
        """Item ``index`` in world mm (z, y, x), as the session stores it."""

    @abstractmethod
    def stored(self, date: str, item: Item) -> Any:
        """What the session holds for ``item`` at ``date`` (None: nothing)."""

    @abstractmethod
    def store(self, item: Item, coords: np.ndarray, image: CurrentImage,
              slice_index: int | None) -> str:
        """Record the item in the session; returns what to tell the reader."""

    @abstractmethod
    def forget(self, date: str, item: Item) -> None:
        """The reader deleted the item: the session forgets it."""

    @abstractmethod
    def sync(self, date: str, lesion_id: str, m: Measurement | None) -> None:
        """Make ``date``'s layer show ``lesion_id``'s items as ``m`` says (None: none), touching
        only the items that differ (an item drawn by the reader and just stored stays)."""


class Lines(LayerKind):
    """Diameters: a shapes layer of lines per time point."""

    def _create(self, date: str) -> Any:
        return self.panel.viewer.add_shapes(
            ndim=3, name=f"diameters {date}", edge_width=0.8, edge_color="yellow",
            face_color="transparent", features=_empty("lesion_id", "kind", "label"),
            text=LINE_TEXT, units=("mm", "mm", "mm"))

    def clear(self, layer: Any) -> None:
        layer.data = []
        layer.features = _empty("lesion_id", "kind", "label")

    def put(self, date: str, lesion_id: str, kind: str, ends: Any) -> None:
        self.put_lines(date, lesion_id, {str(kind): ends})

    def put_lines(self, date: str, lesion_id: str, lines: dict[str, Any]) -> None:
        """``lesion_id``'s lines (kind → ends) on ``date``'s layer in one addition: napari
        recomputes its extents and the dims once per ``add_lines``, not once per line."""
        if not lines:
            return
        layer = self.layer(date)
        n = len(layer.data)
        kinds = [DiameterKind(k) for k in lines]
        layer.feature_defaults = {"lesion_id": lesion_id, "kind": str(kinds[0]), "label": ""}
        layer.add_lines([np.asarray(e) for e in lines.values()],
                        edge_color=[COLORS[k] for k in kinds], edge_width=[WIDTHS[k] for k in kinds])
        features = layer.features.copy()
        features.loc[n:, "kind"] = [str(k) for k in kinds]
        layer.features = features
        self.relabel(layer)

    def relabel(self, layer: Any) -> None:
        """One label per lesion, on its long axis (see :func:`lesion_labels`)."""
        rows = [(str(layer.features.loc[i, "lesion_id"]), str(layer.features.loc[i, "kind"]),
                 _length(self.coords(layer, i))) for i in range(len(layer.data))]
        labels = lesion_labels(rows)
        if list(layer.features["label"]) != labels:
            features = layer.features.copy()
            features["label"] = labels
            layer.features = features  # re-assigning refreshes the canvas labels

    def item(self, layer: Any, index: int) -> Item:
        return str(layer.features.loc[index, "lesion_id"]), str(layer.features.loc[index, "kind"])

    def new_item(self, lesion_id: str | None) -> Item | None:
        if lesion_id is None:
            self.panel.say("select a lesion first (or add one with t), then draw")
            return None
        return lesion_id, str(self.panel.kind)

    def label(self, layer: Any, index: int, item: Item) -> None:
        lesion_id, kind = item
        features = layer.features.copy()
        features.loc[index, "lesion_id"] = lesion_id
        features.loc[index, "kind"] = kind
        layer.features = features
        self.relabel(layer)
        colors = np.asarray(layer.edge_color).copy()
        colors[index] = _rgba(COLORS[DiameterKind(kind)])
        layer.edge_color = colors
        widths = list(layer.edge_width)
        if widths[index] != WIDTHS[DiameterKind(kind)]:
            widths[index] = WIDTHS[DiameterKind(kind)]
            layer.edge_width = widths

    def coords(self, layer: Any, index: int) -> np.ndarray:
        data = np.asarray(layer.data[index], dtype=float)
        return np.asarray([layer.data_to_world(p) for p in (data[0], data[-1])], dtype=float)

    def stored(self, date: str, item: Item) -> Any:
        m = self.owner.session.measurement(item[0], date)
        return None if m is None else m.endpoints(DiameterKind(item[1]))

    def store(self, item: Item, coords: np.ndarray, image: CurrentImage,
              slice_index: int | None) -> str:
        lesion_id, kind = item
        length = self.owner.session.record_line(lesion_id, kind, LineRecord(
            coords.tolist(), image.series_uid, image.phase, slice_index))
        return f"{lesion_id} {kind} diameter {length:.1f} mm"

    def forget(self, date: str, item: Item) -> None:
        self.owner.session.clear_diameter(item[0], item[1], date)

    def sync(self, date: str, lesion_id: str, m: Measurement | None) -> None:
        layer = self.layer(date)
        want = {} if m is None else {str(k): m.endpoints(k) for k in DiameterKind
                                     if m.endpoints(k)}
        stale = []
        for i in range(len(layer.data)):
            lid, kind = self.item(layer, i)
            if lid != lesion_id:
                continue
            ends = want.get(kind)
            if ends is not None and np.allclose(self.coords(layer, i),
                                                np.asarray(ends, dtype=float), atol=1e-6):
                del want[kind]  # on the canvas as stored
            else:
                stale.append(i)
        self._remove(layer, stale)
        self.put_lines(date, lesion_id, want)
        self.relabel(layer)


class Marks(LayerKind):
    """Non-target and new lesions: a points layer of marks per time point."""

    def _create(self, date: str) -> Any:
        return self.panel.viewer.add_points(
            np.empty((0, 3)), ndim=3, name=f"lesion marks {date}", size=6, symbol="ring",
            face_color="transparent", border_color="magenta",
            features=_empty("lesion_id", "label"), units=("mm", "mm", "mm"),
            text={"string": "{label}", "size": 11, "color": "magenta",
                  "anchor": "upper_left"})

    def clear(self, layer: Any) -> None:
        layer.data = np.empty((0, 3))
        layer.features = _empty("lesion_id", "label")

    def put(self, date: str, lesion_id: str, point: Any) -> None:
        layer = self.layer(date)
        layer.feature_defaults = {"lesion_id": lesion_id, "label": lesion_id}
        layer.add(np.asarray([point], dtype=float))

    def relabel(self, date: str) -> None:
        """A mark says its lesion's name unless a line of that lesion at ``date`` says it
        already (a new lesion marked, then measured: its name once, on the line)."""
        layer = self.layers.get(date)
        if layer is None or not len(layer.features):
            return
        lined = {m.lesion_id for m in self.owner.session.read.measurements
                 if m.date == date and any(m.endpoints(k) for k in DiameterKind)}
        labels = ["" if lid in lined else str(lid) for lid in layer.features["lesion_id"]]
        if list(layer.features["label"]) != labels:
            features = layer.features.copy()
            features["label"] = labels
            layer.features = features

    def item(self, layer: Any, index: int) -> Item:
        return str(layer.features.loc[index, "lesion_id"]), MARK

    def new_item(self, lesion_id: str | None) -> Item | None:
        role = self.owner.session.lesion(lesion_id).role if lesion_id else None
        if role not in (Role.NON_TARGET, Role.NEW):
            self.panel.say("select a non-target or new lesion, then click where it is")
            return None
        assert lesion_id is not None
        return lesion_id, MARK

    def label(self, layer: Any, index: int, item: Item) -> None:
        features = layer.features.copy()
        features.loc[index, "lesion_id"] = item[0]
        features.loc[index, "label"] = item[0]
        layer.features = features

    def coords(self, layer: Any, index: int) -> np.ndarray:
        return np.asarray(layer.data_to_world(layer.data[index]), dtype=float)

    def stored(self, date: str, item: Item) -> Any:
        m = self.owner.session.measurement(item[0], date)
        return None if m is None else m.mark_point

    def store(self, item: Item, coords: np.ndarray, image: CurrentImage,
              slice_index: int | None) -> str:
        self.owner.session.record_point(item[0], coords.tolist(), image.series_uid, image.phase,
                                        slice_index)
        return f"{item[0]} marked at slice {slice_index}"

    def forget(self, date: str, item: Item) -> None:
        self.owner.session.clear_point(item[0], date)

    def sync(self, date: str, lesion_id: str, m: Measurement | None) -> None:
        layer = self.layer(date)
        want = None if m is None or not m.mark_point else np.asarray(m.mark_point, dtype=float)
        kept = None
        stale = []
        for i in range(len(layer.data)):
            if self.item(layer, i)[0] != lesion_id:
                continue
            if want is not None and kept is None and np.allclose(self.coords(layer, i), want,
                                                                  atol=1e-6):
                kept = i
            else:
                stale.append(i)
        self._remove(layer, stale)
        if want is not None and kept is None:
            self.put(date, lesion_id, want)
        self.relabel(date)


#: the lines' canvas labels: large enough to read beside a lesion at the body's zoom
LINE_TEXT = {"string": "{label}", "size": 13, "color": "white", "anchor": "upper_left",
             "translation": (0, -2, 0)}


def _empty(*columns: str) -> dict[str, np.ndarray]:
    return {c: np.array([], dtype=object) for c in columns}


def _rgba(name: Any) -> list[float]:
    from napari.utils.colormaps.standardize_color import transform_color

    return list(transform_color(name)[0])
