"""Benchmark: the Reading panel's live update after one edit, on the phantom's full read
(6 lesions × 3 time points, both criteria).

Two measurements, side by side in one run:

* *session* — one edit through the reading session (``record_line``: store write + engine on both
  criteria + warnings), without Qt;
* *panel* — what the reader sees: an endpoint of T1's long-axis line moved on the napari shapes
  layer → length recomputed in mm → store → engine → lesion and response tables repainted
  (``QApplication.processEvents``), in a real viewer under a virtual X server.

Run: ``.venv/bin/python benchmarks/bench_reading.py [--runs 30] [--blocks 5]`` (generates the
phantom into benchmarks/_data/phantom if needed; re-runs itself under ``xvfb-run`` when there is no
display). Writes results/reading.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "plugins"))

from response_tool.reading.session import LineRecord, ReadingSession  # noqa: E402
from response_tool.reading.store import ReadStore  # noqa: E402

RESULTS = HERE / "results" / "reading.json"


def _phantom() -> Path:
    phantom = HERE / "_data" / "phantom"
    if not (phantom / "ground_truth.json").is_file():
        from response_tool.phantom import generate_phantom

        generate_phantom(phantom, seed=0, force=True)
    return phantom


def panel_edits(phantom: Path, runs: int, blocks: int) -> tuple[list[float], list[float]]:
    """Per block, the median ms from a line end moved on the canvas to the panel's tables set
    (length, store, engine, warnings, tables), and the median ms of the repaint that follows."""
    import napari
    import numpy as np
    from napari_response_tool._demo_session import open_demo_session, open_reading_demo
    from qtpy.QtWidgets import QApplication

    warnings.filterwarnings("ignore", "Private attribute access", FutureWarning)
    viewer = napari.Viewer(show=True)
    from napari.layers.base._base_constants import ActionType

    per_block, paint_block = [], []
    with tempfile.TemporaryDirectory() as tmp:
        demo = open_reading_demo(open_demo_session(viewer, phantom), Path(tmp) / "reads.sqlite")
        panel = demo.panel
        layer = panel._shapes(panel.session.current)
        i = next(j for j in range(len(layer.data)) if layer.features.loc[j, "lesion_id"] == "T1"
                 and layer.features.loc[j, "kind"] == "long")
        start = np.asarray(layer.data[i]).copy()
        QApplication.processEvents()
        for _block in range(blocks):
            times, paint = [], []
            for k in range(runs):
                moved = start.copy()
                moved[1, 2] += 0.5 * (1 + k % 5)  # the far end, along x, in mm
                t0 = time.perf_counter()
                # what napari's vertex-move tool does when the mouse is released
                layer._data_view.edit(i, moved)
                layer.events.data(value=layer.data, action=ActionType.CHANGED,
                                  data_indices=(i,), vertex_indices=((1,),))
                layer.refresh()
                t1 = time.perf_counter()
                QApplication.processEvents()  # tables and canvas repainted
                times.append((t1 - t0) * 1000)
                paint.append((time.perf_counter() - t1) * 1000)
            per_block.append(round(statistics.median(times), 1))
            paint_block.append(round(statistics.median(paint), 1))
            time.sleep(1.0)
        panel.session.store.close()
    viewer.close()
    return per_block, paint_block


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="edits per block")
    parser.add_argument("--blocks", type=int, default=5)
    args = parser.parse_args()
    if not os.environ.get("DISPLAY") and shutil.which("xvfb-run"):
        return subprocess.call(["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24",
                                sys.executable, *sys.argv])
    phantom = _phantom()
    rows = list(csv.DictReader((phantom / "ground_truth_measurements.csv").open()))
    with tempfile.TemporaryDirectory() as tmp:
        store = ReadStore(Path(tmp) / "reads.sqlite")
        key = store.open_read("RT-PHANTOM-001", "BENCH")
        for r in rows:
            if r["lesion_id"] not in {les.lesion_id for les in store.lesions(key)}:
                store.add_lesion(key, r["role"], r["organ"], r["is_nodal"] == "true",
                                 lesion_id=r["lesion_id"])
            sizes = {k: float(r[k]) for k in ("long_axis_mm", "short_axis_mm",
                                              "viable_long_axis_mm") if r[k]}
            store.set_measurement(key, r["lesion_id"], r["timepoint_date"], status=r["status"],
                                  **sizes)
        session = ReadingSession(store, key, sorted({r["timepoint_date"] for r in rows}))
        session.go_to(session.dates[1])
        statements: list[str] = []
        store.trace(statements.append)
        session.record_line("T1", "long", LineRecord([[40.0, 100.0, 50.0], [40.0, 100.0, 90.0]]))
        store.trace(None)
        per_block = []
        for _block in range(args.blocks):  # blocks spread over time: this machine drifts
            total = []
            for i in range(args.runs):
                t0 = time.perf_counter()
                session.record_line("T1", "long", LineRecord([[40.0, 100.0, 50.0],
                                                              [40.0, 100.0, 90.0 + i % 5]]))
                total.append((time.perf_counter() - t0) * 1000)
            per_block.append(round(statistics.median(total), 1))
            time.sleep(1.0)
        store.close()
    panel, paint = panel_edits(phantom, args.runs, args.blocks)
    result = {"edits_per_block": args.runs, "blocks": args.blocks,
              "sql_statements_per_edit": len(statements),
              "edit_to_responses_ms_median_per_block": per_block,
              "edit_to_responses_ms": round(statistics.median(per_block), 1),
              "panel_line_moved_to_tables_set_ms_median_per_block": panel,
              "panel_line_moved_to_tables_set_ms": round(statistics.median(panel), 1),
              "then_repaint_ms_median_per_block": paint,
              "then_repaint_ms": round(statistics.median(paint), 1),
              "target_ms": 50}
    print(json.dumps(result, indent=2))
    RESULTS.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
