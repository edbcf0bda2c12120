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
objects, validated on construction. :meth:`ReadStore.save_measurement` writes one measurement in
one statement, so an edit in the viewer costs five SQL statements (begin, the measurement, its
time point, the read's ``updated``, commit). :meth:`ReadStore.measurements_frame` gives the
engine's input table (docs/measurements-csv.md), so the viewer, the CSV export and
``response-tool assess`` share one path.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from response_tool.domain.errors import ResponseToolError, StoreError
from response_tool.domain.model import Lesion, Measurement, Read, TimePoint, frame_of, iso_date
from response_tool.domain.vocabulary import Role

from ._rows import (
    LESION_COLUMNS,
    MEASUREMENT_FIELDS,
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

#: lesion id prefix per role and nodal flag (T1, N1 for nodal targets, NT1, NEW1)
ID_PREFIX = {(Role.TARGET, False): "T", (Role.TARGET, True): "N", (Role.NON_TARGET, False): "NT",
             (Role.NON_TARGET, True): "NT", (Role.NEW, False): "NEW", (Role.NEW, True): "NEW"}


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


class ReadStore:
    """Reads saved transactionally in one SQLite file (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self._ids: dict[ReadKey, int] = {}  # read ids never change: looked up once per read
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            with self._transaction():
                for statement in filter(str.strip, SCHEMA.split(";")):
                    self._db.execute(statement)
                self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                                 (str(SCHEMA_VERSION),))
                migrate(self._db)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a readable read store ({exc}); choose another file "
                             "or move this one aside") from exc
        version = int(self._db.execute("SELECT value FROM meta WHERE key='schema_version'")
                      .fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: written by a newer response-tool (store version "
                             f"{version}); update response-tool to open it")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ReadStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def trace(self, callback: Any) -> None:
        """Call ``callback(sql)`` for every SQL statement run (None: stop) — for measuring."""
        self._db.set_trace_callback(callback)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- reads ----------------------------------------------------------------------------------
    def _read_id(self, key: ReadKey, create: bool = False) -> int:
        if key in self._ids:
            return self._ids[key]
        row = self._db.execute("SELECT id FROM reads WHERE patient_id=? AND reader_id=?",
                               (key.patient_id, key.reader_id)).fetchone()
        if row:
            self._ids[key] = int(row[0])
            return self._ids[key]
        if not create:
            raise StoreError(f"no read of patient {key.patient_id} by reader {key.reader_id} in "
                             f"{self.path}")
        now = _now()
        cur = self._db.execute("INSERT INTO reads (patient_id, reader_id, created, updated) "
                               "VALUES (?, ?, ?, ?)", (key.patient_id, key.reader_id, now, now))
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
        return [ReadKey(r[0], r[1]) for r in self._db.execute(
            "SELECT patient_id, reader_id FROM reads ORDER BY patient_id, reader_id")]

    def load(self, key: ReadKey) -> Read:
        """The whole read: lesions, time points and measurements (three queries)."""
        return Read(key.patient_id, key.reader_id, tuple(self.lesions(key)),
                    tuple(self.timepoints(key)), tuple(self.measurements(key)))

    def _touch(self, read_id: int) -> None:
        self._db.execute("UPDATE reads SET updated=? WHERE id=?", (_now(), read_id))

    # -- time points ----------------------------------------------------------------------------
    def add_timepoint(self, key: ReadKey, date: dt.date | str, study_uid: str | None = None) -> str:
        d = _date(date)
        with self._transaction():
            rid = self._read_id(key)
            self._db.execute("INSERT INTO timepoints VALUES (?, ?, ?) ON CONFLICT(read_id, date) "
                             "DO UPDATE SET study_uid=excluded.study_uid", (rid, d, study_uid))
            self._touch(rid)
        return d

    def timepoints(self, key: ReadKey) -> list[TimePoint]:
        rid = self._read_id(key)
        return [timepoint_of(r) for r in self._db.execute(
            "SELECT date, study_uid FROM timepoints WHERE read_id=? ORDER BY date", (rid,))]

    # -- lesions --------------------------------------------------------------------------------
    def next_lesion_id(self, key: ReadKey, role: str, is_nodal: bool = False) -> str:
        rid = self._read_id(key)
        used = [r[0] for r in self._db.execute("SELECT lesion_id FROM lesions WHERE read_id=?",
                                               (rid,))]
        return next_lesion_id(used, role, is_nodal)

    def add_lesion(self, key: ReadKey, role: str, organ: str, is_nodal: bool = False,
                   lesion_id: str | None = None) -> str:
        """A new lesion with the next free id of its kind (T…, N… for nodal targets, NT…, NEW…)."""
        if role not in tuple(Role):
            raise StoreError(f"role {role!r}: use one of {', '.join(Role)}")
        if not str(organ).strip():
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
            self._touch(rid)
        return lid

    def update_lesion(self, key: ReadKey, lesion_id: str, **fields: Any) -> None:
        allowed = {"organ", "is_nodal", "override_reason"}
        unknown = set(fields) - allowed
        if unknown:
            raise StoreError(f"cannot change {', '.join(sorted(unknown))} of a lesion")
        with self._transaction():
            rid = self._read_id(key)
            self._lesion_exists(rid, lesion_id)
            for name, value in fields.items():
                value = int(bool(value)) if name == "is_nodal" else str(value)
                self._db.execute(f"UPDATE lesions SET {name}=? WHERE read_id=? AND lesion_id=?",
                                 (value, rid, lesion_id))
            self._touch(rid)

    def delete_lesion(self, key: ReadKey, lesion_id: str) -> None:
        with self._transaction():
            rid = self._read_id(key)
            self._lesion_exists(rid, lesion_id)
            self._db.execute("DELETE FROM lesions WHERE read_id=? AND lesion_id=?", (rid, lesion_id))
            self._touch(rid)

    def _lesion_exists(self, rid: int, lesion_id: str) -> None:
        if not self._db.execute("SELECT 1 FROM lesions WHERE read_id=? AND lesion_id=?",
                                (rid, lesion_id)).fetchone():
            raise StoreError(f"no lesion {lesion_id} in this read")

    def lesions(self, key: ReadKey) -> list[Lesion]:
        rid = self._read_id(key)
        return [lesion_of(r) for r in self._db.execute(
            f"SELECT {LESION_COLUMNS} FROM lesions WHERE read_id=? ORDER BY created, lesion_id",
            (rid,))]

    # -- measurements ---------------------------------------------------------------------------
    def save_measurement(self, key: ReadKey, m: Measurement) -> None:
        """Write ``m`` whole (created or replaced) in one transaction of five statements."""
        with self._transaction():
            rid = self._read_id(key)
            try:
                self._db.execute(UPSERT_MEASUREMENT, (rid, m.lesion_id, m.date,
                                                      *measurement_params(m), _now()))
            except sqlite3.IntegrityError as exc:  # the lesion's foreign key
                raise StoreError(f"no lesion {m.lesion_id} in this read") from exc
            self._db.execute("INSERT OR IGNORE INTO timepoints (read_id, date) VALUES (?, ?)",
                             (rid, m.date))
            self._touch(rid)

    def measurement(self, key: ReadKey, lesion_id: str, date: dt.date | str) -> Measurement | None:
        rid = self._read_id(key)
        row = self._db.execute(SELECT_MEASUREMENTS.replace("WHERE read_id=?", "WHERE read_id=? AND "
                                                           "lesion_id=? AND date=?"),
                               (rid, lesion_id, _date(date))).fetchone()
        return None if row is None else measurement_of(row)

    def set_measurement(self, key: ReadKey, lesion_id: str, date: dt.date | str,
                        **fields: Any) -> Measurement:
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
        self.save_measurement(key, m)
        return m

    def clear_measurement(self, key: ReadKey, lesion_id: str, date: dt.date | str) -> None:
        """Back to "not yet measured" at ``date``."""
        with self._transaction():
            rid = self._read_id(key)
            self._db.execute("DELETE FROM measurements WHERE read_id=? AND lesion_id=? AND date=?",
                             (rid, lesion_id, _date(date)))
            self._touch(rid)

    def measurements(self, key: ReadKey) -> list[Measurement]:
        rid = self._read_id(key)
        return [measurement_of(r) for r in self._db.execute(SELECT_MEASUREMENTS, (rid,))]

    # -- several readers ------------------------------------------------------------------------
    def readers(self, patient_id: str) -> list[str]:
        """Reader ids with a read of ``patient_id``."""
        return [r[0] for r in self._db.execute(
            "SELECT reader_id FROM reads WHERE patient_id=? ORDER BY reader_id", (patient_id,))]

    def copy_lesions(self, source: ReadKey, target: ReadKey, roles: Sequence[str] = (
            "target", "non-target")) -> list[str]:
        """Give ``target`` the lesions of ``source`` (ids, roles, organs; no measurements) that it
        lacks — targets fixed by a lead reader, re-measured blind by the others. One transaction;
        returns the ids copied."""
        copied = []
        with self._transaction():
            src, dst = self._read_id(source), self._read_id(target, create=True)
            have = {r[0] for r in self._db.execute("SELECT lesion_id FROM lesions WHERE read_id=?",
                                                   (dst,))}
            for r in self._db.execute(f"SELECT {LESION_COLUMNS}, created FROM lesions WHERE "
                                      "read_id=? ORDER BY created, lesion_id", (src,)).fetchall():
                if r[1] in roles and r[0] not in have:
                    self._db.execute(f"INSERT INTO lesions (read_id, {LESION_COLUMNS}, created) "
                                     "VALUES (?, ?, ?, ?, ?, ?, ?)", (dst, *tuple(r)))
                    copied.append(r[0])
            self._touch(dst)
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
            self._touch(dst)

    def _copy_rows(self, table: str, src: int, dst: int, where: str, params: tuple[Any, ...]
                   ) -> None:
        cols = ", ".join(r[1] for r in self._db.execute(f"PRAGMA table_info({table})")
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
            lesion = self._db.execute(f"SELECT {LESION_COLUMNS}, created FROM lesions WHERE "
                                      "read_id=? AND lesion_id=?", (src, lesion_id)).fetchone()
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
            self._touch(dst)

    # -- phase overrides ------------------------------------------------------------------------
    def set_phase_override(self, key: ReadKey, series_uid: str, phase: str | None) -> None:
        with self._transaction():
            rid = self._read_id(key)
            if phase is None:
                self._db.execute("DELETE FROM phase_overrides WHERE read_id=? AND series_uid=?",
                                 (rid, series_uid))
            else:
                self._db.execute("INSERT INTO phase_overrides VALUES (?, ?, ?) ON CONFLICT "
                                 "(read_id, series_uid) DO UPDATE SET phase=excluded.phase",
                                 (rid, series_uid, phase))
            self._touch(rid)

    def phase_overrides(self, key: ReadKey) -> dict[str, str]:
        rid = self._read_id(key)
        return {r[0]: r[1] for r in self._db.execute(
            "SELECT series_uid, phase FROM phase_overrides WHERE read_id=?", (rid,))}

    # -- hepatic tumour burden -------------------------------------------------------------------
    _BURDEN = ("date", "method", "scheme", "htb_pct", "category", "ci_low", "ci_high", "slices",
               "liver_areas_mm2", "tumor_areas_mm2", "updated")

    def set_burden(self, key: ReadKey, date: dt.date | str, estimate: Any) -> None:
        """Store a :class:`~response_tool.burden.BurdenEstimate` with the time point."""
        ci = estimate.ci95_pct or (None, None)
        d = _date(date)
        names = self._BURDEN[1:]
        with self._transaction():
            rid = self._read_id(key)
            self._db.execute(
                f"INSERT INTO burden (read_id, {', '.join(self._BURDEN)}) VALUES "
                f"({', '.join('?' * (len(self._BURDEN) + 1))}) ON CONFLICT (read_id, date) DO "
                "UPDATE SET " + ", ".join(f"{c}=excluded.{c}" for c in names),
                (rid, d, estimate.method, estimate.scheme, estimate.htb_pct, estimate.category,
                 ci[0], ci[1], json.dumps(list(estimate.slices)),
                 json.dumps(list(estimate.slice_liver_area_mm2)),
                 json.dumps(list(estimate.slice_tumor_area_mm2)), _now()))
            self._db.execute("INSERT OR IGNORE INTO timepoints (read_id, date) VALUES (?, ?)",
                             (rid, d))
            self._touch(rid)

    def burden(self, key: ReadKey) -> list[dict[str, Any]]:
        """The burden estimates saved with each time point (one dict per time point)."""
        rid = self._read_id(key)
        out = []
        for r in self._db.execute(f"SELECT {', '.join(self._BURDEN)} FROM burden WHERE read_id=? "
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


__all__ = ["ID_PREFIX", "ReadKey", "ReadStore", "StoreError", "default_path", "next_lesion_id"]
