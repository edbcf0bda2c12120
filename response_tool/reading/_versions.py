"""Two sessions on one read: the read store's optimistic version check.

Every read has a ``version``, bumped by every write to it in the statement that records its
``updated`` time; a writer that last saw an older version is refused (see
:mod:`response_tool.reading.store`). A mixin of :class:`~response_tool.reading.store.ReadStore`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from response_tool.domain.errors import StoreError

from ._base import StoreParts
from ._checks import now as _now
from ._rows import TOUCH_READ

if TYPE_CHECKING:
    from .store import ReadKey


class ReadVersions(StoreParts):
    """The versions of the reads this store object knows, and the check of every write."""

    def known_version(self, key: ReadKey) -> int | None:
        """The version of ``key`` this store object last loaded or wrote (None: not yet seen)."""
        known = self._known.get(key)
        return None if known is None else known[1]

    def _changed(self, key: ReadKey, had: int) -> StoreError:
        row = self._one("SELECT version FROM reads WHERE patient_id=? AND reader_id=?",
                        (key.patient_id, key.reader_id))
        now = "gone" if row is None else row[0]
        return StoreError(
            f"the read of patient {key.patient_id} by reader {key.reader_id} in {self.path} was "
            f"changed elsewhere (another window or process) since it was loaded (version {had}, "
            f"now {now}); nothing was saved: reload the read (Reload in the Reading panel, "
            "ReadingSession.reload()) and make the change again")

    def _touch(self, key: ReadKey, read_id: int, expect: int | None = None) -> None:
        """Record a write to the read: its time stamp, and its version bumped — refused when
        someone else wrote since this store object (or, with ``expect``, the caller) last saw it.
        One statement."""
        known = self._pending.get(key) or self._known.get(key)
        if known is None:  # not looked up through this object (cannot happen via _read_id)
            (version,) = self._one("SELECT version FROM reads WHERE id=?", (read_id,))
            known = (int(version), int(version))
        first, last = known
        if expect is not None and not first <= expect <= last:
            raise self._changed(key, expect)
        if self._db.execute(TOUCH_READ, (_now(), read_id, last)).rowcount != 1:
            raise self._changed(key, last if expect is None else expect)
        self._pending[key] = (first, last + 1)
