"""The PACS panel against a real Orthanc (DICOMweb plugin), started on a loopback port: search the
phantom patient, open its study in the Patient panel through the cache, load and read it, send an
SR back (under Xvfb; the screenshot is out/test-screenshots/pacs_panel.png)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("napari")
pytest.importorskip("dicomweb_client")

from orthanc_server import free_port, running_orthanc  # noqa: E402  (tests/orthanc_server.py)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "test-screenshots"


@pytest.fixture
def orthanc(tmp_path):
    with running_orthanc(tmp_path / "orthanc", "rt-plugin-test") as url:
        yield url


def test_pacs_panel_opens_a_patient_from_dicomweb(make_napari_viewer, orthanc, phantom_dir,
                                                  tmp_path):
    from napari_response_tool._screenshots import save_screenshot
    from napari_response_tool._widgets.pacs import PacsPanel

    from response_tool.exchange.dicomweb import Pacs, store_folder

    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    tp = gt["timepoints"][0]
    store_folder(Pacs(orthanc), phantom_dir / "RT-PHANTOM-001" / "20260112_baseline")

    viewer = make_napari_viewer()
    _, patient = viewer.window.add_plugin_dock_widget("response-tool", "Patient")
    pacs = PacsPanel(viewer, cache=tmp_path / "cache")
    dock = viewer.window.add_dock_widget(pacs, name="PACS (response-tool)", tabify=True)
    pacs.url.setText(orthanc)
    pacs.patient.setText("NOBODY")
    assert pacs.search() == [] and "0 study(ies)" in pacs.status.text()
    pacs.patient.setText("RT-PHANTOM-001")
    (hit,) = pacs.search()
    assert hit.study_uid == tp["study_instance_uid"] and pacs.table.rowCount() == 1
    folder = pacs.open_patient()
    assert folder == tmp_path / "cache" / "RT-PHANTOM-001"
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
    seg = outlines_seg(labels, pv, ImageIndex(folder))
    seg.save_as(tmp_path / "seg.dcm", enforce_file_format=True)
    assert pacs.send([tmp_path / "seg.dcm"]) == [seg.SOPInstanceUID]
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
    stored = pacs.send_read()
    assert len(stored) == 2, pacs.status.text()  # the baseline SR and the outlines' SEG
    found = {i["modality"]: i["sop_instance_uid"] for i in
             Pacs(orthanc).instances(tp["study_instance_uid"]) if i["modality"] in ("SR",)}
    assert found["SR"] in stored
    dock.raise_()  # the PACS tab in front for the screenshot
    shot = save_screenshot(viewer, SCREENSHOTS / "pacs_panel.png")
    assert shot.stat().st_size > 10_000
    pacs.url.setText(f"http://127.0.0.1:{free_port()}/dicom-web")
    assert pacs.search() == [] and "cannot search for studies" in pacs.status.text()
