"""A DICOM SEG with overlapping liver and tumour segments opened as a labels layer on its series
(under Xvfb; the screenshot is saved to out/test-screenshots/seg_labels.png)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("napari")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "test-screenshots"


def test_seg_opens_as_labels_on_its_series(make_napari_viewer, phantom_dir, tmp_path):
    from napari_response_tool._masks import open_mask
    from napari_response_tool._screenshots import save_screenshot

    from response_tool.exchange.images import ImageIndex
    from response_tool.exchange.seg import outlines_seg
    from response_tool.io import load_image, load_label_map

    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    tp = gt["timepoints"][0]
    pv_uid = tp["series"]["portal-venous"]["series_instance_uid"]
    image = load_image(phantom_dir / tp["series"]["portal-venous"]["folder"])
    truth = load_label_map(phantom_dir / tp["label_map"], image)
    labels = np.where(np.isin(truth, gt["tumour_labels"]), 2,
                      np.where(np.isin(truth, gt["liver_labels"]), 1, 0)).astype(np.uint8)
    seg = outlines_seg(labels, pv_uid, ImageIndex(phantom_dir / "RT-PHANTOM-001" /
                                                  "20260112_baseline"))
    seg_path = tmp_path / "liver_tumour_SEG.dcm"
    seg.save_as(seg_path, enforce_file_format=True)

    viewer = make_napari_viewer()
    _, panel = viewer.window.add_plugin_dock_widget("response-tool", "Patient")
    panel.open_folder(phantom_dir / "RT-PHANTOM-001")
    panel.load_study(panel.studies()[0])
    pv = next(x for x in viewer.layers
              if x.metadata["response_tool"].get("series_instance_uid") == pv_uid)
    layer = open_mask(viewer, seg_path)
    assert layer.name == f"liver_tumour_SEG.dcm on {pv.name}"  # its own series, found by the SEG
    assert np.array_equal(np.asarray(layer.data), labels)  # voxel for voxel on the image
    assert tuple(layer.scale) == pytest.approx(tuple(pv.scale))
    assert tuple(layer.translate) == pytest.approx(tuple(pv.translate))
    (note,) = layer.metadata["response_tool"]["notes"]
    assert "overlap" in note  # read per segment, not refused
    t1 = gt["lesions"][0]["timepoints"][0]
    viewer.dims.set_point(0, t1["z_mm"])
    for other in viewer.layers:
        other.visible = other is pv or other is layer
    shot = save_screenshot(viewer, SCREENSHOTS / "seg_labels.png")
    rendered = np.asarray(__import__("imageio.v3", fromlist=["imread"]).imread(shot))
    assert rendered[..., :3].std() > 10


def _seg_of_truth(phantom_dir, tmp_path):
    from response_tool.exchange.images import ImageIndex
    from response_tool.exchange.seg import outlines_seg
    from response_tool.io import load_image, load_label_map

    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    tp = gt["timepoints"][0]
    image = load_image(phantom_dir / tp["series"]["portal-venous"]["folder"])
    truth = load_label_map(phantom_dir / tp["label_map"], image)
    labels = np.where(np.isin(truth, gt["tumour_labels"]), 2,
                      np.where(np.isin(truth, gt["liver_labels"]), 1, 0)).astype(np.uint8)
    seg = outlines_seg(labels, tp["series"]["portal-venous"]["series_instance_uid"],
                       ImageIndex(phantom_dir / "RT-PHANTOM-001" / "20260112_baseline"))
    path = tmp_path / "liver_tumour_SEG.dcm"
    seg.save_as(path, enforce_file_format=True)
    return gt, tp, labels, path


def test_open_mask_button_loads_the_segs_series_and_opens_it_as_labels(
        make_napari_viewer, qtbot, phantom_dir, tmp_path, monkeypatch):
    """The Patient panel's "Open mask…": a SEG whose series is in the open folder but not on
    screen loads that series (in the background), then lies on it voxel for voxel."""
    from napari.layers import Labels
    from napari_response_tool._screenshots import save_screenshot
    from qtpy.QtWidgets import QFileDialog, QPushButton

    gt, tp, labels, seg_path = _seg_of_truth(phantom_dir, tmp_path)
    pv_uid = tp["series"]["portal-venous"]["series_instance_uid"]
    viewer = make_napari_viewer()
    _, panel = viewer.window.add_plugin_dock_widget("response-tool", "Patient")
    panel.open_folder(phantom_dir / "RT-PHANTOM-001")
    assert len(viewer.layers) == 0
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(seg_path), "")))
    (button,) = [b for b in panel.findChildren(QPushButton) if b.text() == "Open mask…"]
    button.click()
    qtbot.waitUntil(lambda: any(isinstance(x, Labels) for x in viewer.layers), timeout=60_000)
    (layer,) = [x for x in viewer.layers if isinstance(x, Labels)]
    (image,) = [x for x in viewer.layers if not isinstance(x, Labels)]
    assert image.metadata["response_tool"]["series_instance_uid"] == pv_uid  # its own series
    assert np.array_equal(np.asarray(layer.data), labels)
    assert tuple(layer.scale) == pytest.approx(tuple(image.scale))
    assert tuple(layer.translate) == pytest.approx(tuple(image.translate))
    text = panel.status.text()
    assert text.startswith("liver_tumour_SEG.dcm: labels 1, 2 on ") and "overlap" in text
    from qtpy.QtWidgets import QApplication

    t1 = gt["lesions"][0]["timepoints"][0]
    viewer.window.resize(1600, 900)  # room for the whole slice beside the panel
    QApplication.processEvents()
    viewer.dims.set_point(0, t1["z_mm"])
    viewer.reset_view()
    assert layer.contour == 2  # opens as outlines: the image shows through
    shot = save_screenshot(viewer, SCREENSHOTS / "seg_labels_patient_panel_contour.png")
    rendered = np.asarray(__import__("imageio.v3", fromlist=["imread"]).imread(shot))
    assert rendered[..., :3].std() > 10
    layer.contour = 0  # filled, as the reader may switch it in the layer controls
    save_screenshot(viewer, SCREENSHOTS / "seg_labels_patient_panel.png")


def test_open_mask_errors_are_the_panels_status(make_napari_viewer, phantom_dir, tmp_path):
    import SimpleITK as sitk
    from napari.layers import Labels

    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    tp = gt["timepoints"][0]
    viewer = make_napari_viewer()
    _, panel = viewer.window.add_plugin_dock_widget("response-tool", "Patient")
    nifti = phantom_dir / tp["label_map"]
    assert panel.open_mask(nifti) is None  # nothing on screen to place it on
    assert "open its series first" in panel.status.text()
    panel.open_folder(phantom_dir / "RT-PHANTOM-001")
    panel.load_study(panel.studies()[0])
    junk = tmp_path / "notes.nii.gz"
    junk.write_text("not an image")
    assert panel.open_mask(junk) is None
    assert str(junk) in panel.status.text() and "Traceback" not in panel.status.text()
    far = sitk.Image(8, 8, 8, sitk.sitkUInt8)  # a mask 10 m away from the image
    far.SetOrigin((10_000.0, 10_000.0, 10_000.0))
    far[4, 4, 4] = 1
    sitk.WriteImage(far, str(tmp_path / "far.nii.gz"))
    assert panel.open_mask(tmp_path / "far.nii.gz") is None
    assert "far.nii.gz" in panel.status.text()
    assert not [x for x in viewer.layers if isinstance(x, Labels)]
    layer = panel.open_mask(nifti)  # a NIfTI label map: on the selected (or first) image
    assert isinstance(layer, Labels) and panel.status.text().startswith(
        f"{nifti.name}: labels ")
