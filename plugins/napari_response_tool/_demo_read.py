"""Fill a read from the phantom's ground truth by *drawing* its diameters, as a reader would.

Each line goes through the Reading panel's own path: the ground-truth endpoints are snapped to the
nearest voxel of the image layer (what a click on screen gives), added to the time point's shapes
layer, and the panel measures them. Used by ``make demo`` (a baseline read already filled in) and
by the widget tests.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from response_tool.domain.vocabulary import DiameterKind, Phase, Role

from ._widgets.reading import ReadingPanel
from ._widgets.reading.layout import NO_ENHANCEMENT


def _image_layer(panel: ReadingPanel, phase: str) -> Any:
    """The current time point's image of ``phase`` (any loaded one if the study is unknown)."""
    assert panel.session is not None
    images = panel.context.images(panel.session.current) or panel.context.images()
    for layer in images:
        if layer.metadata["response_tool"].get("phase") == phase:
            return layer
    return None


def snap_to_voxels(image_layer: Any, ends_xyz_mm: list[list[float]]) -> np.ndarray:
    """Ground-truth endpoints (patient x, y, z mm) → world z, y, x at the nearest voxel centres."""
    world = np.asarray(ends_xyz_mm, dtype=float)[:, ::-1]
    if image_layer is None:
        return world
    data = np.rint([image_layer.world_to_data(p) for p in world])
    return np.asarray([image_layer.data_to_world(p) for p in data], dtype=float)


def draw(panel: ReadingPanel, lesion_id: str, kind: str, ends_xyz_mm: list[list[float]],
         phase: str) -> float | None:
    """Show the ``phase`` image, select the lesion and kind, and draw the line on its layer."""
    assert panel.session is not None
    image = _image_layer(panel, phase)
    for layer in panel.context.images():
        layer.visible = layer is image
    panel.select_lesion(lesion_id)
    panel.set_kind(kind)
    world = snap_to_voxels(image, ends_xyz_mm)
    shapes = panel.annotations.lines.layer(panel.session.current)
    shapes.add_lines([world])  # the same event a line drawn by hand emits
    m = panel.session.measurement(lesion_id)
    return None if m is None else m.diameter(kind)


def fill_timepoint(panel: ReadingPanel, ground_truth: dict[str, Any], k: int) -> None:
    """Read time point ``k`` of the ground truth (0 = baseline) into the panel's session."""
    assert panel.session is not None
    date = ground_truth["timepoints"][k]["date"]
    panel.go_to(date)
    for lesion in ground_truth["lesions"]:
        tp = lesion["timepoints"][k]
        lid = lesion["lesion_id"]
        known = {les.lesion_id for les in panel.session.lesions()}
        if not tp.get("present"):
            continue
        if lid not in known:
            given = panel.add_lesion(lesion["role"], lesion["organ"], bool(lesion["is_nodal"]))
            if given != lid:  # the panel numbers lesions in the order they are added
                raise RuntimeError(f"the ground truth's {lid} was added as {given}: list the "
                                   "ground truth's lesions in the order the panel numbers them")
        if lesion["role"] in (Role.NON_TARGET, Role.NEW):  # a click on the lesion marks it present
            centre = snap_to_voxels(_image_layer(panel, Phase.PORTAL_VENOUS),
                                    [tp["center_xyz_mm"], tp["center_xyz_mm"]])[0]
            panel.add_mark(lid, centre)
            if lesion["role"] == Role.NEW and tp.get("long_axis_endpoints_xyz_mm"):
                # mRECIST counts a new intrahepatic lesion from 10 mm: the reader measures it
                draw(panel, lid, DiameterKind.LONG, tp["long_axis_endpoints_xyz_mm"],
                     Phase.PORTAL_VENOUS)
            continue
        draw(panel, lid, DiameterKind.LONG, tp["long_axis_endpoints_xyz_mm"], Phase.PORTAL_VENOUS)
        if lesion["is_nodal"]:
            draw(panel, lid, DiameterKind.SHORT, tp["short_axis_endpoints_xyz_mm"],
                 Phase.PORTAL_VENOUS)
        elif tp.get("viable_endpoints_xyz_mm") and tp.get("viable_long_axis_mm"):
            draw(panel, lid, DiameterKind.VIABLE, tp["viable_endpoints_xyz_mm"], Phase.ARTERIAL)
        else:
            panel.select_lesion(lid)
            panel.set_status(NO_ENHANCEMENT)
    panel.show_date_layers()  # both phases of this time point visible again
