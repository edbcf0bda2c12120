"""Benchmark: a complete read of the phantom driven with real Qt events, from an empty viewer to a
reopened read, and how long the window is frozen by each of the reader's actions (issue 23).

The read, as a reader does it (Xvfb, a 1600 x 1000 window):

* an empty viewer; the Patient panel opens the phantom's folder (the folder dialog answered);
* the Reading panel's *Open the read* button (a real click): ``open_read``; the studies then load
  in the background: ``load_study`` is the longest freeze while they come in;
* at the baseline, per target: *Add lesion* (a click), the click-to-measure seed at the target
  (the click's position is the lesion's centre; its proposal is click-to-measure's time, not
  the window's), **Shift+Enter** to accept: ``accept``;
* **Shift+Z** / **Shift+Y** (undo / redo of the last accept): ``undo``, ``redo``;
* **Alt+Right** to each follow-up: ``timepoint_switch``; there, per target, **Shift+G** (go to
  the predicted position: ``go_to_predicted``), **Shift+M** (click-to-measure at that position,
  no click) and **Shift+Enter**: the interactions per follow-up target;
* *Export DICOM SR / SEG* (a click, the folder dialog answered): ``export_dicom``;
* the viewer closed and the read opened again in a new one (*Open the read*): where it starts.

A freeze is measured as the longest gap of a 5 ms Qt timer from the moment the event is posted
until the UI has been idle for a while (the handler, the repaint and any follow-up work on the UI
thread; work in a thread does not count). Each action's figure is the longest over its
repetitions (``ui_stall_ms``), with the median beside it.

The same script runs the revision before this issue's work (``--before REV``, default 2db6679,
in a git worktree under benchmarks/_data) in the same run, so the two are side by side.

Run: ``.venv/bin/python benchmarks/bench_reading_session.py [--quick] [--no-before]``
(re-runs itself under Xvfb when there is no display; ``--quick``: one follow-up, two targets,
well under 5 minutes).
Writes ``benchmarks/results/reading_session.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gui import needs_xvfb, pump, under_xvfb  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
RESULTS = HERE / "results" / "reading_session.json"
BEFORE = "2db6679"
TARGET_MS = 100.0
#: the UI counts as settled after an action when this long passed with no freeze
SETTLE_S = 0.6


class Frozen:
    """The longest time the UI thread did not turn while ``action`` ran and settled."""

    def __init__(self) -> None:
        self.stalls: dict[str, list[float]] = {}
        #: the time inside the event's handler alone (the issue's measure), without the repaint
        self.handlers: dict[str, list[float]] = {}

    def measure(self, name: str, action, settle_s: float = SETTLE_S, until=None) -> float:
        from qtpy.QtCore import Qt, QTimer

        ticks: list[float] = []
        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
        pump(0.05)
        timer.start(5)
        start = time.perf_counter()
        def run() -> None:
            t = time.perf_counter()
            action()
            self.handlers.setdefault(name, []).append((time.perf_counter() - t) * 1000.0)

        QTimer.singleShot(0, run)  # the event is handled inside Qt's loop, as a real one is
        deadline = start + 120.0
        while time.perf_counter() < deadline:
            pump(0.01)
            done = until is None or until()
            if done and time.perf_counter() - (ticks[-1] if ticks else start) < 0.05 \
                    and time.perf_counter() - start > settle_s:
                break
        timer.stop()
        gaps = np.diff([start, *ticks]) * 1000.0 if ticks else np.array([float("nan")])
        stall = float(np.max(gaps))
        self.stalls.setdefault(name, []).append(stall)
        return stall

    def summary(self) -> dict[str, dict[str, float]]:
        return {k: {"max": round(max(v), 1), "median": round(statistics.median(v), 1),
                    "handler_max": round(max(self.handlers.get(k, [float("nan")])), 1),
                    "handler_median": round(statistics.median(self.handlers.get(
                        k, [float("nan")])), 1),
                    "n": len(v)} for k, v in self.stalls.items()}


def _key(viewer, key: str) -> None:
    """A real key press on the canvas ("Shift-Z", "Alt-Right", "Shift-Enter")."""
    from qtpy.QtCore import Qt
    from qtpy.QtTest import QTest

    *mods, name = key.split("-")
    modifier = Qt.KeyboardModifier.NoModifier
    for m in mods:
        modifier |= {"Shift": Qt.KeyboardModifier.ShiftModifier,
                     "Alt": Qt.KeyboardModifier.AltModifier,
                     "Control": Qt.KeyboardModifier.ControlModifier}[m]
    code = {"Enter": Qt.Key.Key_Return, "Right": Qt.Key.Key_Right,
            "Left": Qt.Key.Key_Left}.get(name) or getattr(Qt.Key, f"Key_{name}")
    QTest.keyClick(viewer.window._qt_viewer.canvas.native, code, modifier)


def _click(button) -> None:
    from qtpy.QtCore import Qt
    from qtpy.QtTest import QTest

    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def _answer_folder_dialogs(folder: Path):
    """Every "choose a folder" dialog answers ``folder`` (the reader's choice in the dialog)."""
    from qtpy.QtWidgets import QFileDialog

    QFileDialog.getExistingDirectory = staticmethod(lambda *a, **k: str(folder))


def _truth(gt: dict, lesion_id: str, k: int) -> dict:
    return next(x for x in gt["lesions"] if x["lesion_id"] == lesion_id)["timepoints"][k]


def _layers_loaded(viewer, context) -> bool:
    return not context.loading


def read(phantom: Path, out: Path, quick: bool) -> dict:
    """The whole read (see the module docstring); returns the figures."""
    import napari

    gt = json.loads((phantom / "ground_truth.json").read_text())
    targets = [x["lesion_id"] for x in gt["lesions"] if x["role"] == "target"]
    dates = [tp["date"] for tp in gt["timepoints"]]
    if quick:
        targets, dates = targets[:2], dates[:2]
    store = out / "reads.sqlite"
    os.environ["RESPONSE_TOOL_STORE"] = str(store)
    frozen = Frozen()
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1600, 1000)
    _, patient = viewer.window.add_plugin_dock_widget("response-tool", "Patient")
    _, reading = viewer.window.add_plugin_dock_widget("response-tool", "Reading", tabify=True)
    pump(0.3)
    patient.open_folder(phantom / gt["patient_dir"])  # the folder dialog's answer
    pump(0.2)
    context = reading.context
    frozen.measure("open_read", lambda: _click(reading.open_button))
    frozen.measure("load_study", lambda: None, until=lambda: _layers_loaded(viewer, context))
    interactions: list[int] = []
    for k, date in enumerate(dates):
        if k:
            frozen.measure("timepoint_switch", lambda: _key(viewer, "Alt-Right"),
                           until=lambda: _layers_loaded(viewer, context))
            assert reading.session.current == date, (reading.session.current, date)
            # the follow-up registers in the background: a reader looks around meanwhile
            deadline = time.perf_counter() + 120
            while date in reading.registrar.running and time.perf_counter() < deadline:
                pump(0.05)
        for lid in targets:
            truth = _truth(gt, lid, k)
            if k == 0:
                les = next(x for x in gt["lesions"] if x["lesion_id"] == lid)
                reading.role_box.setCurrentText(les["role"])
                reading.organ_box.setCurrentText(les["organ"])
                reading.nodal_box.setChecked(bool(les["is_nodal"]))
                _click(reading.add_button)
                pump(0.05)
                centre = np.asarray(truth["center_xyz_mm"], float)[::-1]
                viewer.dims.set_point(0, float(centre[0]))  # the reader scrolls to it
                reading.station.propose_at(centre)          # the click inside it
                n = 3
            else:
                reading.select_lesion(lid)
                frozen.measure("go_to_predicted", lambda: _key(viewer, "Shift-G"))
                _key(viewer, "Shift-M")  # proposes at the predicted position: no click
                pump(0.05)
                n = 3
            frozen.measure("accept", lambda: _key(viewer, "Shift-Enter"))
            if reading.session.measurement(lid) is None:
                print(f"  {lid} at {date}: nothing accepted", file=sys.stderr)
            if k:
                interactions.append(n)
        for _ in range(2):  # the reader takes the last accept back and forth
            frozen.measure("undo", lambda: _key(viewer, "Shift-Z"))
            frozen.measure("redo", lambda: _key(viewer, "Shift-Y"))
    for _ in range(3):  # what one repaint of the two panes costs here, for reference
        frozen.measure("repaint_only", viewer.window._qt_viewer.canvas.native.update)
    export = out / "dicom"
    export.mkdir(parents=True, exist_ok=True)
    _answer_folder_dialogs(export)
    files_before = set(export.iterdir())
    exports = getattr(reading, "exports", None)  # the background export (None before it)
    frozen.measure("export_dicom", lambda: _click(reading.dicom_export_button),
                   until=lambda: set(export.iterdir()) != files_before
                   and getattr(exports, "worker", None) is None)
    where = (reading.session.current, reading.selected_lesion())
    layers_in_list = len(viewer.layers)
    step = viewer.dims.range[0].step
    images = context.images(reading.session.current)
    spacing = min(float(x.scale[0]) for x in images) if images else float("nan")
    viewer.close()
    pump(0.3)
    # reopened: where does the read start?
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1600, 1000)
    _, patient = viewer.window.add_plugin_dock_widget("response-tool", "Patient")
    _, reading = viewer.window.add_plugin_dock_widget("response-tool", "Reading", tabify=True)
    patient.open_folder(phantom / gt["patient_dir"])
    pump(0.2)
    frozen.measure("open_read", lambda: _click(reading.open_button),
                   until=lambda: _layers_loaded(viewer, reading.context))
    reopened = (reading.session.current, reading.selected_lesion())
    viewer.close()
    pump(0.3)
    return {"ui_stall_ms": {k: v["max"] for k, v in frozen.summary().items()
                            if k != "repaint_only"},
            "handler_ms": {k: v["handler_max"] for k, v in frozen.summary().items()
                           if k != "repaint_only"},
            "repaint_only_ms": frozen.summary()["repaint_only"]["median"],
            "ui_stall": frozen.summary(),
            "interactions_per_followup_target": statistics.median(interactions)
            if interactions else None,
            "layers_in_list": layers_in_list, "slider_step_mm": round(float(step), 3),
            "slice_spacing_mm": round(spacing, 3),
            "stopped_at": list(where), "reopened_at": list(reopened),
            "targets": len(targets), "timepoints": len(dates)}


