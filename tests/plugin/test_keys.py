"""The Reading panel's keys, pressed for real: Qt key events sent to napari's canvas widget
(pytest-qt's ``qtbot.keyClick``), dispatched by napari the way a reader's key press is — the
active layer's keymap first. Every documented key is pressed while the reader draws (the
diameters layer active in napari's add-line mode), and must do its action without changing the
layer's mode; the defaults must be free in the live keymaps of every napari layer type."""

from __future__ import annotations

import json

import numpy as np
import pytest
from napari_response_tool import _keymap

pytest.importorskip("napari")

from qtpy.QtCore import Qt  # noqa: E402

_MODS = {"Shift": Qt.KeyboardModifier.ShiftModifier, "Alt": Qt.KeyboardModifier.AltModifier,
         "Ctrl": Qt.KeyboardModifier.ControlModifier}
_KEYS = {"Enter": Qt.Key.Key_Return, "Right": Qt.Key.Key_Right, "Left": Qt.Key.Key_Left}


def press(qtbot, viewer, key: str) -> None:
    """Press ``key`` (napari spelling, e.g. ``Shift+T``) on the canvas, as the reader would."""
    *mods, name = key.split("+")
    modifier = Qt.KeyboardModifier.NoModifier
    for m in mods:
        modifier |= _MODS[m]
    code = _KEYS.get(name) or getattr(Qt.Key, f"Key_{name.upper()}")
    qtbot.keyClick(viewer.window._qt_viewer.canvas.native, code, modifier)


# -- the key table, without a viewer --------------------------------------------------------------
def test_default_keys_collide_with_no_napari_shortcut_and_are_unique():
    bindings = _keymap.load_bindings(environ={})
    assert set(bindings) == set(_keymap.ACTIONS)
    assert len(set(bindings.values())) == len(bindings)
    taken = _keymap.napari_keys()
    assert {"2", "E", "T", "Shift+L", "Alt+F"} <= set(taken)  # the table knows napari's keys
    assert _keymap.collisions(bindings) == []
    # the old documented keys were napari's shapes modes: the check says so
    clash = _keymap.collisions({"draw_short": _keymap.normalise("2"),
                                "new_target": _keymap.normalise("t")})
    assert len(clash) == 2 and "activate_vertex_insert_mode" in clash[0] + clash[1]


@pytest.mark.parametrize(("content", "expected"), [
    ('{"undo": "Ctrl-Z"}', None),
    ('{"undo": "Ctrl-Z", "redo": "Ctrl-Shift-Z"}', None),
    ('{"frobnicate": "Q"}', r"unknown action\(s\) frobnicate"),
    ('{"undo": "Shift-T"}', r"Shift\+T is given to both"),
    ('{"undo": "NoSuchKey-Q"}', "not a key napari can bind"),
    ("[1, 2]", "one object of action"),
    ("{undo", "not JSON"),
])
def test_the_readers_key_file(tmp_path, content, expected):
    path = tmp_path / "keys.json"
    path.write_text(content, encoding="utf-8")
    if expected is None:
        bindings = _keymap.load_bindings(environ={_keymap.KEYS_ENV: str(path)})
        assert bindings["undo"] == "Ctrl+Z"
        assert bindings["new_target"] == "Shift+T"  # the others keep their defaults
        return
    from response_tool.domain.errors import ResponseToolError

    with pytest.raises(ResponseToolError, match=expected) as info:
        _keymap.load_bindings(environ={_keymap.KEYS_ENV: str(path)})
    assert str(path) in str(info.value)  # the message names the file
    assert "\n" not in str(info.value)


def test_a_missing_key_file_is_named():
    from response_tool.domain.errors import ResponseToolError

    with pytest.raises(ResponseToolError, match="cannot read the key file"):
        _keymap.load_bindings("/nonexistent/keys.json")


# -- in a viewer ---------------------------------------------------------------------------------
def test_default_keys_are_free_in_the_live_keymap_of_every_layer_type(make_napari_viewer):
    viewer = make_napari_viewer(show=True)
    handler = viewer.window._qt_viewer._key_map_handler
    ours = set(_keymap.load_bindings(environ={}).values())
    layers = [viewer.add_image(np.zeros((2, 8, 8))), viewer.add_labels(np.zeros((2, 8, 8), int)),
              viewer.add_points(np.empty((0, 3)), ndim=3), viewer.add_shapes(ndim=3)]
    for layer in layers:
        viewer.layers.selection.active = layer
        taken = {str(k) for k in handler.active_keymap}
        assert {"1", "2"} <= taken  # the layer's own mode keys are there
        assert not ours & taken, (type(layer).__name__, ours & taken)


def _open(viewer, phantom_dir, store, tabify=True):
    _, patient = viewer.window.add_plugin_dock_widget("response-tool", "Patient")
    _, reading = viewer.window.add_plugin_dock_widget("response-tool", "Reading", tabify=tabify)
    patient.open_folder(phantom_dir / "RT-PHANTOM-001")
    studies = patient.studies()
    patient.load_study(studies[0])
    reading.start("RT-PHANTOM-001", studies, store, reader_id="R1", load_study=patient.load_study)
    return reading


