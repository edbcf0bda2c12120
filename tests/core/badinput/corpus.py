"""The bad-input corpus (issue 15): each case is a command a user could run on a bad input, and
what the tool must do — exit code, one line on stderr naming the file, nothing destroyed, no
half-written output.

A corpus module (``test_*.py`` beside this file) defines ``CASES``: a list of :class:`Case`, and
runs them with :func:`check`. ``docs/bad-inputs.md`` is generated from every module's cases
(``python tests/core/badinput/make_table.py``; a test checks the page is current).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Case:
    """One bad input.

    ``make(tmp)`` builds the input in the empty folder ``tmp`` and returns the command's arguments
    (without ``response-tool``). ``expect`` is a substring the one-line message must contain (case
    insensitive), besides the name of the file at fault (``names``, default: the first argument
    that is a path inside ``tmp``). ``code`` is the exit code (2: the user's input; 0: accepted
    with a warning, then ``expect`` is looked for in stdout + stderr).
    """

    id: str
    area: str                      # "dicom", "csv", "mask", "output", "store", ...
    what: str                      # the bad input, in words (for the docs table)
    make: Callable[[Path], list[str]]
    expect: str
    code: int = 2
    names: str | None = None       # the file name the message must name (default: see above)
    outputs: tuple[str, ...] = ()  # paths (relative to tmp) that must not exist afterwards
    keep: tuple[str, ...] = field(default_factory=tuple)  # extra paths that must survive intact


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


def run_cli(args: list[str]) -> Outcome:
    """``response-tool ARGS`` in this process (as the console script runs it)."""
    from response_tool.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(args)
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
    return Outcome(code, out.getvalue(), err.getvalue())


def snapshot(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` (not following links) → a digest of its bytes (or its kind)."""
    out = {}
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            p = Path(root) / name
            rel = str(p.relative_to(folder))
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            elif p.is_file():
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = "special"
    return out


def check(case: Case, tmp: Path) -> Outcome:
    """Run ``case`` in ``tmp`` and assert what every bad input must give."""
    args = case.make(tmp)
    before = snapshot(tmp)
    result = run_cli(args)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.code == case.code, (result.code, result.stdout, result.stderr)
    after = snapshot(tmp)
    for rel, digest in before.items():  # nothing that was there is changed or gone
        if rel not in case.outputs:
            assert after.get(rel) == digest, f"{rel} was changed or deleted"
    for rel in case.outputs:
        assert not (tmp / rel).exists() or case.code == 0, f"{rel} was written"
    if case.code != 0:
        lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
        errors = [i for i, ln in enumerate(lines) if "error" in ln.lower()]
        assert len(errors) == 1, result.stderr
        # one error line; a table's problems follow it, one indented line each
        message = "\n".join(lines[errors[0]:])
        name = case.names or next((Path(a).name for a in args if a.startswith(str(tmp))), "")
        assert name in message, f"{name!r} not named in: {message}"
        assert case.expect.lower() in message.lower(), message
        assert "internal error" not in message, message
    else:
        assert case.expect.lower() in (result.stdout + result.stderr).lower()
    return result


__all__ = ["Case", "Outcome", "check", "run_cli", "snapshot"]
