"""Benchmark: reading the phantom's targets the way a reader would, through the Reading panel's
public API (issue 12), with click-to-measure and lesion propagation — and the same read by hand.

For every target at the baseline and both follow-ups (the follow-ups repositioned by about 2 cm
and 3-4 degrees: phantom version 2):

* **station**: at a follow-up, wait for the registration the panel computes in the background
  and stores with the read (``registration_s``; ``registration_ui_blocked_max_ms``: the longest
  gap of a 5 ms timer meanwhile), then *go to predicted*, then *Measure* (a key), one click (at
  the predicted position when it lies inside the lesion — the lesion's radius — else at the
  lesion, which the reader finds near it), *Accept* (a key): 3 interactions from arriving at a
  target to its long axis (short axis for a node) and viable diameter stored;
* **by hand**: choose the long-axis kind (a key) and drag the line, then the viable kind and drag
  again (a node: long and short) — 4 interactions, lines drawn exactly on the truth.

Reported (``benchmarks/results/reading_station.json``): ``targets``, ``interactions_per_target``
(median), ``auto_long_axis_error_mm`` and ``auto_viable_error_mm`` (max |accepted − truth|),
``propagation_error_mm`` (max distance predicted − true centre) beside the error without
propagation (the baseline's coordinates), ``first_slice_s`` (a 300-slice series opened in the
background to its displayed slice on screen), ``ui_blocked_max_ms`` (longest gap of a 5 ms timer
while that series loads), and the by-hand read's numbers.

Run: ``.venv/bin/python benchmarks/bench_reading_station.py [--quick]`` (re-runs itself under
Xvfb when there is no display).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gui import needs_xvfb, pump, under_xvfb  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
RESULTS = HERE / "results" / "reading_station.json"


def _truth(gt: dict, lesion_id: str, k: int) -> dict:
    return next(x for x in gt["lesions"] if x["lesion_id"] == lesion_id)["timepoints"][k]


def read_with_station(reading, gt: dict, targets: list[str]) -> dict:
    """Every target at every time point with Measure + click + Accept; at follow-ups from the
    predicted position."""
    panel, station = reading, reading.station
    errors_long, errors_viable, propagation, naive, interactions = [], [], [], [], []
    registering: list[dict] = []
    for k, tp in enumerate(gt["timepoints"]):
        panel.go_to(tp["date"])
        pump()
        if k > 0:  # the follow-up registers in the background: how long, and does the UI turn?
            registering.append(_registration(panel, tp["date"]))
        for lid in targets:
            truth = _truth(gt, lid, k)
            centre = np.asarray(truth["center_xyz_mm"], float)[::-1]
            if lid not in {les.lesion_id for les in panel.session.lesions()}:
                les = next(x for x in gt["lesions"] if x["lesion_id"] == lid)
                panel.add_lesion(les["role"], les["organ"], bool(les["is_nodal"]))
            panel.select_lesion(lid)
            click = centre
            if k > 0:
                predicted = panel.go_to_predicted()  # navigation: not counted
                before = np.asarray(_truth(gt, lid, 0)["center_xyz_mm"], float)[::-1]
                naive.append(float(np.linalg.norm(before - centre)))
                if predicted is not None:
                    error = float(np.linalg.norm(np.asarray(predicted) - centre))
                    propagation.append(error)
                    radius = 0.5 * float(truth.get("short_axis_mm") or truth["long_axis_mm"])
                    click = np.asarray(predicted) if error < 0.5 * radius else centre
            station.start_measure()          # 1: the Measure key
            station.propose_at(click)        # 2: the click
            stored = station.accept()        # 3: the Accept key
            interactions.append(3)
            m = panel.session.measurement(lid)
            if m is None or not stored:
                errors_long.append(float("inf"))
                continue
            main = m.short_axis_mm if truth.get("is_nodal") or lid.startswith("N") else m.long_axis_mm
            want = truth["short_axis_mm"] if lid.startswith("N") else truth["long_axis_mm"]
            errors_long.append(abs(float(main) - float(want)))
            if truth.get("viable_long_axis_mm") is not None and m.viable_long_axis_mm is not None:
                errors_viable.append(abs(m.viable_long_axis_mm - truth["viable_long_axis_mm"]))
    return {"targets": len(targets), "timepoints": len(gt["timepoints"]),
            "interactions_per_target": statistics.median(interactions),
            "auto_long_axis_error_mm": round(max(errors_long), 2),
            "auto_viable_error_mm": round(max(errors_viable), 2) if errors_viable else None,
            "propagation_error_mm": round(max(propagation), 2) if propagation else None,
            "error_without_propagation_mm": round(max(naive), 1) if naive else None,
            "registration_s": max((r["seconds"] for r in registering), default=None),
            "registration_ui_blocked_max_ms": max((r["ui_blocked_max_ms"] for r in registering
                                                   if r["ui_blocked_max_ms"] is not None),
                                                  default=None),
            "registration_thread": sorted({r["thread"] for r in registering})}


def _registration(panel, date: str) -> dict:
    """Wait, as the reader would, for the background registration of ``date``; the longest gap
    of a 5 ms timer meanwhile is how long the UI froze."""
    from qtpy.QtCore import QTimer

    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(5)
    start = time.perf_counter()
    running = date in panel.registrar.running
    while date in panel.registrar.running and time.perf_counter() - start < 120:
        pump(0.005)
    timer.stop()
    gaps = np.diff([start, *ticks]) * 1000.0 if len(ticks) > 1 else np.array([0.0])
    return {"seconds": round(panel.registrar.seconds.get(date, float("nan")), 2),
            "ui_blocked_max_ms": round(float(np.max(gaps)), 1) if running else None,
            "thread": panel.registrar.threads.get(date, "not run")}


def read_by_hand(reading, gt: dict, targets: list[str]) -> dict:
    """The same read with lines only, drawn on the truth (the demo's drawing path)."""
    from napari_response_tool._demo_read import draw

    interactions = []
    t0 = time.perf_counter()
    for k, tp in enumerate(gt["timepoints"]):
        reading.go_to(tp["date"])
        for lid in targets:
            truth = _truth(gt, lid, k)
            if lid not in {les.lesion_id for les in reading.session.lesions()}:
                les = next(x for x in gt["lesions"] if x["lesion_id"] == lid)
                reading.add_lesion(les["role"], les["organ"], bool(les["is_nodal"]))
            draw(reading, lid, "long", truth["long_axis_endpoints_xyz_mm"], "portal-venous")
            if lid.startswith("N"):
                draw(reading, lid, "short", truth["short_axis_endpoints_xyz_mm"], "portal-venous")
            elif truth.get("viable_endpoints_xyz_mm"):
                draw(reading, lid, "viable", truth["viable_endpoints_xyz_mm"], "arterial")
            interactions.append(4)  # kind key + drag, twice
    return {"interactions_per_target": statistics.median(interactions),
            "finding_each_target": "by hand: scroll and pan to it (the baseline's coordinates "
                                   "are off by the error without propagation)",
            "seconds_of_api_calls": round(time.perf_counter() - t0, 2)}


def loading(viewer, patient_panel, n_slices: int) -> dict:
    """A series of ``n_slices`` opened in the background: first slice on screen, UI stalls."""
    from qtpy.QtCore import QTimer

    from response_tool.io import scan_dicom

    sys.path.insert(0, str(HERE))
    from bench_load import make_series

    series = scan_dicom(make_series(n_slices)).series[0]
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(5)
    finished = []
    start = time.perf_counter()
    patient_panel.load_series_async([series], done=lambda: finished.append(time.perf_counter()))
    while not finished and time.perf_counter() - start < 120:
        pump(0.005)
    timer.stop()
    gaps = np.diff([start, *ticks]) * 1000.0 if ticks else np.array([float("nan")])
    return {"series_slices": n_slices,
            "first_slice_s": round(patient_panel.load_timing.get("first_slice_s", float("nan")), 3),
            "full_s": round((finished[0] - start) if finished else float("nan"), 3),
            "ui_blocked_max_ms": round(float(np.max(gaps)), 1)}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the 64-slice loading case only")
    args = parser.parse_args(argv)
    if needs_xvfb():
        return under_xvfb(__file__, argv)
    import napari
    from napari_response_tool._demo_session import hide_layer_docks, open_demo_session
    from napari_response_tool.demo import ensure_phantom

    phantom = ensure_phantom(DATA / "phantom_v2", 0)
    gt = json.loads((phantom / "ground_truth.json").read_text())
    targets = [x["lesion_id"] for x in gt["lesions"] if x["role"] == "target"]
    results: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                 "platform": platform.platform()}}
    for mode in ("station", "by_hand"):
        viewer = napari.Viewer(show=False)
        session = open_demo_session(viewer, phantom)
        _, reading = viewer.window.add_plugin_dock_widget("response-tool", "Reading", tabify=True)
        store = DATA / f"reading_station_{mode}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{store}{suffix}").unlink(missing_ok=True)
        session.panel.side_by_side.setChecked(False)
        hide_layer_docks(viewer)
        reading.start(phantom.joinpath(gt["patient_dir"]).name, session.panel.studies(), store,
                      reader_id="BENCH", load_study=session.panel.load_study)
        t0 = time.perf_counter()
        out = (read_with_station if mode == "station" else read_by_hand)(reading, gt, targets)
        out["seconds"] = round(time.perf_counter() - t0, 1)
        results[mode] = out
        if mode == "station":
            results["loading"] = loading(viewer, session.panel, 64 if args.quick else 300)
        reading.session.store.close()
        viewer.close()
    station = results["station"]
    results["targets_met"] = {
        "interactions_per_target <= 3": station["interactions_per_target"] <= 3,
        "auto_long_axis_error_mm <= 2": station["auto_long_axis_error_mm"] <= 2.0,
        "auto_viable_error_mm <= 3": (station["auto_viable_error_mm"] or 0) <= 3.0,
        "propagation_error_mm <= 10": (station["propagation_error_mm"] or 0) <= 10.0,
        "first_slice_s <= 0.3": results["loading"]["first_slice_s"] <= 0.3,
        "ui_blocked_max_ms <= 100": results["loading"]["ui_blocked_max_ms"] <= 100.0,
        "registration_ui_blocked_max_ms <= 100":
            (station["registration_ui_blocked_max_ms"] or 0) <= 100.0,
    }
    print(json.dumps(results, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
