"""A folder a command writes whole and owns: :class:`OwnedFolder` (see
:mod:`response_tool.io.output`: recognised by a marker file listing the files it wrote there; nothing
else in the folder is touched)."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from response_tool.domain.errors import OutputPathError

from .output_checks import (
    _UMASK_LOCK,
    Inputs,
    PathLike,
    _is_input,
    _lstat,
    advice,
    check_folder,
    follow,
    kind,
    reason,
    write_error,
)
from .output_set import _fsync_folder, commit_pairs

# -- a folder a command owns ---------------------------------------------------------------------

def _marker_files(marker: Path) -> set[str] | None:
    """The files a marker lists (relative paths inside its folder), or None if it is no marker."""
    st = _lstat(marker, marker)
    if st is None or not stat.S_ISREG(st.st_mode):
        return None
    try:
        lines = marker.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    files = set()
    for line in lines:
        rel = line.strip()
        if not rel or rel.startswith("#"):
            continue
        parts = Path(rel).parts
        if Path(rel).is_absolute() or ".." in parts or not parts:
            continue  # never trusted to reach outside the folder
        files.add(Path(*parts).as_posix())
    return files


def _walk_files(root: Path) -> list[str]:
    out = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            out.append((Path(folder) / name).relative_to(root).as_posix())
    return out


class OwnedFolder:
    """A folder a command writes whole and owns, recognised by ``marker`` (a file in it listing
    the files the command wrote).

    ``OwnedFolder(path, marker=…, command="response-tool report")`` checks ``path``: a new folder
    (its parent must exist and be writable), an empty folder, or one the command wrote before
    (the marker, or ``earlier(path)`` returning the files of a folder written before markers
    existed) is accepted; anything else is an OutputPathError, as is a link (unless
    ``follow_symlinks``), a file, a device. ``replace=False`` refuses a folder the command wrote
    before, with ``replace_hint`` saying how to allow it.

    :meth:`stage` gives an empty folder to write into; :meth:`commit` puts its files in place
    (see the module docstring); :meth:`discard` removes it.
    """

    def __init__(self, path: PathLike, *, marker: str, command: str, inputs: Inputs | None = None,
                 follow_symlinks: bool = False,
                 earlier: Callable[[Path], set[str] | None] | None = None,
                 replace: bool = True, replace_hint: str = "",
                 not_empty_hint: str = "give a new folder name") -> None:
        self.given = Path(path)
        self.marker = marker
        self.command = command
        self.inputs: Inputs = dict(inputs or {})
        self._staging: Path | None = None
        what = f"the output folder of `{command}`"
        self.path, st = follow(self.given, self.given, follow_symlinks, what)
        #: "new", "empty" or "ours"
        self.state = "new"
        #: the files the command wrote here before (relative paths)
        self.previous: set[str] = set()
        if st is None:
            check_folder(self.path.parent, self.given)
            return
        if not stat.S_ISDIR(st.st_mode):
            raise OutputPathError(f"{self.given}: is {kind(st.st_mode)}; `{command}` writes a "
                                  "folder — give a new folder name")
        try:
            entries = os.listdir(self.path)
        except OSError as exc:
            raise OutputPathError(f"{self.given}: cannot read the folder ({reason(exc)}); "
                                  f"{advice(exc)}") from exc
        if not entries:
            self.state = "empty"
        else:
            files = _marker_files(self.path / marker)
            if files is None and earlier is not None:
                files = earlier(self.path)
            if files is None:
                holds = self._holds_input()
                raise OutputPathError(
                    f"{self.given}: folder is not empty and was not written by `{command}` (no "
                    f"{marker} in it){holds}; {not_empty_hint} — nothing in it was touched")
            if not replace:
                raise OutputPathError(f"{self.given}: holds an earlier output of `{command}`; "
                                      f"{replace_hint}")
            self.state, self.previous = "ours", files
        check_folder(self.path, self.given)

    def _holds_input(self) -> str:
        root = os.path.realpath(self.path)
        for label, path in self.inputs.items():
            if path is not None and isinstance(path, (str, os.PathLike)):
                real = os.path.realpath(path)
                if os.path.commonpath([root, real]) == root:
                    return f"; it holds the input {label} ({path})"
        return ""

    def stage(self) -> Path:
        """An empty folder to write the output into (beside a new target, inside an existing one)."""
        where = self.path.parent if self.state == "new" else self.path
        prefix = f".{self.path.name}." if self.state == "new" else f"{self.marker}."
        try:
            self._staging = Path(tempfile.mkdtemp(prefix=prefix, dir=where))
            with _UMASK_LOCK:  # mkdtemp makes 0700 folders: the new one gets the usual mode
                umask = os.umask(0)
                os.umask(umask)
            os.chmod(self._staging, 0o777 & ~umask)
        except OSError as exc:
            raise write_error(self.given, exc) from exc
        return self._staging

    def discard(self) -> None:
        """Remove the staged folder; the target is left as it was."""
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None

    def _marker_text(self, files: Iterable[str]) -> str:
        return (f"# Written by `{self.command}`. The files below are its own: the next "
                f"`{self.command}` into this folder replaces them (and removes those it no longer "
                "writes); every other file here is left alone. Delete this file and the folder "
                "is no longer recognised.\n" + "".join(f"{f}\n" for f in files))

    def commit(self) -> None:
        """Put the staged files in place (see the class docstring) and remove the staging."""
        staging = self._staging
        if staging is None:
            raise RuntimeError("commit() before stage()")
        try:
            files = [f for f in _walk_files(staging) if f != self.marker]
            (staging / self.marker).write_text(self._marker_text(files), encoding="utf-8")
            if self.state == "new":
                try:
                    os.rename(staging, self.path)
                except OSError as exc:
                    raise OutputPathError(f"{self.given}: could not be put in place "
                                          f"({reason(exc)}; did it appear meanwhile?); nothing "
                                          "was written — run again") from exc
                self._staging = None
                _fsync_folder(self.path.parent)
                return
            self._commit_into(staging, [*files, self.marker])
        except BaseException:
            self.discard()
            raise
        self.discard()

    def _commit_into(self, staging: Path, files: list[str]) -> None:
        mine = self.previous | {self.marker}
        inputs = {label: p for label, p in self.inputs.items() if p is not None}
        created: list[Path] = []
        try:
            pairs = []
            for rel in files:
                dest = self.path / rel
                for folder in reversed(dest.relative_to(self.path).parents[:-1]):
                    d = self.path / folder
                    st = _lstat(d, self.given)
                    if st is None:
                        d.mkdir()
                        created.append(d)
                    elif not stat.S_ISDIR(st.st_mode):
                        raise OutputPathError(f"{self.given}: {d} is {kind(st.st_mode)}, not a "
                                              "folder; move it away or give a new folder name")
                st = _lstat(dest, self.given)
                if st is not None:
                    if not stat.S_ISREG(st.st_mode):
                        raise OutputPathError(f"{self.given}: {dest} is {kind(st.st_mode)}; it is "
                                              "never replaced — move it away or give a new folder "
                                              "name")
                    if rel not in mine:
                        raise OutputPathError(f"{self.given}: {dest} is there and was not written "
                                              f"by `{self.command}`; move it away or give a new "
                                              "folder name — nothing was written")
                    hit = _is_input(dest, inputs)
                    if hit is not None:
                        raise OutputPathError(f"{self.given}: {dest} is the input {hit[0]}; "
                                              "writing the folder would overwrite it — move the "
                                              "input or give a new folder name")
                pairs.append((staging / rel, dest))
            commit_pairs(pairs)
        except BaseException:
            for d in reversed(created):
                with contextlib.suppress(OSError):
                    d.rmdir()
            raise
        for rel in sorted(self.previous - set(files)):  # its own files it no longer writes
            dest = self.path / rel
            st = _lstat(dest, self.given)
            if st is not None and stat.S_ISREG(st.st_mode):
                with contextlib.suppress(OSError):
                    dest.unlink()
                    for folder in dest.relative_to(self.path).parents[:-1]:
                        (self.path / folder).rmdir()  # stops at the first folder not empty


__all__ = ["OwnedFolder"]
