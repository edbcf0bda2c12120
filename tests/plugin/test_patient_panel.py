"""The Patient panel and the demo session in a real napari viewer (under Xvfb)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("napari")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "test-screenshots"


def test_panel_opens_through_the_manifest_and_lists_the_phantom(make_napari_viewer, phantom_dir):
    viewer = make_napari_viewer()
    _, panel = viewer.window.add_plugin_dock_widget("response-tool", "Patient")
    scan = panel.open_folder(phantom_dir / "RT-PHANTOM-001")
    assert scan is not None and len(panel.studies()) == 3
    assert panel.tree.topLevelItemCount() == 3
    first = panel.tree.topLevelItem(0)
    assert first.text(0).endswith("baseline") and first.childCount() == 3
    assert "3 studies, 9 series" in panel.status.text()


def test_bad_folder_shows_the_core_message_instead_of_raising(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    _, panel = viewer.window.add_plugin_dock_widget("response-tool", "Patient")
    assert panel.open_folder(tmp_path) is None
    assert "the folder is empty" in panel.status.text()


def test_phase_override_changes_what_is_loaded(make_napari_viewer, phantom_dir):
    viewer = make_napari_viewer()
    _, panel = viewer.window.add_plugin_dock_widget("response-tool", "Patient")
    panel.open_folder(phantom_dir / "RT-PHANTOM-001")
    baseline = panel.studies()[0]
    nc = next(s for s in baseline.series if s.phase.phase == "non-contrast")
    panel.override_phase((nc.series_instance_uid, nc.sub_series), "arterial")
    art = next(s for s in baseline.series if s.phase.phase == "arterial")
    panel.override_phase((art.series_instance_uid, art.sub_series), "unknown")
    panel.load_study(baseline)
    loaded = [layer.metadata["response_tool"]["series_instance_uid"] for layer in viewer.layers]
    assert nc.series_instance_uid in loaded and art.series_instance_uid not in loaded


def test_demo_session_renders_both_phases_side_by_side_at_the_lesion(make_napari_viewer, phantom_dir):
    from napari_response_tool._demo_session import open_demo_session
    from napari_response_tool._screenshots import save_screenshot

    viewer = make_napari_viewer()
    session = open_demo_session(viewer, phantom_dir)
    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    assert [layer.name for layer in viewer.layers] == ["2026-01-12 portal-venous", "2026-01-12 arterial"]
    for layer in viewer.layers:
        assert tuple(layer.scale) == pytest.approx(tuple(gt["grid"]["spacing_zyx_mm"]))
        assert tuple(layer.contrast_limits) == pytest.approx((-10.0, 170.0))
    assert viewer.canvas.grid.enabled
    t1 = gt["lesions"][0]["timepoints"][0]
    assert viewer.dims.point[0] == pytest.approx(t1["z_mm"])
    # the arterial layer shows T1 bright at its centre on the current slice
    art = viewer.layers["2026-01-12 arterial"]
    centre = np.round(art.world_to_data([t1["z_mm"], t1["center_xyz_mm"][1],
                                         t1["center_xyz_mm"][0]])).astype(int)
    assert art.data[tuple(centre)] > 150
    shot = save_screenshot(viewer, SCREENSHOTS / "demo_session.png")
    image = np.asarray(__import__("imageio.v3", fromlist=["imread"]).imread(shot))
    assert image.shape[0] > 300 and image[..., :3].std() > 10  # something was rendered
    assert "T1" in session.summary_text()


def test_a_series_loaded_with_a_geometry_warning_says_so(make_napari_viewer, phantom_dir, tmp_path):
    """A slice missing from the portal-venous series: the loader resamples it onto a regular grid
    and warns (issue 15); the layer is marked and the panel's status line says why."""
    import shutil

    import pydicom

    patient = tmp_path / "RT-PHANTOM-001"
    shutil.copytree(phantom_dir / "RT-PHANTOM-001", patient)
    viewer = make_napari_viewer()
    _, panel = viewer.window.add_plugin_dock_widget("response-tool", "Patient")
    panel.open_folder(patient)
    baseline = panel.studies()[0]
    pv = next(s for s in baseline.series if s.phase.phase == "portal-venous")
    files = sorted(pv.files, key=lambda f: float(pydicom.dcmread(f, stop_before_pixels=True)
                                                 .ImagePositionPatient[2]))
    Path(files[len(files) // 2]).unlink()  # one slice in the middle of the liver is gone
    panel.open_folder(patient)
    panel.load_study(panel.studies()[0])
    marked = [layer.name for layer in viewer.layers if layer.name.endswith("⚠")]
    assert marked == ["2026-01-12 portal-venous ⚠"]
    assert "⚠" in panel.status.text()
    warned = viewer.layers[marked[0]].metadata["response_tool"]["warnings"]
    assert warned and "slice" in warned[0].lower()
