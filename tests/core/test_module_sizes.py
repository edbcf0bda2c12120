"""No module of the core or the plugin grows past 450 lines (issue 10: rooms split by concern)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LIMIT = 450
MODULES = sorted([*(REPO / "response_tool").rglob("*.py"),
                  *(REPO / "plugins" / "napari_response_tool").rglob("*.py")])


@pytest.mark.parametrize("module", MODULES, ids=[str(m.relative_to(REPO)) for m in MODULES])
def test_module_is_at_most_450_lines(module: Path) -> None:
    n = len(module.read_text(encoding="utf-8").splitlines())
    assert n <= LIMIT, f"{module.relative_to(REPO)}: {n} lines; split it by concern"
