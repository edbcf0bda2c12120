"""Benchmark: the research outputs on synthetic cohorts (response_tool/phantom/cohort.py).

* ``agreement`` with its bootstrap and ``report`` with survival, at 300 and 3 000 patients ×
  3 readers, side by side (medians of ``--runs`` runs in this process);
* ``response-tool report`` at scale (issue 13: 20 000 patients in under 60 s; 200 000 without
  running out of memory), each run as the command in a fresh process: wall time, the peak
  resident memory of that process and the input sizes. 20 000 patients × 3 readers as issue 13
  timed it (``--bor --clinical``: every section, the agreement bootstrap with its default 200
  samples), the same with ``--covariates`` (Cox screening and multivariable models, logistic
  models, Table 1; no target), and 200 000 patients × 1 reader (every default section but the
  agreement, which needs two readers: 3 readers would triple the generator's and ``assess``'s
  work for this benchmark without changing the report's other sections).

Run: ``.venv/bin/python benchmarks/bench_research.py [--runs 3] [--scale-runs 1]
[--skip-small] [--skip-scale] [--skip-200k]``. Cohorts are generated and assessed once into
benchmarks/_data/ (git-ignored).
Writes results/research.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
RESULTS = HERE / "results" / "research.json"
SIZES = (300, 3000)
#: the report at scale: (patients, readers, with the models' covariates): the issue's case (the
#: report as issue 13 timed it: --bor --clinical), then with every model section
SCALE = ((20_000, 3, False), (20_000, 3, True), (200_000, 1, False))
COVARIATES = "age,sex,ki67_grade,primary_site,htb_pct"
TARGET_20K_S = 60.0


def _cohort(n: int, readers: int = 3) -> Path:
    folder = DATA / (f"research_cohort_{n}" if readers == 3 else
                     f"research_cohort_{n}_{readers}r")
    if not (folder / "bor.csv").is_file() or not _has_covariates(folder):
        from response_tool.assessment import assess
        from response_tool.phantom.cohort import generate_cohort

        paths = generate_cohort(folder, n_patients=n, n_readers=readers, seed=0)
        assess(paths["measurements"], burden=paths["burden"]).to_csv(
            folder / "responses.csv", folder / "bor.csv")
    return folder


def _has_covariates(folder: Path) -> bool:
    clinical = folder / "clinical.csv"
    return clinical.is_file() and "ki67_grade" in clinical.open().readline()


def _median(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _report_process(folder: Path, out: Path, covariates: bool) -> dict:
    """``response-tool report`` on ``folder`` as its own process: seconds and peak RSS."""
    cmd = [sys.executable, "-c", _CHILD, "report", str(folder / "responses.csv"),
           "--bor", str(folder / "bor.csv"), "--clinical", str(folder / "clinical.csv"),
           *(["--covariates", COVARIATES] if covariates else []), "-o", str(out)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"report failed ({done.returncode}): {done.stderr[-2000:]}")
    lines = done.stderr.splitlines()
    steps = [line for line in lines if line.startswith("report: ")]
    peak_kb = next(int(line.split()[1]) for line in lines if line.startswith("peak_kb "))
    return {"seconds": round(seconds, 1), "peak_rss_mb": round(peak_kb / 1024),
            "steps": steps, "stdout": done.stdout.strip()}


#: the command's own process, printing its peak resident memory (KiB, Linux) when done
_CHILD = ("import resource, sys\nfrom response_tool.cli import main\ncode = main(sys.argv[1:])\n"
          "print('peak_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
          "file=sys.stderr)\nsys.exit(code)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scale-runs", type=int, default=1)
    parser.add_argument("--skip-small", action="store_true",
                        help="keep the committed 300 / 3 000 rows, measure only at scale")
    parser.add_argument("--skip-200k", action="store_true")
    parser.add_argument("--skip-scale", action="store_true",
                        help="keep the committed rows at scale, measure only 300 / 3 000")
    args = parser.parse_args()
    from response_tool.agreement import agreement
    from response_tool.report import build_report

    old = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    rows = [] if not args.skip_small else old.get("results", [])
    if not args.skip_small:  # warm up: the first call imports statsmodels, lifelines, matplotlib
        with tempfile.TemporaryDirectory() as tmp:
            warm = _cohort(300)
            agreement(warm / "responses.csv", "mrecist", bor=warm / "bor.csv", n_boot=0)
            build_report(warm / "responses.csv", Path(tmp) / "r", bor=warm / "bor.csv",
                         clinical=warm / "clinical.csv", agreement_boot=0)
    for n in () if args.skip_small else SIZES:
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
    scale = old.get("report_at_scale", []) if args.skip_scale else []
    for n, readers, covariates in () if args.skip_scale else SCALE:
        if n == 200_000 and args.skip_200k:
            continue
        folder = _cohort(n, readers)
        sizes = {name: round(os.path.getsize(folder / f"{name}.csv") / 2**20, 1)
                 for name in ("responses", "bor", "clinical")}
        runs = []
        for _ in range(args.scale_runs):
            with tempfile.TemporaryDirectory() as tmp:
                runs.append(_report_process(folder, Path(tmp) / "report", covariates))
        row = {"patients": n, "readers": readers, "covariates": COVARIATES if covariates else "",
               "input_mb": sizes,
               "report_s_runs": [r["seconds"] for r in runs],
               "report_s": statistics.median(r["seconds"] for r in runs),
               "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
               "steps_last_run": runs[-1]["steps"], "printed": runs[-1]["stdout"]}
        if n == 20_000 and not covariates:
            row["target_s"] = TARGET_20K_S
            row["met"] = row["report_s"] < TARGET_20K_S
        scale.append(row)
        print({k: v for k, v in row.items() if k != "steps_last_run"}, flush=True)
    machine = {"cores": os.cpu_count(), "load_1min_at_end": round(os.getloadavg()[0], 2)}
    RESULTS.write_text(json.dumps({"runs": args.runs, "results": rows, "report_at_scale": scale,
                                   "machine": machine}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
