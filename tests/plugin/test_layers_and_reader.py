"""Qt-free adapter code of the plugin: layer placement in millimetres, window presets, the reader."""

from __future__ import annotations

import re

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


# -- one image record for both loaders (issue 23, item 9) ---------------------------------------

def _split(layer):
    """A layer's record as stored (without its volume) and the volume it holds."""
    meta = dict(layer.metadata["response_tool"])
    return meta, meta.pop("volume", None)


def _split_tuple(layer_data):
    """The record (without its volume) and the volume of a reader's ``LayerDataTuple``."""
    meta = dict(layer_data[1]["metadata"]["response_tool"])
    return meta, meta.pop("volume", None)


def _by_series(layers):
    return {layer.metadata["response_tool"]["series_instance_uid"]: layer for layer in layers}


def test_a_series_opened_with_file_open_or_the_patient_panel_gets_the_same_record(
        make_napari_viewer, qtbot, phantom_dir):
    """The reader (File ▸ Open) and the Patient panel (at once, and in the background with the
    displayed slice first) make the same layer for the same series: name, placement, window and
    record, the loaded volume included (click-to-measure, masks and registration need it)."""
    from napari_response_tool._context import ViewerContext

    viewer = make_napari_viewer()
    opened = viewer.open(str(phantom_dir / "RT-PHANTOM-001"), plugin="response-tool")
    panel = ViewerContext.of(viewer).patient_panel  # docked by the reader
    baseline = panel.studies()[0]
    panel.load_study(baseline)
    now = list(viewer.layers)[len(opened):]
    worker = panel.load_study_async(baseline)
    with qtbot.waitSignal(worker.finished, timeout=120_000):
        pass
    background = list(viewer.layers)[len(opened) + len(now):]
    assert [x.metadata["response_tool"]["phase"] for x in opened] == ["portal-venous", "arterial"]
    reader = _by_series(opened)
    for loaded in (now, background):
        assert [x.metadata["response_tool"]["phase"] for x in loaded] == [
            "portal-venous", "arterial"]  # stacked alike: arterial on top
        for uid, layer in _by_series(loaded).items():
            ours, theirs = reader[uid], layer
            (meta_a, volume_a), (meta_b, volume_b) = _split(ours), _split(theirs)
            assert meta_a == meta_b
            for lay, volume in ((ours, volume_a), (theirs, volume_b)):
                assert volume is not None and np.array_equal(volume.array, lay.data)
            assert meta_a["partial"] is False
            assert ours.name == re.sub(r" \[\d+\]$", "", theirs.name)  # napari's " [1]"
            assert tuple(ours.scale) == pytest.approx(tuple(theirs.scale))
            assert tuple(ours.translate) == pytest.approx(tuple(theirs.translate))
            assert tuple(ours.contrast_limits) == pytest.approx(tuple(theirs.contrast_limits))
            from napari_response_tool._layers import ImageRecord

            assert ImageRecord.of(ours) == ImageRecord.of(theirs) is not None


def test_click_to_measure_and_masks_find_a_series_opened_with_file_open(make_napari_viewer,
                                                                         phantom_dir, tmp_path):
    """A read over the studies the reader docked: the layers File ▸ Open made are the read's
    images (not loaded again), the current image, and what a click measures on."""
    import json

    from napari_response_tool._context import ViewerContext
    from napari_response_tool._masks import series_shown

    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    viewer = make_napari_viewer()
    opened = viewer.open(str(phantom_dir / "RT-PHANTOM-001"), plugin="response-tool")
    context = ViewerContext.of(viewer)
    patient = context.patient_panel
    _, reading = viewer.window.add_plugin_dock_widget("response-tool", "Reading")
    reading.start("RT-PHANTOM-001", patient.studies(), tmp_path / "reads.sqlite",
                  reader_id="R1", load_study=patient.load_study)
    baseline = reading.session.baseline
    assert context.images(baseline) == opened  # the read's images: nothing loaded twice
    assert context.current_image().layer is opened[-1]  # the arterial one, on top
    assert context.current_image().phase == "arterial"
    assert reading.add_lesion("target", "liver") == "T1"
    t1 = gt["lesions"][0]["timepoints"][0]
    seed = np.asarray(t1["center_xyz_mm"], dtype=float)[::-1]
    viewer.dims.set_point(0, float(seed[0]))
    lines = reading.station.propose_at(seed)
    assert "long" in lines, reading.problem_label.text()
    assert float(np.linalg.norm(lines["long"][1] - lines["long"][0])) == pytest.approx(
        t1["long_axis_mm"], abs=3.0)
    # registration takes both phases' volumes; a mask of a series goes on its layer
    assert set(reading.hanging.volumes(baseline)) == {"arterial", "portal-venous"}
    pv_uid = gt["timepoints"][0]["series"]["portal-venous"]["series_instance_uid"]
    assert series_shown(viewer, pv_uid)


def test_a_dicomdir_opens_the_folder_it_indexes(phantom_dir, tmp_path):
    """File ▸ Open on a DICOMDIR (matched by the manifest where names are case-insensitive) opens
    the series it indexes, as opening its folder does."""
    from pydicom.fileset import FileSet

    from response_tool.io import scan_dicom

    study = min(scan_dicom(phantom_dir / "RT-PHANTOM-001").studies, key=lambda s: s.study_date)
    fs = FileSet()
    for series in study.series:
        for f in series.files:
            fs.add(f)
    fs.write(tmp_path / "media")
    dicomdir = tmp_path / "media" / "DICOMDIR"
    reader = napari_get_reader(str(dicomdir))
    assert reader is read_dicom
    layers = reader(str(dicomdir))
    folder = read_dicom(str(tmp_path / "media"))
    assert [_split_tuple(t)[0] for t in layers] == [_split_tuple(t)[0] for t in folder]
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(layers, folder, strict=True))
    assert [_split_tuple(t)[0]["phase"] for t in layers] == ["portal-venous", "arterial"]


def test_the_image_record_round_trips_through_layer_metadata(shared_data):
    """What ``volume_layer_data`` writes is what ``ImageRecord.of`` reads back; a mask's metadata
    or a layer the plugin did not make has no image record."""
    from napari.layers import Image, Labels
    from napari_response_tool._layers import ImageRecord

    from response_tool.io import load_series, scan_dicom

    (series,) = scan_dicom(shared_data / "dcmqi-ct-3slice-liver").series
    volume = load_series(series)
    data, kwargs, _ = volume_layer_data(volume, window="abdomen")
    record = ImageRecord.of(Image(data, **kwargs))
    assert record == ImageRecord.of_volume(volume, "abdomen")
    assert record.volume is volume and record.partial is False and record.is_ct
    assert record.series_instance_uid == series.series_instance_uid
    assert ImageRecord.of(Image(data)) is None
    assert ImageRecord.of(Labels(np.zeros((3, 4, 4), np.uint8), metadata={"response_tool": {
        "mask": "m.nii", "notes": [], "series_instance_uid": series.series_instance_uid}})) is None
