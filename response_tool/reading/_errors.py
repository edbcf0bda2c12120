"""What an SQLite error means for the reader: the read store's :class:`StoreError` messages, and
the close that leaves the ``.sqlite`` file whole.

Kept apart from :mod:`response_tool.reading.store` (which holds the transactions) so every message
a reader may see from the store file — busy, read-only, disk full, not a store — is in one place.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3

from response_tool.domain.errors import StoreError


def primary_code(exc: sqlite3.Error) -> int | None:
    """SQLite's primary result code of ``exc`` (None: not known)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF  # the primary result code


def store_error(path: str | os.PathLike[str], busy_timeout_s: float,
                exc: sqlite3.Error) -> StoreError:
    """What ``exc``, raised on the store file ``path``, means for the reader."""
    code = primary_code(exc)
    text = str(exc)
    if isinstance(exc, sqlite3.ProgrammingError) and "closed" in text.lower():
        return StoreError(f"{path}: the read store was closed; open it again")
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in text.lower():
        return StoreError(
            f"{path}: busy — another window or process is writing this read store "
            f"(waited {busy_timeout_s:g} s); nothing was saved: try again in a moment, "
            "or finish in the other window first")
    if code == sqlite3.SQLITE_READONLY or "readonly" in text.lower():
        return StoreError(f"{path}: cannot write the read store ({text}); check that you "
                          "may write the file and its folder, or choose another store file")
    if code == sqlite3.SQLITE_FULL:
        return StoreError(f"{path}: the disk is full; nothing was saved: free some space "
                          "and try again")
    if isinstance(exc, sqlite3.IntegrityError):
        return StoreError(f"{path}: the change breaks a rule of the read store ({text}); "
                          "nothing was saved")
    if code == sqlite3.SQLITE_CANTOPEN:
        return StoreError(f"{path}: cannot open the read store ({text}); check the path "
                          "and that you may write its folder")
    return StoreError(f"{path}: not a readable read store ({text}); choose another file "
                      "or move this one aside (keep it: it may be recoverable)")


def checkpoint_and_close(db: sqlite3.Connection) -> None:
    """Move the write-ahead log into the main file and close (at close, collection or exit)."""
    try:
        with contextlib.suppress(sqlite3.Error):
            if db.in_transaction:
                db.execute("ROLLBACK")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        with contextlib.suppress(sqlite3.Error):
            db.close()
