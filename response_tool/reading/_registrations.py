"""The registration of each follow-up to the baseline, saved with the read (lesion propagation,
:mod:`response_tool.reading.propagation`): the prediction of where a lesion is on a follow-up is
then the same after a restart, without loading an image.

A mixin of :class:`~response_tool.reading.store.ReadStore`; the ``registrations`` table is in the
store's schema (:mod:`._rows`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._base import StoreParts
from ._checks import store_date

if TYPE_CHECKING:
    from .propagation import Registration
    from .store import ReadKey


class Registrations(StoreParts):
    """One registration (baseline → follow-up) per follow-up time point of a read."""

    def set_registration(self, key: ReadKey, date: str, registration: Registration | None, *,
                         expect: int | None = None) -> None:
        """Save (None: forget) the registration of the follow-up at ``date``."""
        d = store_date(date)
        with self._transaction():
            rid = self._read_id(key)
            if registration is None:
                self._db.execute("DELETE FROM registrations WHERE read_id=? AND date=?", (rid, d))
            else:
                self._db.execute("INSERT INTO registrations VALUES (?, ?, ?) ON CONFLICT "
                                 "(read_id, date) DO UPDATE SET transform=excluded.transform",
                                 (rid, d, registration.to_json()))
            self._touch(key, rid, expect)

    def registrations(self, key: ReadKey) -> dict[str, Registration]:
        from .propagation import Registration

        rid = self._read_id(key)
        return {r[0]: Registration.from_json(r[1]) for r in self._rows(
            "SELECT date, transform FROM registrations WHERE read_id=?", (rid,))}
