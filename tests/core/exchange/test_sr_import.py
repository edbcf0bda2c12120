"""SR import: our own SRs round-trip through the CLI (dicom-export → dicom-import → store-export
gives the same measurements CSV); third-party TID 1500 (dcmqi's tid1500writer, an OHIF-shaped
bidirectional) is imported with everything it holds accounted for."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest

from response_tool.cli import main
from response_tool.exchange.images import ImageIndex
from response_tool.exchange.sr_import import SRImportError, read_sr
from response_tool.exchange.store_io import import_into_store
from response_tool.reading.store import ReadStore

DCMQI = "dcmqi-ct-3slice-liver"


@pytest.fixture(scope="module")
def exported_dir(phantom_store, patient_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "sr"
    assert main(["dicom-export", "--store", str(phantom_store), "--images", str(patient_dir),
                 "-o", str(out)]) == 0
    return out


def test_export_writes_one_sr_per_read_and_time_point(exported_dir):
    names = sorted(p.name for p in exported_dir.glob("*.dcm"))
    assert len(names) == 2 * 3
    assert (exported_dir / ".response-tool-dicom-export").is_file()
    assert names[0] == "RT-PHANTOM-001_DEMO_2026-01-12_baseline_SR.dcm"


def test_round_trip_gives_the_same_measurements_csv(exported_dir, phantom_store, patient_dir,
                                                    tmp_path, capsys):
    store = tmp_path / "imported.sqlite"
    files = sorted(str(p) for p in exported_dir.glob("*.dcm"))
    assert main(["dicom-import", *files, "--store", str(store), "--images",
                 str(patient_dir)]) == 0
    out = capsys.readouterr().out
    assert "note:" not in out  # nothing of ours is left out
    assert main(["store-export", "--store", str(store), "-o", str(tmp_path / "after.csv")]) == 0
    assert main(["store-export", "--store", str(phantom_store), "-o",
                 str(tmp_path / "before.csv")]) == 0
    before = (tmp_path / "before.csv").read_text()
    assert before.count("\n") > 30
    assert (tmp_path / "after.csv").read_text() == before
    # the lines come back too (float32 in the SR: to a micrometre), and the override reason
    with ReadStore(phantom_store) as a, ReadStore(store) as b:
        for key in a.reads():
            ra, rb = a.load(key), b.load(key)
            assert sorted(ra.lesions, key=str) == sorted(rb.lesions, key=str)  # order: creation
            for m in ra.measurements:
                n = rb.measurement(m.lesion_id, m.date)
                for kind in ("long", "short", "viable"):
                    ea, eb = m.endpoints(kind), n.endpoints(kind)
                    assert (ea is None) == (eb is None)
                    if ea is not None:
                        assert np.allclose(ea, eb, atol=1e-3)
                if m.mark_point is not None and m.long_axis_mm is None:
                    assert np.allclose(m.mark_point, n.mark_point, atol=1e-3)


def test_import_again_changes_nothing_and_a_different_value_is_refused(exported_dir, tmp_path):
    files = sorted(exported_dir.glob("*DEMO*.dcm"))
    store_path = tmp_path / "s.sqlite"
    imports = [read_sr(f) for f in files]
    with ReadStore(store_path) as store:
        import_into_store(store, imports)
        key = store.reads()[0]
        version = store.load_versioned(key)[1]
        lines = import_into_store(store, imports)  # the same SRs: nothing to write
        assert all("0 measurement(s) saved" in ln for ln in lines)
        store.set_measurement(key, "T1", "2026-03-09", long_axis_mm=99.0)
        with pytest.raises(SRImportError, match=r"T1 on 2026-03-09 .*--replace"):
            import_into_store(store, imports)
        assert store.measurement(key, "T1", "2026-03-09").long_axis_mm == 99.0
        import_into_store(store, imports, replace=True)
        assert store.measurement(key, "T1", "2026-03-09").long_axis_mm != 99.0
        assert store.load_versioned(key)[1] > version


def test_import_without_images_keeps_diameters_statuses_and_ids(exported_dir, phantom_store):
    with ReadStore(phantom_store) as store:
        read = store.load([k for k in store.reads() if k.reader_id == "R2^Second"][0])
    for path in sorted(exported_dir.glob("*R2*.dcm")):
        imp = read_sr(path)
        assert imp.reader_id == "R2^Second"
        assert any("no --images folder" in n for n in imp.notes)
        for m in imp.measurements:
            orig = read.measurement(m.lesion_id, m.date)
            assert (m.status, m.long_axis_mm, m.short_axis_mm, m.viable_long_axis_mm) == (
                orig.status, orig.long_axis_mm, orig.short_axis_mm, orig.viable_long_axis_mm)
            assert m.series_uid == orig.series_uid  # from the SR's evidence
            assert m.long_endpoints is None
        assert {m.lesion_id for m in imp.measurements} == {
            m.lesion_id for m in read.measurements if m.date == imp.date}


def _tid1500writer() -> str:
    for folder in (Path(sys.executable).parent, Path("/opt/response-tool-exchange/bin")):
        if (folder / "tid1500writer").exists():  # PyPI dcmqi (scripts/setup-exchange.sh)
            return str(folder / "tid1500writer")
    found = shutil.which("tid1500writer")
    if found is None:
        pytest.skip("dcmqi's tid1500writer is not installed (PyPI dcmqi)")
    return found


def test_dcmqi_tid1500writer_sr_is_read_and_its_content_listed(shared_data, tmp_path):
    writer = _tid1500writer()
    data = shared_data / DCMQI
    out = tmp_path / "dcmqi_sr.dcm"
    res = subprocess.run([writer, "--inputMetadata", str(data / "sr-tid1500-ct-liver-example.json"),
                          "--inputImageLibraryDirectory", str(data),
                          "--inputCompositeContextDirectory", str(data), "--outputDICOM",
                          str(out)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    imp = read_sr(out)
    assert imp.patient_id == "99000" and imp.reader_id == "device SecretSauceGenerator"
    assert imp.date == "2003-04-17"
    assert imp.lesions == []  # a liver's statistics, not a lesion
    (note,) = imp.notes
    for value in ("37.3289", "-778", "221", "59.1691", "70361.9 mm3", "70.3619 cm3"):
        assert value in note  # every measurement of the group is named, none dropped unseen


def test_dcmqi_sr_with_a_length_becomes_a_target_lesion(shared_data, tmp_path):
    writer = _tid1500writer()
    data = shared_data / DCMQI
    meta = json.loads((data / "sr-tid1500-ct-liver-example.json").read_text())
    group = meta["Measurements"][0]
    group["TrackingIdentifier"] = "L7"
    group["measurementItems"] = [
        {"value": "2.35", "quantity": {"CodeValue": "410668003", "CodingSchemeDesignator": "SCT",
                                       "CodeMeaning": "Length"},
         "units": {"CodeValue": "cm", "CodingSchemeDesignator": "UCUM",
                   "CodeMeaning": "centimeter"}}, group["measurementItems"][4]]
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    out = tmp_path / "sr.dcm"
    res = subprocess.run([writer, "--inputMetadata", str(tmp_path / "meta.json"),
                          "--inputImageLibraryDirectory", str(data),
                          "--inputCompositeContextDirectory", str(data), "--outputDICOM",
                          str(out)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    imp = read_sr(out, reader="R9")
    (les,) = imp.lesions
    assert (les.lesion_id, str(les.role), les.organ) == ("L7", "target", "liver")
    (m,) = imp.measurements
    assert m.long_axis_mm == pytest.approx(23.5)  # 2.35 cm
    assert str(m.status) == "measured"
    assert any("no lesion role; read as a target" in n for n in imp.notes)
    assert any("70361.9 mm3: not imported" in n for n in imp.notes)


def _ohif_bidirectional(ct: Path, out: Path) -> tuple[np.ndarray, np.ndarray]:
    """An SR shaped as OHIF v3 (dcmjs) writes a Bidirectional: tool name as tracking id, Long /
    Short axis NUMs each with its SCOORD on the CT image (built here with highdicom)."""
    import highdicom as hd
    from pydicom.sr.codedict import codes
    from pydicom.uid import generate_uid

    image = pydicom.dcmread(ct)
    image.SpecificCharacterSet = "ISO_IR 100"  # empty in this file; highdicom wants a value
    src = hd.sr.SourceImageForRegion(image.SOPClassUID, image.SOPInstanceUID)
    long_px = np.array([[200.5, 250.5], [230.5, 270.5]])
    short_px = np.array([[210.5, 268.5], [220.5, 253.5]])
    ms = [hd.sr.Measurement(name=n, value=v, unit=codes.UCUM.Millimeter,
                            referenced_coordinates=[hd.sr.CoordinatesForMeasurement(
                                "POLYLINE", px, src)])
          for n, v, px in ((codes.SCT.LongAxis, 29.2, long_px),
                           (codes.SCT.ShortAxis, 14.6, short_px))]
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=generate_uid(), identifier="Cornerstone3DTools@^0.1.0:Bidirectional"),
        measurements=ms, finding_type=codes.SCT.Tumor)
    observer = hd.sr.ObserverContext(codes.DCM.Person,
                                     hd.sr.PersonObserverIdentifyingAttributes("Doe^Jane"))
    report = hd.sr.MeasurementReport(hd.sr.ObservationContext(observer), codes.LN.CTUnspecifiedBodyRegion,
                                     [group])
    sr = hd.sr.Comprehensive3DSR([image], report, generate_uid(), 1, generate_uid(), 1,
                                 manufacturer="OHIF-shaped test")
    sr.save_as(out, enforce_file_format=True)
    return long_px, short_px


def test_ohif_bidirectional_is_imported_with_its_lines(shared_data, tmp_path):
    data = shared_data / DCMQI
    images = tmp_path / "ct"
    images.mkdir()
    for name in ("01.dcm", "02.dcm", "03.dcm"):
        shutil.copy(data / name, images / name)  # a temporary copy: ImageIndex reads a folder
    long_px, _ = _ohif_bidirectional(images / "02.dcm", tmp_path / "ohif.dcm")
    imp = read_sr(tmp_path / "ohif.dcm", ImageIndex(images))
    assert imp.reader_id == "Doe^Jane"
    (les,) = imp.lesions
    assert les.lesion_id == "SR1" and str(les.role) == "target" and les.organ == "unspecified"
    assert any("is not a usable lesion id" in n for n in imp.notes)
    (m,) = imp.measurements
    assert (m.long_axis_mm, m.short_axis_mm) == (29.2, 14.6)
    h = pydicom.dcmread(images / "02.dcm", stop_before_pixels=True)
    ipp = np.asarray(h.ImagePositionPatient, float)
    dy, dx = (float(v) for v in h.PixelSpacing)
    for (c, r), end in zip(long_px, m.long_endpoints, strict=True):  # axial: x = col, y = row
        assert end == pytest.approx((ipp[2], ipp[1] + (r - 0.5) * dy, ipp[0] + (c - 0.5) * dx))
    assert math.isclose(math.dist(*m.long_endpoints), math.hypot(30 * dx, 20 * dy))
    assert m.series_uid == h.SeriesInstanceUID


@pytest.mark.parametrize("content, message", [
    (b"not dicom at all", "not a readable DICOM file"),
    ("image", "not a structured report"),
])
def test_a_file_that_is_not_an_sr_is_refused_in_one_line(content, message, shared_data,
                                                          tmp_path, capsys):
    path = tmp_path / "x.dcm"
    if content == "image":
        shutil.copy(shared_data / DCMQI / "01.dcm", path)
    else:
        path.write_bytes(content)
    with pytest.raises(SRImportError, match=message):
        read_sr(path)
    assert main(["dicom-import", str(path), "--store", str(tmp_path / "s.sqlite")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and str(path) in err
    assert not (tmp_path / "s.sqlite").exists()
