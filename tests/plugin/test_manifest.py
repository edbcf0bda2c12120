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
