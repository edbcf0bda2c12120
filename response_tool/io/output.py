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

The code is in :mod:`~response_tool.io.output_checks` (the checks),
:mod:`~response_tool.io.output_set` (:class:`FileSet`) and :mod:`~response_tool.io.output_folder`
(:class:`OwnedFolder`); every name is importable from here.
"""

from __future__ import annotations

import os  # noqa: F401  (``output.os`` stays reachable: tests patch ``output.os.fsync``)

from response_tool.domain.errors import OutputPathError

from .output_checks import (  # noqa: F401  (re-exported)
    Inputs,
    Output,
    PathLike,
    advice,
    check_file,
    check_files,
    check_folder,
    follow,
    kind,
    reason,
    same_file,
    write_error,
)
from .output_folder import OwnedFolder
from .output_set import FileSet, commit_pairs, write_files

__all__ = ["FileSet", "Output", "OutputPathError", "OwnedFolder", "check_file", "check_files",
           "check_folder", "commit_pairs", "kind", "same_file", "write_files"]
