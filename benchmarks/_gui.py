"""What the GUI benchmarks share: running under Xvfb when there is no display, and turning Qt's
event loop for a while (bench_reading_station.py, bench_reading_session.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

#: set in the child process that runs under Xvfb (so it does not start Xvfb again)
XVFB_ENV = "RESPONSE_TOOL_BENCH_XVFB"


def needs_xvfb() -> bool:
    """No display here and not already the child started under Xvfb."""
    return not os.environ.get("DISPLAY") and os.environ.get(XVFB_ENV) != "1"


def under_xvfb(script: str, argv: list[str]) -> int:
    """Run ``script`` with ``argv`` again under xvfb-run, a 1600 x 1000 screen; its exit code."""
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        print(f"{os.path.basename(script)}: no display and no xvfb-run (apt-get install xvfb)",
              file=sys.stderr)
        return 2
    env = {**os.environ, XVFB_ENV: "1"}
    return subprocess.call([xvfb, "-a", "-s", "-screen 0 1600x1000x24", sys.executable,
                            script, *argv], env=env)


def pump(seconds: float = 0.0) -> None:
    """Process Qt's events for ``seconds`` (at least once)."""
    from qtpy.QtWidgets import QApplication

    end = time.perf_counter() + seconds
    QApplication.processEvents()
    while time.perf_counter() < end:
        QApplication.processEvents()
        time.sleep(0.002)
