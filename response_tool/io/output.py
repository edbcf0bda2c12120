"""The output layer of every command: where an output may go, and writing outputs all or none.

**Checks** (:func:`check_files` for files, :class:`OwnedFolder` for a folder a command writes
whole). Each problem is a one-line :class:`~response_tool.domain.errors.OutputPathError` that
names the path and says what to do, raised before anything is written. Refused:

* an output that is one of the command's inputs (same file: same inode, or the same resolved path
  when it does not exist yet), or the same file as another output of the command;
* a folder where a file is expected, a device node, a FIFO or a socket (never opened: a FIFO
  would block, a device would receive the data);
* a symbolic link, unless the command was given ``--follow-symlinks`` (then its target is
  written and the link kept);
* a path whose folder does not exist, is a file, or cannot be written: the folder is probed by
  creating and removing a temporary file in it, which is the only test that is true for every
  user (``root`` included) and every file system (read-only, full); the message says which folder
  and whether it is a permission problem.

**Writing.** :class:`FileSet` writes several files as a set: each is staged as a temporary file
in its target's folder (written, flushed, fsync'ed), then every staged file is renamed into place;
an existing target is first hard-linked to a backup so that a failure in the middle of the renames
puts every old output back. Any failure removes the staged files and leaves the old outputs as they
were; a target that is not a regular file is never replaced. :class:`OwnedFolder` writes a folder
that a command owns, recognised by a marker file listing the files it wrote there: a new folder is
built beside its target and renamed into place; into an empty folder or one the command wrote
before, its own files are replaced (as a set, as above) and **nothing else in the folder is
touched**; any other existing folder is refused.

What a kill -9 can still leave: the renames of a set take microseconds, but a process killed
between two of them leaves the set half renamed (and hidden ``.*.part`` / ``.*.old`` files beside
the targets); an error of any kind, a full disk included, cannot.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import stat
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

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


__all__ = ["FileSet", "Output", "OutputPathError", "OwnedFolder", "check_file", "check_files",
           "check_folder", "commit_pairs", "kind", "same_file", "write_files"]
