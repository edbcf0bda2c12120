"""The Reading panel's views follow the session's events (issue 23): an undo, a redo or a time
point change, made with the reader's real keys, touches only the layers it changes — before, every
undo cleared and redrew the lines and marks of every time point and laid the panes out again, and
every time-point switch set the visibility of every layer (napari re-lays out its grid on each),
which froze the window 1-2 s per action.

Counted, not timed: the data and visibility events each layer receives during one action."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("napari")

from test_keys import _open, press  # noqa: E402

from response_tool.reading.session import LineRecord  # noqa: E402


class Events:
    """How many data / visible events each layer of the viewer emits (by layer name)."""

    def __init__(self, viewer, kind: str) -> None:
        self.counts: dict[str, int] = {}
        self.kind = kind
        for layer in viewer.layers:
            getattr(layer.events, kind).connect(
                lambda _e, n=layer.name: self.counts.__setitem__(n, self.counts.get(n, 0) + 1))

    def on(self, name: str) -> int:
        return self.counts.get(name, 0)


def _line(z: float, y: float, x: float, length: float) -> LineRecord:
    return LineRecord([[z, y, x], [z, y, x + length]], None, "portal-venous", None)


@pytest.fixture
def read(make_napari_viewer, phantom_dir, tmp_path):
    """A read with two targets measured at the baseline and one at follow-up 1, open there."""
    viewer = make_napari_viewer(show=True)
    reading = _open(viewer, phantom_dir, tmp_path / "reads.sqlite")
    s = reading.session
    for lesion_id in ("T1", "T2"):
        assert reading.add_lesion("target", "liver") == lesion_id
    s.record_line("T1", "long", _line(0.0, 10.0, 0.0, 30.0))
    s.record_line("T2", "long", _line(0.0, 60.0, 0.0, 20.0))
    reading.go_to(s.dates[1])
    s.record_line("T1", "long", _line(0.0, 10.0, 0.0, 25.0))
    return viewer, reading


def test_undo_and_redo_by_key_redraw_only_the_line_they_change(read, qtbot):
    viewer, reading = read
    s = reading.session
    keys = reading.bindings
    current = reading.annotations.lines.layer(s.current)
    baseline = reading.annotations.lines.layer(s.baseline)
    others = [x for x in reading.annotations.lines.layers.values() if x is not current]
    assert len(current.data) == 1 and len(baseline.data) == 2
    data = Events(viewer, "data")
    press(qtbot, viewer, keys["undo"])  # T1's follow-up line (25 mm) goes
    assert s.measurement("T1") is None and len(current.data) == 0
    # only the current time point's lines layer changed; no other layer was cleared or redrawn
    assert all(data.on(x.name) == 0 for x in others), data.counts
    assert all(data.on(x.name) == 0 for x in reading.annotations.marks.layers.values())
    assert 1 <= data.on(current.name) <= 4, data.counts  # a removal: napari's REMOVING, REMOVED
    press(qtbot, viewer, keys["redo"])
    assert len(current.data) == 1
    ends = reading.annotations.lines.coords(current, 0)
    np.testing.assert_allclose(ends, s.measurement("T1").long_endpoints)
    assert all(data.on(x.name) == 0 for x in others), data.counts
    # the table follows from the session's "responses" event: T1's current value is back
    row = next(r for r in s.rows() if r.lesion_id == "T1")
    assert row.current.startswith("25")
    table = reading.lesion_table
    cells = [table.item(0, c).text() for c in range(table.columnCount()) if table.item(0, c)]
    assert any(c.startswith("25") for c in cells), cells


def test_a_time_point_switch_by_key_touches_only_the_layers_that_change(read, qtbot):
    viewer, reading = read
    s = reading.session
    keys = reading.bindings
    press(qtbot, viewer, keys["next_date"])
    qtbot.wait(50)
    follow_up_2 = s.current
    assert follow_up_2 == s.dates[2]
    visible = Events(viewer, "visible")
    shown_before = {x.name for x in viewer.layers if x.visible}
    press(qtbot, viewer, keys["previous_date"])
    assert s.current == s.dates[1]
    shown_after = {x.name for x in viewer.layers if x.visible}
    changed = shown_before ^ shown_after
    # a layer that stays shown or stays hidden hears nothing (napari re-lays out its grid on
    # every visible event, even one that sets the same value)
    for layer in viewer.layers:
        if layer.name not in changed:
            assert visible.on(layer.name) == 0, (layer.name, visible.counts)
    assert changed  # the switch did show other layers


def test_accepting_a_proposal_draws_its_lines_without_redrawing_the_read(read, qtbot):
    viewer, reading = read
    s = reading.session
    reading.select_lesion("T2")
    lines = {"long": np.array([[0.0, 60.0, 0.0], [0.0, 60.0, 18.0]]),
             "short": np.array([[0.0, 55.0, 9.0], [0.0, 65.0, 9.0]])}
    reading.station.show_proposal("T2", lines)
    current = reading.annotations.lines.layer(s.current)
    others = [x for x in reading.annotations.lines.layers.values() if x is not current]
    data = Events(viewer, "data")
    press(qtbot, viewer, reading.bindings["accept"])
    m = s.measurement("T2")
    assert m is not None and m.long_axis_mm == pytest.approx(18.0)
    assert len(current.data) == 3  # T1's line kept, T2's two lines added
    assert all(data.on(x.name) == 0 for x in others), data.counts


def test_the_slider_steps_one_slice_of_the_displayed_series(read, qtbot):
    """Issue 23, defect 1: the slider stepped 1 mm (the lines' layers have scale 1) on 2.5 mm
    slices. Now one arrow press is one slice of the series on screen, its position the slice
    number, also after a line is drawn (napari then sets its range again)."""
    viewer, reading = read
    s = reading.session
    image = next(x for x in reading.context.images(s.current) if x.visible)
    spacing = float(image.scale[0])
    assert spacing == pytest.approx(2.5)
    assert viewer.dims.range[0].step == pytest.approx(spacing)
    assert viewer.dims.nsteps[0] == image.data.shape[0]
    s.record_line("T2", "long", _line(float(viewer.dims.point[0]), 60.0, 0.0, 18.0))
    qtbot.wait(20)
    assert viewer.dims.range[0].step == pytest.approx(spacing)
    before = viewer.dims.current_step[0]
    z_before = float(viewer.dims.point[0])
    press(qtbot, viewer, "Right")  # napari's own key: the slider one step on
    assert viewer.dims.current_step[0] == before + 1
    assert float(viewer.dims.point[0]) - z_before == pytest.approx(spacing)
    # the slider's position is the series' own slice index (the pane says "slice k + 1")
    index = int(round(float(image.world_to_data([viewer.dims.point[0], 0, 0])[0])))
    assert index == viewer.dims.current_step[0]


def test_a_reopened_read_starts_where_the_reader_stopped(read, make_napari_viewer, phantom_dir,
                                                         tmp_path, qtbot):
    """Issue 23, defect 7: a reopened read started at the baseline."""
    viewer, reading = read
    s = reading.session
    reading.select_lesion("T2")
    stopped = (s.current, "T2")
    assert stopped[0] != s.baseline
    s.store.close()
    viewer.close()
    again = _open(make_napari_viewer(show=True), phantom_dir, tmp_path / "reads.sqlite")
    assert (again.session.current, again.selected_lesion()) == stopped


@pytest.mark.parametrize(("point", "lo", "hi", "view", "expected"), [
    (80.0, -150.0, 150.0, 400.0, 0.0),     # the pane is wider than the body: the body centred
    (80.0, -150.0, 150.0, 300.0, 0.0),     # exactly as wide: the same
    (80.0, -150.0, 150.0, 200.0, 50.0),    # zoomed in: follows the lesion to the body's edge
    (-10.0, -150.0, 150.0, 200.0, -10.0),  # a lesion near the middle: centred on it
    (-140.0, -150.0, 150.0, 100.0, -100.0),
    (170.0, -150.0, 150.0, 400.0, 170.0),  # outside the body (a box that missed): the point
])
def test_the_view_keeps_the_body_in_the_pane(point, lo, hi, view, expected):
    from napari_response_tool._widgets.reading.viewing import centred

    assert centred(point, lo, hi, view) == pytest.approx(expected)


def _click_row(qtbot, table, lesion_id: str) -> None:
    """A real click on the lesion table's row of ``lesion_id``."""
    from qtpy.QtCore import Qt

    row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == lesion_id)
    rect = table.visualItemRect(table.item(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_selecting_a_lesion_keeps_the_whole_body_in_view(read, qtbot):
    """Issue 23, defect 2: selecting a lesion centred the view on it and cut the body off."""
    from napari_response_tool._widgets.reading.viewing import body_box

    viewer, reading = read
    s = reading.session
    s.record_line("T2", "long", _line(float(viewer.dims.point[0]), -60.0, 120.0, 18.0))
    reading.select_lesion("T1")
    _click_row(qtbot, reading.lesion_table, "T2")  # the lesion at the body's side, by hand
    assert reading.selected_lesion() == "T2"
    qtbot.wait(20)
    image = next(x for x in reading.context.images(s.current) if x.visible)
    (y0, x0), (y1, x1) = body_box(image, float(viewer.dims.point[0]))
    camera = viewer.scene.camera
    height, width = (float(v) for v in viewer.canvas.size)
    columns = 2 if viewer.canvas.grid.enabled else 1
    half_y, half_x = height / camera.zoom / 2, width / columns / camera.zoom / 2
    cy, cx = camera.center[1], camera.center[2]
    for lo, hi, c, half in ((y0, y1, cy, half_y), (x0, x1, cx, half_x)):
        if hi - lo <= 2 * half:  # the body fits: all of it in the pane
            assert c - half <= lo and hi <= c + half, (lo, hi, c, half)
        else:  # zoomed in past it: no air shown beyond its edge
            assert lo <= c - half and c + half <= hi, (lo, hi, c, half)
    assert abs(float(viewer.dims.point[0]) - s.measurement("T2").long_endpoints[0][0]) < 1e-6
