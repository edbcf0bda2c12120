"""Benchmark: assess a cohort from CSV to RESPONSES.csv + BOR.csv, both criteria.

Default: 100 000 patients × 6 time points × 5 target lesions (3 000 000 rows). Reports the median
of N runs of the whole job and of its stages, patients per second and peak memory (VmHWM rise in
a fresh process). Run: ``.venv/bin/python benchmarks/bench_assess.py [--patients 100000] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
RESULTS = HERE / "results" / "assess.json"
N_TP, N_LES = 6, 5


def make_cohort(n_patients: int, seed: int = 0) -> Path:
    path = DATA / f"cohort_{n_patients}_seed{seed}.csv"
    if path.is_file():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n = n_patients * N_TP * N_LES
    pid = np.repeat(np.arange(n_patients), N_TP * N_LES)
    tp = np.tile(np.repeat(np.arange(N_TP), N_LES), n_patients)
    les = np.tile(np.arange(N_LES), n_patients * N_TP)
    base = rng.uniform(12, 60, size=(n_patients, N_LES))
    trend = rng.normal(0, 0.15, size=(n_patients, 1, 1))
    factor = np.clip(1 + trend * np.arange(N_TP)[None, :, None]
                     + rng.normal(0, 0.05, size=(n_patients, N_TP, N_LES)), 0, None)
    long_axis = np.round((base[:, None, :] * factor).reshape(-1), 1)
    viable = np.round(long_axis * rng.uniform(0.2, 1.0, size=n), 1)
    # baselines spread over two years, follow-ups every 8 weeks ± 10 days (as in real schedules:
    # no two patients need share their visit days)
    start = rng.integers(0, 730, size=n_patients)[pid]
    jitter = np.where(tp > 0, rng.integers(-10, 11, size=(n_patients, N_TP))[pid, tp], 0)
    dates = (np.datetime64("2024-01-01") + (start + tp * 56 + jitter).astype("timedelta64[D]")
             ).astype(str)
    frame = pd.DataFrame({
        "patient_id": np.char.add("P", pid.astype(str)), "reader_id": "R1",
        "timepoint_date": dates, "lesion_id": np.char.add("T", (les + 1).astype(str)),
        "role": "target", "organ": np.array(["liver", "liver", "lung", "lung", "bone"])[les],
        "is_nodal": "false", "long_axis_mm": long_axis, "short_axis_mm": "",
        "viable_long_axis_mm": viable, "status": "measured",
    })
    frame.to_csv(path, index=False)
    return path


def stages(path: Path) -> dict[str, float]:
    """The steps of ``assess(path).to_csv(...)``, timed one by one."""
    from response_tool.assessment import (
        TIMEPOINT_COLUMNS,
        AssessmentOptions,
        AssessmentResult,
        best_responses,
        timepoint_responses,
        with_burden,
    )
    from response_tool.criteria.baseline import baseline_warnings
    from response_tool.io.measurements_csv import read_measurements

    protocol = AssessmentOptions()
    t = {"start": time.perf_counter()}
    frame = read_measurements(path)
    t["read+validate"] = time.perf_counter()
    tps = with_burden(timepoint_responses(frame, protocol), None)
    t["time-point responses"] = time.perf_counter()
    bor = best_responses(tps, protocol)
    t["best overall response"] = time.perf_counter()
    warnings = baseline_warnings(frame, protocol.criteria)
    t["baseline checks"] = time.perf_counter()
    AssessmentResult(tps[list(TIMEPOINT_COLUMNS)], bor, protocol, warnings).to_csv(
        DATA / "responses.csv", DATA / "bor.csv")
    t["write CSVs"] = time.perf_counter()
    keys = list(t)
    return {k: t[k] - t[keys[i - 1]] for i, k in enumerate(keys) if i}


def whole(path: Path) -> float:
    from response_tool.assessment import assess

    t0 = time.perf_counter()
    assess(path).to_csv(DATA / "responses.csv", DATA / "bor.csv")
    return time.perf_counter() - t0


def _hwm() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peak-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak_child:
        import response_tool.assessment  # noqa: F401

        before = _hwm()
        whole(Path(args.peak_child))
        print(json.dumps({"peak_increase_bytes": _hwm() - before}))
        return 0
    path = make_cohort(args.patients)
    runs = [stages(path) for _ in range(args.runs)]
    totals = [whole(path) for _ in range(args.runs)]
    median_stage = {k: round(statistics.median(r[k] for r in runs), 3) for k in runs[0]}
    total = statistics.median(totals)
    peak = json.loads(subprocess.run([sys.executable, __file__, "--peak-child", str(path)],
                                     check=True, capture_output=True, text=True).stdout)
    result = {"patients": args.patients, "timepoints": N_TP, "lesions": N_LES,
              "rows": args.patients * N_TP * N_LES, "criteria": ["recist1.1", "mrecist"],
              "runs": args.runs, "median_total_s": round(total, 2),
              "patients_per_s": round(args.patients / total),
              "stages_median_s": median_stage, "totals_s": [round(x, 2) for x in totals],
              "peak_memory_rise_mb": round(peak["peak_increase_bytes"] / 2**20),
              "csv_mb": round(path.stat().st_size / 2**20)}
    print(json.dumps(result, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
