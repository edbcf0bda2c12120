"""Without napari (``make setup-core``: the core and its tests only) a widget test that asks for
napari's ``make_napari_viewer`` fixture is skipped, saying why, instead of erroring on a missing
fixture; modules that need napari throughout skip themselves (``pytest.importorskip``)."""

from __future__ import annotations

import importlib.util

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if importlib.util.find_spec("napari") is not None:
        return
    skip = pytest.mark.skip(reason="needs napari and Qt: `make setup` (not `make setup-core`)")
    for item in items:
        if "make_napari_viewer" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)
