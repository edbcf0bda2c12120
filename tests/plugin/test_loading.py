"""Loading a study off the UI thread (under Xvfb): the displayed slice first, then the whole
series, a progress bar, and an event loop that keeps running while the files are read — checked
against the same load done on the UI thread, during which the loop does not run at all. (The
files are read with a fixed delay, as from a slow share, so that reading dominates; napari's own
work of adding a layer stays on the UI thread: benchmarks measure it.)"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("napari")


def _pair(phantom_dir, k=0):
    from napari_response_tool._reader import reading_series

    from response_tool.io import scan_dicom

    scan = scan_dicom(phantom_dir / "RT-PHANTOM-001")
    study = sorted(scan.studies, key=lambda s: s.study_date)[k]
    return reading_series(study)


def test_the_first_slice_is_the_displayed_one_read_from_one_file(phantom_dir):
    from napari_response_tool._loading import first_slice, load_steps, slice_at

    from response_tool.io import load_series

    info = _pair(phantom_dir)[0]
    full = load_series(info).array
    z0, dz = info.origin_xyz_mm[2], info.spacing_zyx_mm[0]
    assert slice_at(info, None) == info.n_slices // 2
    assert slice_at(info, z0 + 7 * dz + 0.3 * dz) == 7
    assert slice_at(info, z0 - 100.0) == 0 and slice_at(info, z0 + 1e4) == info.n_slices - 1
    placeholder = first_slice(info, 7)
    assert placeholder.array.shape == full.shape and placeholder.array.dtype == full.dtype
    assert np.array_equal(placeholder.array[7], full[7])
    assert not placeholder.array[:7].any() and not placeholder.array[8:].any()
    reports = []
    steps = list(load_steps([info], z0 + 7 * dz, lambda *r: reports.append(r)))
    assert [s[0] for s in steps] == ["first", "full"]
    assert np.array_equal(steps[1][2].array, full)
    assert reports[-1][1:] == (info.n_slices, info.n_slices) and len(reports) <= 23


def test_a_study_loads_while_the_event_loop_keeps_running(make_napari_viewer, qtbot, phantom_dir,
                                                           monkeypatch):
    import time

    import napari_response_tool._loading as loading
    import napari_response_tool._widgets.patient as patient_module
    from qtpy.QtCore import QTimer

    from response_tool.io import load_series

    def slow_disk(info, progress=None):  # the phantom's files read as from a network share
        time.sleep(0.4)
        return load_series(info, progress)

    monkeypatch.setattr(loading, "load_series", slow_disk)
    monkeypatch.setattr(patient_module, "load_series", slow_disk)
    viewer = make_napari_viewer(show=True)
    _, patient = viewer.window.add_plugin_dock_widget("response-tool", "Patient")
    pair = _pair(phantom_dir)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(5)
    # on the UI thread: not one timer tick while the series are read
    ticks.clear()
    patient.load_series(pair)
    assert ticks == []
    for layer in list(viewer.layers):
        viewer.layers.remove(layer)

    seen = []  # what each image layer held when it appeared
    viewer.layers.events.inserted.connect(
        lambda e: seen.append(np.asarray(e.value.data).copy()))
    partial = []  # whether a layer was marked as still loading once its first slice was in
    worker_steps = patient._loaded_step

    def step(s, *args):
        worker_steps(s, *args)
        if s[0] == "first":
            partial.append(viewer.layers[-1].metadata["response_tool"].get("partial"))
    monkeypatch.setattr(patient, "_loaded_step", step)
    ticks.clear()
    worker = patient.load_series_async(pair)
    assert not patient.progress_bar.isHidden()
    with qtbot.waitSignal(worker.finished, timeout=120_000):
        pass
    timer.stop()
    # 2 series × (0.4 s for the displayed slice + 0.4 s for the rest) read off the UI thread
    assert len(ticks) >= 20, ("the event loop did not run while the study loaded",
                              len(ticks), patient.load_timing)
    images = [x for x in viewer.layers if x.__class__.__name__ == "Image"]
    assert [x.metadata["response_tool"]["phase"] for x in images] == ["portal-venous", "arterial"]
    for layer, first, info in zip(images, seen, sorted(pair, key=lambda s: s.phase.phase != "portal-venous"),
                                  strict=True):
        full = load_series(info).array
        assert np.array_equal(np.asarray(layer.data), full)  # the whole series in the end
        lit = [k for k in range(first.shape[0]) if first[k].any()]
        assert len(lit) == 1 and np.array_equal(first[lit[0]], full[lit[0]])  # one slice first
    # while only its displayed slice was in, nothing could measure or register on a series
    assert partial == [True, True]
    assert not any(x.metadata["response_tool"].get("partial") for x in images)
    assert patient.progress_bar.isHidden()
    assert 0 < patient.load_timing["first_slice_s"] < patient.load_timing["full_s"]
    assert "first slice on screen" in patient.status.text()
