"""Where the reader stopped in a read — the time point and the lesion on screen — so that a read
opened again starts there, not at the baseline (issue 23, defect 7).

A part of :class:`~response_tool.reading.store.ReadStore`. It is what the reader was looking at,
not what the read says: kept in the store's ``meta`` table (one row per read, key
``position/<read id>``), outside the read's version and its undo history, so moving around never
makes another window's write look stale and never becomes an undo step.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ._base import StoreParts

if TYPE_CHECKING:
    from .store import ReadKey


class ReaderPositions(StoreParts):
    """The last time point and lesion shown of each read."""

    def save_position(self, key: ReadKey, date: str, lesion_id: str | None) -> None:
        """Remember that the reader of ``key`` is at ``date`` with ``lesion_id`` selected."""
        value = json.dumps({"date": date, "lesion_id": lesion_id})
        with self._transaction():
            rid = self._read_id(key)
            self._db.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
                             "value=excluded.value", (f"position/{rid}", value))

    def position(self, key: ReadKey) -> tuple[str, str | None] | None:
        """(date, lesion id or None) where the reader of ``key`` stopped (None: not known)."""
        rid = self._read_id(key)
        rows = self._rows("SELECT value FROM meta WHERE key=?", (f"position/{rid}",))
        if not rows:
            return None
        try:
            saved = json.loads(rows[0][0])
            return str(saved["date"]), saved.get("lesion_id") or None
        except (ValueError, KeyError, TypeError):  # written by something else: not a position
            return None