def _run(root: Path | None, quick: bool) -> dict:
    """This script in a child process (on the code at ``root``; None: this checkout)."""
    env = dict(os.environ)
    if root is not None:
        env["PYTHONPATH"] = f"{root}{os.pathsep}{root / 'plugins'}"
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        cmd = [sys.executable, __file__, "--child", str(result)] + (["--quick"] if quick else [])
        rc = subprocess.call(cmd, env=env)
        if rc != 0 or not result.is_file():
            return {"error": f"the read stopped (exit {rc})"}
        return json.loads(result.read_text())


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="one follow-up and two targets (well under 5 minutes)")
    parser.add_argument("--before", default=BEFORE, help="the revision to compare with")
    parser.add_argument("--no-before", action="store_true", help="this checkout only")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if needs_xvfb():
        return under_xvfb(__file__, argv)
    if args.child is not None:
        from napari_response_tool.demo import ensure_phantom

        phantom = ensure_phantom(DATA / "phantom_v2", 0)
        with tempfile.TemporaryDirectory() as tmp:
            out = read(phantom, Path(tmp), args.quick)
        args.child.write_text(json.dumps(out))
        return 0
    t0 = time.perf_counter()
    results: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                 "platform": platform.platform(),
                                 "load_average": list(os.getloadavg())},
                     "quick": args.quick, "target_ms": TARGET_MS}
    results["after"] = _run(None, args.quick)
    if not args.no_before:
        sys.path.insert(0, str(HERE))
        from _worktrees import worktree

        results["before"] = {"revision": args.before,
                             **_run(worktree(args.before), args.quick)}
    after = results["after"]
    if "ui_stall_ms" in after:
        results["targets_met"] = {
            **{f"{k} <= {TARGET_MS:.0f} ms": v <= TARGET_MS
               for k, v in after["ui_stall_ms"].items()},
            "layers_in_list <= 8": after["layers_in_list"] <= 8,
            "slider_step_mm == slice spacing": abs(after["slider_step_mm"]
                                                   - after["slice_spacing_mm"]) < 1e-3,
        }
        if "ui_stall_ms" in results.get("before", {}):
            before = results["before"]["ui_stall_ms"]
            results["ratio_before_over_after"] = {
                k: round(before[k] / v, 1) for k, v in after["ui_stall_ms"].items()
                if k in before and v > 0}
    results["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(results, indent=2))
    if not args.quick:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2))
        print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
