"""Sample data: the multiphase liver phantom (generated on first use into the user cache folder)."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_cache_dir

from response_tool.phantom import generate_phantom, is_current

from ._reader import read_dicom


def phantom_dir(seed: int = 0) -> Path:
    """Folder of the phantom for ``seed``, generated if absent (ground_truth.json marks completion)."""
    out = Path(user_cache_dir("response-tool")) / f"phantom-seed{seed}"
    if not is_current(out):  # absent, an interrupted attempt, or written by an older version
        generate_phantom(out, seed=seed, force=True)
    return out


def phantom_baseline() -> list:
    """Baseline study of the phantom: arterial and portal-venous series in millimetres."""
    root = phantom_dir()
    patients = [p for p in root.iterdir() if p.is_dir() and p.name != "broken"]
    return read_dicom(patients[0])
