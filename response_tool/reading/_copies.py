"""Several readers of one patient: the read store's copies between reads (a lead reader's targets,
an adjudicated read started from one reader's read, one measurement taken over).

A mixin of :class:`~response_tool.reading.store.ReadStore`; each copy is one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from response_tool.domain.errors import StoreError

from ._base import StoreParts
from ._checks import store_date
from ._rows import LESION_COLUMNS

if TYPE_CHECKING:
    from .store import ReadKey


class SeveralReaders(StoreParts):
    """The reads of one patient by several readers, and copies between them."""

    def readers(self, patient_id: str) -> list[str]:
        """Reader ids with a read of ``patient_id``."""
        return [r[0] for r in self._rows(
            "SELECT reader_id FROM reads WHERE patient_id=? ORDER BY reader_id", (patient_id,))]

    def copy_lesions(self, source: ReadKey, target: ReadKey, roles: Sequence[str] = (
            "target", "non-target")) -> list[str]:
        """Give ``target`` the lesions of ``source`` (ids, roles, organs; no measurements) that it
        lacks — targets fixed by a lead reader, re-measured blind by the others. One transaction;
        returns the ids copied."""
        copied = []
        with self._transaction():
            src, dst = self._read_id(source), self._read_id(target, create=True)
            have = {r[0] for r in self._rows("SELECT lesion_id FROM lesions WHERE read_id=?",
                                             (dst,))}
            for r in self._rows(f"SELECT {LESION_COLUMNS}, created FROM lesions WHERE "
                                "read_id=? ORDER BY created, lesion_id", (src,)):
                if r[1] in roles and r[0] not in have:
                    self._db.execute(f"INSERT INTO lesions (read_id, {LESION_COLUMNS}, created) "
                                     "VALUES (?, ?, ?, ?, ?, ?, ?)", (dst, *tuple(r)))
                    copied.append(r[0])
            self._touch(target, dst)
        return copied

    def copy_read(self, source: ReadKey, target: ReadKey) -> None:
        """Replace ``target`` with a copy of ``source`` (time points, lesions, measurements with
        endpoints, volumes and segmentations, phase overrides, burden) in one transaction — e.g.
        an adjudicated read (ADJ) started from one reader's read."""
        tables = ("timepoints", "lesions", "measurements", "lesion_segmentations",
                  "phase_overrides", "burden")
        with self._transaction():
            src, dst = self._read_id(source), self._read_id(target, create=True)
            for table in reversed(tables):  # what refers to a row goes before it
                self._db.execute(f"DELETE FROM {table} WHERE read_id=?", (dst,))
            for table in tables:
                self._copy_rows(table, src, dst, "read_id=?", ())
            self._touch(target, dst)

    def _copy_rows(self, table: str, src: int, dst: int, where: str, params: tuple[Any, ...]
                   ) -> None:
        cols = ", ".join(r[1] for r in self._rows(f"PRAGMA table_info({table})")
                         if r[1] != "read_id")
        self._db.execute(f"INSERT INTO {table} (read_id, {cols}) SELECT ?, {cols} FROM {table} "
                         f"WHERE {where}", (dst, src, *params))

    def copy_measurement(self, source: ReadKey, target: ReadKey, lesion_id: str,
                         date: dt.date | str) -> None:
        """Take ``source``'s measurement of ``lesion_id`` at ``date`` into ``target`` (the lesion
        is added to ``target`` if missing), with its segmentation; no measurement in ``source``
        clears ``target``'s."""
        d = store_date(date)
        with self._transaction():
            src, dst = self._read_id(source), self._read_id(target, create=True)
            lesion = self._one(f"SELECT {LESION_COLUMNS}, created FROM lesions WHERE "
                               "read_id=? AND lesion_id=?", (src, lesion_id))
            if lesion is None:
                raise StoreError(f"no lesion {lesion_id} in the read by {source.reader_id}")
            self._db.execute(f"INSERT OR IGNORE INTO lesions (read_id, {LESION_COLUMNS}, created) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)", (dst, *tuple(lesion)))
            self._db.execute("DELETE FROM measurements WHERE read_id=? AND lesion_id=? AND date=?",
                             (dst, lesion_id, d))
            for table in ("measurements", "lesion_segmentations"):  # deleted with the first
                self._copy_rows(table, src, dst, "read_id=? AND lesion_id=? AND date=?",
                                (lesion_id, d))
            self._db.execute("INSERT OR IGNORE INTO timepoints (read_id, date) VALUES (?, ?)",
                             (dst, d))
            self._touch(target, dst)
