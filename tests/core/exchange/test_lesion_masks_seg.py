"""Lesion masks kept with the read, exported as DICOM SEG beside the SR (issue 22, item 2): the
phantom's T1 and T2 proposed by click-to-measure on the baseline (portal-venous with the arterial
series: masks with an enhancing part) and accepted, then ``dicom-export``. Checked with dciodvfy
and read back by highdicom and by our own mask reader, voxel for voxel against the stored
masks; the segments carry the SR's Tracking UIDs."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pydicom
import pytest

from response_tool.cli import main
from response_tool.io import load_image, scan_dicom
from response_tool.io.dicom_load import load_series
from response_tool.io.masks import read_label_map
from response_tool.reading.measure import ENHANCING_LABEL, propose
from response_tool.reading.session import LineRecord, ReadingSession
from response_tool.reading.store import ReadStore

from .conftest import run, tool

LESIONS = ("T1", "T2")
SEG_NAME = "RT-PHANTOM-001_DEMO_2026-01-12_baseline_lesions_SEG.dcm"


def _accept(session: ReadingSession, lesion_id: str, proposal, series_uid: str) -> None:
    lines = {k: LineRecord(getattr(proposal, k), series_uid, phase, proposal.slice_index,
                           origin="proposed")
             for k, phase in (("long", "portal-venous"), ("short", "portal-venous"),
                              ("viable", "arterial")) if getattr(proposal, k) is not None}
    session.accept_proposal(lesion_id, lines, proposal, series_uid)


@pytest.fixture(scope="module")
def exported(phantom_dir, phantom_store, tmp_path_factory):
    """A copy of the phantom store whose DEMO read has T1 and T2 accepted from click-to-measure
    at baseline, exported with dicom-export."""
    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    tp = gt["timepoints"][0]
    pv, art = (load_series(scan_dicom(phantom_dir / tp["series"][p]["folder"]).series[0])
               for p in ("portal-venous", "arterial"))
    series_uid = tp["series"]["portal-venous"]["series_instance_uid"]
    root = tmp_path_factory.mktemp("lesion-seg")
    store_path = root / "reads.sqlite"
    shutil.copy(phantom_store, store_path)
    store = ReadStore(store_path)
    key = [k for k in store.reads() if k.reader_id == "DEMO"][0]
    session = ReadingSession(store, key, [t["date"] for t in gt["timepoints"]])
    for lesion_id in LESIONS:
        centre = next(x for x in gt["lesions"] if x["lesion_id"] == lesion_id)[
            "timepoints"][0]["center_xyz_mm"]
        _accept(session, lesion_id, propose(pv, centre[::-1], art), series_uid)
    masks = {lid: session.segmentation(lid) for lid in LESIONS}
    store.close()
    out = root / "export"
    assert main(["dicom-export", "--store", str(store_path), "--images",
                 str(phantom_dir / "RT-PHANTOM-001"), "-o", str(out), "--reader", "DEMO"]) == 0
    return {"out": out, "masks": masks, "image": load_image(phantom_dir / tp["series"][
        "portal-venous"]["folder"]), "series_uid": series_uid}


def test_one_seg_for_the_time_point_with_masks_beside_its_sr(exported):
    names = sorted(p.name for p in exported["out"].glob("*_lesions*_SEG.dcm"))
    assert names == [SEG_NAME]  # the follow-ups have no mask: no SEG
    assert (exported["out"] / SEG_NAME.replace("_lesions_SEG", "_SR")).is_file()
    assert all(m is not None and (m.mask.labels == ENHANCING_LABEL).any()
               for m in exported["masks"].values())


def test_the_seg_passes_dciodvfy(exported):
    res = run([tool("dciodvfy"), str(exported["out"] / SEG_NAME)])
    lines = (res.stdout + res.stderr).splitlines()
    assert [ln for ln in lines if ln.startswith("Error")] == []
    # the one warning the SR has too: our private coding scheme (the enhancing part's code,
    # PS3.16 8.2), which dciodvfy cannot know
    assert {ln for ln in lines if ln.startswith("Warning")} <= {
        "Warning - Unrecognized defined term <99RSPTOOL> for value 1 of attribute <Coding "
        "Scheme Designator>"}


def test_segments_are_the_lesions_and_their_enhancing_parts_tracked_as_in_the_sr(exported):
    import highdicom as hd

    seg = hd.seg.segread(exported["out"] / SEG_NAME)
    assert [d.SegmentLabel for d in seg.SegmentSequence] == [
        "T1", "T1 enhancing", "T2", "T2 enhancing"]
    types = [d.SegmentedPropertyTypeCodeSequence[0] for d in seg.SegmentSequence]
    assert [(t.CodingSchemeDesignator, t.CodeValue) for t in types] == [
        ("SCT", "108369006"), ("99RSPTOOL", "RT-VIABLE-TUMOUR")] * 2
    assert {d.SegmentAlgorithmType for d in seg.SegmentSequence} == {"SEMIAUTOMATIC"}
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == exported["series_uid"]
    # frames on the slices the lesions lie on (not the empty slices of the boxes they were
    # searched in), from the first to the last: one per slice and segment
    occupied = {m.mask.offset_zyx[0] + int(z) for m in exported["masks"].values()
                for z in np.flatnonzero((m.mask.labels > 0).any(axis=(1, 2)))}
    assert int(seg.NumberOfFrames) == 4 * (max(occupied) - min(occupied) + 1)
    sr = pydicom.dcmread(exported["out"] / SEG_NAME.replace("_lesions_SEG", "_SR"))
    assert sr.StudyInstanceUID == seg.StudyInstanceUID  # in the time point's study
    in_sr = {}
    for item in sr.ContentSequence:
        for sub in getattr(item, "ContentSequence", []):
            found = {c.ConceptNameCodeSequence[0].CodeMeaning: c for c in
                     getattr(sub, "ContentSequence", [])}
            if "Tracking Identifier" in found:
                in_sr[found["Tracking Identifier"].TextValue] = found[
                    "Tracking Unique Identifier"].UID
    for d in seg.SegmentSequence:
        if d.SegmentLabel in LESIONS:  # the mask's segment is the SR's lesion
            assert d.TrackingID == d.SegmentLabel
            assert d.TrackingUID == in_sr[d.SegmentLabel]


def test_highdicom_and_our_reader_give_back_the_stored_masks_voxel_for_voxel(exported):
    import highdicom as hd

    seg = hd.seg.segread(exported["out"] / SEG_NAME)
    masks = exported["masks"]
    for n, (lesion_id, part) in enumerate([(lid, p) for lid in LESIONS for p in (0, 1)], 1):
        voxels = seg.get_volume(segment_numbers=[n], combine_segments=True).array > 0
        stored = masks[lesion_id].mask.labels
        assert voxels.sum() == ((stored > 0) if part == 0 else (stored == ENHANCING_LABEL)).sum()
    # placed on the image: each lesion's labels where the store has them (the enhancing
    # segment, drawn inside the lesion's, wins its voxels: labels 2 and 4)
    expected = np.zeros(exported["image"].shape_zyx, np.uint8)
    for k, lesion_id in enumerate(LESIONS):
        full = masks[lesion_id].mask.full()
        expected[full > 0] = full[full > 0] + 2 * k
    read = read_label_map(exported["out"] / SEG_NAME, exported["image"])
    assert np.array_equal(read.labels, expected)


def test_a_mask_on_a_missing_slice_leaves_its_seg_out_with_a_note(exported, phantom_dir,
                                                                  monkeypatch, tmp_path):
    """A series with a missing slice where a mask lies: no image for that SEG frame. The SEG is
    left out and the export says so; the SRs are written."""
    import response_tool.exchange.lesion_masks as lm
    from response_tool.exchange.export import dicom_export

    real = lm.slice_images

    def one_gap(series_uid, images, ks, what):
        found = real(series_uid, images, ks, what)
        return [(ref, on and i != 2) for i, (ref, on) in enumerate(found)]

    monkeypatch.setattr(lm, "slice_images", one_gap)
    store_path = exported["out"].parent / "reads.sqlite"
    with ReadStore(store_path) as store:
        files, notes = dicom_export(store, phantom_dir / "RT-PHANTOM-001", tmp_path / "out",
                                    reader="DEMO")
    assert not [p for p in files if "_lesions" in p.name]
    assert len([p for p in files if p.name.endswith("_SR.dcm")]) == 3
    (note,) = [n for n in notes if "lesion masks" in n]
    assert "the lesion masks of 2026-01-12 (T1, T2) were not exported as SEG" in note
    assert "interpolated plane" in note and "the masks stay in the read" in note


def test_store_export_carries_the_volumes_and_assess_reads_them(exported, tmp_path):
    """The accepted proposals' volumes in `store-export`'s CSV, which `assess` reads (and
    ignores: the responses are those of the same CSV without the volume columns)."""
    import pandas as pd

    store_path = exported["out"].parent / "reads.sqlite"
    csv = tmp_path / "measurements.csv"
    assert main(["store-export", "--store", str(store_path), "-o", str(csv),
                 "--reader", "DEMO"]) == 0
    table = pd.read_csv(csv)
    assert list(table.columns[-2:]) == ["volume_mm3", "enhancing_volume_mm3"]
    with_volume = table.dropna(subset=["volume_mm3"])
    assert sorted(with_volume["lesion_id"]) == list(LESIONS)
    for row in with_volume.to_dict("records"):
        mask = exported["masks"][row["lesion_id"]].mask
        assert row["volume_mm3"] == pytest.approx(mask.volume_mm3(), abs=0.05)
        assert row["enhancing_volume_mm3"] == pytest.approx(mask.volume_mm3(ENHANCING_LABEL),
                                                            abs=0.05)
    table.drop(columns=["volume_mm3", "enhancing_volume_mm3"]).to_csv(tmp_path / "plain.csv",
                                                                     index=False)
    for name in ("measurements", "plain"):
        assert main(["assess", str(tmp_path / f"{name}.csv"), "-o",
                     str(tmp_path / f"{name}_responses.csv")]) == 0
    assert (tmp_path / "measurements_responses.csv").read_text() == \
        (tmp_path / "plain_responses.csv").read_text()
