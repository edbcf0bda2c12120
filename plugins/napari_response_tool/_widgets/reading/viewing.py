"""Going to a lesion (selecting it, *Go to predicted*): its slice, and a view that shows it with
the whole body section around it (issue 23, defect 2: the view was centred on the lesion, so a
liver lesion at the body's side pushed half the body out of the pane).

The view keeps the reader's zoom. Along each axis, when the pane at that zoom is wider than the
body, the body is centred (the lesion is in it); when the reader zoomed in past the body, the
view follows the lesion but stops at the body's edge, so no pane shows air where it could show
the body. The body is the bounding box of the tissue on the lesion's slice of the image on
screen (:data:`BODY_HU` on CT; :data:`BODY_SHARE` of the slice's bright end on MR).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .panel import ReadingPanel

#: CT: tissue above this is the body (air -1000 HU, lung -850 HU is inside the skin's box anyway,
#: fat about -100 HU)
BODY_HU = -500.0
#: MR: tissue above this share of the slice's 99th percentile is the body (air is near zero)
BODY_SHARE = 0.1
#: the slice is searched on every STRIDE-th pixel (the box needs no finer grid)
STRIDE = 4


def centred(point: float, lo: float, hi: float, view: float) -> float:
    """The view's centre along one axis (see the module docstring): the body's middle when the
    view is wider than the body [lo, hi], else ``point`` moved in until the view's edge is the
    body's (a point outside the body: the point)."""
    if not lo <= point <= hi:
        return point
    if view >= hi - lo:
        return (lo + hi) / 2.0
    return float(min(max(point, lo + view / 2.0), hi - view / 2.0))


def body_box(layer: Any, z_world: float) -> tuple[np.ndarray, np.ndarray] | None:
    """(min y x, max y x) in world mm of the body on the slice of image ``layer`` at
    ``z_world`` (None: an oblique layer, no slice there, or no tissue on it)."""
    if layer is None or getattr(layer, "ndim", 0) != 3 \
            or not np.allclose(np.asarray(layer.affine.affine_matrix), np.eye(4)):
        return None
    index = int(round(float(layer.world_to_data([z_world, 0.0, 0.0])[0])))
    if not 0 <= index < layer.data.shape[0]:
        return None
    plane = np.asarray(layer.data[index][::STRIDE, ::STRIDE], dtype=np.float32)
    modality = (getattr(layer, "metadata", {}).get("response_tool", {}).get("modality")
                or "CT").upper()
    level = BODY_HU if modality == "CT" else BODY_SHARE * float(np.percentile(plane, 99))
    rows, cols = np.nonzero(plane > level)
    if rows.size == 0:
        return None
    lo = np.array([index, rows.min() * STRIDE, cols.min() * STRIDE], dtype=float)
    hi = np.array([index, rows.max() * STRIDE, cols.max() * STRIDE], dtype=float)
    return (np.asarray(layer.data_to_world(lo), float)[1:],
            np.asarray(layer.data_to_world(hi), float)[1:])


def go_to(panel: ReadingPanel, point: Any) -> None:
    """The slice of ``point`` (z, y, x mm) and a view of it with the body around it."""
    viewer = panel.viewer
    point = np.asarray(point, dtype=float)
    viewer.dims.set_point(0, float(point[0]))
    session = panel.session
    shown = [x for x in panel.context.images(session.current) if x.visible] if session else []
    box = body_box(shown[-1], float(point[0])) if shown else None
    if box is None:
        viewer.scene.camera.center = tuple(point)
        return
    grid = viewer.canvas.grid
    columns = 2 if grid.enabled and tuple(grid.shape) == (1, 2) else 1
    height_px, width_px = (float(v) for v in viewer.canvas.size)
    zoom = float(viewer.scene.camera.zoom) or 1.0
    view = (height_px / zoom, width_px / columns / zoom)
    (y0, x0), (y1, x1) = box
    viewer.scene.camera.center = (float(point[0]), centred(float(point[1]), y0, y1, view[0]),
                            centred(float(point[2]), x0, x1, view[1]))
