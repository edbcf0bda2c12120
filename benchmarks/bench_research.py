"""Benchmark: the research outputs on synthetic cohorts (response_tool/phantom/cohort.py, 3 readers):
`agreement` with its bootstrap and `report` with survival, at two cohort sizes, side by side.

Run: ``.venv/bin/python benchmarks/bench_research.py [--runs 3]``. Cohorts are generated once into
benchmarks/_data/ (git-ignored). Writes results/research.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
RESULTS = HERE / "results" / "research.json"
SIZES = (300, 3000)


def _cohort(n: int) -> Path:
    folder = DATA / f"research_cohort_{n}"
    if not (folder / "bor.csv").is_file():
        from response_tool.phantom.cohort import generate_cohort
        paths = generate_cohort(folder, n_patients=n, n_readers=3, seed=0)
        from response_tool.assessment import assess

        assess(paths["measurements"], burden=paths["burden"]).to_csv(
            folder / "responses.csv", folder / "bor.csv")
    return folder


def _median(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from response_tool.agreement import agreement
    from response_tool.report import build_report

    rows = []
    for n in SIZES:
        folder = _cohort(n)
        with tempfile.TemporaryDirectory() as tmp:
            point = _median(lambda f=folder: agreement(f / "responses.csv", "mrecist",
                                                       bor=f / "bor.csv", n_boot=0), args.runs)
            boot = _median(lambda f=folder: agreement(f / "responses.csv", "mrecist",
                                                      bor=f / "bor.csv", n_boot=1000, seed=0),
                           args.runs)
            report = _median(lambda f=folder, t=tmp: build_report(
                f / "responses.csv", Path(t) / "report", bor=f / "bor.csv",
                clinical=f / "clinical.csv", agreement_boot=200), args.runs)
        rows.append({"patients": n, "readers": 3, "agreement_point_s": round(point, 3),
                     "agreement_1000_boot_s": round(boot, 2),
                     "per_bootstrap_sample_ms": round((boot - point) / 1000 * 1000, 2),
                     "report_s": round(report, 2)})
        print(rows[-1], flush=True)
    RESULTS.write_text(json.dumps({"runs": args.runs, "results": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