def test_every_documented_key_works_while_the_reader_draws(make_napari_viewer, qtbot,
                                                           phantom_dir, tmp_path, monkeypatch):
    monkeypatch.delenv(_keymap.KEYS_ENV, raising=False)
    viewer = make_napari_viewer(show=True)
    reading = _open(viewer, phantom_dir, tmp_path / "reads.sqlite")
    keys = reading.bindings
    session = reading.session
    # every action is in the panel's help line with its key
    help_text = reading.help_label.text()
    for action, (_, what) in _keymap.ACTIONS.items():
        assert f"<b>{keys[action]}</b> {what}" in help_text

    def drawing():
        layer = reading.annotations.lines.layer(session.current)
        viewer.layers.selection.active = layer
        layer.mode = "add_line"
        return layer

    def pressed(action):
        layer = drawing()
        press(qtbot, viewer, keys[action])
        if action.endswith("_date"):  # the layer drawn on was the other time point's: hidden
            return
        # a key that arms a click (click-to-measure's seed, a correction) leaves the drawing
        # tool, so that click is not also a line (issue 23, defect 4); every other key keeps it
        arms = action in ("measure", "correct") and reading.next_click.armed
        expected = "pan_zoom" if arms else "add_line"
        assert layer.mode == expected, (f"{keys[action]}: napari's shapes mode {layer.mode}",
                                        reading.problem_label.text())

    pressed("new_target")
    assert reading.selected_lesion() == "T1" and session.lesion("T1").role == "target"
    pressed("new_target")
    assert reading.selected_lesion() == "T2"
    for action, kind in (("draw_short", "short"), ("draw_viable", "viable"),
                         ("draw_long", "long")):
        pressed(action)
        assert reading.kind == kind, action
    pressed("previous_lesion")
    assert reading.selected_lesion() == "T1"
    pressed("next_lesion")
    assert reading.selected_lesion() == "T2"
    z = float(viewer.dims.point[0])
    reading.annotations.lines.layer(session.current).add_lines(
        [np.array([[z, 0.0, 0.0], [z, 0.0, 30.0]])])  # T2's long axis, drawn
    assert session.measurement("T2").long_axis_mm == pytest.approx(30.0)
    pressed("undo")
    assert session.measurement("T2") is None and "undone" in reading.problem_label.text()
    pressed("redo")
    assert session.measurement("T2").long_axis_mm == pytest.approx(30.0)
    baseline = session.current
    pressed("next_date")
    assert session.current == session.dates[1]
    pressed("too_small")
    assert session.measurement("T2").status == "too-small"
    pressed("disappeared")
    assert session.measurement("T2").status == "absent"
    pressed("no_enhancement")
    assert session.measurement("T2").viable_long_axis_mm == 0.0
    images = reading.context.images(session.current)
    shown = [x.metadata["response_tool"]["phase"] for x in images if x.visible]
    pressed("toggle_phase")
    now = [x.metadata["response_tool"]["phase"] for x in images if x.visible]
    assert len(shown) == len(now) == 1 and shown != now
    prior_mode = reading.prior_box.currentText()
    pressed("prior")
    assert reading.prior_box.currentText() != prior_mode
    window = reading.window_box.currentText()
    pressed("window")
    assert reading.window_box.currentText() != window
    on = reading.hanging_box.isChecked()
    pressed("hanging")
    assert reading.hanging_box.isChecked() != on
    pressed("predicted")
    assert reading.problem_label.text()  # says where it went, or why it cannot
    pressed("correct")  # at a follow-up: the next click says where the lesion is
    assert reading.locator.correcting and "click where T2 is" in reading.problem_label.text()
    reading.next_click.disarm()
    pressed("measure")
    assert reading.problem_label.text()
    pressed("accept")
    assert "nothing proposed" in reading.problem_label.text() or reading.station.proposal == {}
    pressed("previous_date")
    assert session.current == baseline


def test_keys_from_the_readers_file_and_rebinding(make_napari_viewer, qtbot, phantom_dir,
                                                  tmp_path, monkeypatch):
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps({"new_target": "Ctrl-Shift-N"}), encoding="utf-8")
    monkeypatch.setenv(_keymap.KEYS_ENV, str(keys_file))
    viewer = make_napari_viewer(show=True)
    reading = _open(viewer, phantom_dir, tmp_path / "reads.sqlite")
    assert "<b>Ctrl+Shift+N</b> new target" in reading.help_label.text()
    press(qtbot, viewer, "Ctrl+Shift+N")
    assert reading.selected_lesion() == "T1"
    press(qtbot, viewer, "Shift+T")  # the default key is no longer bound
    assert [r.lesion_id for r in reading.session.rows()] == ["T1"]
    reading.rebind("new_target", "Shift-Q")
    press(qtbot, viewer, "Shift+Q")
    assert reading.selected_lesion() == "T2"
    assert "<b>Shift+Q</b> new target" in reading.help_label.text()
    from response_tool.domain.errors import ResponseToolError

    with pytest.raises(ResponseToolError, match="given to both"):
        reading.rebind("undo", "Shift-Q")
