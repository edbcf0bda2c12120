"""Click-to-measure in the Reading panel with the lesion's mask and volumes (issue 22, items 2 and
4), keys pressed for real on napari's canvas: at a registered follow-up *Measure* proposes at the
selected lesion's predicted position with no click; the message says the proposal's volumes,
confidence and warnings; *Accept* stores lines, volumes and mask as one action (the lesion table
shows the volume; one undo takes all of it back, redo restores it); the panel's DICOM export
writes the mask as a SEG beside the SR. Refused at the predicted position, the panel says so and
the next click proposes. Screenshots in out/test-screenshots/ (looked at)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("napari")

from test_keys import press  # noqa: E402

from response_tool.domain.model import ml_text  # noqa: E402

SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "test-screenshots"


@pytest.fixture
def followup(make_napari_viewer, phantom_dir, tmp_path):
    """The demo read at follow-up 1 (registered to the baseline), T1 selected."""
    from napari_response_tool._demo_session import open_demo_session, open_reading_demo

    viewer = make_napari_viewer(show=True)
    demo = open_reading_demo(open_demo_session(viewer, phantom_dir), tmp_path / "reads.sqlite",
                             upto=1)
    panel = demo.panel
    assert panel.session.current == panel.session.dates[1]
    assert panel.session.registration(panel.session.current) is not None
    panel.select_lesion("T1")
    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    t1 = next(x for x in gt["lesions"] if x["lesion_id"] == "T1")["timepoints"][1]
    return SimpleNamespace(viewer=viewer, panel=panel, session=panel.session, t1=t1,
                           images=phantom_dir / "RT-PHANTOM-001")


def _state(session):
    kept = session.segmentation("T1")
    return session.measurement("T1"), None if kept is None else kept.mask.labels.tobytes()


def _scroll_to_messages(panel) -> None:
    """The panel scrolled down to its message line (for the screenshot)."""
    from qtpy.QtWidgets import QApplication, QScrollArea

    QApplication.processEvents()
    bar = panel.findChild(QScrollArea).verticalScrollBar()
    bar.setValue(bar.maximum())


def _volume_cell(panel) -> str:
    from napari_response_tool._widgets.reading.layout import LESION_COLUMNS

    row = next(i for i in range(panel.lesion_table.rowCount())
               if panel.lesion_table.item(i, 0).text() == "T1")
    return panel.lesion_table.item(row, LESION_COLUMNS.index("mL")).text()


def test_measure_proposes_at_the_predicted_position_and_accept_keeps_mask_and_volumes(
        followup, qtbot, tmp_path):
    from napari_response_tool._screenshots import save_screenshot

    f = followup
    panel, session, viewer = f.panel, f.session, f.viewer
    drawn = _state(session)  # the demo's hand-drawn lines, no mask
    assert drawn[0].volume_mm3 is None and drawn[1] is None and _volume_cell(panel) == ""
    press(qtbot, viewer, panel.bindings["correct"])  # armed, then Measure instead:
    assert panel.locator.correcting
    press(qtbot, viewer, panel.bindings["measure"])
    assert not panel.locator.correcting  # no click left armed to move the lesion
    # proposed at once, no click: at the prediction (the cross), the lesion's own lines
    assert not panel.station.measuring, panel.problem_label.text()
    message = panel.problem_label.text()
    assert message.startswith("proposed for T1 at its predicted position: long ")
    found = panel.station.found
    assert f"confidence {found.confidence}" in message
    assert f"volume {ml_text(found.volume_mm3)} mL, enhancing " in message
    assert all(f"⚠ {w}" in message for w in found.warnings)
    predicted = session.predicted_position("T1")[0]
    assert np.allclose(panel.locator.marker_layer.data[0], predicted)
    long = panel.station.proposal["long"]
    assert np.linalg.norm(long[1] - long[0]) == pytest.approx(f.t1["long_axis_mm"], abs=3.0)
    assert _state(session) == drawn  # nothing stored before the reader accepts
    _scroll_to_messages(panel)
    save_screenshot(viewer, SCREENSHOTS / "measure_at_predicted_followup1.png")

    press(qtbot, viewer, panel.bindings["accept"])
    m, mask = _state(session)
    assert m.volume_mm3 == found.volume_mm3 and m.enhancing_volume_mm3 == found.enhancing_volume_mm3
    assert m.origin("long") == "proposed" and m.lines_as_segmented
    assert mask == found.mask.labels.tobytes()
    measured_on = panel.hanging.current_volumes()["portal-venous"].series.series_instance_uid
    assert session.segmentation("T1").series_uid == measured_on  # the mask's grid
    assert _volume_cell(panel) == m.volume_text() == ml_text(m.volume_mm3)
    assert panel.problem_label.text() == (
        f"T1: accepted long, short, viable; volume {ml_text(m.volume_mm3)} mL, enhancing "
        f"{ml_text(m.enhancing_volume_mm3)} mL")
    _scroll_to_messages(panel)
    save_screenshot(viewer, SCREENSHOTS / "accepted_volume_followup1.png")
    accepted = _state(session)

    press(qtbot, viewer, panel.bindings["undo"])  # one action: lines, volumes and mask
    assert _state(session) == drawn and _volume_cell(panel) == ""
    assert panel.problem_label.text() == "undone: T1 proposal accepted"
    press(qtbot, viewer, panel.bindings["redo"])
    assert _state(session) == accepted and _volume_cell(panel) == m.volume_text()

    files = panel.export_dicom(tmp_path / "dicom")
    names = {p.name for p in files}
    assert "RT-PHANTOM-001_DEMO_2026-03-09_follow-up1_lesions_SEG.dcm" in names, \
        panel.problem_label.text()
    assert "RT-PHANTOM-001_DEMO_2026-03-09_follow-up1_SR.dcm" in names


def test_an_edited_line_keeps_the_mask_and_the_table_says_so(followup, qtbot):
    f = followup
    panel, session = f.panel, f.session
    press(qtbot, f.viewer, panel.bindings["measure"])
    layer = panel.station.proposal_layer
    i = list(layer.features["kind"]).index("long")
    data = [np.asarray(x).copy() for x in layer.data]
    data[i][1, 2] += 2.0  # the reader moves the long axis' end before accepting
    layer.data = data
    press(qtbot, f.viewer, panel.bindings["accept"])
    m = session.measurement("T1")
    assert m.origin("long") == "edited" and not m.lines_as_segmented
    assert session.segmentation("T1") is not None
    cell = _volume_cell(panel)
    assert cell.endswith(" *")
    row = next(i for i in range(panel.lesion_table.rowCount())
               if panel.lesion_table.item(i, 0).text() == "T1")
    from napari_response_tool._widgets.reading.layout import LESION_COLUMNS

    tip = panel.lesion_table.item(row, LESION_COLUMNS.index("mL")).toolTip()
    assert tip.startswith(f"volume {ml_text(m.volume_mm3)} mL, enhancing ")
    assert "the volumes are the mask's, not the lines'" in tip


def test_refused_at_the_predicted_position_the_next_click_proposes(followup, qtbot):
    """The reader's correction puts T1 in the air beside the patient: nothing to segment there.
    The panel says why and arms the click, which then proposes."""
    f = followup
    panel, session, viewer = f.panel, f.session, f.viewer
    volume = panel.hanging.current_volumes()["portal-venous"]
    air = volume.index_zyx_to_xyz_mm([volume.shape_zyx[0] // 2, 3, 3])[::-1]
    session.correct_position("T1", air.tolist())
    press(qtbot, viewer, panel.bindings["measure"])
    message = panel.problem_label.text()
    assert message.startswith("T1: nothing proposed at its predicted position (")
    assert message.endswith("— click inside it on the current study")
    assert panel.station.measuring and panel.station.proposal == {}
    from napari_response_tool._screenshots import save_screenshot

    _scroll_to_messages(panel)
    save_screenshot(viewer, SCREENSHOTS / "measure_refused_at_predicted.png")
    centre = np.asarray(f.t1["center_xyz_mm"], float)[::-1]
    event = SimpleNamespace(position=centre)
    for callback in list(viewer.mouse_drag_callbacks):  # the reader's click on T1
        callback(viewer, event)
    assert "long" in panel.station.proposal, panel.problem_label.text()
    assert panel.problem_label.text().startswith("proposed for T1: long ")


def test_at_the_baseline_measure_waits_for_the_click(followup, qtbot):
    panel = followup.panel
    panel.go_to(followup.session.baseline)
    panel.select_lesion("T1")
    press(qtbot, followup.viewer, panel.bindings["measure"])
    assert panel.station.measuring and panel.station.proposal == {}
    assert panel.problem_label.text() == "click inside T1 on the current study"


def test_a_low_confidence_proposal_shows_every_warning(followup, qtbot):
    """What the core says of a doubtful proposal reaches the reader whole: its confidence and
    each warning on its own line (a real proposal, given the warnings a leak would bring)."""
    from dataclasses import replace

    from napari_response_tool._screenshots import save_screenshot

    f = followup
    panel = f.panel
    press(qtbot, f.viewer, panel.bindings["measure"])
    doubtful = replace(panel.station.found, confidence="low", warnings=(
        "the lesion found reaches the edge of the region around the click: it may have leaked "
        "into a neighbouring structure; check the lines",
        "another click 3 mm away gives a long axis 40 % longer"))
    panel.station.show_proposal("T1", panel.station.proposal, doubtful)
    lines = panel.problem_label.text().splitlines()
    assert lines[0].endswith("— confidence low")
    assert lines[1:3] == [f"⚠ {w}" for w in doubtful.warnings]
    assert lines[3] == "edit the lines if needed, then accept"
    _scroll_to_messages(panel)
    save_screenshot(f.viewer, SCREENSHOTS / "proposal_with_warnings.png")
    label = panel.problem_label  # the whole message in view, not drawn over the responses
    table = panel.response_table
    assert label.mapTo(panel, label.rect().topLeft()).y() >= \
        table.mapTo(panel, table.rect().bottomLeft()).y()
    assert label.height() >= label.heightForWidth(label.width())
