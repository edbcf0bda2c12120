"""SR TID 1500 export of the phantom's reads: valid for real validators, and saying what the read
says (checked against the store, the image headers and assess(), not against the exporter)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pydicom
import pytest

from response_tool.assessment import assess
from response_tool.exchange.images import ImageIndex
from response_tool.exchange.sr_export import timepoint_srs
from response_tool.reading.store import ReadStore

from .conftest import run, tool


@pytest.fixture(scope="module")
def exported(phantom_store, patient_dir, tmp_path_factory):
    """{reader: [(date, path)]} of every read's SRs, and the reads."""
    out = tmp_path_factory.mktemp("sr")
    index = ImageIndex(patient_dir)
    files, reads = {}, {}
    with ReadStore(phantom_store) as store:
        for key in store.reads():
            read = store.load(key)
            reads[key.reader_id] = read
            datasets, _notes = timepoint_srs(read, index, now=dt.datetime(2026, 12, 1, 12))
            files[key.reader_id] = []
            for date, ds in zip(read.dates, datasets, strict=True):
                path = out / f"{key.reader_id.replace('^', '_')}_{date}.dcm"
                ds.save_as(path, enforce_file_format=True)
                files[key.reader_id].append((date, path))
    return files, reads


def _all(files):
    return [p for v in files.values() for _, p in v]


def test_every_sr_passes_dciodvfy_without_errors(exported):
    dciodvfy = tool("dciodvfy")
    for path in _all(exported[0]):
        res = run([dciodvfy, str(path)])
        lines = (res.stdout + res.stderr).splitlines()
        errors = [ln for ln in lines if ln.startswith("Error")]
        assert errors == [], f"{path.name}: {errors[:5]}"
        # the only warning: our private coding scheme (PS3.16 8.2), which dciodvfy cannot know
        warnings = {ln for ln in lines if ln.startswith("Warning")}
        assert warnings <= {"Warning - Unrecognized defined term <99RSPTOOL> for value 1 of "
                            "attribute <Coding Scheme Designator>"}, warnings
        assert "Comprehensive3DSR" in lines[0]


def test_every_sr_is_read_by_dsrdump_and_highdicom(exported):
    import highdicom as hd

    dsrdump = tool("dsrdump")
    for path in _all(exported[0]):
        res = run([dsrdump, str(path)])
        assert res.returncode == 0, res.stderr
        assert "Imaging Measurement Report" in res.stdout
        assert "E:" not in res.stderr
        sr = hd.sr.srread(path)
        assert isinstance(sr, hd.sr.Comprehensive3DSR)
        groups = sr.content.get_image_measurement_groups() + \
            sr.content.get_planar_roi_measurement_groups()
        assert groups


def _groups(ds):
    (measurements,) = [c for c in ds.ContentSequence
                       if c.ConceptNameCodeSequence[0].CodeValue == "126010"]
    return measurements.ContentSequence


def _items(group, meaning):
    return [c for c in group.ContentSequence
            if c.ConceptNameCodeSequence[0].CodeMeaning == meaning]


def _text(group, meaning):
    (item,) = _items(group, meaning)
    return item.get("TextValue") or item.get("UID")


@pytest.mark.parametrize("reader", ["DEMO", "R2^Second"])
def test_groups_say_what_the_read_says(exported, reader):
    files, reads = exported
    read = reads[reader]
    tracking_uids: dict[str, set[str]] = {}
    for date, path in files[reader]:
        ds = pydicom.dcmread(path)
        assert ds.PatientID == read.patient_id
        assert ds.StudyDate == date.replace("-", "")  # the SR lives in its time point's study
        lesions = {}
        for g in _groups(ds):
            lid = _text(g, "Tracking Identifier")
            tracking_uids.setdefault(lid, set()).add(_text(g, "Tracking Unique Identifier"))
            lesions[lid] = g
        measured = {m.lesion_id for m in read.measurements if m.date == date}
        assert measured <= set(lesions)
        assert set(lesions) - measured == {"RECIST 1.1 response", "mRECIST response"}
        for m in (m for m in read.measurements if m.date == date):
            g = lesions[m.lesion_id]
            nums = {c.ConceptNameCodeSequence[0].CodeMeaning:
                    float(c.MeasuredValueSequence[0].NumericValue)
                    for c in g.ContentSequence if c.ValueType == "NUM" and
                    c.ConceptNameCodeSequence[0].CodeMeaning != "Time Point Order"}
            expected = {name: v for name, v in (
                ("Long axis", m.long_axis_mm), ("Short axis", m.short_axis_mm),
                ("Viable tumour long axis (mRECIST)", m.viable_long_axis_mm)) if v is not None}
            assert nums == pytest.approx(expected)
            (status,) = _items(g, "Lesion status at this time point")
            assert status.ConceptCodeSequence[0].CodeMeaning.lower().replace(" ", "-") in (
                str(m.status), {"not-evaluated": "not-evaluated"}.get(str(m.status)),
                "unequivocal-progression" if str(m.status) == "progression" else "")
    # one Tracking UID per lesion, the same at every time point
    assert all(len(uids) == 1 for uids in tracking_uids.values())
    assert len({u for uids in tracking_uids.values() for u in uids}) == len(tracking_uids)


