"""Atomic file writing: output files appear whole or not at all (one file: a set of one, see
:class:`response_tool.io.output.FileSet`)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import IO

from response_tool.io.output import FileSet


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w", **kwargs: object) -> Iterator[IO]:
    """Write to a temporary file beside ``path`` and rename it into place on success.

    If the block raises, the temporary file is removed and ``path`` is left untouched. A missing
    folder is created; a ``path`` that is not a regular file (a folder, link, device, FIFO) is
    never replaced (:class:`~response_tool.domain.errors.OutputPathError`), nor is any failure to
    write reported as anything else.
    """
    with FileSet(make_parents=True) as files, files.open(path, mode, **kwargs) as fh:
        yield fh
