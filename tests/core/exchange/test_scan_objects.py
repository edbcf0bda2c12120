"""The scanner lists SR and SEG objects with what they are instead of a bare "skipped"."""

from __future__ import annotations

import json
import shutil

from response_tool.cli import main
from response_tool.io.dicom import scan_dicom


def test_sr_and_seg_in_a_study_folder_are_listed_with_what_they_are(
        shared_data, phantom_store, patient_dir, tmp_path, capsys):
    folder = tmp_path / "study"
    folder.mkdir()
    src = shared_data / "dcmqi-ct-3slice-liver"
    for name in ("01.dcm", "02.dcm", "03.dcm", "liver.dcm"):
        shutil.copy(src / name, folder / name)
    assert main(["dicom-export", "--store", str(phantom_store), "--images", str(patient_dir),
                 "-o", str(tmp_path / "sr"), "--reader", "DEMO"]) == 0
    sr = sorted((tmp_path / "sr").glob("*baseline*"))[0]
    shutil.copy(sr, folder / "report.dcm")
    scan = scan_dicom(folder)
    reasons = {p.name: r for p, r in scan.skipped}
    assert len(scan.series) == 1
    assert reasons["report.dcm"] == (
        "SR structured report (not an image): Comprehensive 3D SR Storage, 'Imaging Measurement "
        "Report', series 'response-tool read DEMO baseline', "
        f"{reasons['report.dcm'].split(', ')[3][:10]}; `response-tool dicom-import` reads a TID "
        "1500 measurement report; skipped")
    assert reasons["liver.dcm"].startswith("SEG segmentation object (not an image): "
                                           "Segmentation Storage, 1 segment(s): Liver, series "
                                           "'Liver Segmentation', 2016-03-18")
    capsys.readouterr()
    assert main(["inspect", str(folder), "--json"]) == 0
    listed = {e["file"].rsplit("/", 1)[-1]: e["reason"]
              for e in json.loads(capsys.readouterr().out)["skipped"]}
    assert listed == reasons
