"""The read store: one reader's annotations of one patient, saved on every change.

An embedded SQLite database (by default ``reads.sqlite`` in the user's data folder, or a file the
reader chooses: image folders may be read-only). Each change is one transaction in WAL mode with
``synchronous=FULL``: a process killed during an edit loses at most that edit, and the file stays
readable. A read holds its time points, lesions (stable ids T1…, N1…, NT1…, NEW1…), their
measurements per time point (diameters, status, endpoints in patient millimetres, series UID,
phase, slice) and the reader's phase overrides. :meth:`ReadStore.measurements_frame` gives the
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

from response_tool.domain.errors import StoreError
from response_tool.io.measurements_csv import ROLES, STATUSES

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reads (
    id INTEGER PRIMARY KEY, patient_id TEXT NOT NULL, reader_id TEXT NOT NULL,
    created TEXT NOT NULL, updated TEXT NOT NULL, UNIQUE (patient_id, reader_id));
CREATE TABLE IF NOT EXISTS timepoints (
    read_id INTEGER NOT NULL REFERENCES reads(id) ON DELETE CASCADE, date TEXT NOT NULL,
    study_uid TEXT, PRIMARY KEY (read_id, date));
CREATE TABLE IF NOT EXISTS lesions (
    read_id INTEGER NOT NULL REFERENCES reads(id) ON DELETE CASCADE, lesion_id TEXT NOT NULL,
    role TEXT NOT NULL, organ TEXT NOT NULL, is_nodal INTEGER NOT NULL,
    override_reason TEXT NOT NULL DEFAULT '', created TEXT NOT NULL,
    PRIMARY KEY (read_id, lesion_id));
CREATE TABLE IF NOT EXISTS measurements (
    read_id INTEGER NOT NULL, lesion_id TEXT NOT NULL, date TEXT NOT NULL,
    status TEXT NOT NULL, long_axis_mm REAL, short_axis_mm REAL, viable_long_axis_mm REAL,
    long_endpoints TEXT, short_endpoints TEXT, viable_endpoints TEXT,
    series_uid TEXT, viable_series_uid TEXT, phase TEXT, viable_phase TEXT, slice_index INTEGER,
    updated TEXT NOT NULL, mark_point TEXT,
    PRIMARY KEY (read_id, lesion_id, date),
    FOREIGN KEY (read_id, lesion_id) REFERENCES lesions(read_id, lesion_id) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS burden (
    read_id INTEGER NOT NULL REFERENCES reads(id) ON DELETE CASCADE, date TEXT NOT NULL,
    method TEXT NOT NULL, scheme TEXT NOT NULL, htb_pct REAL, category TEXT NOT NULL,
    ci_low REAL, ci_high REAL, slices TEXT, liver_areas_mm2 TEXT, tumor_areas_mm2 TEXT,
    updated TEXT NOT NULL, PRIMARY KEY (read_id, date));
CREATE TABLE IF NOT EXISTS phase_overrides (
    read_id INTEGER NOT NULL REFERENCES reads(id) ON DELETE CASCADE, series_uid TEXT NOT NULL,
    phase TEXT NOT NULL, PRIMARY KEY (read_id, series_uid));
"""
MEASUREMENT_FIELDS = ("status", "long_axis_mm", "short_axis_mm", "viable_long_axis_mm",
                      "long_endpoints", "short_endpoints", "viable_endpoints", "series_uid",
                      "viable_series_uid", "phase", "viable_phase", "slice_index", "mark_point")
_ENDPOINTS = ("long_endpoints", "short_endpoints", "viable_endpoints")
_PREFIX = {("target", False): "T", ("target", True): "N", ("non-target", False): "NT",
           ("non-target", True): "NT", ("new", False): "NEW", ("new", True): "NEW"}



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
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError as exc:
        raise StoreError(f"{value!r} is not a date; use YYYY-MM-DD") from exc


@dataclass(frozen=True)
class ReadKey:
    patient_id: str
    reader_id: str


