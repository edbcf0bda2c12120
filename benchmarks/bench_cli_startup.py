"""CLI start-up (issue 16): how long ``response-tool --help``, ``--version``, each command's
``--help`` and a small ``assess`` take from a fresh process, and which heavy libraries they import.

Two versions side by side, alternating run by run: ``before`` (a git worktree of ``--before``,
default 4c585b5: every command module and ``response_tool/io/__init__.py`` import pydicom,
SimpleITK and pandas eagerly) and ``after`` (the working tree). Each run is a fresh
``python -m response_tool …`` with ``PYTHONPATH`` on that version's tree; the wall time is the
median over ``--runs``. The imports come from ``python -X importtime`` of one more run: the total
import time it reports and which of numpy, pandas, pyarrow, pydicom, SimpleITK, highdicom,
matplotlib, scipy were loaded.

    .venv/bin/python benchmarks/bench_cli_startup.py [--runs 7] [--before REV]

Writes results/cli_startup.json. Not a timed test: tests/core/test_cli_startup.py checks the
imports (which libraries), never the time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _worktrees import tree_env, worktree  # noqa: E402 - benchmarks/ is the script's folder

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = HERE / "_data" / "cli_startup"
HEAVY = ("numpy", "pandas", "pyarrow", "pydicom", "SimpleITK", "highdicom", "matplotlib", "scipy")
HELPS = [["--version"], ["--help"], ["inspect", "--help"], ["phantom", "--help"],
         ["assess", "--help"], ["burden", "--help"], ["agreement", "--help"], ["report", "--help"]]


def _measurements(root: Path) -> Path:
    """A small cohort (20 patients, 2 readers) both versions read: written once, by ``root``."""
    csv = DATA / "measurements.csv"
    if not csv.is_file():
        DATA.mkdir(parents=True, exist_ok=True)
        code = ("import sys; from response_tool.phantom.cohort import generate_cohort; "
                "generate_cohort(sys.argv[1], n_patients=20, n_readers=2, seed=0)")
        subprocess.run([sys.executable, "-c", code, str(DATA / "cohort")], env=tree_env(root),
                       check=True, capture_output=True, cwd=root)
        (DATA / "cohort" / "measurements.csv").replace(csv)
    return csv


def _jobs(csv: Path) -> list[tuple[str, list[str]]]:
    jobs = [(" ".join(a), a) for a in HELPS]
    out = DATA / "out"
    out.mkdir(parents=True, exist_ok=True)
    jobs.append(("assess (20 patients)", ["assess", str(csv), "-o", str(out / "r.csv")]))
    return jobs


def _once(root: Path, args: list[str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "response_tool", *args], env=tree_env(root), cwd=root,
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if done.returncode not in (0, 2) or "Traceback" in done.stderr:
        raise SystemExit(f"{root.name}: response-tool {' '.join(args)} failed: {done.stderr[-1500:]}")
    return elapsed


def _imports(root: Path, args: list[str]) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "response_tool", *args],
                          env=tree_env(root), cwd=root, capture_output=True, text=True, check=False)
    total = 0
    loaded = set()
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, cumulative, name = line.removeprefix("import time:").split("|")
        if len(name) - len(name.lstrip()) == 3:  # a top-level import (nested ones indent deeper)
            total += int(cumulative)
        loaded.add(name.strip().split(".")[0])
    return {"import_ms": round(total / 1000, 1), "heavy": [m for m in HEAVY if m in loaded]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--before", default="4c585b5")
    args = parser.parse_args()
    roots = {"before": worktree(args.before), "after": REPO}
    csv = _measurements(roots["before"])
    rows = []
    for label, argv in _jobs(csv):
        times: dict[str, list[float]] = {"before": [], "after": []}
        for _ in range(args.runs):
            for version, root in roots.items():
                times[version].append(_once(root, argv))
        row: dict[str, object] = {"command": label}
        for version, root in roots.items():
            row[version] = {"median_s": round(statistics.median(times[version]), 3),
                            **_imports(root, argv)}
        row["ratio"] = round(row["before"]["median_s"] / row["after"]["median_s"], 1)  # type: ignore[index]
        rows.append(row)
        b, a = row["before"], row["after"]
        print(f"{label:<22} before {b['median_s']:.3f} s ({', '.join(b['heavy']) or '-'})  "  # type: ignore[index]
              f"after {a['median_s']:.3f} s ({', '.join(a['heavy']) or '-'})", flush=True)  # type: ignore[index]
    result = {"before": roots["before"].name.removeprefix("tree-"), "after": "working tree",
              "runs": args.runs, "python": sys.version.split()[0], "rows": rows}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "cli_startup.json").write_text(json.dumps(result, indent=2) + "\n",
                                                       encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
