"""The PACS panel against a real Orthanc (DICOMweb plugin), started on a loopback port: search the
phantom patient, open its study in the Patient panel through the cache, load and read it, send an
SR back (under Xvfb; the screenshot is out/test-screenshots/pacs_panel.png). Every request runs in
a thread worker: the event loop keeps turning during a retrieve, Cancel stops it, and the cache
holds the same files as the core's own retrieve."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytest.importorskip("napari")
pytest.importorskip("dicomweb_client")

from orthanc_server import free_port, running_orthanc  # noqa: E402  (tests/orthanc_server.py)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "test-screenshots"
N_BASELINE = 192  # the phantom's baseline study: 3 series of 64 slices


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory, phantom_dir):
    """Orthanc holding the phantom's baseline study (uploaded once for the module)."""
    from response_tool.exchange.dicomweb import Pacs, store_folder

    with running_orthanc(tmp_path_factory.mktemp("orthanc") / "server", "rt-plugin-test") as url:
        assert store_folder(Pacs(url), phantom_dir / "RT-PHANTOM-001" / "20260112_baseline") \
            == N_BASELINE
        yield url


def _wait(qtbot, pacs, timeout_s: float = 120) -> None:
    qtbot.waitUntil(lambda: not pacs.busy, timeout=int(timeout_s * 1000))


def _panel(viewer, orthanc, cache):
    from napari_response_tool._widgets.pacs import PacsPanel

    pacs = PacsPanel(viewer, cache=cache)
    dock = viewer.window.add_dock_widget(pacs, name="PACS (response-tool)", tabify=True)
    pacs.url.setText(orthanc)
    return pacs, dock


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.dcm"))}


def test_pacs_panel_opens_a_patient_from_dicomweb(make_napari_viewer, qtbot, orthanc, phantom_dir,
                                                  tmp_path):
    from napari_response_tool._screenshots import save_screenshot

    from response_tool.exchange.dicomweb import Pacs

    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    tp = gt["timepoints"][0]
    viewer = make_napari_viewer()
    _, patient = viewer.window.add_plugin_dock_widget("response-tool", "Patient")
    pacs, dock = _panel(viewer, orthanc, tmp_path / "cache")
    pacs.patient.setText("NOBODY")
    pacs.search()
    _wait(qtbot, pacs)
    assert pacs.hits == [] and "0 study(ies)" in pacs.status.text()
    pacs.patient.setText("RT-PHANTOM-001")
    pacs.search()
    _wait(qtbot, pacs)
    (hit,) = pacs.hits
    assert hit.study_uid == tp["study_instance_uid"] and pacs.table.rowCount() == 1
    pacs.open_patient()
    _wait(qtbot, pacs)
    assert pacs.folder == tmp_path / "cache" / "RT-PHANTOM-001", pacs.status.text()
    (study,) = patient.studies()  # the Patient panel now lists the retrieved study
    assert study.study_instance_uid == tp["study_instance_uid"] and len(study.series) == 3
    patient.load_study(study)
    phases = {x.metadata["response_tool"]["phase"] for x in viewer.layers}
    assert {"arterial", "portal-venous"} <= phases
    # a SEG drawn on the retrieved series goes back to the PACS from the panel (STOW-RS)
    import numpy as np

    from response_tool.exchange.images import ImageIndex
    from response_tool.exchange.seg import outlines_seg

    labels = np.zeros((64, 512, 512), np.uint8)
    labels[36, 200:300, 150:250] = 1
    labels[36, 230:260, 180:210] = 2
    pv = tp["series"]["portal-venous"]["series_instance_uid"]
    seg = outlines_seg(labels, pv, ImageIndex(pacs.folder))
    seg.save_as(tmp_path / "seg.dcm", enforce_file_format=True)
    pacs.send([tmp_path / "seg.dcm"])
    _wait(qtbot, pacs)
    assert pacs.stored == [seg.SOPInstanceUID]
    assert "1 instance(s) stored" in pacs.status.text()
    (found,) = Pacs(orthanc).instances(tp["study_instance_uid"], "SEG")
    assert found["sop_instance_uid"] == seg.SOPInstanceUID
    # the read done on the retrieved images: SR (and SEG of its outlines) back to the PACS
    from napari_response_tool._demo_read import fill_timepoint

    _, reading = viewer.window.add_plugin_dock_widget("response-tool", "Reading", tabify=True)
    reading.start("RT-PHANTOM-001", patient.studies(), tmp_path / "reads.sqlite",
                  reader_id="R1", load_study=patient.load_study)
    fill_timepoint(reading, gt, 0)
    reading.session.store.set_burden_outlines(reading.session.key, tp["date"], pv, labels)
    pacs.send_read()
    _wait(qtbot, pacs)
    assert len(pacs.stored) == 2, pacs.status.text()  # the baseline SR and the outlines' SEG
    found = {i["modality"]: i["sop_instance_uid"] for i in
             Pacs(orthanc).instances(tp["study_instance_uid"]) if i["modality"] in ("SR",)}
    assert found["SR"] in pacs.stored
    dock.raise_()  # the PACS tab in front for the screenshot
    shot = save_screenshot(viewer, SCREENSHOTS / "pacs_panel.png")
    assert shot.stat().st_size > 10_000
    pacs.url.setText(f"http://127.0.0.1:{free_port()}/dicom-web")
    pacs.search()
    _wait(qtbot, pacs)
    assert pacs.hits == [] and "cannot search for studies" in pacs.status.text()
    assert "Traceback" not in pacs.status.text()
    assert all(b.isEnabled() for b in pacs.actions)  # usable again after the error


