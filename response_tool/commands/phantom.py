"""``response-tool phantom OUTDIR [--seed N] [--force]``: write the multiphase liver phantom."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "phantom", help="write the multiphase longitudinal liver phantom (DICOM + ground truth)",
        description="Write a deterministic liver phantom: one patient, baseline + 2 follow-ups, "
                    "each with non-contrast, arterial and portal-venous CT series, plus "
                    "ground_truth.json and broken variants for error tests.")
    p.add_argument("outdir", help="folder to create (must be empty unless --force)")
    p.add_argument("--seed", type=int, default=0, help="noise and UID seed (default 0)")
    p.add_argument("--force", action="store_true", help="replace a non-empty OUTDIR")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from response_tool.phantom import generate_phantom

    result = generate_phantom(args.outdir, seed=args.seed, force=args.force,
                              progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    gt = result.ground_truth
    print(f"phantom written to {result.root}")
    print(f"  patient folder: {result.patient_dir}")
    print(f"  ground truth:   {result.ground_truth_path}")
    for tp in gt["timepoints"]:
        print(f"  {tp['date']} {tp['label']:<12} RECIST sum {tp['recist1.1_sum_mm']:.1f} mm, "
              f"mRECIST sum {tp['mrecist_sum_mm']:.1f} mm, HTB {tp['htb_pct']:.2f} %")
    return 0
