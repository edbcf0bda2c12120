"""The read store: one reader's annotations of one patient, saved on every change.

An embedded SQLite database (by default ``reads.sqlite`` in the user's data folder, or a file the
reader chooses: image folders may be read-only). Each change is one transaction in WAL mode with
``synchronous=FULL``: a process killed during an edit loses at most that edit, and the file stays
readable. A read holds its time points, lesions (stable ids T1…, N1…, NT1…, NEW1…), their
measurements per time point (diameters, status, endpoints in patient millimetres, series UID,
phase, slice) and the reader's phase overrides.

The store speaks the domain model (:mod:`response_tool.domain.model`): it persists and returns
:class:`~response_tool.domain.model.Lesion`, :class:`~response_tool.domain.model.Measurement`,
:class:`~response_tool.domain.model.TimePoint` and whole :class:`~response_tool.domain.model.Read`
objects, validated on construction, and refuses what the engine would refuse later: non-finite
numbers, a diameter above :data:`~response_tool.domain.measurements.MAX_DIAMETER_MM`, a point
farther than :data:`MAX_COORDINATE_MM` from the scanner's origin, a burden outside 0–100 %.
:meth:`ReadStore.save_measurement` writes one measurement in one statement, so an edit in the
viewer costs five SQL statements (begin, the measurement, its time point, the read's ``updated``
and ``version``, commit). :meth:`ReadStore.measurements_frame` gives the engine's input table
(docs/measurements-csv.md), so the viewer, the CSV export and ``response-tool assess`` share one
path.

Several windows or processes on one store file:

* **Busy.** One writer at a time: a write waits up to :data:`BUSY_TIMEOUT_S` seconds for another
  writer to finish, then fails with a :class:`StoreError` saying the file is busy (which file, that
  another window or process is writing it, to try again) — nothing is saved, nothing is lost.
* **Two sessions on one read.** Every read has a ``version``, bumped by every write to it in the
  statement that records its ``updated`` time. A writer that last saw an older version (another
  window wrote since) is refused with a :class:`StoreError` naming the read: it was changed
  elsewhere; reload it (:meth:`ReadingSession.reload`) and make the change again. A store object
  remembers the version it loaded or wrote last per read; a session passes the version it loaded
  (``expect=``), so a session older than its store object's last load is refused too.
* **Closing.** :meth:`ReadStore.close` checkpoints the write-ahead log into the main file
  (``PRAGMA wal_checkpoint(TRUNCATE)``) and closes it, so the ``.sqlite`` file alone holds every
  read (copy it, mail it). A store not closed is checkpointed and closed when it is garbage
  collected or, at the latest, at interpreter exit (:func:`weakref.finalize`: the store is not
  kept alive by this).

The value checks are in :mod:`._checks`, the error messages in :mod:`._errors`, the version check in
:mod:`._versions`, the copies between readers in :mod:`._copies`, phase overrides, burden and the
engine's tables in :mod:`._burden`, the lesion segmentations in :mod:`._lesion_masks` (mixins of
:class:`ReadStore`); the schema is in :mod:`._rows`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sqlite3
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from response_tool.domain.errors import ResponseToolError, StoreError
from response_tool.domain.model import Lesion, Measurement, Read, TimePoint
from response_tool.domain.vocabulary import Role

from ._burden import OverridesAndBurden
from ._checks import (
    MAX_COORDINATE_MM,
    MAX_SLICE_AREA_MM2,
    check_lesion_changes,
    check_measurement,
    check_measurement_fields,
    check_new_lesion,
)
from ._checks import now as _now
from ._checks import store_date as _date
from ._copies import SeveralReaders
from ._errors import checkpoint_and_close, store_error
from ._history import Edit, ReadHistory
from ._lesion_masks import KEEP, LesionSegmentations, check_segmentation
from ._positions import ReaderPositions
from ._registrations import Registrations
from ._rows import (
    LESION_COLUMNS,
    SCHEMA,
    SCHEMA_VERSION,
    SELECT_MEASUREMENTS,
    UPSERT_MEASUREMENT,
    lesion_of,
    measurement_of,
    measurement_params,
    migrate,
    timepoint_of,
)
from ._versions import ReadVersions

#: lesion id prefix per role and nodal flag (T1, N1 for nodal targets, NT1, NEW1)
ID_PREFIX = {(Role.TARGET, False): "T", (Role.TARGET, True): "N", (Role.NON_TARGET, False): "NT",
             (Role.NON_TARGET, True): "NT", (Role.NEW, False): "NEW", (Role.NEW, True): "NEW"}


#: How long a write waits for another writer (another window or process) to finish before it is
#: told the store is busy, in seconds (SQLite's busy timeout).
BUSY_TIMEOUT_S = 5.0


def default_path() -> Path:
    """``reads.sqlite`` in the user's data folder (``RESPONSE_TOOL_STORE`` overrides it)."""
    env = os.environ.get("RESPONSE_TOOL_STORE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("response-tool", appauthor=False)) / "reads.sqlite"


def next_lesion_id(used: Sequence[str], role: str, is_nodal: bool = False) -> str:
    """The next free id of its kind among ``used`` (T…, N… for nodal targets, NT…, NEW…)."""
    prefix = ID_PREFIX[(Role(role), bool(is_nodal))]
    numbers = [int(m.group(1)) for u in used if (m := re.fullmatch(rf"{prefix}(\d+)", u))]
    return f"{prefix}{max(numbers, default=0) + 1}"


@dataclass(frozen=True)
class ReadKey:
    patient_id: str
    reader_id: str


class ReadStore(ReadVersions, ReadHistory, Registrations, SeveralReaders, OverridesAndBurden,
                LesionSegmentations, ReaderPositions):
    """Reads saved transactionally in one SQLite file (see the module docstring).

    ``busy_timeout_s``: how long a write waits for another writer (default
    :data:`BUSY_TIMEOUT_S`)."""

    def __init__(self, path: str | os.PathLike[str] | None = None,
                 busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.busy_timeout_s = float(busy_timeout_s)
        self._ids: dict[ReadKey, int] = {}  # read ids never change: looked up once per read
        # per read, (first, last) version this object knows: it loaded ``first`` (or first looked
        # the read up at it) and every version after it up to ``last`` is its own writes
        self._known: dict[ReadKey, tuple[int, int]] = {}
        self._pending: dict[ReadKey, tuple[int, int]] = {}  # the same, in the open transaction
        self._tail: dict[int, bool] = {}  # per read id: undone edits to drop at the next edit
        self._dates: dict[int, set[str]] = {}  # per read id: time points known to exist
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a folder, not a read store file; choose a file "
                             f"(e.g. {self.path / 'reads.sqlite'})")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot create its folder {self.path.parent} "
                             f"({exc.strerror or exc}); choose another store file") from exc
        try:
            db = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None,
                                 check_same_thread=False)
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        self._db = db
        self._finalizer = weakref.finalize(self, checkpoint_and_close, db)
        try:
            with self._errors():
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
                db.execute("PRAGMA foreign_keys=ON")
            with self._transaction():
                for statement in filter(str.strip, SCHEMA.split(";")):
                    db.execute(statement)
                db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                           (str(SCHEMA_VERSION),))
                migrate(db)
            (version,) = self._one("SELECT value FROM meta WHERE key='schema_version'")
        except StoreError:
            self._finalizer()
            raise
        if int(version) > SCHEMA_VERSION:
            self._finalizer()
            raise StoreError(f"{self.path}: written by a newer response-tool (store version "
                             f"{version}); update response-tool to open it")

    def close(self) -> None:
        """Checkpoint the write-ahead log into the ``.sqlite`` file and close it (idempotent)."""
        self._finalizer()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def __enter__(self) -> ReadStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def trace(self, callback: Any) -> None:
        """Call ``callback(sql)`` for every SQL statement run (None: stop) — for measuring."""
        with self._errors():
            self._db.set_trace_callback(callback)

    # -- errors ---------------------------------------------------------------------------------
    def _error(self, exc: sqlite3.Error) -> StoreError:
        """What an SQLite error means for the reader, as a :class:`StoreError`."""
        return store_error(self.path, self.busy_timeout_s, exc)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._errors():
            return self._db.execute(sql, params).fetchall()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._errors():
            return self._db.execute(sql, params).fetchone()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._errors():
            self._db.execute("BEGIN IMMEDIATE")
        self._pending = {}
        try:
            with self._errors():
                yield self._db
                self._db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            self._pending = {}
            raise
        self._known.update(self._pending)
        self._pending = {}

    # -- reads ----------------------------------------------------------------------------------
    def _read_id(self, key: ReadKey, create: bool = False) -> int:
        if key in self._ids:
            return self._ids[key]
        row = self._one("SELECT id, version FROM reads WHERE patient_id=? AND reader_id=?",
                        (key.patient_id, key.reader_id))
        if row:
            self._ids[key] = int(row[0])
            self._known.setdefault(key, (int(row[1]), int(row[1])))
            return self._ids[key]
        if not create:
            raise StoreError(f"no read of patient {key.patient_id} by reader {key.reader_id} in "
                             f"{self.path}")
        now = _now()
        cur = self._db.execute("INSERT INTO reads (patient_id, reader_id, created, updated, "
                               "version) VALUES (?, ?, ?, ?, 0)",
                               (key.patient_id, key.reader_id, now, now))
        self._pending[key] = (0, 0)
        return int(cur.lastrowid)  # type: ignore[arg-type]  (cached once committed: next call)

    def open_read(self, patient_id: str, reader_id: str) -> ReadKey:
        """The read of ``patient_id`` by ``reader_id``, created if new."""
        if not str(patient_id).strip() or not str(reader_id).strip():
            raise StoreError("a read needs a patient id and a reader id")
        key = ReadKey(str(patient_id), str(reader_id))
        with self._transaction():
            self._read_id(key, create=True)
        return key

    def reads(self) -> list[ReadKey]:
        return [ReadKey(r[0], r[1]) for r in self._rows(
            "SELECT patient_id, reader_id FROM reads ORDER BY patient_id, reader_id")]

    def load(self, key: ReadKey) -> Read:
        """The whole read: lesions, time points and measurements (one snapshot)."""
        return self.load_versioned(key)[0]

    def load_versioned(self, key: ReadKey) -> tuple[Read, int]:
        """The whole read and its version, read in one snapshot (what a session passes back as
        ``expect=`` with its writes)."""
        with self._errors():
            self._db.execute("BEGIN")
            try:
                rid = self._read_id(key)
                (version,) = self._one("SELECT version FROM reads WHERE id=?", (rid,))
                read = Read(key.patient_id, key.reader_id, tuple(self.lesions(key)),
                            tuple(self.timepoints(key)), tuple(self.measurements(key)))
            finally:
                self._db.execute("COMMIT")
        self._known[key] = (int(version), int(version))
        self._tail.pop(self._ids[key], None)  # another window may have undone edits
        return read, int(version)

    # -- time points ----------------------------------------------------------------------------
    # Every write below takes ``expect``: the version of the read the caller loaded (a session
    # passes its own); a write to a read changed elsewhere since is refused (module docstring).
    def add_timepoint(self, key: ReadKey, date: dt.date | str, study_uid: str | None = None, *,
                      expect: int | None = None) -> str:
        d = _date(date)
        with self._transaction():
            rid = self._read_id(key)
            self._db.execute("INSERT INTO timepoints VALUES (?, ?, ?) ON CONFLICT(read_id, date) "
                             "DO UPDATE SET study_uid=excluded.study_uid", (rid, d, study_uid))
            self._touch(key, rid, expect)
        self._dates.setdefault(rid, set()).add(d)
        return d

    def timepoints(self, key: ReadKey) -> list[TimePoint]:
        rid = self._read_id(key)
        found = [timepoint_of(r) for r in self._rows(
            "SELECT date, study_uid FROM timepoints WHERE read_id=? ORDER BY date", (rid,))]
        self._dates.setdefault(rid, set()).update(t.date for t in found)
        return found

    # -- lesions --------------------------------------------------------------------------------
    def next_lesion_id(self, key: ReadKey, role: str, is_nodal: bool = False) -> str:
        rid = self._read_id(key)
        used = [r[0] for r in self._rows("SELECT lesion_id FROM lesions WHERE read_id=?", (rid,))]
        return next_lesion_id(used, role, is_nodal)

    def add_lesion(self, key: ReadKey, role: str, organ: str, is_nodal: bool = False,
                   lesion_id: str | None = None, *, expect: int | None = None,
                   edit: Edit | None = None) -> str:
        """A new lesion with the next free id of its kind (T…, N… for nodal targets, NT…, NEW…)."""
        check_new_lesion(role, organ)
        with self._transaction():
            rid = self._read_id(key)
            lid = lesion_id or self.next_lesion_id(key, role, is_nodal)
            created = _now()
            try:
                self._db.execute("INSERT INTO lesions (read_id, lesion_id, role, organ, is_nodal, "
                                 "created) VALUES (?, ?, ?, ?, ?, ?)",
                                 (rid, lid, role, organ, int(bool(is_nodal)), created))
            except sqlite3.IntegrityError as exc:
                raise StoreError(f"lesion {lid} already exists in this read") from exc
            self._record(rid, edit, created={lid: created})
            self._touch(key, rid, expect)
        return lid

    def update_lesion(self, key: ReadKey, lesion_id: str, *, expect: int | None = None,
                      **fields: Any) -> None:
        """Change the organ, the nodal flag or the override reason of a lesion (validated as a
        :class:`~response_tool.domain.model.Lesion`)."""
        check_lesion_changes(lesion_id, fields)
        with self._transaction():
            rid = self._read_id(key)
            row = self._one(f"SELECT {LESION_COLUMNS} FROM lesions WHERE read_id=? AND "
                            "lesion_id=?", (rid, lesion_id))
            if row is None:
                raise StoreError(f"no lesion {lesion_id} in this read")
            old = lesion_of(row)
            values = {"organ": old.organ, "is_nodal": old.is_nodal,
                      "override_reason": old.override_reason, **fields}
            try:
                new = Lesion(lesion_id, old.role, values["organ"] or "", bool(values["is_nodal"]),
                             values["override_reason"] or "")
            except ResponseToolError as exc:
                raise StoreError(str(exc)) from exc
            self._db.execute("UPDATE lesions SET organ=?, is_nodal=?, override_reason=? WHERE "
                             "read_id=? AND lesion_id=?",
                             (new.organ, int(new.is_nodal), new.override_reason, rid, lesion_id))
            self._touch(key, rid, expect)

    def delete_lesion(self, key: ReadKey, lesion_id: str, *, expect: int | None = None,
                      edit: Edit | None = None) -> None:
        with self._transaction():
            rid = self._read_id(key)
            row = self._one("SELECT created FROM lesions WHERE read_id=? AND lesion_id=?",
                            (rid, lesion_id))
            if row is None:
                raise StoreError(f"no lesion {lesion_id} in this read")
            self._going(rid, lesion_id, None, edit)  # the cascade takes its segmentations
            self._db.execute("DELETE FROM lesions WHERE read_id=? AND lesion_id=?", (rid, lesion_id))
            self._record(rid, edit, created={lesion_id: row[0]})
            self._touch(key, rid, expect)

    def lesions(self, key: ReadKey) -> list[Lesion]:
        rid = self._read_id(key)
        return [lesion_of(r) for r in self._rows(
            f"SELECT {LESION_COLUMNS} FROM lesions WHERE read_id=? ORDER BY created, lesion_id",
            (rid,))]

    # -- measurements ---------------------------------------------------------------------------
    def save_measurement(self, key: ReadKey, m: Measurement, *,
                         expect: int | None = None, edit: Edit | None = None,
                         segmentation: Any = KEEP) -> int:
        """Write ``m`` whole (created or replaced) in one transaction of five statements (with
        ``edit``, the undo history row; the time point is written only when not yet known);
        returns the read's new version. ``segmentation``: the lesion's
        :class:`~._lesion_masks.LesionSegmentation` at that date, written in the same
        transaction (None removes it; :data:`~._lesion_masks.KEEP`, the default, leaves it)."""
        if not isinstance(m, Measurement):
            raise StoreError(f"not a measurement: {m!r}")
        check_measurement(m)
        mask = KEEP if segmentation is KEEP else check_segmentation(segmentation, m.lesion_id,
                                                                     m.date)
        with self._transaction():
            rid = self._read_id(key)
            try:
                self._db.execute(UPSERT_MEASUREMENT, (rid, m.lesion_id, m.date,
                                                      *measurement_params(m), _now()))
            except sqlite3.IntegrityError as exc:  # the lesion's foreign key
                raise StoreError(f"no lesion {m.lesion_id} in this read") from exc
            if m.date not in self._dates.get(rid, ()):
                self._db.execute("INSERT OR IGNORE INTO timepoints (read_id, date) VALUES (?, ?)",
                                 (rid, m.date))
            if mask is not KEEP:  # after the measurement: its row is the mask's foreign key
                self._replace_segmentation(rid, m.lesion_id, m.date, mask, edit)
            self._record(rid, edit)
            self._touch(key, rid, expect)
        self._dates.setdefault(rid, set()).add(m.date)
        return self._known[key][1]

    def measurement(self, key: ReadKey, lesion_id: str, date: dt.date | str) -> Measurement | None:
        rid = self._read_id(key)
        row = self._one(SELECT_MEASUREMENTS.replace("WHERE read_id=?", "WHERE read_id=? AND "
                                                    "lesion_id=? AND date=?"),
                        (rid, lesion_id, _date(date)))
        return None if row is None else measurement_of(row)

    def set_measurement(self, key: ReadKey, lesion_id: str, date: dt.date | str, *,
                        expect: int | None = None, **fields: Any) -> Measurement:
        """Create or update the measurement of ``lesion_id`` at ``date`` (only ``fields`` change;
        a new one is ``measured`` unless ``status`` says otherwise) and return it.

        Endpoints are ``[[z, y, x], [z, y, x]]`` in patient millimetres (or None)."""
        check_measurement_fields(fields)
        d = _date(date)
        old = self.measurement(key, lesion_id, d)
        try:
            m = Measurement(lesion_id, d, **fields) if old is None else old.with_changes(**fields)
        except ResponseToolError as exc:
            raise StoreError(str(exc)) from exc
        self.save_measurement(key, m, expect=expect)
        return m

    def clear_measurement(self, key: ReadKey, lesion_id: str, date: dt.date | str, *,
                          expect: int | None = None, edit: Edit | None = None) -> None:
        """Back to "not yet measured" at ``date`` (its segmentation goes with it)."""
        d = _date(date)
        with self._transaction():
            rid = self._read_id(key)
            self._going(rid, lesion_id, d, edit)
            self._db.execute("DELETE FROM measurements WHERE read_id=? AND lesion_id=? AND date=?",
                             (rid, lesion_id, d))
            self._record(rid, edit)
            self._touch(key, rid, expect)

    def measurements(self, key: ReadKey) -> list[Measurement]:
        rid = self._read_id(key)
        return [measurement_of(r) for r in self._rows(SELECT_MEASUREMENTS, (rid,))]


__all__ = ["BUSY_TIMEOUT_S", "ID_PREFIX", "MAX_COORDINATE_MM", "MAX_SLICE_AREA_MM2", "ReadKey",
           "ReadStore", "StoreError", "check_measurement", "default_path", "next_lesion_id"]