def test_retrieve_runs_off_the_ui_thread_with_progress_and_the_same_files(
        make_napari_viewer, qtbot, orthanc, tmp_path):
    from qtpy.QtCore import QTimer

    from response_tool.exchange.dicomweb import Pacs

    viewer = make_napari_viewer()
    pacs, _ = _panel(viewer, orthanc, tmp_path / "cache")
    pacs.patient.setText("RT-PHANTOM-001")
    pacs.search()
    _wait(qtbot, pacs)
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()) if pacs.busy else None)
    seen: list[tuple[int, int]] = []
    timer.start()
    worker = pacs.open_patient()
    worker.yielded.connect(lambda step: seen.append((step[2], step[3])))
    # the panel is usable while it runs: fields edit, a second request is declined, not queued
    qtbot.waitUntil(lambda: len(seen) > 3, timeout=60_000)
    assert pacs.busy and pacs.cancel_button.isEnabled()
    assert not any(b.isEnabled() for b in pacs.actions)
    pacs.patient.setText("typed while retrieving")
    assert pacs.search() is None and "Busy" in pacs.status.text()
    _wait(qtbot, pacs)
    timer.stop()
    assert pacs.folder == tmp_path / "cache" / "RT-PHANTOM-001", pacs.status.text()
    n = len(Pacs(orthanc).instances(pacs.hits[0].study_uid))  # the images, and any SR / SEG sent
    assert n >= N_BASELINE
    assert seen[0] == (0, n) and seen[-1] == (n, n)
    assert [d for d, _ in seen] == list(range(n + 1))  # one step per instance
    assert len(ticks) >= 10  # the event loop turned all along the retrieve
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    print(f"retrieve: {len(ticks)} timer ticks, longest gap {max(gaps) * 1000:.0f} ms")
    # the same files as the core's retrieve (as before: one call, on this thread)
    Pacs(orthanc).retrieve_study(pacs.hits[0].study_uid, tmp_path / "core")
    assert _files(tmp_path / "cache") == _files(tmp_path / "core")
    assert len(_files(tmp_path / "core")) == n


def test_cancel_stops_the_retrieve_and_the_next_one_resumes(make_napari_viewer, qtbot, orthanc,
                                                            tmp_path):
    from response_tool.exchange.dicomweb import Pacs

    viewer = make_napari_viewer()
    pacs, _ = _panel(viewer, orthanc, tmp_path / "cache")
    pacs.patient.setText("RT-PHANTOM-001")
    pacs.search()
    _wait(qtbot, pacs)
    worker = pacs.open_patient()
    worker.yielded.connect(lambda step: pacs.cancel() if step[2] >= 5 else None)
    _wait(qtbot, pacs)
    assert "cancelled" in pacs.status.text() and pacs.folder is None
    kept = list((tmp_path / "cache").rglob("*.dcm"))
    n = len(Pacs(orthanc).instances(pacs.hits[0].study_uid))
    assert 5 <= len(kept) < n  # whole files only, none half written
    assert not list((tmp_path / "cache").rglob("*.part")) and not [
        p for p in (tmp_path / "cache").rglob(".*") if p.is_file()]
    worker = pacs.open_patient()
    first: list[tuple[int, int]] = []
    worker.yielded.connect(lambda step: first.append((step[2], step[3])) if not first else None)
    _wait(qtbot, pacs)
    assert first == [(0, n - len(kept))]  # only what the cache lacked
    assert pacs.folder == tmp_path / "cache" / "RT-PHANTOM-001"
    assert len(list((tmp_path / "cache").rglob("*.dcm"))) == n