def test_lines_are_on_the_referenced_image_at_their_pixels(exported, patient_dir):
    """Each SCOORD, mapped through its referenced image's own header (IPP, IOP, PixelSpacing,
    read here with pydicom), lands on the read's endpoint."""
    files, reads = exported
    read = reads["DEMO"]
    by_sop = {}
    for f in patient_dir.rglob("IM*"):
        h = pydicom.dcmread(f, stop_before_pixels=True)
        by_sop[h.SOPInstanceUID] = h
    checked = 0
    for date, path in files["DEMO"]:
        ds = pydicom.dcmread(path)
        for g in _groups(ds):
            lid = _text(g, "Tracking Identifier")
            m = read.measurement(lid, date)
            for num in (c for c in g.ContentSequence if c.ValueType == "NUM"):
                meaning = num.ConceptNameCodeSequence[0].CodeMeaning
                kind = {"Long axis": "long", "Short axis": "short",
                        "Viable tumour long axis (mRECIST)": "viable"}.get(meaning)
                if kind is None:
                    continue
                (scoord,) = num.ContentSequence
                (image,) = scoord.ContentSequence
                h = by_sop[image.ReferencedSOPSequence[0].ReferencedSOPInstanceUID]
                iop = np.asarray(h.ImageOrientationPatient, float)
                dy, dx = (float(v) for v in h.PixelSpacing)
                cr = np.asarray(scoord.GraphicData, float).reshape(-1, 2)
                for (c, r), end in zip(cr, m.endpoints(kind), strict=True):
                    xyz = (np.asarray(h.ImagePositionPatient, float) + (c - 0.5) * dx * iop[:3]
                           + (r - 0.5) * dy * iop[3:])
                    assert np.allclose(xyz[::-1], end, atol=1e-3)
                series = m.viable_series_uid if kind == "viable" else m.series_uid
                assert h.SeriesInstanceUID == series
                assert math.isclose(float(h.ImagePositionPatient[2]), m.endpoints(kind)[0][0])
                checked += 1
    # 3 time points x (T1, T2: long + viable; N1: long + short) + NEW1 long at follow-up 2
    assert checked == 3 * (2 * 2 + 2) + 1


def test_responses_of_the_time_point_are_assess_results(exported):
    files, reads = exported
    for reader, items in files.items():
        tps = assess(reads[reader].to_frame()).timepoints
        for date, path in items:
            ds = pydicom.dcmread(path)
            groups = {_text(g, "Tracking Identifier"): g for g in _groups(ds)}
            for criterion, name in (("recist1.1", "RECIST 1.1"), ("mrecist", "mRECIST")):
                row = tps[(tps.criterion == criterion) &
                          (tps.timepoint_date.astype(str).str[:10] == date)].iloc[0]
                g = groups[f"{name} response"]
                (overall,) = _items(g, "Current Response")
                code = overall.ConceptCodeSequence[0].CodeValue
                want = row.overall_response if isinstance(row.overall_response, str) and \
                    row.overall_response else "BASELINE"
                assert code == f"RT-{want}"
                (rule,) = _items(g, "Decided by rule")
                assert (rule.ConceptCodeSequence[0].get("CodeValue") or
                        rule.ConceptCodeSequence[0].get("LongCodeValue")) == row.rule_id


def test_a_time_point_not_read_yet_gets_no_sr_and_a_note(phantom_store, patient_dir, tmp_path):
    """A read in progress (a follow-up added, nothing recorded there yet): the others' SRs are
    written, that one is named in a note (TID 1500 needs a measurement group); before, highdicom
    raised a bare ValueError out of the export."""
    import shutil

    from response_tool.exchange.export import dicom_export

    store_path = tmp_path / "reads.sqlite"
    shutil.copy(phantom_store, store_path)
    with ReadStore(store_path) as store:
        key = [k for k in store.reads() if k.reader_id == "DEMO"][0]
        store.add_timepoint(key, "2026-07-01")
        files, notes = dicom_export(store, patient_dir, tmp_path / "out", reader="DEMO")
    assert [p.name for p in files if p.name.endswith("_SR.dcm")] == [
        f"RT-PHANTOM-001_DEMO_{d}_SR.dcm" for d in (
            "2026-01-12_baseline", "2026-03-09_follow-up1", "2026-05-04_follow-up2")]
    assert "2026-07-01 (follow-up 3): nothing recorded at this time point yet, so no SR for " \
           "it" in notes
