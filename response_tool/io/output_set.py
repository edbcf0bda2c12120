"""Writing several files as a set, all or none: :class:`FileSet` (see
:mod:`response_tool.io.output` for how, and what a kill -9 can still leave)."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO

from response_tool.domain.errors import OutputPathError

from .output_checks import _UMASK_LOCK, PathLike, _lstat, kind, write_error

# -- writing a set of files ----------------------------------------------------------------------

def _usual_mode(fd: int) -> None:
    """mkstemp makes 0600 files; give the usual permissions (0666 less the umask)."""
    with _UMASK_LOCK:  # os.umask is process-wide: read it under a lock (writers run in threads)
        umask = os.umask(0)
        os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)


def _refuse_special(target: Path) -> None:
    st = _lstat(target, target)
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise OutputPathError(f"{target}: is {kind(st.st_mode)}, not a regular file; it was not "
                              "replaced and nothing was written — give a file path")


def _backup(target: Path) -> Path | None:
    """A hard link (or copy) of ``target`` beside it, to put it back if the set fails."""
    backup = target.parent / f".{target.name}.{secrets.token_hex(4)}.old"
    try:
        os.link(target, backup)
    except FileNotFoundError:
        return None
    except OSError:  # a file system without hard links: copy
        try:
            shutil.copy2(target, backup)
        except FileNotFoundError:
            return None
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(backup)
            raise write_error(target, exc) from exc
    return backup


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def commit_pairs(pairs: Sequence[tuple[Path, Path]]) -> None:
    """Rename every staged file onto its target, all or none (see the module docstring). The
    staged files are gone afterwards, renamed or removed."""
    backups: list[Path | None] = [None] * len(pairs)
    done: list[int] = []  # in order, for the roll-back
    renamed: set[int] = set()
    try:
        for _staged, target in pairs:
            _refuse_special(target)
        if len(pairs) > 1:  # one rename needs no backup: it happens or not
            for i, (_staged, target) in enumerate(pairs):
                backups[i] = _backup(target)
        for i, (staged, target) in enumerate(pairs):
            try:
                os.replace(staged, target)
            except OSError as exc:
                raise write_error(target, exc) from exc
            done.append(i)
            renamed.add(i)
    except BaseException:
        for i in reversed(done):  # put the old outputs back
            target, backup = pairs[i][1], backups[i]
            with contextlib.suppress(OSError):
                if backup is not None:
                    os.replace(backup, target)
                    backups[i] = None
                else:
                    os.unlink(target)
        raise
    finally:
        for i, (staged, _target) in enumerate(pairs):
            if i not in renamed:
                with contextlib.suppress(OSError):
                    os.unlink(staged)
        for backup in backups:
            if backup is not None:
                with contextlib.suppress(OSError):
                    os.unlink(backup)
    for folder in {target.parent for _s, target in pairs}:
        _fsync_folder(folder)


class FileSet:
    """Files written as a set: all or none.

    ::

        with FileSet() as files:
            with files.open(responses, "wb") as fh: ...
            with files.open(bor, "wb") as fh: ...
        # both renamed into place here; on any error neither is, and the old files stay

    ``open`` may be called from several threads at once. ``make_parents`` creates a missing
    folder (the Python API's convenience; the commands check their folders first and refuse).
    """

    def __init__(self, *, make_parents: bool = False) -> None:
        self._make_parents = make_parents
        self._staged: dict[int, tuple[Path, Path]] = {}
        self._count = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def open(self, target: PathLike, mode: str = "wb", **kwargs: object) -> Iterator[IO]:
        """A file object staged for ``target``; it joins the set when the block ends normally."""
        target = Path(target)
        with self._lock:
            order = self._count
            self._count += 1
        try:
            if self._make_parents:
                target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        except OSError as exc:  # name the file the user asked for, not the temporary one
            raise write_error(target, exc) from exc
        try:
            with os.fdopen(fd, mode, **kwargs) as fh:  # type: ignore[call-overload]
                _usual_mode(fh.fileno())
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                raise write_error(target, exc) from exc
            raise
        with self._lock:
            self._staged[order] = (Path(tmp), target)

    def commit(self) -> None:
        """Rename every staged file into place (all or none)."""
        with self._lock:
            pairs = [self._staged[k] for k in sorted(self._staged)]
            self._staged.clear()
        commit_pairs(pairs)

    def discard(self) -> None:
        """Remove every staged file; the targets are left as they were."""
        with self._lock:
            pairs = list(self._staged.values())
            self._staged.clear()
        for tmp, _target in pairs:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def __enter__(self) -> FileSet:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def write_files(jobs: Sequence[tuple[PathLike, Callable[[IO[bytes]], None]]], *,
                make_parents: bool = False) -> None:
    """Write each ``(path, write)`` (``write`` gets a binary file object) as one set."""
    with FileSet(make_parents=make_parents) as files:
        for path, write in jobs:
            with files.open(path, "wb") as fh:
                write(fh)


__all__ = ["FileSet", "commit_pairs", "write_files"]
