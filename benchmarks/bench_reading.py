"""Benchmark: the Reading panel's live update after one edit, on the phantom's full read
(6 lesions × 3 time points, both criteria): store write + engine + warnings, without Qt.

Run: ``.venv/bin/python benchmarks/bench_reading.py [--runs 30]`` (generates the phantom into
benchmarks/_data/phantom if needed). Writes results/reading.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "plugins"))

from napari_response_tool._reading import ReadingSession  # noqa: E402

from response_tool.store import ReadStore  # noqa: E402

RESULTS = HERE / "results" / "reading.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="edits per block")
    parser.add_argument("--blocks", type=int, default=5)
    args = parser.parse_args()
    phantom = HERE / "_data" / "phantom"
    if not (phantom / "ground_truth.json").is_file():
        from response_tool.phantom import generate_phantom

        generate_phantom(phantom, seed=0, force=True)
    rows = list(csv.DictReader((phantom / "ground_truth_measurements.csv").open()))
    with tempfile.TemporaryDirectory() as tmp:
        store = ReadStore(Path(tmp) / "reads.sqlite")
        key = store.open_read("RT-PHANTOM-001", "BENCH")
        session = ReadingSession(store, key, sorted({r["timepoint_date"] for r in rows}))
        for r in rows:
            if r["lesion_id"] not in {les["lesion_id"] for les in store.lesions(key)}:
                store.add_lesion(key, r["role"], r["organ"], r["is_nodal"] == "true",
                                 lesion_id=r["lesion_id"])
            sizes = {k: float(r[k]) for k in ("long_axis_mm", "short_axis_mm",
                                              "viable_long_axis_mm") if r[k]}
            store.set_measurement(key, r["lesion_id"], r["timepoint_date"], status=r["status"],
                                  **sizes)
        session.go_to(session.dates[1])
        edit, per_block = [], []
        for _block in range(args.blocks):  # blocks spread over time: this machine drifts
            total = []
            for i in range(args.runs):
                t0 = time.perf_counter()
                store.set_measurement(key, "T1", session.current, long_axis_mm=40.0 + (i % 5))
                t1 = time.perf_counter()
                session.refresh()
                total.append((time.perf_counter() - t0) * 1000)
                edit.append((t1 - t0) * 1000)
            per_block.append(round(statistics.median(total), 1))
            time.sleep(1.0)
        store.close()
    result = {"edits_per_block": args.runs, "blocks": args.blocks,
              "store_write_ms": round(statistics.median(edit), 2),
              "edit_to_responses_ms_median_per_block": per_block,
              "edit_to_responses_ms": round(statistics.median(per_block), 1), "target_ms": 50}
    print(json.dumps(result, indent=2))
    RESULTS.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
