"""Shared fixtures: the third-party data beside the repository and a generated phantom."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``. Missing data is a failure, not a skip (CI must not go green without it)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(
            f"{SHARED_DATA} is missing: the real-data tests need ../shared/data beside the repository."
        )
    return SHARED_DATA


@pytest.fixture(scope="session")
def phantom_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The multiphase longitudinal liver phantom (seed 0), generated once per test session."""
    from response_tool.phantom import generate_phantom

    out = tmp_path_factory.mktemp("phantom")
    generate_phantom(out, seed=0)
    return out


@pytest.fixture(scope="session")
def cohort_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic multi-reader cohort (response_tool.phantom.cohort, 300 patients, 3 readers, seed 0),
    assessed once: measurements, clinical, burden, responses and BOR CSVs."""
    from response_tool.assessment import assess
    from response_tool.phantom.cohort import generate_cohort

    out = tmp_path_factory.mktemp("cohort")
    paths = generate_cohort(out, n_patients=300, n_readers=3, seed=0)
    result = assess(paths["measurements"], burden=paths["burden"])
    result.to_csv(out / "responses.csv", out / "bor.csv")
    return out
