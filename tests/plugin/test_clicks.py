"""The Reading panel's one-shot canvas click (``_widgets/reading/clicks.py``): one click does
one armed action — click-to-measure's seed or a position correction, never both."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytest.importorskip("napari")


def _press(viewer, position):
    event = SimpleNamespace(position=position)
    for callback in list(viewer.mouse_drag_callbacks):
        callback(viewer, event)


@pytest.mark.parametrize("armed,then,called", [
    (["measure"], None, ["measure"]),
    (["measure", "correct"], None, ["correct"]),  # the later one wins, alone
    (["correct", "measure"], None, ["measure"]),
    (["measure"], "measure", []),                 # disarmed by name
    (["measure"], "correct", ["measure"]),        # another name: still armed
    ([], None, []),
])
def test_one_click_does_one_armed_action(armed, then, called):
    from napari_response_tool._widgets.reading.clicks import NextClick

    viewer = SimpleNamespace(mouse_drag_callbacks=[],
                             layers=SimpleNamespace(selection=SimpleNamespace(active=None)))
    click = NextClick(viewer)
    seen = []
    for name in armed:
        click.arm(name, lambda p, name=name: seen.append((name, p.tolist())))
    if then is not None:
        click.disarm(then)
    _press(viewer, (1.0, 2.0, 3.0))
    assert [n for n, _ in seen] == called
    assert all(p == [1.0, 2.0, 3.0] for _, p in seen)
    assert click.armed is None or not called
    _press(viewer, (4.0, 5.0, 6.0))  # one shot: the next click does nothing more
    assert len(seen) == len(called)
    assert len(viewer.mouse_drag_callbacks) == (1 if armed else 0)


def _drag_on_canvas(viewer, start_xy, end_xy):
    """A real mouse drag on napari's canvas (Qt mouse events: press, moves with the button held,
    release), as a reader's hand makes it."""
    from qtpy.QtCore import QPointF, Qt
    from qtpy.QtGui import QMouseEvent
    from qtpy.QtWidgets import QApplication

    widget = viewer.window._qt_viewer.canvas.native
    left = Qt.MouseButton.LeftButton
    none = Qt.KeyboardModifier.NoModifier

    def send(kind, xy, buttons):
        point = QPointF(*xy)
        QApplication.sendEvent(widget, QMouseEvent(kind, point, widget.mapToGlobal(point), left,
                                                   buttons, none))
        QApplication.processEvents()

    send(QMouseEvent.Type.MouseButtonPress, start_xy, left)
    steps = 5
    for i in range(1, steps + 1):
        xy = tuple(a + (b - a) * i / steps for a, b in zip(start_xy, end_xy, strict=True))
        send(QMouseEvent.Type.MouseMove, xy, left)
    send(QMouseEvent.Type.MouseButtonRelease, end_xy, Qt.MouseButton.NoButton)


@pytest.mark.parametrize("armed", [True, False])
def test_an_armed_click_does_not_also_draw_with_the_line_tool(make_napari_viewer, armed):
    """Issue 23, defect 4: Measure armed while napari's line tool was active drew a stray line
    (stored as a measurement) with the same click. Arming leaves the drawing tool; unarmed, the
    same drag draws a line as before (the test can tell the two apart)."""
    import numpy as np
    from napari_response_tool._widgets.reading.clicks import NextClick

    viewer = make_napari_viewer(show=True)
    viewer.add_image(np.zeros((5, 64, 64), np.float32))
    shapes = viewer.add_shapes(ndim=3)
    shapes.mode = "add_line"
    viewer.window._qt_viewer.canvas.native.resize(400, 400)
    seen = []
    click = NextClick(viewer)
    if armed:
        click.arm("measure", seen.append)
        assert shapes.mode == "pan_zoom"
    _drag_on_canvas(viewer, (180.0, 200.0), (230.0, 200.0))
    if armed:
        assert len(seen) == 1 and len(shapes.data) == 0
    else:
        assert seen == [] and len(shapes.data) == 1


def test_a_drawing_tool_taken_after_arming_draws_and_disarms(make_napari_viewer):
    """Armed, then the reader takes the line tool again: the click draws, and only draws."""
    import numpy as np
    from napari_response_tool._widgets.reading.clicks import NextClick

    viewer = make_napari_viewer(show=True)
    viewer.add_image(np.zeros((5, 64, 64), np.float32))
    shapes = viewer.add_shapes(ndim=3)
    viewer.window._qt_viewer.canvas.native.resize(400, 400)
    seen = []
    click = NextClick(viewer)
    click.arm("measure", seen.append)
    shapes.mode = "add_line"
    _drag_on_canvas(viewer, (180.0, 200.0), (230.0, 200.0))
    assert seen == [] and len(shapes.data) == 1 and click.armed is None
