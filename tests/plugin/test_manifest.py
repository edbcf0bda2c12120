"""The npe2 manifest is valid, registered through the entry point, and every command resolves."""

from __future__ import annotations

import importlib

import pytest

npe2 = pytest.importorskip("npe2")


def test_manifest_is_registered_via_entry_point() -> None:
    pm = npe2.PluginManager()
    pm.discover()
    manifest = pm.get_manifest("response-tool")
    assert manifest.package_metadata is not None
    assert manifest.package_metadata.name == "response-tool"


def test_every_command_resolves_to_a_callable() -> None:
    manifest = npe2.PluginManifest.from_distribution("response-tool")
    assert manifest.name == "response-tool"
    for command in manifest.contributions.commands:
        module_name, attr = command.python_name.split(":")
        obj = getattr(importlib.import_module(module_name), attr)
        assert callable(obj), command.id


def test_reader_accepts_folders_and_sample_and_widget_are_declared() -> None:
    manifest = npe2.PluginManifest.from_distribution("response-tool")
    (reader,) = manifest.contributions.readers
    assert reader.accepts_directories
    assert [s.key for s in manifest.contributions.sample_data] == ["liver_phantom"]
    assert {w.display_name for w in manifest.contributions.widgets} >= {"Patient"}


def test_npe2_validate_passes() -> None:
    import subprocess
    import sys
    from pathlib import Path

    npe2_cli = Path(sys.executable).with_name("npe2")
    done = subprocess.run([str(npe2_cli), "validate", "response-tool"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid" in done.stdout


def test_every_widget_opens_through_the_manifest(make_napari_viewer) -> None:
    viewer = make_napari_viewer()
    manifest = npe2.PluginManifest.from_distribution("response-tool")
    names = [w.display_name for w in manifest.contributions.widgets]
    assert names == ["Patient", "Reading", "Burden", "Adjudication", "PACS"]
    for name in names:
        _, widget = viewer.window.add_plugin_dock_widget("response-tool", name, tabify=True)
        assert widget is not None and widget.viewer is not None, name


#: file names and whether the reader claims them (napari offers it for them); DICOMDIR is left
#: out: npe2 matches it only where file names are case-insensitive (see napari.yaml)
CLAIMED = {
    "IM0001.dcm": True, "IM0001.DCM": True, "1.2.840.113619.2.5.dcm": True, "slice.dicom": True,
    "SIEMENS.IMA": True, "scan.png": False, "scan.tif": False, "volume.npy": False,
    "labels.nii.gz": False, "points.csv": False, "README.md": False, "mask.nrrd": False,
}


def test_reader_claims_dicom_file_names_only() -> None:
    """npe2's own resolution (no viewer): which file names make our reader a candidate."""
    pm = npe2.PluginManager()
    pm.discover()

    def ours(name: str) -> bool:
        return any(r.plugin_name == "response-tool"
                   for r in pm.iter_compatible_readers([f"/data/{name}"]))

    claimed = {name for name in CLAIMED if ours(name)}
    assert claimed == {name for name, dicom in CLAIMED.items() if dicom}


def test_viewer_open_picks_the_one_reader_of_a_file_without_asking(make_napari_viewer, tmp_path,
                                                                    phantom_dir) -> None:
    """``viewer.open(path, plugin=None)`` is napari's File ▸ Open: with one candidate reader it
    opens without the choice dialog (``MultipleReaderError`` otherwise). A PNG is napari's; a
    Siemens ``.IMA`` file is ours, with the plugin's image record."""
    import shutil

    import imageio.v3 as iio
    import numpy as np

    from response_tool.io import scan_dicom

    png = tmp_path / "scan.png"
    iio.imwrite(png, np.zeros((8, 8), np.uint8))
    study = min(scan_dicom(phantom_dir / "RT-PHANTOM-001").studies, key=lambda s: s.study_date)
    ima = tmp_path / "SLICE0001.IMA"
    shutil.copy(study.series[0].files[0], ima)
    viewer = make_napari_viewer()
    (image,) = viewer.open(png, plugin=None)
    assert image.source.reader_plugin == "napari" and image.data.shape == (8, 8)
    (dicom,) = viewer.open(ima, plugin=None)
    assert dicom.source.reader_plugin == "response-tool"
    assert dicom.metadata["response_tool"]["series_instance_uid"] == \
        study.series[0].series_instance_uid
