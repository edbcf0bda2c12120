"""The next click on the canvas, for one action of the Reading panel: click-to-measure's seed or
a position correction. Arming one disarms the other, so one click never does both; and arming
leaves napari's drawing tools (the active layer goes to pan/zoom), so the click is not also a
line or a point drawn on an annotation layer and stored as a measurement."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

PAN_ZOOM = "pan_zoom"
#: modes in which a click on the canvas draws nothing
KEEP_MODES = (PAN_ZOOM, "transform")


class NextClick:
    """A one-shot click on ``viewer``'s canvas: :meth:`arm` an action, the next press calls it
    with the click's world position (z, y, x mm)."""

    def __init__(self, viewer: Any) -> None:
        self.viewer = viewer
        #: the armed action's name (None: no click awaited)
        self.armed: str | None = None
        self._action: Callable[[np.ndarray], Any] | None = None

    def arm(self, name: str, action: Callable[[np.ndarray], Any]) -> None:
        self.armed, self._action = name, action
        active = self.viewer.layers.selection.active
        if str(getattr(active, "mode", PAN_ZOOM)) not in KEEP_MODES:
            active.mode = PAN_ZOOM  # a line / point tool would draw with the same click
        callbacks = self.viewer.mouse_drag_callbacks
        if self._on_press not in callbacks:
            callbacks.append(self._on_press)

    def disarm(self, name: str | None = None) -> None:
        """No click awaited any more (only if ``name`` is the armed one, when given)."""
        if name is None or self.armed == name:
            self.armed, self._action = None, None

    def _on_press(self, _viewer: Any, event: Any) -> None:
        action = self._action
        if action is None:
            return
        active = self.viewer.layers.selection.active
        if str(getattr(active, "mode", PAN_ZOOM)) not in KEEP_MODES:
            # the reader took a drawing tool after arming: this click draws, and only draws
            self.disarm()
            return
        self.armed, self._action = None, None
        action(np.asarray(event.position, dtype=float))
