"""Benchmark (issue 10): the code before and after the core got its layers, side by side in one run.

The same three jobs, alternating between the two versions (``before`` = a git worktree of the
commit before the refactoring, ``after`` = this tree), each in a fresh process whose
``PYTHONPATH`` puts that version first:

* **reading edit** — the phantom's full read (6 lesions × 3 time points, both criteria) in a read
  store; one edit is ``ReadingSession.record_line`` of T1's long axis at follow-up 1 (store write,
  engine on both criteria, warnings); median ms per block, and the SQL statements one edit runs
  (the store connection's trace callback);
* **panel** — each version's own ``bench_reading.panel_edits``: an end of T1's line moved on the
  napari shapes layer, as napari's vertex tool reports it, to both tables set (real viewer under a
  virtual X server);
* **assess** — ``assess(csv).to_csv(responses, bor)`` on the 100 000-patient cohort of
  ``bench_assess.py`` (3 000 000 rows, both criteria); median s, and the SHA-256 of both outputs
  (the two versions must write the same bytes).

Run: ``.venv/bin/python benchmarks/bench_refactor.py [--before d5c26cc] [--rounds 2]`` (re-runs
itself under ``xvfb-run`` when there is no display). Writes results/refactor.json.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _worktrees import tree_env, worktree  # noqa: E402 - benchmarks/ is the script's folder

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results" / "refactor.json"
#: the last commit before the refactoring (it added the golden outputs)
BEFORE = "d5c26cc"


# -- child: one version, one process ----------------------------------------------------------------
def _reading_edit(phantom: Path, runs: int, blocks: int) -> dict[str, object]:
    try:  # after: the core's reading package
        from response_tool.reading.session import LineRecord, ReadingSession
        from response_tool.reading.store import ReadStore
    except ImportError:  # before: the session lived in the plugin
        from napari_response_tool._reading import LineRecord, ReadingSession  # type: ignore
        from response_tool.store import ReadStore  # type: ignore

    rows = list(csv.DictReader((phantom / "ground_truth_measurements.csv").open()))
    with tempfile.TemporaryDirectory() as tmp:
        store = ReadStore(Path(tmp) / "reads.sqlite")
        key = store.open_read("RT-PHANTOM-001", "BENCH")
        for date in sorted({r["timepoint_date"] for r in rows}):
            store.add_timepoint(key, date)
        for r in rows:
            known = {getattr(les, "lesion_id", None) or les["lesion_id"] for les in store.lesions(key)}
            if r["lesion_id"] not in known:
                store.add_lesion(key, r["role"], r["organ"], r["is_nodal"] == "true",
                                 lesion_id=r["lesion_id"])
            sizes = {k: float(r[k]) for k in ("long_axis_mm", "short_axis_mm",
                                              "viable_long_axis_mm") if r[k]}
            store.set_measurement(key, r["lesion_id"], r["timepoint_date"], status=r["status"],
                                  **sizes)
        session = ReadingSession(store, key, sorted({r["timepoint_date"] for r in rows}))
        session.go_to(session.dates[1])

        def edit(i: int) -> None:
            length = 40.0 + (i % 5)
            session.record_line("T1", "long", LineRecord([[40.0, 100.0, 50.0],
                                                          [40.0, 100.0, 50.0 + length]]))

        statements: list[str] = []
        edit(99)
        store._db.set_trace_callback(statements.append)
        edit(100)
        store._db.set_trace_callback(None)
        per_block = []
        for _block in range(blocks):
            times = []
            for i in range(runs):
                t0 = time.perf_counter()
                edit(i)
                times.append((time.perf_counter() - t0) * 1000)
            per_block.append(round(statistics.median(times), 2))
            time.sleep(0.5)
        store.close()
    return {"edit_ms_per_block": per_block, "edit_ms": round(statistics.median(per_block), 2),
            "sql_statements_per_edit": len(statements),
            "sql_selects_per_edit": sum(s.lstrip().upper().startswith("SELECT") for s in statements)}


def _assess(cohort: Path, runs: int) -> dict[str, object]:
    from response_tool.assessment import assess

    times, digests = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for _ in range(runs):
            t0 = time.perf_counter()
            assess(cohort).to_csv(out / "responses.csv", out / "bor.csv")
            times.append(time.perf_counter() - t0)
        for name in ("responses.csv", "bor.csv"):
            digests[name] = hashlib.sha256((out / name).read_bytes()).hexdigest()
    return {"assess_s_runs": [round(t, 2) for t in times],
            "assess_s": round(statistics.median(times), 2), "sha256": digests}


def child(root: Path, phantom: Path, cohort: Path, runs: int, blocks: int, assess_runs: int
          ) -> dict[str, object]:
    import response_tool

    assert Path(response_tool.__file__).resolve().is_relative_to(root), response_tool.__file__
    out: dict[str, object] = {"root": str(root)}
    out.update(_reading_edit(phantom, runs, blocks))
    sys.path.insert(0, str(root / "benchmarks"))
    import bench_reading  # that version's own panel benchmark

    panel, paint = bench_reading.panel_edits(phantom, runs, blocks)
    out.update(panel_ms_per_block=panel, panel_ms=round(statistics.median(panel), 1),
               repaint_ms=round(statistics.median(paint), 1))
    out.update(_assess(cohort, assess_runs))
    return out


# -- parent: both versions, alternating ------------------------------------------------------------
def _run_child(root: Path, args: argparse.Namespace, phantom: Path, cohort: Path) -> dict:
    env = tree_env(root)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(root), "--phantom",
           str(phantom), "--cohort", str(cohort), "--runs", str(args.runs), "--blocks",
           str(args.blocks), "--assess-runs", str(args.assess_runs)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=root, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{root}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help="git revision of the 'before' version")
    parser.add_argument("--after", default=None,
                        help="git revision of the 'after' version (default: this working tree)")
    parser.add_argument("--rounds", type=int, default=2, help="before/after pairs")
    parser.add_argument("--runs", type=int, default=30, help="edits per block")
    parser.add_argument("--blocks", type=int, default=3)
    parser.add_argument("--assess-runs", type=int, default=2)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--child")
    parser.add_argument("--phantom")
    parser.add_argument("--cohort")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child).resolve(), Path(args.phantom), Path(args.cohort),
                               args.runs, args.blocks, args.assess_runs)))
        return 0
    if not os.environ.get("DISPLAY") and shutil.which("xvfb-run"):
        return subprocess.call(["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24",
                                sys.executable, *sys.argv])
    sys.path.insert(0, str(HERE))
    from bench_assess import make_cohort
    from bench_reading import _phantom

    phantom, cohort = _phantom(), make_cohort(args.patients)
    roots = {"before": worktree(args.before),
             "after": REPO if args.after is None else worktree(args.after)}
    runs: dict[str, list[dict]] = {"before": [], "after": []}
    for r in range(args.rounds):
        for name in (("before", "after") if r % 2 == 0 else ("after", "before")):
            print(f"round {r + 1}: {name} …", flush=True)
            runs[name].append(_run_child(roots[name], args, phantom, cohort))

    def med(name: str, field: str) -> float:
        return round(statistics.median(v for run in runs[name] for v in (
            run[field] if isinstance(run[field], list) else [run[field]])), 2)

    summary = {}
    for field in ("edit_ms_per_block", "panel_ms_per_block", "assess_s_runs"):
        b, a = med("before", field), med("after", field)
        summary[field.replace("_per_block", "").replace("_runs", "")] = {
            "before": b, "after": a, "after_over_before": round(a / b, 3)}
    summary["sql_statements_per_edit"] = {n: runs[n][0]["sql_statements_per_edit"] for n in runs}
    summary["sql_selects_per_edit"] = {n: runs[n][0]["sql_selects_per_edit"] for n in runs}
    summary["same_output_bytes"] = all(run["sha256"] == runs["before"][0]["sha256"]
                                       for n in runs for run in runs[n])
    result = {"before": roots["before"].name.removeprefix("tree-"),
              "after": "working tree" if args.after is None else roots["after"].name.removeprefix("tree-"),
              "rounds": args.rounds, "edits_per_block": args.runs,
              "blocks": args.blocks, "patients": args.patients, "summary": summary, "runs": runs}
    print(json.dumps(summary, indent=2))
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
