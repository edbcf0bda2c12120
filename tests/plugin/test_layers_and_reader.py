"""Qt-free adapter code of the plugin: layer placement in millimetres, window presets, the reader."""

from __future__ import annotations

import numpy as np
import pytest
from napari_response_tool._layers import WINDOW_PRESETS, placement_kwargs, volume_layer_data
from napari_response_tool._reader import napari_get_reader, read_dicom

from response_tool.io import Volume


def test_axial_volume_gets_scale_and_translate_in_zyx_mm():
    v = Volume(np.zeros((3, 4, 5), np.int16), (2.0, 0.8, 0.7), (-10.0, -20.0, -30.0))
    kw = placement_kwargs(v)
    assert kw == {"scale": (2.0, 0.8, 0.7), "translate": (-30.0, -20.0, -10.0)}


def test_oblique_volume_gets_an_affine_that_maps_indices_to_patient_mm():
    c, s = np.cos(0.3), np.sin(0.3)
    direction = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
    v = Volume(np.zeros((3, 4, 5), np.int16), (2.0, 0.8, 0.7), (1.0, 2.0, 3.0), direction)
    affine = placement_kwargs(v)["affine"]
    idx_zyx = np.array([2.0, 3.0, 4.0])
    expected_xyz = v.index_zyx_to_xyz_mm(idx_zyx)
    got_zyx = affine[:3, :3] @ idx_zyx + affine[:3, 3]
    assert got_zyx[::-1] == pytest.approx(expected_xyz)


@pytest.mark.parametrize(("name", "limits"), [("liver", (-10.0, 170.0)), ("abdomen", (-160.0, 240.0))])
def test_window_presets(name, limits):
    assert WINDOW_PRESETS[name].contrast_limits == limits


def test_layer_data_carries_series_metadata(shared_data):
    from response_tool.io import load_series, scan_dicom

    (series,) = scan_dicom(shared_data / "dcmqi-ct-3slice-liver").series
    data, kwargs, kind = volume_layer_data(load_series(series))
    assert kind == "image" and data.shape == (3, 512, 512)
    assert kwargs["scale"] == pytest.approx((1.0, 0.810547, 0.810547))
    meta = kwargs["metadata"]["response_tool"]
    assert meta["series_instance_uid"] == series.series_instance_uid


@pytest.mark.parametrize(
    "path_factory",
    [lambda d, tmp: d / "pyrecist-synthetic", lambda d, tmp: d / "pyrecist-synthetic" / "README.md",
     lambda d, tmp: tmp / "missing", lambda d, tmp: [str(d), str(d)]],
    ids=["csv-folder", "text-file", "missing-path", "two-paths"],
)
def test_reader_declines_what_it_cannot_read(shared_data, tmp_path, path_factory):
    assert napari_get_reader(path_factory(shared_data, tmp_path)) is None


def test_reader_opens_a_dicom_folder_in_millimetres(shared_data):
    folder = shared_data / "totalsegmentator-example-ct" / "example_ct_dicom"
    reader = napari_get_reader(str(folder))
    assert reader is read_dicom
    (layer,) = reader(str(folder))
    data, kwargs, kind = layer
    assert data.shape == (20, 512, 512)
    assert kwargs["scale"] == pytest.approx((2.0, 0.9765625, 0.9765625))
    assert kwargs["translate"][0] == pytest.approx(-804.5)


def test_reader_opens_the_reading_pair_of_the_baseline(phantom_dir):
    layers = read_dicom(str(phantom_dir / "RT-PHANTOM-001"))
    phases = [kw["metadata"]["response_tool"]["phase"] for _, kw, _ in layers]
    assert phases == ["portal-venous", "arterial"]  # arterial last = drawn on top
    dates = {kw["name"].split()[0] for _, kw, _ in layers}
    assert dates == {"2026-01-12"}


def test_opening_a_patient_folder_in_the_viewer_docks_the_series_picker(make_napari_viewer,
                                                                         phantom_dir):
    from napari_response_tool._context import ViewerContext

    viewer = make_napari_viewer()
    viewer.open(str(phantom_dir / "RT-PHANTOM-001"), plugin="response-tool")
    assert [lay.metadata["response_tool"]["phase"] for lay in viewer.layers] == [
        "portal-venous", "arterial"]
    panel = ViewerContext.of(viewer).patient_panel
    assert panel.tree.topLevelItemCount() == 3  # baseline + 2 follow-ups to pick from
    follow_up = panel.tree.topLevelItem(1)
    panel.load_items([follow_up.child(0)])
    assert len(viewer.layers) == 3
