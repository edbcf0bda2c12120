"""The demo read itself (drawn in the viewer, as `make demo` draws it) with burden outlines at
baseline, through dicom-export (SR per time point + SEG + NIfTI), the validators, dicom-import and
store-export: the measurements CSV that comes back is the golden demo export, byte for byte."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("napari")

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "demo" / "measurements.csv"


def test_demo_read_round_trips_through_dicom_sr(make_napari_viewer, phantom_dir, tmp_path):
    from napari_response_tool._demo_read import fill_timepoint

    from response_tool.cli import main
    from response_tool.io import load_image, load_label_map

    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    viewer = make_napari_viewer()
    _, patient = viewer.window.add_plugin_dock_widget("response-tool", "Patient")
    _, reading = viewer.window.add_plugin_dock_widget("response-tool", "Reading")
    _, burden_panel = viewer.window.add_plugin_dock_widget("response-tool", "Burden", tabify=True)
    patient.open_folder(phantom_dir / "RT-PHANTOM-001")
    patient.side_by_side.setChecked(False)
    store = tmp_path / "reads.sqlite"
    reading.start("RT-PHANTOM-001", patient.studies(), store, reader_id="DEMO",
                  load_study=patient.load_study)
    for k in range(3):
        fill_timepoint(reading, gt, k)
    # burden outlines at baseline: the truth's liver and tumour on the proposed slices, saved
    reading.go_to(gt["timepoints"][0]["date"])
    tp = gt["timepoints"][0]
    image = load_image(phantom_dir / tp["series"]["portal-venous"]["folder"])
    labels = load_label_map(phantom_dir / tp["label_map"], image)
    liver = np.isin(labels, gt["liver_labels"])
    z = np.flatnonzero(liver.any(axis=(1, 2)))
    burden_panel.set_extent(first=int(z[0]), last=int(z[-1]))
    slices = burden_panel.propose(5)
    layer = burden_panel.outlines()
    data = np.asarray(layer.data).copy()
    for s in slices:
        data[s][liver[s]] = 1
        data[s][np.isin(labels[s], gt["tumour_labels"])] = 2
    layer.data = data
    burden_panel.save()
    (saved,) = reading.session.store.burden_outlines(reading.session.key)
    assert saved["slices"] == list(slices) and np.array_equal(saved["labels"], data)

    out = tmp_path / "dicom"
    assert main(["dicom-export", "--store", str(store), "--images",
                 str(phantom_dir / "RT-PHANTOM-001"), "-o", str(out)]) == 0
    srs = sorted(out.glob("*_SR.dcm"))
    (seg,) = out.glob("*_burden_SEG.dcm")
    assert len(srs) == 3 and len(list(out.glob("*_burden_outlines.nii.gz"))) == 1
    for tool, files in (("dciodvfy", [*srs, seg]), ("dsrdump", srs)):
        exe = shutil.which(tool)
        if exe is None:
            pytest.skip(f"{tool} is not installed (scripts/setup-exchange.sh)")
        for f in files:
            res = subprocess.run([exe, str(f)], capture_output=True, text=True, timeout=120)
            text = res.stdout + res.stderr
            assert res.returncode == 0 and not any(
                ln.startswith("Error") for ln in text.splitlines()), (f.name, text[-2000:])
    back = tmp_path / "back.sqlite"
    assert main(["dicom-import", *map(str, srs), "--store", str(back), "--images",
                 str(phantom_dir / "RT-PHANTOM-001")]) == 0
    assert main(["store-export", "--store", str(back), "-o", str(tmp_path / "back.csv")]) == 0
    assert (tmp_path / "back.csv").read_text() == GOLDEN.read_text()
