"""DICOMweb against a real Orthanc with its DICOMweb plugin, started by the test on a loopback
port with its storage in a temporary folder: upload the phantom's baseline study (STOW-RS), find it
(QIDO-RS), retrieve it into the cache (WADO-RS), read it, store the SR / SEG back and find them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from orthanc_server import free_port, running_orthanc  # noqa: E402  (tests/orthanc_server.py)

from response_tool.cli import main
from response_tool.domain.model import Read
from response_tool.exchange.dicomweb import Pacs, PacsError, store_folder
from response_tool.exchange.images import ImageIndex
from response_tool.exchange.sr_export import timepoint_srs
from response_tool.exchange.sr_import import read_sr
from response_tool.reading.store import ReadStore

pytest.importorskip("dicomweb_client", reason="dicomweb-client is not installed (a dependency: "
                    "pip install dicomweb-client)")

@pytest.fixture(scope="module")
def orthanc(tmp_path_factory):
    with running_orthanc(tmp_path_factory.mktemp("orthanc")) as url:
        yield url


@pytest.fixture(scope="module")
def uploaded(orthanc, phantom_dir):
    study = phantom_dir / "RT-PHANTOM-001" / "20260112_baseline"
    n = store_folder(Pacs(orthanc), study)
    return study, n


def test_upload_search_retrieve_read_store_back_and_query(orthanc, uploaded, phantom_dir,
                                                         phantom_store, tmp_path, capsys):
    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    tp = gt["timepoints"][0]
    study_dir, n = uploaded
    assert n == len([p for p in study_dir.rglob("IM*")])
    pacs = Pacs(orthanc)
    # QIDO-RS
    (hit,) = pacs.studies("RT-PHANTOM-001")
    assert (hit.study_uid, hit.date, hit.n_instances) == (tp["study_instance_uid"], tp["date"], n)
    assert pacs.studies("NOBODY") == []
    capsys.readouterr()
    assert main(["pacs", "search", orthanc, "--patient", "RT-PHANTOM-001"]) == 0
    assert tp["study_instance_uid"] in capsys.readouterr().out
    # WADO-RS into the cache, through the CLI
    cache = tmp_path / "cache"
    assert main(["pacs", "retrieve", orthanc, hit.study_uid, "--cache", str(cache)]) == 0
    folder = Path(capsys.readouterr().out.strip())
    assert folder.is_dir() and len(list(folder.rglob("*.dcm"))) == n
    # the retrieved study reads as the original: same series, same pixels
    index = ImageIndex(folder)
    pv = tp["series"]["portal-venous"]["series_instance_uid"]
    from response_tool.io import load_image

    a = load_image(study_dir / "S04")
    b = load_image(index.series(pv, "test").info.folder)
    assert np.array_equal(a.array, b.array) and a.origin_xyz_mm == b.origin_xyz_mm
    assert pacs.retrieve_study(hit.study_uid, cache) == folder  # nothing left to fetch
    # read (the DEMO read's baseline) on the retrieved images, SR back to the PACS
    with ReadStore(phantom_store) as store:
        full = store.load([k for k in store.reads() if k.reader_id == "DEMO"][0])
    baseline = Read(full.patient_id, full.reader_id, tuple(
        les for les in full.lesions if full.measurement(les.lesion_id, tp["date"])),
        tuple(t for t in full.timepoints if t.date == tp["date"]),
        tuple(m for m in full.measurements if m.date == tp["date"]))
    (sr,), _ = timepoint_srs(baseline, index)
    sr_path = tmp_path / "sr.dcm"
    sr.save_as(sr_path, enforce_file_format=True)
    assert main(["pacs", "store", orthanc, str(sr_path)]) == 0
    # QIDO-RS finds it in the study; WADO-RS brings it back; it imports as the read
    (found,) = pacs.instances(hit.study_uid, "SR")
    assert found["sop_instance_uid"] == sr.SOPInstanceUID
    again = pacs.retrieve_study(hit.study_uid, cache)
    (back,) = [p for p in again.rglob("*.dcm") if p.stem == sr.SOPInstanceUID]
    imported = read_sr(back, ImageIndex(again))

    def fields(ms):
        return sorted((m.lesion_id, str(m.status), m.long_axis_mm, m.short_axis_mm,
                       m.viable_long_axis_mm, m.series_uid, m.phase, m.slice_index) for m in ms)

    assert fields(imported.measurements) == fields(baseline.measurements)
    assert imported.reader_id == "DEMO" and imported.date == tp["date"]


def test_a_seg_goes_to_the_pacs_and_is_found(orthanc, uploaded, phantom_dir, tmp_path):
    from response_tool.exchange.seg import outlines_seg

    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    tp = gt["timepoints"][0]
    study_dir, _ = uploaded
    index = ImageIndex(study_dir)
    labels = np.zeros((64, 512, 512), np.uint8)
    labels[30, 200:300, 200:300] = 1
    labels[30, 240:260, 240:260] = 2
    seg = outlines_seg(labels, tp["series"]["portal-venous"]["series_instance_uid"], index)
    seg.save_as(tmp_path / "seg.dcm", enforce_file_format=True)
    pacs = Pacs(orthanc)
    assert pacs.store([tmp_path / "seg.dcm"]) == [seg.SOPInstanceUID]
    (found,) = pacs.instances(tp["study_instance_uid"], "SEG")
    assert found["sop_instance_uid"] == seg.SOPInstanceUID


def test_an_unreachable_pacs_is_one_line(tmp_path, capsys):
    url = f"http://127.0.0.1:{free_port()}/dicom-web"
    with pytest.raises(PacsError, match="cannot search for studies .*is running"):
        Pacs(url).studies()
    assert main(["pacs", "search", url]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and url in err
