"""Changing many layers at once without napari re-laying out its canvas after each change.

Every ``layer.visible = ...`` makes napari (0.9, grid mode) rebuild its scene graph and re-place
every layer's overlays (measured: 40-70 ms each with the two panes and ~20 layers), and napari's
``visible`` setter does so even when the value does not change. So a time-point switch that set
the visibility of 20 layers froze the window for a second. Two remedies:

* :func:`set_visible` changes a layer's visibility only when it differs;
* :func:`batched` pauses napari's scene-graph updates for a group of changes and updates once at
  the end. napari's own ``LayerList.batched_update`` does the same but ends with a full
  ``gc.collect()`` and a GPU ``finish()`` (a Windows driver workaround for removed layers): 220 ms
  measured here, more than it saves. So the pause is napari's canvas flag
  (``VispyCanvas._pause_scene_graph``, private: ``tests/plugin/test_session_views.py`` checks it
  on the napari the lock installs); without it, :func:`batched` changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ._context import unwrap


def set_visible(layer: Any, visible: bool) -> bool:
    """Show or hide ``layer`` if it is not so already; returns whether it changed."""
    if bool(layer.visible) == bool(visible):
        return False
    layer.visible = bool(visible)
    return True


def _canvas(viewer: Any) -> Any:
    """napari's vispy canvas of ``viewer`` if it has the pause flag (None: no GUI, or a napari
    without it)."""
    qt_viewer = getattr(getattr(unwrap(viewer), "window", None), "_qt_viewer", None)
    canvas = getattr(qt_viewer, "canvas", None)
    if canvas is None or not hasattr(canvas, "_pause_scene_graph") \
            or not hasattr(canvas, "_update_scenegraph"):
        return None
    return canvas


@contextmanager
def batched(viewer: Any) -> Iterator[None]:
    """One scene-graph update for the layer changes made inside (nested batches: one, at the
    end of the outermost). The grid must not change inside: napari places the panes' overlays
    as soon as it does."""
    canvas = _canvas(viewer)
    if canvas is None or canvas._pause_scene_graph:  # no canvas, or already paused (nested)
        yield
        return
    canvas._pause_scene_graph = True
    try:
        yield
    finally:
        canvas._pause_scene_graph = False
        canvas._update_scenegraph()
