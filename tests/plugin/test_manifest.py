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
