"""Run every benchmark in turn (``make bench``); each writes its results/*.json."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ["bench_load.py", "bench_assess.py", "bench_burden.py", "bench_reading.py",
              "bench_research.py", "bench_measure_real.py"]

if __name__ == "__main__":
    for name in BENCHMARKS:
        print(f"== {name}", flush=True)
        subprocess.run([sys.executable, str(HERE / name)], check=True)
