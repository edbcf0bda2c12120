"""``response-tool phantom OUTDIR [--seed N] [--force]``: write the multiphase liver phantom.

OUTDIR is a new or empty folder, or with ``--force`` a phantom written before (recognised by its
``.response-tool-phantom`` marker, or by the ``ground_truth.json`` of an earlier version): only the
phantom's own files are replaced, nothing else in the folder is touched, and any other folder is
refused (:class:`~response_tool.io.output.OwnedFolder`). The phantom is built in a staging folder
and put in place at the end: an error leaves the previous phantom, or nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from response_tool.io.output import OwnedFolder

from ._options import add_follow_symlinks

#: the file that marks a folder as written by ``response-tool phantom`` (it lists its files)
MARKER = ".response-tool-phantom"


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "phantom", help="write the multiphase longitudinal liver phantom (DICOM + ground truth)",
        description="Write a deterministic liver phantom: one patient, baseline + 2 follow-ups, "
                    "each with non-contrast, arterial and portal-venous CT series, plus "
                    "ground_truth.json and broken variants for error tests.")
    p.add_argument("outdir", help="folder to create (must be empty unless --force)")
    p.add_argument("--seed", type=int, default=0, help="noise and UID seed (default 0)")
    p.add_argument("--force", action="store_true",
                   help="replace a phantom written before in OUTDIR (only its own files; any "
                        "other non-empty folder is refused)")
    add_follow_symlinks(p, "an OUTDIR")
    p.set_defaults(func=run)


def earlier_phantom(folder: Path) -> set[str] | None:
    """The files of a phantom written before the marker existed (its ``ground_truth.json`` says
    ``"generator": "response-tool phantom"``): the ground truth, the patient folder and the
    broken variants; None for any other folder."""
    gt = folder / "ground_truth.json"
    if gt.is_symlink() or not gt.is_file():
        return None
    try:
        truth = json.loads(gt.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(truth, dict) or truth.get("generator") != "response-tool phantom":
        return None
    files = {"ground_truth.json", "ground_truth_measurements.csv"}
    for sub in (str(truth.get("patient_dir", "")), "broken"):
        parts = Path(sub).parts
        if not parts or Path(sub).is_absolute() or ".." in parts:
            continue
        for root, _dirs, names in os.walk(folder / sub):
            files.update((Path(root) / n).relative_to(folder).as_posix() for n in names)
    return files


def write_phantom(outdir: str | os.PathLike[str], seed: int = 0, *, force: bool = False,
                  follow_symlinks: bool = False, progress: Any = None) -> Any:
    """Write the phantom into ``outdir`` safely (see the module docstring): a new or empty
    folder, or with ``force`` a phantom written before; built in a staging folder and put in
    place at the end. Returns the :class:`~response_tool.phantom.PhantomResult`."""
    from response_tool.phantom import generate_phantom

    folder = OwnedFolder(outdir, marker=MARKER, command="response-tool phantom",
                         follow_symlinks=follow_symlinks, earlier=earlier_phantom,
                         replace=force,
                         replace_hint="pass --force to replace it (only the phantom's own files)",
                         not_empty_hint="choose an empty or new folder (--force replaces only a "
                                        "phantom written before)")
    staging = folder.stage()
    try:
        result = generate_phantom(staging, seed=seed, progress=progress)
        folder.commit()
    except BaseException:
        folder.discard()
        raise
    return result


def run(args: argparse.Namespace) -> int:
    result = write_phantom(args.outdir, args.seed, force=args.force,
                           follow_symlinks=args.follow_symlinks,
                           progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    root = Path(args.outdir)
    gt = result.ground_truth
    print(f"phantom written to {root}")
    print(f"  patient folder: {root / result.patient_dir.relative_to(result.root)}")
    print(f"  ground truth:   {root / result.ground_truth_path.relative_to(result.root)}")
    for tp in gt["timepoints"]:
        print(f"  {tp['date']} {tp['label']:<12} RECIST sum {tp['recist1.1_sum_mm']:.1f} mm, "
              f"mRECIST sum {tp['mrecist_sum_mm']:.1f} mm, HTB {tp['htb_pct']:.2f} %")
    return 0
