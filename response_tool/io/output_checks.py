"""Where an output of a command may go: the checks of :mod:`response_tool.io.output` (its
docstring lists what is refused), and the words of their errors.

Each problem is a one-line :class:`~response_tool.domain.errors.OutputPathError` that names the
path and says what to do, raised before anything is written.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from response_tool.domain.errors import OutputPathError

PathLike = str | os.PathLike[str]
#: the inputs of a command: what each is called in messages → its path (``None``: not given)
Inputs = Mapping[str, "PathLike | None"]

_UMASK_LOCK = threading.Lock()


def kind(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words ("a folder", "a FIFO (named pipe)", …)."""
    for test, word in ((stat.S_ISREG, "a file"), (stat.S_ISDIR, "a folder"),
                       (stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return word
    return "a special file"


def reason(exc: OSError) -> str:
    """The cause of an OS error in words; permission problems say so."""
    words = {errno.EACCES: "permission denied", errno.EPERM: "permission denied (operation not "
             "permitted)", errno.EROFS: "read-only file system", errno.ENOSPC: "no space left on "
             "the disk", errno.EDQUOT: "disk quota exceeded", errno.ENOENT: "no such file or folder",
             errno.ENOTDIR: "a part of the path is a file, not a folder"}
    return words.get(exc.errno or 0, exc.strerror or str(exc))


def advice(exc: OSError) -> str:
    """What to do about an OS error met while writing."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "choose a folder you can write to, or change its permissions"
    if exc.errno == errno.EROFS:
        return "choose a folder on a writable disk"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "free some space or choose another disk"
    return "choose another location and check the disk"


def write_error(target: Path, exc: OSError) -> OutputPathError:
    """The one-line error for a failure while writing ``target`` (nothing was written)."""
    return OutputPathError(f"{target}: could not be written ({reason(exc)}); nothing was "
                           f"written — {advice(exc)}")


# -- checks --------------------------------------------------------------------------------------

def check_folder(folder: Path, for_path: Path) -> None:
    """``folder`` exists, is a folder and a file can be created in it (else OutputPathError
    naming ``for_path``, the output being checked, and the folder at fault)."""
    try:
        st = os.stat(folder)
    except PermissionError as exc:
        raise OutputPathError(f"{for_path}: cannot reach folder {folder} ({reason(exc)}); choose a "
                              "folder you can read and write") from exc
    except (FileNotFoundError, NotADirectoryError):
        _missing_folder(folder, for_path)
        raise AssertionError("unreachable") from None  # pragma: no cover
    if not stat.S_ISDIR(st.st_mode):
        raise OutputPathError(f"{for_path}: {folder} is {kind(st.st_mode)}, not a folder; choose a "
                              "path inside a folder")
    try:  # a real test: os.access says yes to root on a folder that still refuses files
        fd, probe = tempfile.mkstemp(prefix=".response-tool-probe.", dir=folder)
    except OSError as exc:
        raise OutputPathError(f"{for_path}: cannot write in folder {folder} ({reason(exc)}); "
                              f"{advice(exc)}") from exc
    os.close(fd)
    os.unlink(probe)


def _missing_folder(folder: Path, for_path: Path) -> None:
    """Raise the error for a folder that does not exist: is an ancestor a file, or missing?"""
    probe = folder
    while probe.parent != probe:
        probe = probe.parent
        try:
            st = os.stat(probe)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except PermissionError as exc:
            raise OutputPathError(f"{for_path}: cannot reach folder {probe} ({reason(exc)}); choose "
                                  "a folder you can read and write") from exc
        if not stat.S_ISDIR(st.st_mode):
            raise OutputPathError(f"{for_path}: {probe} is {kind(st.st_mode)}, not a folder; "
                                  "choose a path inside a folder")
        break
    raise OutputPathError(f"{for_path}: folder {folder} does not exist; create it first "
                          f"(mkdir -p {folder}) or choose an existing folder")


def _lstat(path: Path, for_path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except PermissionError as exc:
        raise OutputPathError(f"{for_path}: cannot look into folder {path.parent} "
                              f"({reason(exc)}); choose a folder you can read and write") from exc


def same_file(a: PathLike, b: PathLike) -> bool:
    """The same file: same inode when both exist (hard links, links, ``..``), else the same
    resolved path."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _is_input(target: Path, inputs: Inputs) -> tuple[str, PathLike] | None:
    for label, path in inputs.items():
        if path is not None and isinstance(path, (str, os.PathLike)) and same_file(target, path):
            return label, path
    return None


@dataclass(frozen=True)
class Output:
    """One output file of a command, as given."""

    path: PathLike
    #: how the user gave it, for messages: "-o", "--bor", "--warnings", …
    what: str
    #: a file name to suggest when ``path`` is a folder
    example: str = "output.csv"


def follow(path: Path, for_path: Path, follow_symlinks: bool,
           what: str) -> tuple[Path, os.stat_result | None]:
    """``path`` and its lstat, or, for a link with ``follow_symlinks``, what it points to and its
    lstat (OutputPathError for a link without it, and for a link that loops)."""
    st = _lstat(path, for_path)
    if st is None or not stat.S_ISLNK(st.st_mode):
        return path, st
    link = os.readlink(path)
    if not follow_symlinks:
        raise OutputPathError(f"{for_path}: is a symbolic link (to {link}); writing {what} would "
                              "replace the link — give the real path, or pass --follow-symlinks "
                              "to write to what it points to")
    target = Path(os.path.realpath(path))
    st = _lstat(target, for_path)
    if st is not None and stat.S_ISLNK(st.st_mode):
        raise OutputPathError(f"{for_path}: is a symbolic link that loops; give the real path")
    return target, st


def check_file(output: Output, *, follow_symlinks: bool = False) -> Path:
    """The path to write for ``output`` (its link's target when followed), or OutputPathError."""
    given = Path(output.path)
    target, st = follow(given, given, follow_symlinks, output.what)
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputPathError(f"{given}: is a folder; {output.what} needs a file name, e.g. "
                              f"{given / output.example}")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise OutputPathError(f"{given}: is {kind(st.st_mode)}, not a regular file; give a file "
                              f"path for {output.what} (a device, FIFO or socket is never "
                              "written or replaced)")
    check_folder(target.parent, given)
    return target


def check_files(outputs: Sequence[Output], inputs: Inputs | None = None, *,
                follow_symlinks: bool = False) -> list[Path]:
    """Check every output of a command (see the module docstring) and return the paths to write,
    in order; the first problem is raised as OutputPathError before anything is written."""
    targets: list[Path] = []
    for i, output in enumerate(outputs):
        target = check_file(output, follow_symlinks=follow_symlinks)
        hit = _is_input(target, inputs or {})
        if hit is not None:
            label, path = hit
            raise OutputPathError(f"{output.path}: is the input {label} ({path}); writing "
                                  f"{output.what} there would overwrite it — choose another file "
                                  "name")
        for earlier, seen in zip(outputs[:i], targets, strict=True):
            if same_file(target, seen):
                raise OutputPathError(f"{output.path}: given for both {earlier.what} and "
                                      f"{output.what}; give each output its own file")
        targets.append(target)
    return targets


__all__ = ["Inputs", "Output", "PathLike", "advice", "check_file", "check_files", "check_folder",
           "follow", "kind", "reason", "same_file", "write_error"]