class ReadStore:
    """Reads saved transactionally in one SQLite file (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            with self._transaction():
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    self._db.execute(statement)
                self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                                 (str(SCHEMA_VERSION),))
                columns = {r[1] for r in self._db.execute("PRAGMA table_info(measurements)")}
                if "mark_point" not in columns:  # stores written before lesion marks existed
                    self._db.execute("ALTER TABLE measurements ADD COLUMN mark_point TEXT")
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
        row = self._db.execute("SELECT id FROM reads WHERE patient_id=? AND reader_id=?",
                               (key.patient_id, key.reader_id)).fetchone()
        if row:
            return int(row[0])
        if not create:
            raise StoreError(f"no read of patient {key.patient_id} by reader {key.reader_id} in "
                             f"{self.path}")
        now = _now()
        cur = self._db.execute("INSERT INTO reads (patient_id, reader_id, created, updated) "
                               "VALUES (?, ?, ?, ?)", (key.patient_id, key.reader_id, now, now))
        return int(cur.lastrowid)  # type: ignore[arg-type]

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

    def timepoints(self, key: ReadKey) -> list[dict[str, Any]]:
        rid = self._read_id(key)
        return [dict(r) for r in self._db.execute(
            "SELECT date, study_uid FROM timepoints WHERE read_id=? ORDER BY date", (rid,))]

    # -- lesions --------------------------------------------------------------------------------
    def next_lesion_id(self, key: ReadKey, role: str, is_nodal: bool = False) -> str:
        prefix = _PREFIX[(role, bool(is_nodal))]
        rid = self._read_id(key)
        used = [r[0] for r in self._db.execute("SELECT lesion_id FROM lesions WHERE read_id=?",
                                               (rid,))]
        numbers = [int(m.group(1)) for u in used if (m := re.fullmatch(rf"{prefix}(\d+)", u))]
        return f"{prefix}{max(numbers, default=0) + 1}"

    def add_lesion(self, key: ReadKey, role: str, organ: str, is_nodal: bool = False,
                   lesion_id: str | None = None) -> str:
        """A new lesion with the next free id of its kind (T…, N… for nodal targets, NT…, NEW…)."""
        if role not in ROLES:
            raise StoreError(f"role {role!r}: use one of {', '.join(ROLES)}")
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

    def lesions(self, key: ReadKey) -> list[dict[str, Any]]:
        rid = self._read_id(key)
        rows = self._db.execute("SELECT lesion_id, role, organ, is_nodal, override_reason, created "
                                "FROM lesions WHERE read_id=? ORDER BY created, lesion_id", (rid,))
        return [{**dict(r), "is_nodal": bool(r["is_nodal"])} for r in rows]

    # -- measurements ---------------------------------------------------------------------------
    def set_measurement(self, key: ReadKey, lesion_id: str, date: dt.date | str,
                        **fields: Any) -> None:
        """Create or update the measurement of ``lesion_id`` at ``date`` (only ``fields`` change).

        Endpoints are ``[[z, y, x], [z, y, x]]`` in patient millimetres (or None)."""
        unknown = set(fields) - set(MEASUREMENT_FIELDS)
        if unknown:
            raise StoreError(f"unknown measurement field(s) {', '.join(sorted(unknown))}")
        if "status" in fields and fields["status"] not in STATUSES:
            raise StoreError(f"status {fields['status']!r}: use one of {', '.join(STATUSES)}")
        for name in ("long_axis_mm", "short_axis_mm", "viable_long_axis_mm"):
            value = fields.get(name)
            try:
                ok = value is None or float(value) >= 0
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise StoreError(f"{lesion_id}: {name} {value!r} must be a number ≥ 0")
        values = {k: (json.dumps([[float(c) for c in p] for p in v]) if k in _ENDPOINTS and
                      v is not None else v) for k, v in fields.items()}
        if fields.get("mark_point") is not None:
            values["mark_point"] = json.dumps([float(c) for c in fields["mark_point"]])
        d = _date(date)
        with self._transaction():
            rid = self._read_id(key)
            self._lesion_exists(rid, lesion_id)
            exists = self._db.execute("SELECT 1 FROM measurements WHERE read_id=? AND lesion_id=? "
                                      "AND date=?", (rid, lesion_id, d)).fetchone()
            if not exists:
                self._db.execute("INSERT INTO measurements (read_id, lesion_id, date, status, "
                                 "updated) VALUES (?, ?, ?, ?, ?)",
                                 (rid, lesion_id, d, values.get("status", "measured"), _now()))
            for name, value in values.items():
                self._db.execute(f"UPDATE measurements SET {name}=? WHERE read_id=? AND "
                                 "lesion_id=? AND date=?", (value, rid, lesion_id, d))
            self._db.execute("UPDATE measurements SET updated=? WHERE read_id=? AND lesion_id=? "
                             "AND date=?", (_now(), rid, lesion_id, d))
            self._db.execute("INSERT OR IGNORE INTO timepoints (read_id, date) VALUES (?, ?)",
                             (rid, d))
            self._touch(rid)

    def clear_measurement(self, key: ReadKey, lesion_id: str, date: dt.date | str) -> None:
        """Back to "not yet measured" at ``date``."""
        with self._transaction():
            rid = self._read_id(key)
            self._db.execute("DELETE FROM measurements WHERE read_id=? AND lesion_id=? AND date=?",
                             (rid, lesion_id, _date(date)))
            self._touch(rid)

    def measurements(self, key: ReadKey) -> list[dict[str, Any]]:
        rid = self._read_id(key)
        out = []
        for r in self._db.execute("SELECT * FROM measurements WHERE read_id=? ORDER BY date, "
                                  "lesion_id", (rid,)):
            row = {k: r[k] for k in r.keys() if k != "read_id"}  # noqa: SIM118 (sqlite3.Row)
            for name in (*_ENDPOINTS, "mark_point"):
                row[name] = json.loads(row[name]) if row[name] else None
            out.append(row)
        return out

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
            for r in self._db.execute("SELECT lesion_id, role, organ, is_nodal, override_reason, "
                                      "created FROM lesions WHERE read_id=? ORDER BY created, "
                                      "lesion_id", (src,)).fetchall():
                if r["role"] in roles and r["lesion_id"] not in have:
                    self._db.execute("INSERT INTO lesions (read_id, lesion_id, role, organ, "
                                     "is_nodal, override_reason, created) VALUES (?, ?, ?, ?, ?, "
                                     "?, ?)", (dst, *tuple(r)))
                    copied.append(r["lesion_id"])
            self._touch(dst)
        return copied

    def copy_read(self, source: ReadKey, target: ReadKey) -> None:
        """Replace ``target`` with a copy of ``source`` (time points, lesions, measurements with
        endpoints, phase overrides, burden) in one transaction — e.g. an adjudicated read (ADJ)
        started from one reader's read."""
        tables = {"timepoints": "date, study_uid", "lesions": "lesion_id, role, organ, is_nodal, "
                  "override_reason, created"}
        with self._transaction():
            src, dst = self._read_id(source), self._read_id(target, create=True)
            for table in ("measurements", "lesions", "timepoints", "phase_overrides", "burden"):
                self._db.execute(f"DELETE FROM {table} WHERE read_id=?", (dst,))
            for table, cols in tables.items():
                self._db.execute(f"INSERT INTO {table} (read_id, {cols}) SELECT ?, {cols} FROM "
                                 f"{table} WHERE read_id=?", (dst, src))
            for table in ("measurements", "phase_overrides", "burden"):
                cols = [r[1] for r in self._db.execute(f"PRAGMA table_info({table})")
                        if r[1] != "read_id"]
                names = ", ".join(cols)
                self._db.execute(f"INSERT INTO {table} (read_id, {names}) SELECT ?, {names} FROM "
                                 f"{table} WHERE read_id=?", (dst, src))
            self._touch(dst)

    def copy_measurement(self, source: ReadKey, target: ReadKey, lesion_id: str,
                         date: dt.date | str) -> None:
        """Take ``source``'s measurement of ``lesion_id`` at ``date`` into ``target`` (the lesion
        is added to ``target`` if missing); no measurement in ``source`` clears ``target``'s."""
        d = _date(date)
        with self._transaction():
            src, dst = self._read_id(source), self._read_id(target, create=True)
            lesion = self._db.execute("SELECT role, organ, is_nodal, override_reason, created "
                                      "FROM lesions WHERE read_id=? AND lesion_id=?",
                                      (src, lesion_id)).fetchone()
            if lesion is None:
                raise StoreError(f"no lesion {lesion_id} in the read by {source.reader_id}")
            self._db.execute("INSERT OR IGNORE INTO lesions (read_id, lesion_id, role, organ, "
                             "is_nodal, override_reason, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (dst, lesion_id, *tuple(lesion)))
            self._db.execute("DELETE FROM measurements WHERE read_id=? AND lesion_id=? AND date=?",
                             (dst, lesion_id, d))
            cols = [r[1] for r in self._db.execute("PRAGMA table_info(measurements)")
                    if r[1] != "read_id"]
            names = ", ".join(cols)
            self._db.execute(f"INSERT INTO measurements (read_id, {names}) SELECT ?, {names} FROM "
                             "measurements WHERE read_id=? AND lesion_id=? AND date=?",
                             (dst, src, lesion_id, d))
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
    def set_burden(self, key: ReadKey, date: dt.date | str, estimate: Any) -> None:
        """Store a :class:`~response_tool.burden.BurdenEstimate` with the time point."""
        ci = estimate.ci95_pct or (None, None)
        d = _date(date)
        with self._transaction():
            rid = self._read_id(key)
            self._db.execute(
                "INSERT INTO burden VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
                "(read_id, date) DO UPDATE SET method=excluded.method, scheme=excluded.scheme, "
                "htb_pct=excluded.htb_pct, category=excluded.category, ci_low=excluded.ci_low, "
                "ci_high=excluded.ci_high, slices=excluded.slices, "
                "liver_areas_mm2=excluded.liver_areas_mm2, tumor_areas_mm2=excluded.tumor_areas_mm2, "
                "updated=excluded.updated",
                (rid, d, estimate.method, estimate.scheme, estimate.htb_pct, estimate.category,
                 ci[0], ci[1], json.dumps(list(estimate.slices)),
                 json.dumps(list(estimate.slice_liver_area_mm2)),
                 json.dumps(list(estimate.slice_tumor_area_mm2)), _now()))
            self._db.execute("INSERT OR IGNORE INTO timepoints (read_id, date) VALUES (?, ?)",
                             (rid, d))
            self._touch(rid)

    def burden(self, key: ReadKey) -> list[dict[str, Any]]:
        rid = self._read_id(key)
        out = []
        for r in self._db.execute("SELECT * FROM burden WHERE read_id=? ORDER BY date", (rid,)):
            row = {k: r[k] for k in r.keys() if k != "read_id"}  # noqa: SIM118 (sqlite3.Row)
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
        rows = []
        for key in keys if keys is not None else self.reads():
            lesions = {les["lesion_id"]: les for les in self.lesions(key)}
            for m in self.measurements(key):
                les = lesions[m["lesion_id"]]
                rows.append({
                    "patient_id": key.patient_id, "reader_id": key.reader_id,
                    "timepoint_date": m["date"], "lesion_id": m["lesion_id"], "role": les["role"],
                    "organ": les["organ"], "is_nodal": "true" if les["is_nodal"] else "false",
                    "long_axis_mm": m["long_axis_mm"], "short_axis_mm": m["short_axis_mm"],
                    "viable_long_axis_mm": m["viable_long_axis_mm"], "status": m["status"],
                    "override_reason": les["override_reason"], "series_uid": m["series_uid"],
                    "phase": m["phase"], "slice_index": m["slice_index"],
                })
        columns = ["patient_id", "reader_id", "timepoint_date", "lesion_id", "role", "organ",
                   "is_nodal", "long_axis_mm", "short_axis_mm", "viable_long_axis_mm", "status",
                   "override_reason", "series_uid", "phase", "slice_index"]
        return pd.DataFrame(rows, columns=columns)

    def export_measurements_csv(self, path: str | os.PathLike[str],
                                keys: Sequence[ReadKey] | None = None) -> Path:
        """Write the measurements CSV (whole or not at all)."""
        from response_tool._atomic import atomic_write

        frame = self.measurements_frame(keys)
        with atomic_write(path, newline="", encoding="utf-8") as fh:
            frame.to_csv(fh, index=False)
        return Path(path)


__all__ = ["ReadKey", "ReadStore", "StoreError", "default_path"]
