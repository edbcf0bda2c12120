"""Undo and redo of a reader's edits, kept in the read store so they survive a restart.

Each edit a :class:`~response_tool.reading.session.ReadingSession` makes writes, in the same
transaction as the edit, one ``history`` row: the rows it changed (lesions, measurements, lesion
segmentations — :mod:`._lesion_masks`) as they were before and after. Edits of one reader
action (a new lesion and its first status) share a group; undo takes back the last group not
undone, redo re-applies the first one undone, each in one transaction that also bumps the read's
version. A new edit drops what was undone (the redo
tail), as in every editor.

Undo is checked the optimistic way, like every write: each row must still be as the edit left
it. If something else changed it since (another window, a value copied from another reader),
nothing is undone and the reader is told which lesion changed (:class:`StoreError`).

A mixin of :class:`~response_tool.reading.store.ReadStore`; the ``history`` table is in the
store's schema (:mod:`._rows`; ``CREATE TABLE IF NOT EXISTS``: a store of an older response-tool
gains it on opening, and an older response-tool ignores it).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from response_tool.domain.errors import StoreError

from ._base import StoreParts
from ._checks import now as _now
from ._rows import MEASUREMENT_FIELDS, UPSERT_MEASUREMENT, padded

if TYPE_CHECKING:
    from .store import ReadKey

#: one statement: a history row, in a new group (the next number) or in the read's last group
_INSERT = ("INSERT INTO history (read_id, grp, label, entry) VALUES (?, CASE WHEN ? THEN "
           "(SELECT COALESCE(MAX(grp), 0) FROM history WHERE read_id=?) ELSE "
           "(SELECT COALESCE(MAX(seq), 0) + 1 FROM history) END, ?, ?)")
_LESION_STATE = "SELECT role, organ, is_nodal, override_reason FROM lesions WHERE read_id=? AND lesion_id=?"
_MEASUREMENT_STATE = (f"SELECT {', '.join(MEASUREMENT_FIELDS)} FROM measurements WHERE read_id=? "
                      "AND lesion_id=? AND date=?")


class Edit:
    """What one edit changed: ``lesions`` [(lesion_id, before, after)] with states
    (role, organ, is_nodal, override_reason) or None; ``measurements`` [(lesion_id, date, before,
    after)] with the row's :data:`MEASUREMENT_FIELDS` values or None; ``segmentations``
    [(lesion_id, date, before, after)], filled in by the store as it writes or deletes them
    (states: [series UID, grid, labels]). ``join``: part of the previous edit's group (one reader
    action)."""

    def __init__(self, label: str, lesions: list[Any] | None = None,
                 measurements: list[Any] | None = None, join: bool = False) -> None:
        self.label, self.join = label, join
        self.lesions = [list(x) for x in lesions or []]
        self.measurements = [list(x) for x in measurements or []]
        self.segmentations: list[list[Any]] = []

    def json(self) -> str:
        entry: dict[str, Any] = {"lesions": self.lesions, "measurements": self.measurements}
        if self.segmentations:  # an edit without a mask keeps the history row it always had
            entry["segmentations"] = self.segmentations
        return json.dumps(entry)


class ReadHistory(StoreParts):
    """The undo history of each read."""

    _tail: dict[int, bool]  # per read id: are there undone edits (None/absent: not known)

    def _record(self, rid: int, edit: Edit | None, created: dict[str, str] | None = None) -> None:
        """Write ``edit``'s history row (inside the caller's transaction); drop the redo tail.
        ``created``: the creation time of lesions the edit adds or deletes (kept with their
        state, so a lesion that comes back keeps its place in the read's order)."""
        if edit is None:
            return
        for lesion in edit.lesions:
            for state in lesion[1:]:
                if state is not None and len(state) == 4 and lesion[0] in (created or {}):
                    state.append(created[lesion[0]])  # type: ignore[index]
        if self._tail.get(rid, True):
            self._db.execute("DELETE FROM history WHERE read_id=? AND undone=1", (rid,))
            self._tail[rid] = False
        self._db.execute(_INSERT, (rid, int(edit.join), rid, edit.label, edit.json()))

    def history_counts(self, key: ReadKey) -> tuple[int, int]:
        """(edits that can be undone, edits that can be redone), counted in reader actions."""
        rid = self._read_id(key)
        row = self._one("SELECT COUNT(DISTINCT CASE WHEN undone=0 THEN grp END), "
                        "COUNT(DISTINCT CASE WHEN undone=1 THEN grp END) FROM history "
                        "WHERE read_id=?", (rid,))
        self._tail[rid] = bool(row[1])
        return int(row[0]), int(row[1])

    def undo(self, key: ReadKey, *, expect: int | None = None) -> str | None:
        """Take back the last reader action on ``key`` (None: nothing to undo); returns its label."""
        return self._step(key, undo=True, expect=expect)

    def redo(self, key: ReadKey, *, expect: int | None = None) -> str | None:
        """Apply again the first action undone (None: nothing to redo); returns its label."""
        return self._step(key, undo=False, expect=expect)

    def _step(self, key: ReadKey, undo: bool, expect: int | None) -> str | None:
        with self._transaction():
            rid = self._read_id(key)
            pick = ("undone=0 AND grp=(SELECT MAX(grp) FROM history WHERE read_id=? AND undone=0) "
                    "ORDER BY seq DESC") if undo else (
                    "undone=1 AND grp=(SELECT MIN(grp) FROM history WHERE read_id=? AND undone=1) "
                    "ORDER BY seq")
            rows = self._rows(f"SELECT seq, label, entry FROM history WHERE read_id=? AND {pick}",
                              (rid, rid))
            if not rows:
                return None
            for _, _, entry in rows:
                self._apply(rid, json.loads(entry), undo)
            self._db.executemany("UPDATE history SET undone=? WHERE seq=?",
                                 [(int(undo), seq) for seq, _, _ in rows])
            if undo:
                self._tail[rid] = True
            else:  # some may be left: the next edit drops them
                self._tail.pop(rid, None)
            self._touch(key, rid, expect)
        return str(rows[-1][1] if undo else rows[0][1])

    def _apply(self, rid: int, entry: dict[str, Any], undo: bool) -> None:
        """Put every row of ``entry`` back to its state before (undo) or after (redo) the edit,
        once each is checked to be as the edit left it."""
        was, becomes = (1, 0) if undo else (0, 1)  # states are [before, after]
        lesions, segmentations = entry.get("lesions", []), entry.get("segmentations", [])
        measurements = [[lesion_id, date, *map(padded, states)]
                        for lesion_id, date, *states in entry.get("measurements", [])]
        for lesion_id, *states in lesions:
            row = self._one(_LESION_STATE, (rid, lesion_id))
            self._same(lesion_id, None, states[was], None if row is None else list(row))
        for lesion_id, date, *states in measurements:
            row = self._one(_MEASUREMENT_STATE, (rid, lesion_id, date))
            self._same(lesion_id, date, states[was], None if row is None else list(row))
        for lesion_id, date, *states in segmentations:
            self._same(lesion_id, date, states[was],
                       self._segmentation_state(rid, lesion_id, date))
        # lesions first when they come back, last when they go (their measurements cascade)
        for lesion_id, *states in lesions:
            if states[becomes] is not None:
                role, organ, nodal, reason, *created = states[becomes]
                self._db.execute(
                    "INSERT INTO lesions (read_id, lesion_id, role, organ, is_nodal, "
                    "override_reason, created) VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (read_id, lesion_id) DO UPDATE SET organ=excluded.organ, "
                    "is_nodal=excluded.is_nodal, override_reason=excluded.override_reason",
                    (rid, lesion_id, role, organ, int(nodal), reason, (created or [_now()])[0]))
        for lesion_id, date, *states in measurements:
            state = states[becomes]
            if state is None:
                self._db.execute("DELETE FROM measurements WHERE read_id=? AND lesion_id=? AND "
                                 "date=?", (rid, lesion_id, date))
            else:
                self._db.execute(UPSERT_MEASUREMENT, (rid, lesion_id, date, *state, _now()))
                self._db.execute("INSERT OR IGNORE INTO timepoints (read_id, date) VALUES (?, ?)",
                                 (rid, date))
        for lesion_id, date, *states in segmentations:  # once their measurements are back
            self._put_segmentation(rid, lesion_id, date, states[becomes])
        for lesion_id, *states in lesions:
            if states[becomes] is None:
                self._db.execute("DELETE FROM lesions WHERE read_id=? AND lesion_id=?",
                                 (rid, lesion_id))

    @staticmethod
    def _same(lesion_id: str, date: str | None, expected: Any, actual: Any) -> None:
        def norm(v: Any) -> Any:
            return None if v is None else [bool(x) if isinstance(x, bool) else x for x in v]
        exp = norm(expected)
        act = norm(actual)
        if exp is not None and act is not None and len(act) == 4:  # a lesion: is_nodal 0/1
            exp, act = exp[:4], act
            exp[2], act[2] = int(exp[2]), int(act[2])
        if exp != act:
            where = f"{lesion_id}" + (f" at {date}" if date else "")
            raise StoreError(f"cannot undo or redo: {where} was changed since by something else "
                             "(another window, a copy from another read); nothing was changed")


__all__ = ["Edit", "ReadHistory"]
