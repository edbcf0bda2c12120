"""Benchmark: volumetric HTB from 512 × 512 × 600 masks vs a bare ``np.count_nonzero`` over both
masks (the floor), and the semi-quantitative update (5 outlined slices + 2000-sample bootstrap).

Run: ``.venv/bin/python benchmarks/bench_burden.py [--runs 7]``. Methods are interleaved in each
run; medians and ratios are reported and written to results/burden.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from response_tool import burden  # noqa: E402

RESULTS = HERE / "results" / "burden.json"
SHAPE = (600, 512, 512)
SPACING = (1.0, 0.78, 0.78)


def masks() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    z, y, x = np.ogrid[:SHAPE[0], :SHAPE[1], :SHAPE[2]]
    liver = ((z - 300) / 250.0) ** 2 + ((y - 250) / 180.0) ** 2 + ((x - 300) / 200.0) ** 2 <= 1
    tumour = np.zeros(SHAPE, bool)
    rng = np.random.default_rng(0)
    for _ in range(12):
        c = rng.integers((150, 150, 200), (450, 350, 400))
        r = rng.integers(10, 40)
        sl = tuple(slice(max(0, ci - r), ci + r) for ci in c)
        zz, yy, xx = np.ogrid[sl]
        tumour[sl] |= (zz - c[0]) ** 2 + (yy - c[1]) ** 2 + (xx - c[2]) ** 2 <= r * r
    tumour &= liver
    labels = np.where(tumour, 2, np.where(liver, 1, 0)).astype(np.uint8)
    return liver, tumour, labels


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    liver, tumour, labels = masks()
    methods = {
        "floor: count_nonzero(liver) + count_nonzero(tumour)":
            lambda: np.count_nonzero(liver) + np.count_nonzero(tumour),
        "volumetric(liver, tumour) — boolean masks": lambda: burden.volumetric(liver, tumour, SPACING),
        "volumetric_from_labels(labels) — one label map":
            lambda: burden.volumetric_from_labels(labels, [1], [2], SPACING),
    }
    times: dict[str, list[float]] = {k: [] for k in methods}
    for _ in range(args.runs):
        for name, fn in methods.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    floor = statistics.median(times[next(iter(methods))])
    rows = [{"method": k, "median_s": round(statistics.median(v), 4),
             "x_floor": round(statistics.median(v) / floor, 2)} for k, v in times.items()]
    # the semi-quantitative update: what the panel recomputes after an outline changes
    slices = burden.propose_slices(liver, 5)
    pixel = SPACING[1] * SPACING[2]
    liver_a = [float(np.count_nonzero(liver[z] | tumour[z])) * pixel for z in slices]
    tumour_a = [float(np.count_nonzero(tumour[z])) * pixel for z in slices]
    update, one_slice = [], []
    for _ in range(max(args.runs, 20)):
        t0 = time.perf_counter()
        liver_a[2] = float(np.count_nonzero(liver[slices[2]] | tumour[slices[2]])) * pixel
        tumour_a[2] = float(np.count_nonzero(tumour[slices[2]])) * pixel
        one_slice.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        burden.semi_quantitative(liver_a, tumour_a, "liu2022", slices=slices)
        update.append(time.perf_counter() - t0)
    # what the Burden panel does after a paint stroke: areas on the proposed slices of the
    # outline label array, then the estimate with its bootstrap (Qt table refresh excluded)
    outlines = np.where(tumour, 2, np.where(liver, 1, 0)).astype(np.uint8)
    panel = []
    for _ in range(max(args.runs, 20)):
        t0 = time.perf_counter()
        la, ta = burden.slice_areas_mm2(outlines, slices, pixel)
        burden.semi_quantitative(la, ta, "liu2022", slices=slices)
        panel.append(time.perf_counter() - t0)
    est = burden.volumetric(liver, tumour, SPACING)
    result = {"shape_zyx": SHAPE, "runs": args.runs, "volumetric": rows,
              "htb_pct": round(est.htb_pct, 3),
              "semi_quantitative_update_ms": {
                  "recount_one_slice": round(1000 * statistics.median(one_slice), 2),
                  "estimate_with_bootstrap_2000": round(1000 * statistics.median(update), 2),
                  "panel_update_areas_plus_estimate": round(1000 * statistics.median(panel), 2)}}
    print(json.dumps(result, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
