"""The slice slider steps one slice of the series on screen (issue 23, defect 1).

napari's slider steps by the smallest z scale of all its layers (``LayerList._step_size``: the
minimum over the layers' extents). The lines, marks, proposals and pads are in patient mm with
scale 1, so a 2.5 mm series scrolled 1 mm per step: two or three presses per slice, and the
slider said "83 | 157" for a series of 63 slices. Here the slider's z range is the current study's
displayed series' own planes — first plane, last plane, its slice spacing — so one step is one
slice and the slider's position is that series' slice number. napari sets its range again
whenever a layer's extent changes (a line added); :meth:`SliceSlider.fit` follows the range
event and puts the series' range back (only when it differs: no event loop).

An oblique series (an affine placement) or none loaded leaves napari's range as it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .panel import ReadingPanel


def series_planes(layer: Any) -> tuple[float, float, int] | None:
    """(first plane's z, slice spacing, number of slices) in world mm of an image layer placed
    with a scale and translation (None: oblique, i.e. an affine placement, or not 3-D)."""
    if layer is None or getattr(layer, "ndim", 0) != 3:
        return None
    if not np.allclose(np.asarray(layer.affine.affine_matrix), np.eye(4)) \
            or not np.allclose(np.asarray(layer.rotate), np.eye(3)):
        return None
    spacing = float(layer.scale[0])
    if spacing <= 0:
        return None
    return float(layer.translate[0]), spacing, int(layer.data.shape[0])


class SliceSlider:
    """Keeps the viewer's z slider on the displayed series' slices (see the module docstring)."""

    def __init__(self, panel: ReadingPanel) -> None:
        self.panel = panel
        self.viewer = panel.viewer
        self._fitting = False
        self.viewer.dims.events.range.connect(self.fit)

    def planes(self) -> tuple[float, float, int] | None:
        """The planes of the current study's visible image (the one the reader measures on)."""
        session = self.panel.session
        if session is None:
            return None
        context = self.panel.context
        shown = [x for x in context.images(session.current) if x.visible]
        return series_planes(shown[-1]) if shown else None

    def fit(self, _event: Any = None) -> None:
        """The z range is the displayed series' planes (when it is not already)."""
        if self._fitting:
            return
        planes = self.planes()
        dims = self.viewer.dims
        if planes is None or dims.ndim < 3:
            return
        first, spacing, n = planes
        current = dims.range[0]
        want = (first, first + spacing * (n - 1), spacing)
        if np.allclose((current.start, current.stop, current.step), want, atol=1e-6):
            return
        point = float(dims.point[0])
        self._fitting = True
        try:
            dims.range = (type(current)(*want), *dims.range[1:])
            # the same anatomy stays on screen: the nearest plane of the series
            index = int(np.clip(round((point - first) / spacing), 0, n - 1))
            dims.set_point(0, first + index * spacing)
        finally:
            self._fitting = False
