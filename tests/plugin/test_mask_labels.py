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
