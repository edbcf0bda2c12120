"""``assess --jobs N`` (issue 17): patients split over processes give the same files, byte for
byte, as one process."""

from __future__ import annotations

import pytest

from response_tool.assessment import assess
from response_tool.cli import main


@pytest.mark.parametrize("jobs", [2, 3])
def test_jobs_give_the_same_responses_and_bor_byte_for_byte(cohort_dir, tmp_path, jobs):
    one, many = tmp_path / "one", tmp_path / "many"
    one.mkdir()
    many.mkdir()
    src = cohort_dir / "measurements.csv"
    for folder, n in ((one, 1), (many, jobs)):
        assert main(["assess", str(src), "-o", str(folder / "r.csv"), "--bor",
                     str(folder / "b.csv"), "--jobs", str(n)]) == 0
    for name in ("r.csv", "b.csv", "r.warnings.csv"):
        assert (one / name).read_bytes() == (many / name).read_bytes(), name


def test_a_small_table_is_assessed_in_process(cohort_dir):
    """Fewer reads than 2 per job: no processes are started (and the result is the same)."""
    import pandas as pd

    frame = pd.read_csv(cohort_dir / "measurements.csv", dtype=str)
    few = frame[frame["patient_id"].isin(frame["patient_id"].unique()[:1])]
    a = assess(few, jobs=8).timepoints
    b = assess(few).timepoints
    pd.testing.assert_frame_equal(a, b)
