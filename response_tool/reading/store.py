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
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import re
import sqlite3
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from response_tool.domain.errors import ResponseToolError, StoreError
from response_tool.domain.measurements import MAX_DIAMETER_MM
from response_tool.domain.model import Lesion, Measurement, Read, TimePoint, frame_of, iso_date
from response_tool.domain.vocabulary import Phase, Role

from ._rows import (
    LESION_COLUMNS,
    MEASUREMENT_FIELDS,
    SCHEMA,
    SCHEMA_VERSION,
    SELECT_MEASUREMENTS,
    TOUCH_READ,
    UPSERT_MEASUREMENT,
    lesion_of,
    measurement_of,
    measurement_params,
    migrate,
    timepoint_of,
)

#: lesion id prefix per role and nodal flag (T1, N1 for nodal targets, NT1, NEW1)
ID_PREFIX = {(Role.TARGET, False): "T", (Role.TARGET, True): "N", (Role.NON_TARGET, False): "NT",
             (Role.NON_TARGET, True): "NT", (Role.NEW, False): "NEW", (Role.NEW, True): "NEW"}


#: How long a write waits for another writer (another window or process) to finish before it is
#: told the store is busy, in seconds (SQLite's busy timeout).
BUSY_TIMEOUT_S = 5.0
#: The largest plausible coordinate of a drawn point, in patient millimetres from the scanner's
#: origin (any axis): a scanner's field of view and table travel are well inside it.
MAX_COORDINATE_MM = 10_000.0
#: The largest plausible area of the liver or tumour on one slice (mm²): a 1 m × 1 m slice.
MAX_SLICE_AREA_MM2 = 1_000_000.0


