"""``make demo``: open the liver phantom's baseline study in napari with the plugin docked.

With a display, the viewer stays open. Without one (a server, CI), the same session runs under a
virtual X server (``xvfb-run``), writes ``screenshot.png`` and ``summary.txt`` to the output folder
and exits 0.

Usage: ``python -m napari_response_tool.demo [--out out/demo] [--phantom out/phantom] [--seed 0]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

_HEADLESS_ENV = "RESPONSE_TOOL_DEMO_HEADLESS"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="napari_response_tool.demo", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("out/demo"), help="output folder")
    parser.add_argument("--phantom", type=Path, default=Path("out/phantom"),
                        help="phantom folder (generated if absent)")
    parser.add_argument("--seed", type=int, default=0, help="phantom seed")
    parser.add_argument("--headless", action="store_true",
                        help="write screenshot + summary and exit, even with a display")
    return parser.parse_args(argv)


def _reexec_under_xvfb(argv: list[str]) -> int:
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        print("demo: no display and no xvfb-run; install Debian's xvfb (make setup does).",
              file=sys.stderr)
        return 2
    env = {**os.environ, _HEADLESS_ENV: "1"}
    cmd = [xvfb, "-a", "-s", "-screen 0 1600x1000x24", sys.executable, "-m",
           "napari_response_tool.demo", *argv, "--headless"]
    return subprocess.call(cmd, env=env)


def ensure_phantom(folder: Path, seed: int) -> Path:
    """Generate the phantom into ``folder`` unless a complete one is there. Written as
    ``response-tool phantom`` writes it: into a new or empty folder (or over a phantom written
    before), built apart and put in place at the end — never over a folder of other files."""
    from response_tool.commands.phantom import write_phantom
    from response_tool.phantom import is_current

    if is_current(folder):
        print(f"demo: using the phantom in {folder}")
        return folder
    if (folder / "ground_truth.json").is_file():
        print(f"demo: the phantom in {folder} is from an older response-tool; writing it again")
    print(f"demo: generating the liver phantom (seed {seed}) into {folder} …", flush=True)
    # the demo's folders are its own (out/ on a fresh clone): made here, as run_session makes
    # --out; the phantom command itself still writes only into a folder that exists
    folder.parent.mkdir(parents=True, exist_ok=True)
    write_phantom(folder, seed=seed, force=True, progress=lambda msg: print(f"  {msg}", flush=True))
    return folder


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parse(argv)
    headless = args.headless or os.environ.get(_HEADLESS_ENV) == "1"
    no_display = not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")
    if no_display and os.environ.get(_HEADLESS_ENV) != "1":
        print("demo: no display; running the session under a virtual X server.", flush=True)
        return _reexec_under_xvfb([a for a in argv if a != "--headless"])

    from response_tool.domain.errors import ResponseToolError

    try:
        phantom = ensure_phantom(args.phantom, args.seed)
    except ResponseToolError as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        return 2
    try:
        return run_session(phantom, args.out, headless=headless)
    except Exception:  # an internal error: a clear line for the user, the details in a log
        import traceback

        args.out.mkdir(parents=True, exist_ok=True)
        log = args.out / "error.log"
        log.write_text(traceback.format_exc(), encoding="utf-8")
        print(f"demo: internal error; details in {log} — please report it", file=sys.stderr)
        return 1


def run_session(phantom: Path, out: Path, *, headless: bool) -> int:
    import napari

    from ._demo_session import open_demo_session, open_reading_demo, phantom_burden

    # shown also when headless (on the virtual display): napari sizes the grid's panes only in a
    # shown window, and the prior | current panes need their real size
    viewer = napari.Viewer(show=True, title="response-tool — liver phantom")
    session = open_demo_session(viewer, phantom)
    out.mkdir(parents=True, exist_ok=True)
    if not headless:
        reading = open_reading_demo(session, out / "reads.sqlite", upto=2)
        reading.panel.go_to(reading.panel.session.dates[1])
        reading.panel.select_lesion("T1")
        napari.run()
        return 0
    from ._screenshots import save_screenshot

    shots = [save_screenshot(viewer, out / "screenshot.png")]  # the two phases side by side
    reading = open_reading_demo(session, out / "reads.sqlite", upto=2)  # the whole read
    panel = reading.panel
    show_new_lesion(panel)  # follow-up 2 is PD because of it: on the canvas, in the table
    shots.append(save_screenshot(viewer, out / "reading_followup2.png"))
    panel.go_to(panel.session.baseline)
    panel.select_lesion("N1")
    panel.select_lesion("T1")  # re-selecting jumps to T1 at the baseline
    shots.append(save_screenshot(viewer, out / "reading_baseline.png"))
    panel.go_to(panel.session.dates[1])
    panel.select_lesion("N1")
    panel.select_lesion("T1")
    shots.append(save_screenshot(viewer, out / "reading_followup1.png"))
    import pandas as pd

    htb = pd.DataFrame(phantom_burden(session, panel.session.dates))
    htb.to_csv(out / "burden.csv", index=False)
    exported = panel.export(out, burden=htb)
    burden_lines = "".join(
        f"  {r.timepoint_date}: HTB {r.htb_pct:.2f} % ({r.htb_category}, {r.htb_method}; liver "
        f"{r.liver_volume_ml:.0f} mL, tumour {r.tumor_volume_ml:.1f} mL)\n" for r in htb.itertuples())
    summary = (session.summary_text() + "\n" + reading.summary_text()
               + "hepatic tumour burden (liu2022):\n" + burden_lines)
    panel.session.store.close()  # checkpointed: reads.sqlite alone holds the whole read
    viewer.close()
    reports = write_reports(out, exported)
    (out / "summary.txt").write_text(summary, encoding="utf-8")
    (out / "session.json").write_text(json.dumps(session.as_dict(), indent=2), encoding="utf-8")
    print(summary)
    names = ", ".join(str(p) for p in [*shots, *exported.values(), out / "burden.csv",
                                       *reports, out / "summary.txt"])
    print(f"demo: wrote {names}")
    return 0


def show_new_lesion(panel: object) -> None:
    """Select the first new lesion of the current time point (the canvas jumps to it)."""
    session = panel.session  # type: ignore[attr-defined]
    new = [r.lesion_id for r in session.rows() if r.role == "new"]
    if new:
        panel.select_lesion(new[0])  # type: ignore[attr-defined]
        panel.lesion_table.scrollToItem(panel.lesion_table.selectedItems()[0])  # type: ignore[attr-defined]


def write_reports(out: Path, exported: dict[str, Path]) -> list[Path]:
    """The research outputs: a report of the phantom read, and of a synthetic 300-patient,
    3-reader cohort (response_tool.phantom.cohort) with its agreement statistics."""
    from response_tool.agreement import agreement, format_text
    from response_tool.assessment import assess
    from response_tool.domain.vocabulary import Criterion
    from response_tool.report import build_report

    written = [build_report(exported["responses"], out / "report", bor=exported["bor"]).index]
    from response_tool.phantom.cohort import generate_cohort

    print("demo: synthetic cohort (300 patients, 3 readers): assess, agreement, report …",
          flush=True)
    folder = out / "cohort"
    paths = generate_cohort(folder, n_patients=300, n_readers=3, seed=0)
    result = assess(paths["measurements"], burden=paths["burden"])
    result.to_csv(folder / "responses.csv", folder / "bor.csv")
    text = format_text(agreement(folder / "responses.csv", Criterion.MRECIST, bor=folder / "bor.csv",
                                 n_boot=500, seed=0))
    (folder / "agreement_mrecist_bor.txt").write_text(text, encoding="utf-8")
    report = build_report(folder / "responses.csv", folder / "report", bor=folder / "bor.csv",
                          clinical=paths["clinical"])
    return [*written, folder / "agreement_mrecist_bor.txt", report.index]


if __name__ == "__main__":
    sys.exit(main())
