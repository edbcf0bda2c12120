"""Benchmark: ``response-tool batch`` on a Dask LocalCluster against a plain loop (issue 17).

A manifest of generated studies (NIfTI CT-like images 64 × 256 × 256 with a label map: liver
and 1-3 tumours, HTB 2-40 %) through volumetric ``burden``: a plain in-process loop over
:func:`response_tool.commands.batch.run_item`, then ``batch`` with 1 and 2 workers (cluster
start-up included, as a user pays it), side by side, each ``--runs`` times; the burden tables
must be identical. Results: ``benchmarks/results/batch.json``.

Run: ``.venv/bin/python benchmarks/bench_batch.py [--studies 50] [--runs 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data" / "batch"
RESULTS = HERE / "results" / "batch.json"


def make_studies(n: int) -> Path:
    """``n`` NIfTI studies with label maps and their manifest (once; reused)."""
    import pandas as pd
    import SimpleITK as sitk

    manifest = DATA / f"manifest_{n}.csv"
    if manifest.is_file():
        return manifest
    DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    z, y, x = np.mgrid[0:64, 0:256, 0:256].astype(np.float32)
    rows = []
    for i in range(n):
        liver = ((x - 110) / 70) ** 2 + ((y - 120) / 60) ** 2 + ((z - 32) / 26) ** 2 < 1
        labels = liver.astype(np.uint8)
        for _ in range(int(rng.integers(1, 4))):
            cx, cy, cz = rng.normal(110, 20), rng.normal(120, 15), rng.normal(32, 6)
            r = rng.uniform(6, 22)
            tumour = ((x - cx) ** 2 + (y - cy) ** 2 + ((z - cz) * 2) ** 2 < r * r) & liver
            labels[tumour] = 2
        hu = np.where(labels == 1, 110, np.where(labels == 2, 60, -50)).astype(np.int16)
        hu = (hu + rng.normal(0, 10, hu.shape)).astype(np.int16)
        for array, name in ((hu, f"img_{i:03d}.nii.gz"), (labels, f"lab_{i:03d}.nii.gz")):
            image = sitk.GetImageFromArray(array)
            image.SetSpacing((1.5, 1.5, 3.0))
            sitk.WriteImage(image, str(DATA / name), useCompression=True)
        rows.append({"id": f"study-{i:03d}", "command": "burden", "path": str(DATA / f"img_{i:03d}.nii.gz"),
                     "liver_mask": str(DATA / f"lab_{i:03d}.nii.gz"), "liver_label": "1;2",
                     "tumor_label": "2"})
    pd.DataFrame(rows).to_csv(manifest, index=False)
    return manifest


def plain_loop(manifest: Path) -> tuple[float, list]:
    from response_tool.commands.batch import read_manifest, run_item

    t0 = time.perf_counter()
    results = [run_item(item) for item in read_manifest(str(manifest))]
    return time.perf_counter() - t0, [round(r["result"]["htb_pct"], 4) for r in results]


def batch(manifest: Path, workers: int) -> tuple[float, list]:
    import pandas as pd

    from response_tool.cli import main

    out = DATA / f"out_{workers}"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    assert main(["batch", str(manifest), "-o", str(out), "--workers", str(workers)]) == 0
    elapsed = time.perf_counter() - t0
    table = pd.read_csv(out / "burden.csv")
    return elapsed, [round(v, 4) for v in table["htb_pct"]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    manifest = make_studies(args.studies)
    times: dict[str, list[float]] = {"loop": [], "batch-1": [], "batch-2": []}
    reference = None
    for _ in range(args.runs):  # interleaved, so drift hits every method alike
        for name in times:
            elapsed, htb = plain_loop(manifest) if name == "loop" else batch(
                manifest, int(name.split("-")[1]))
            times[name].append(elapsed)
            reference = reference or htb
            assert htb == reference, f"{name}: results differ from the plain loop"
    loop = statistics.median(times["loop"])
    result = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                          "platform": platform.platform()},
              "studies": args.studies, "runs": args.runs, "identical_results": True,
              "methods": {name: {"median_s": round(statistics.median(t), 3),
                                 "ratio_to_loop": round(statistics.median(t) / loop, 2),
                                 "runs_s": [round(v, 3) for v in t]} for name, t in times.items()}}
    for name, entry in result["methods"].items():
        print(f"{name:<8} median {entry['median_s']:7.2f} s  ×{entry['ratio_to_loop']:.2f} loop")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