def default_path() -> Path:
    """``reads.sqlite`` in the user's data folder (``RESPONSE_TOOL_STORE`` overrides it)."""
    env = os.environ.get("RESPONSE_TOOL_STORE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("response-tool", appauthor=False)) / "reads.sqlite"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _date(value: dt.date | str) -> str:
    try:
        return iso_date(value)
    except ResponseToolError as exc:
        raise StoreError(str(exc)) from exc


def next_lesion_id(used: Sequence[str], role: str, is_nodal: bool = False) -> str:
    """The next free id of its kind among ``used`` (T…, N… for nodal targets, NT…, NEW…)."""
    prefix = ID_PREFIX[(Role(role), bool(is_nodal))]
    numbers = [int(m.group(1)) for u in used if (m := re.fullmatch(rf"{prefix}(\d+)", u))]
    return f"{prefix}{max(numbers, default=0) + 1}"


@dataclass(frozen=True)
class ReadKey:
    patient_id: str
    reader_id: str


def _checkpoint_and_close(db: sqlite3.Connection) -> None:
    """Move the write-ahead log into the main file and close (at close, collection or exit)."""
    try:
        with contextlib.suppress(sqlite3.Error):
            if db.in_transaction:
                db.execute("ROLLBACK")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        with contextlib.suppress(sqlite3.Error):
            db.close()


def _code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF  # the primary result code


def _finite(value: Any, what: str, low: float, high: float, unit: str) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or not low <= number <= high:
        raise StoreError(f"{what} {value!r} must be a finite number from {low:g} to {high:g} "
                         f"{unit}")
    return number


def check_measurement(m: Measurement) -> None:
    """Refuse what the domain model lets through but no scanner can give: drawn points farther
    than :data:`MAX_COORDINATE_MM` from the origin, a drawn line longer than
    :data:`~response_tool.domain.measurements.MAX_DIAMETER_MM`, a negative slice index. (The model
    itself refuses non-finite numbers and diameters above the maximum; they are checked again here,
    for a measurement changed behind the model's back.)"""
    where = f"{m.lesion_id} ({m.date})"
    for name in ("long_axis_mm", "short_axis_mm", "viable_long_axis_mm"):  # again: an object
        _finite(getattr(m, name), f"{where}: {name}", 0.0, MAX_DIAMETER_MM, "mm")  # may be forged
    for name in ("long_endpoints", "short_endpoints", "viable_endpoints", "mark_point"):
        value = getattr(m, name)
        if value is None:
            continue
        points = value if name != "mark_point" else (value,)
        if any(abs(c) > MAX_COORDINATE_MM for p in points for c in p):
            raise StoreError(f"{where}: {name} {value!r} lies more than {MAX_COORDINATE_MM:g} mm "
                             "from the scanner's origin: not a point of the image; check the "
                             "unit (patient mm)")
        if name != "mark_point" and math.dist(*points) > MAX_DIAMETER_MM:
            raise StoreError(f"{where}: {name} is a line of {math.dist(*points):.0f} mm, larger "
                             f"than {MAX_DIAMETER_MM:g} mm: not a diameter; check the unit (mm)")
    if m.slice_index is not None and m.slice_index < 0:
        raise StoreError(f"{where}: slice_index {m.slice_index} must be 0 or more")


class ReadStore:
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
        self._finalizer = weakref.finalize(self, _checkpoint_and_close, db)
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
        code = _code(exc)
        text = str(exc)
        if isinstance(exc, sqlite3.ProgrammingError) and "closed" in text.lower():
            return StoreError(f"{self.path}: the read store was closed; open it again")
        if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in text.lower():
            return StoreError(
                f"{self.path}: busy — another window or process is writing this read store "
                f"(waited {self.busy_timeout_s:g} s); nothing was saved: try again in a moment, "
                "or finish in the other window first")
        if code == sqlite3.SQLITE_READONLY or "readonly" in text.lower():
            return StoreError(f"{self.path}: cannot write the read store ({text}); check that you "
                              "may write the file and its folder, or choose another store file")
        if code == sqlite3.SQLITE_FULL:
            return StoreError(f"{self.path}: the disk is full; nothing was saved: free some space "
                              "and try again")
        if isinstance(exc, sqlite3.IntegrityError):
            return StoreError(f"{self.path}: the change breaks a rule of the read store ({text}); "
                              "nothing was saved")
        if code == sqlite3.SQLITE_CANTOPEN:
            return StoreError(f"{self.path}: cannot open the read store ({text}); check the path "
                              "and that you may write its folder")
        return StoreError(f"{self.path}: not a readable read store ({text}); choose another file "
                          "or move this one aside (keep it: it may be recoverable)")

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

    # -- versions ---------------------------------------------------------------------------------
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
        return read, int(version)

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
        return d

    def timepoints(self, key: ReadKey) -> list[TimePoint]:
        rid = self._read_id(key)
        return [timepoint_of(r) for r in self._rows(
            "SELECT date, study_uid FROM timepoints WHERE read_id=? ORDER BY date", (rid,))]

    # -- lesions --------------------------------------------------------------------------------
    def next_lesion_id(self, key: ReadKey, role: str, is_nodal: bool = False) -> str:
        rid = self._read_id(key)
        used = [r[0] for r in self._rows("SELECT lesion_id FROM lesions WHERE read_id=?", (rid,))]
        return next_lesion_id(used, role, is_nodal)

    def add_lesion(self, key: ReadKey, role: str, organ: str, is_nodal: bool = False,
                   lesion_id: str | None = None, *, expect: int | None = None) -> str:
        """A new lesion with the next free id of its kind (T…, N… for nodal targets, NT…, NEW…)."""
        if role not in tuple(Role):
            raise StoreError(f"role {role!r}: use one of {', '.join(Role)}")
        if organ is None or not str(organ).strip():
            raise StoreError("a lesion needs its organ")
        with self._transaction():
            rid = self._read_id(key)
            lid = lesion_id or self.next_lesion_id(key, role, is_nodal)
            try:
                self._db.execute("INSERT INTO lesions (read_id, lesion_id, role, organ, is_nodal, "
                                 "created) VALUES (?, ?, ?, ?, ?, ?)",
                                 (rid, lid, role, organ, int(bool(is_nodal)), _now()))
            except sqlite3.IntegrityError as exc:
                raise StoreError(f"lesion {lid} already exists in this read") from exc
            self._touch(key, rid, expect)
        return lid

    def update_lesion(self, key: ReadKey, lesion_id: str, *, expect: int | None = None,
                      **fields: Any) -> None:
        """Change the organ, the nodal flag or the override reason of a lesion (validated as a
        :class:`~response_tool.domain.model.Lesion`)."""
        allowed = {"organ", "is_nodal", "override_reason"}
        unknown = set(fields) - allowed
        if unknown:
            raise StoreError(f"cannot change {', '.join(sorted(unknown))} of a lesion")
        if "is_nodal" in fields and fields["is_nodal"] not in (True, False, 0, 1):
            raise StoreError(f"lesion {lesion_id}: is_nodal {fields['is_nodal']!r} must be true "
                             "or false")
        for name in ("organ", "override_reason"):
            if name in fields and fields[name] is not None and not isinstance(fields[name], str):
                raise StoreError(f"lesion {lesion_id}: {name} {fields[name]!r} must be text")
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

    def delete_lesion(self, key: ReadKey, lesion_id: str, *, expect: int | None = None) -> None:
        with self._transaction():
            rid = self._read_id(key)
            self._lesion_exists(rid, lesion_id)
            self._db.execute("DELETE FROM lesions WHERE read_id=? AND lesion_id=?", (rid, lesion_id))
            self._touch(key, rid, expect)

    def _lesion_exists(self, rid: int, lesion_id: str) -> None:
        if not self._one("SELECT 1 FROM lesions WHERE read_id=? AND lesion_id=?",
                         (rid, lesion_id)):
            raise StoreError(f"no lesion {lesion_id} in this read")

    def lesions(self, key: ReadKey) -> list[Lesion]:
        rid = self._read_id(key)
        return [lesion_of(r) for r in self._rows(
            f"SELECT {LESION_COLUMNS} FROM lesions WHERE read_id=? ORDER BY created, lesion_id",
            (rid,))]

    # -- measurements ---------------------------------------------------------------------------
    def save_measurement(self, key: ReadKey, m: Measurement, *,
                         expect: int | None = None) -> int:
        """Write ``m`` whole (created or replaced) in one transaction of five statements; returns
        the read's new version."""
        if not isinstance(m, Measurement):
            raise StoreError(f"not a measurement: {m!r}")
        check_measurement(m)
        with self._transaction():
            rid = self._read_id(key)
            try:
                self._db.execute(UPSERT_MEASUREMENT, (rid, m.lesion_id, m.date,
                                                      *measurement_params(m), _now()))
            except sqlite3.IntegrityError as exc:  # the lesion's foreign key
                raise StoreError(f"no lesion {m.lesion_id} in this read") from exc
            self._db.execute("INSERT OR IGNORE INTO timepoints (read_id, date) VALUES (?, ?)",
                             (rid, m.date))
            self._touch(key, rid, expect)
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
        unknown = set(fields) - set(MEASUREMENT_FIELDS)
        if unknown:
            raise StoreError(f"unknown measurement field(s) {', '.join(sorted(unknown))}")
        d = _date(date)
        old = self.measurement(key, lesion_id, d)
        try:
            m = Measurement(lesion_id, d, **fields) if old is None else old.with_changes(**fields)
        except ResponseToolError as exc:
            raise StoreError(str(exc)) from exc
        self.save_measurement(key, m, expect=expect)
        return m

    def clear_measurement(self, key: ReadKey, lesion_id: str, date: dt.date | str, *,
                          expect: int | None = None) -> None:
        """Back to "not yet measured" at ``date``."""
        d = _date(date)
        with self._transaction():
            rid = self._read_id(key)
            self._db.execute("DELETE FROM measurements WHERE read_id=? AND lesion_id=? AND date=?",
                             (rid, lesion_id, d))
            self._touch(key, rid, expect)

    def measurements(self, key: ReadKey) -> list[Measurement]:
        rid = self._read_id(key)
        return [measurement_of(r) for r in self._rows(SELECT_MEASUREMENTS, (rid,))]

    # -- several readers ------------------------------------------------------------------------
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
        endpoints, phase overrides, burden) in one transaction — e.g. an adjudicated read (ADJ)
        started from one reader's read."""
        with self._transaction():
            src, dst = self._read_id(source), self._read_id(target, create=True)
            for table in ("measurements", "lesions", "timepoints", "phase_overrides", "burden"):
                self._db.execute(f"DELETE FROM {table} WHERE read_id=?", (dst,))
            for table in ("timepoints", "lesions", "measurements", "phase_overrides", "burden"):
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
        is added to ``target`` if missing); no measurement in ``source`` clears ``target``'s."""
        d = _date(date)
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
            self._copy_rows("measurements", src, dst, "read_id=? AND lesion_id=? AND date=?",
                            (lesion_id, d))
            self._db.execute("INSERT OR IGNORE INTO timepoints (read_id, date) VALUES (?, ?)",
                             (dst, d))
            self._touch(target, dst)

    # -- phase overrides ------------------------------------------------------------------------
    def set_phase_override(self, key: ReadKey, series_uid: str, phase: str | None, *,
                           expect: int | None = None) -> None:
        if phase is not None and phase not in tuple(Phase):
            raise StoreError(f"phase {phase!r}: use one of {', '.join(Phase)}")
        with self._transaction():
            rid = self._read_id(key)
            if phase is None:
                self._db.execute("DELETE FROM phase_overrides WHERE read_id=? AND series_uid=?",
                                 (rid, series_uid))
            else:
                self._db.execute("INSERT INTO phase_overrides VALUES (?, ?, ?) ON CONFLICT "
                                 "(read_id, series_uid) DO UPDATE SET phase=excluded.phase",
                                 (rid, series_uid, str(phase)))
            self._touch(key, rid, expect)

    def phase_overrides(self, key: ReadKey) -> dict[str, str]:
        rid = self._read_id(key)
        return {r[0]: r[1] for r in self._rows(
            "SELECT series_uid, phase FROM phase_overrides WHERE read_id=?", (rid,))}

    # -- hepatic tumour burden -------------------------------------------------------------------
    _BURDEN = ("date", "method", "scheme", "htb_pct", "category", "ci_low", "ci_high", "slices",
               "liver_areas_mm2", "tumor_areas_mm2", "updated")

    @staticmethod
    def _burden_values(estimate: Any) -> tuple[Any, ...]:
        """The estimate's values as stored, refused unless finite and plausible."""
        what = "burden estimate"
        try:
            method, scheme, category = (estimate.method, estimate.scheme, estimate.category)
            pct, ci = estimate.htb_pct, estimate.ci95_pct
            slices, liver, tumour = (list(estimate.slices), list(estimate.slice_liver_area_mm2),
                                     list(estimate.slice_tumor_area_mm2))
        except (AttributeError, TypeError) as exc:
            raise StoreError(f"not a burden estimate ({exc})") from exc
        for name, text in (("method", method), ("scheme", scheme)):
            if not isinstance(text, str) or not text.strip():
                raise StoreError(f"{what}: {name} {text!r} must be a name")
        if not isinstance(category, str):
            raise StoreError(f"{what}: category {category!r} must be text")
        pct = _finite(pct, f"{what}: htb_pct", 0.0, 100.0, "%")
        if ci is not None and len(ci) != 2:
            raise StoreError(f"{what}: ci95_pct must be two numbers (low, high)")
        low, high = (None, None) if ci is None else (
            _finite(ci[0], f"{what}: ci95_pct low", 0.0, 100.0, "%"),
            _finite(ci[1], f"{what}: ci95_pct high", 0.0, 100.0, "%"))
        if low is not None and high is not None and low > high:
            raise StoreError(f"{what}: ci95_pct {low:g}–{high:g}: low above high")
        for name, areas in (("slice_liver_area_mm2", liver), ("slice_tumor_area_mm2", tumour)):
            if areas and len(areas) != len(slices):
                raise StoreError(f"{what}: {len(areas)} {name} for {len(slices)} slices")
            areas[:] = [_finite(a, f"{what}: {name}", 0.0, MAX_SLICE_AREA_MM2, "mm²")
                        for a in areas]
        if any(isinstance(k, bool) or not isinstance(k, int) or k < 0 for k in slices):
            raise StoreError(f"{what}: slices {slices!r} must be slice indices (0 or more)")
        return (method, scheme, pct, category, low, high, json.dumps(slices), json.dumps(liver),
                json.dumps(tumour))

    def set_burden(self, key: ReadKey, date: dt.date | str, estimate: Any, *,
                   expect: int | None = None) -> None:
        """Store a :class:`~response_tool.burden.BurdenEstimate` with the time point."""
        values = self._burden_values(estimate)
        d = _date(date)
        names = self._BURDEN[1:]
        with self._transaction():
            rid = self._read_id(key)
            self._db.execute(
                f"INSERT INTO burden (read_id, {', '.join(self._BURDEN)}) VALUES "
                f"({', '.join('?' * (len(self._BURDEN) + 1))}) ON CONFLICT (read_id, date) DO "
                "UPDATE SET " + ", ".join(f"{c}=excluded.{c}" for c in names),
                (rid, d, *values, _now()))
            self._db.execute("INSERT OR IGNORE INTO timepoints (read_id, date) VALUES (?, ?)",
                             (rid, d))
            self._touch(key, rid, expect)

    def burden(self, key: ReadKey) -> list[dict[str, Any]]:
        """The burden estimates saved with each time point (one dict per time point)."""
        rid = self._read_id(key)
        out = []
        for r in self._rows(f"SELECT {', '.join(self._BURDEN)} FROM burden WHERE read_id=? "
                            "ORDER BY date", (rid,)):
            row = dict(zip(self._BURDEN, r, strict=True))
            for name in ("slices", "liver_areas_mm2", "tumor_areas_mm2"):
                row[name] = json.loads(row[name]) if row[name] else []
            out.append(row)
        return out

    def burden_frame(self, keys: Sequence[ReadKey] | None = None) -> pd.DataFrame:
        """The burden table ``assess(..., burden=...)`` takes (one row per read × time point)."""
        rows = [{"patient_id": k.patient_id, "reader_id": k.reader_id, "timepoint_date": b["date"],
                 "htb_pct": "" if b["htb_pct"] is None else b["htb_pct"],
                 "htb_category": b["category"], "htb_method": b["method"]}
                for k in (keys if keys is not None else self.reads()) for b in self.burden(k)]
        return pd.DataFrame(rows, columns=["patient_id", "reader_id", "timepoint_date", "htb_pct",
                                           "htb_category", "htb_method"])

    # -- export ---------------------------------------------------------------------------------
    def measurements_frame(self, keys: Sequence[ReadKey] | None = None) -> pd.DataFrame:
        """The engine's input table (docs/measurements-csv.md) for ``keys`` (default: every read).

        A lesion with no measurement at a time point has no row there (the engine reads a missing
        target as not evaluated)."""
        return frame_of(self.load(k) for k in (keys if keys is not None else self.reads()))

    def export_measurements_csv(self, path: str | os.PathLike[str],
                                keys: Sequence[ReadKey] | None = None) -> Path:
        """Write the measurements CSV (whole or not at all)."""
        from response_tool.io.measurements_csv import write_measurements

        write_measurements(self.measurements_frame(keys), path)
        return Path(path)


__all__ = ["BUSY_TIMEOUT_S", "ID_PREFIX", "MAX_COORDINATE_MM", "MAX_SLICE_AREA_MM2", "ReadKey",
           "ReadStore", "StoreError", "check_measurement", "default_path", "next_lesion_id"]
