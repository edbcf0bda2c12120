"""Outputs unchanged (issue 10): today's code writes every golden file of tests/golden byte for byte.

The golden files were written by ``tests/golden/make_golden.py`` with the code before the
refactoring of the core; a difference here is a change of behaviour, to be explained or undone.
"""

from __future__ import annotations

import difflib
import importlib.util
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parents[2] / "golden"


def _generator():
    spec = importlib.util.spec_from_file_location("make_golden", GOLDEN / "make_golden.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKE = _generator()
CASES = ("phantom", "cohort", "cohort-options", "pyrecist", "report")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    work = tmp_path_factory.mktemp("golden")
    cases = MAKE.cases(work)
    assert tuple(cases) == CASES
    for name, args in cases.items():
        MAKE.run_case(args, work / "out" / name, GOLDEN)
    return work / "out"


def assert_same(expected: Path, got: Path) -> None:
    """``got`` has ``expected``'s bytes (SVG metadata dates aside); else a short unified diff."""
    assert got.is_file(), f"{got.name} was not written"
    want, have = MAKE.normalised(expected), MAKE.normalised(got)
    if want == have:
        return
    diff = difflib.unified_diff(want.decode(errors="replace").splitlines(),
                                have.decode(errors="replace").splitlines(),
                                str(expected), str(got), n=1, lineterm="")
    pytest.fail("output changed:\n" + "\n".join(list(diff)[:40]))


@pytest.mark.parametrize("case", CASES)
def test_every_golden_file_is_written_byte_for_byte(case: str, written: Path) -> None:
    files = MAKE.compared_files(GOLDEN / case)
    assert files, f"no golden files for {case}"
    for expected in files:
        assert_same(expected, written / case / MAKE.plain(expected).relative_to(GOLDEN / case))
    extra = {p.relative_to(written / case) for p in MAKE.compared_files(written / case)} - {
        MAKE.plain(p).relative_to(GOLDEN / case) for p in files}
    assert not extra, f"{case}: files written that the golden set does not have: {sorted(extra)}"
