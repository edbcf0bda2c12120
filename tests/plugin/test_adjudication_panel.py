"""Blinded readers and the adjudication view in a real napari viewer (under Xvfb)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("napari")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "test-screenshots"


def _all_lines(viewer) -> list[np.ndarray]:
    return [np.asarray(d) for lay in viewer.layers if lay.__class__.__name__ == "Shapes"
            for d in lay.data]


def _has_line(viewer, ends: np.ndarray) -> bool:
    return any(d.shape == ends.shape and np.allclose(d, ends) for d in _all_lines(viewer))


def test_readers_are_blinded_and_adjudication_saves_adj(make_napari_viewer, phantom_dir,
                                                        tmp_path):
    from napari_response_tool._demo_read import draw
    from napari_response_tool._screenshots import save_screenshot

    from response_tool.reading.store import ReadKey

    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    t1 = gt["lesions"][0]["timepoints"][0]
    viewer = make_napari_viewer()
    _, patient = viewer.window.add_plugin_dock_widget("response-tool", "Patient")
    _, reading = viewer.window.add_plugin_dock_widget("response-tool", "Reading")
    patient.open_folder(phantom_dir / "RT-PHANTOM-001")
    studies = patient.studies()
    patient.load_study(studies[0])
    store = tmp_path / "reads.sqlite"

    # reader A measures T1 (ground truth); reader B, blind, measures it 8 mm longer along x
    reading.start("RT-PHANTOM-001", studies, store, reader_id="A", load_study=patient.load_study)
    reading.add_lesion("target", "liver")
    a_mm = draw(reading, "T1", "long", t1["long_axis_endpoints_xyz_mm"], "portal-venous")
    a_line = np.asarray(reading._shapes(reading.session.current).data[0])
    reading.lead_box.setText("A")  # study option: targets fixed by the lead reader A
    reading.start("RT-PHANTOM-001", studies, store, reader_id="B", load_study=patient.load_study)
    assert [les.lesion_id for les in reading.session.lesions()] == ["T1"]  # from the lead
    assert reading.session.measurement("T1") is None                        # but not A's size
    assert not _has_line(viewer, a_line)                                     # A's line is hidden
    assert sum(len(lay.data) for lay in reading._layers.values()) == 0
    ends = [list(p) for p in t1["long_axis_endpoints_xyz_mm"]]
    ends[1][0] += 8.0
    b_mm = draw(reading, "T1", "long", ends, "portal-venous")
    assert b_mm == pytest.approx(a_mm + 8.0, abs=1.6)
    b_line = np.asarray(reading._shapes(reading.session.current).data[0])
    reading.start("RT-PHANTOM-001", studies, store, reader_id="A", load_study=patient.load_study)
    assert _has_line(viewer, a_line) and not _has_line(viewer, b_line)   # and B's from A

    # the adjudicator compares both (through the manifest), starts ADJ from A, takes B's T1
    _, adj = viewer.window.add_plugin_dock_widget("response-tool", "Adjudication", tabify=True)
    c = adj.compare()
    assert c is not None and c.readers == ["A", "B"]
    assert _has_line(viewer, a_line) and _has_line(viewer, b_line)  # both drawn, own layers
    names = [lay.name for lay in viewer.layers]
    assert f"reader A lines {studies[0].study_date.isoformat()}" in names
    row = c.lesions[c.lesions["lesion_id"] == "T1"].iloc[0]
    assert bool(row["differs"])                                   # 8 mm and > 10 % apart
    t1_row = next(i for i in range(adj.lesion_table.rowCount())
                  if adj.lesion_table.item(i, 1).text() == "T1")
    assert adj.lesion_table.item(t1_row, 3).background().color().red() > 100  # highlighted
    assert adj.start_adj("A") == ReadKey("RT-PHANTOM-001", "ADJ")
    assert reading.session.key.reader_id == "ADJ"
    assert reading.session.measurement("T1").long_axis_mm == pytest.approx(a_mm)
    adj.lesion_table.setCurrentCell(t1_row, 4)  # B's cell
    adj._take_selected()
    assert reading.session.measurement("T1").long_axis_mm == pytest.approx(b_mm)
    assert _has_line(viewer, b_line)
    assert reading.session.store.readers("RT-PHANTOM-001") == ["A", "ADJ", "B"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    viewer.window.resize(1600, 960)
    viewer.reset_view()
    reading.jump_to("T1")
    viewer.scene.camera.zoom *= 3.0
    adj.parent().raise_()  # the Adjudication tab in front
    save_screenshot(viewer, SCREENSHOTS / "adjudication.png")


def test_adjudication_without_a_read_says_what_to_do(make_napari_viewer):
    viewer = make_napari_viewer()
    _, adj = viewer.window.add_plugin_dock_widget("response-tool", "Adjudication")
    assert adj.compare() is None
    assert "Reading panel" in adj.summary.text()
