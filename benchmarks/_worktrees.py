"""Another revision of the repository beside this one, for benchmarks that measure before against
after in one run (bench_refactor.py, bench_cli_startup.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def worktree(rev: str) -> Path:
    """A detached git worktree of ``rev`` under benchmarks/_data (made once, then reused)."""
    rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", rev], check=True,
                         capture_output=True, text=True).stdout.strip()
    path = HERE / "_data" / f"tree-{rev}"
    if not (path / "response_tool").is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "--force", str(path),
                        rev], check=True, capture_output=True)
    return path


def tree_env(root: Path) -> dict[str, str]:
    """The environment that imports the core and the plugin from ``root``."""
    return {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{root / 'plugins'}"}
