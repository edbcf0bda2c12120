"""Text drawn in one layer's pane of napari's grid: what a pane says about itself (study, series,
phase, window, slice position) and its orientation letters.

napari draws a layer's canvas overlays in the grid pane of that layer (as it does for its
``LayerNameOverlay``), but its public ``TextOverlay`` is a viewer overlay only. :class:`PaneText`
is a ``TextOverlay`` with a layer-side visual registered in napari's overlay → visual table
(``napari._vispy.utils.visual.overlay_to_visual``, a private table: checked by
tests/plugin/test_hanging_protocol.py on every napari the lock allows). Without a display backend
(no vispy) the overlays are plain models and draw nothing.
"""

from __future__ import annotations

from typing import Any

from napari.components.overlays import TextOverlay


class PaneText(TextOverlay):
    """A text overlay that belongs to a layer: drawn in that layer's pane."""


def _register() -> bool:
    try:
        from napari._vispy.overlays.text import _VispyLayerTextOverlay
        from napari._vispy.utils.visual import overlay_to_visual
    except ImportError:  # pragma: no cover - a napari without these: texts are not drawn
        return False

    class VispyPaneText(_VispyLayerTextOverlay):
        def _connect_events(self) -> None:
            self.overlay.events.text.connect(self._on_text_change)

        def _on_text_change(self) -> None:
            self.node.text = self.overlay.text
            self._on_position_change()

        def _on_position_change(self, event: Any = None) -> None:
            super()._on_position_change(event)
            if self.overlay.position == "middle_right":  # napari anchors it left: clipped
                self.node.anchors = ("right", "bottom")
                self.node.pos = (self.x_size, 0.0)

    overlay_to_visual[PaneText] = VispyPaneText
    return True


REGISTERED = _register()

#: overlay key → position in the pane: the pane text (short lines, top left), the letters of the
#: four edges (an axial pane: R left, L right, A top, P bottom)
POSITIONS = {"rt_info": "top_left", "rt_left": "middle_left", "rt_right": "middle_right",
             "rt_top": "top_center", "rt_bottom": "bottom_center"}


def set_pane_texts(layer: Any, texts: dict[str, str], visible: bool = True,
                   positions: dict[str, str] | None = None) -> None:
    """Show ``texts`` (overlay key of :data:`POSITIONS` → text) in ``layer``'s pane; ``positions``
    moves some of them elsewhere in the pane (key → napari canvas position)."""
    overlays = layer._overlays
    for key, text in texts.items():
        overlay = overlays.get(key)
        if overlay is None:
            big = key != "rt_info"  # the orientation letters
            overlay = PaneText(text=text, position=POSITIONS[key], visible=False,
                               box=not big, box_color=(0.0, 0.0, 0.0, 0.55),
                               font_size=13 if big else 10,
                               color=(0.55, 0.95, 1.0, 1.0) if big else (1.0, 1.0, 0.75, 1.0))
            overlays[key] = overlay
        if overlay.text != text:
            overlay.text = text
        where = (positions or {}).get(key, POSITIONS[key])
        if overlay.position != where:
            overlay.position = where
        if overlay.visible != visible:
            overlay.visible = visible


def hide_pane_texts(layer: Any) -> None:
    for key in POSITIONS:
        overlay = layer._overlays.get(key)
        if overlay is not None and overlay.visible:
            overlay.visible = False
