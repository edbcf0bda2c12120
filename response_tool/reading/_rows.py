"""The read store's SQLite schema and the conversion of its rows to and from domain objects.

Kept apart from :mod:`response_tool.reading.store` (which holds the transactions) so the schema
and its migrations are read in one place.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from response_tool.domain.model import Lesion, Measurement, TimePoint

#: 2: ``reads.version`` (the optimistic version check: every write to a read bumps it). A store of
#: version 2 is refused by a response-tool that knows only version 1, which would write without
#: bumping it and so defeat the check.
SCHEMA_VERSION = 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reads (
    id INTEGER PRIMARY KEY, patient_id TEXT NOT NULL, reader_id TEXT NOT NULL,
    created TEXT NOT NULL, updated TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 0,
    UNIQUE (patient_id, reader_id));
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
    updated TEXT NOT NULL, mark_point TEXT, origins TEXT NOT NULL DEFAULT '',
    volume_mm3 REAL, enhancing_volume_mm3 REAL,
    PRIMARY KEY (read_id, lesion_id, date),
    FOREIGN KEY (read_id, lesion_id) REFERENCES lesions(read_id, lesion_id) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS burden (
    read_id INTEGER NOT NULL REFERENCES reads(id) ON DELETE CASCADE, date TEXT NOT NULL,
    method TEXT NOT NULL, scheme TEXT NOT NULL, htb_pct REAL, category TEXT NOT NULL,
    ci_low REAL, ci_high REAL, slices TEXT, liver_areas_mm2 TEXT, tumor_areas_mm2 TEXT,
    updated TEXT NOT NULL, PRIMARY KEY (read_id, date));
CREATE TABLE IF NOT EXISTS burden_outlines (
    read_id INTEGER NOT NULL REFERENCES reads(id) ON DELETE CASCADE, date TEXT NOT NULL,
    series_uid TEXT NOT NULL, shape TEXT NOT NULL, slices TEXT NOT NULL, planes BLOB NOT NULL,
    updated TEXT NOT NULL, PRIMARY KEY (read_id, date));
CREATE TABLE IF NOT EXISTS lesion_segmentations (
    read_id INTEGER NOT NULL, lesion_id TEXT NOT NULL, date TEXT NOT NULL,
    series_uid TEXT NOT NULL, grid TEXT NOT NULL, labels BLOB NOT NULL, updated TEXT NOT NULL,
    PRIMARY KEY (read_id, lesion_id, date),
    FOREIGN KEY (read_id, lesion_id, date) REFERENCES measurements(read_id, lesion_id, date)
        ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS phase_overrides (
    read_id INTEGER NOT NULL REFERENCES reads(id) ON DELETE CASCADE, series_uid TEXT NOT NULL,
    phase TEXT NOT NULL, PRIMARY KEY (read_id, series_uid));
CREATE TABLE IF NOT EXISTS registrations (
    read_id INTEGER NOT NULL REFERENCES reads(id) ON DELETE CASCADE, date TEXT NOT NULL,
    transform TEXT NOT NULL, PRIMARY KEY (read_id, date));
CREATE TABLE IF NOT EXISTS history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    read_id INTEGER NOT NULL REFERENCES reads(id) ON DELETE CASCADE,
    grp INTEGER NOT NULL, label TEXT NOT NULL, entry TEXT NOT NULL,
    undone INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS history_read ON history (read_id, grp);
"""

#: The measurement fields a caller may set (the columns of ``measurements`` but the keys).
MEASUREMENT_FIELDS = ("status", "long_axis_mm", "short_axis_mm", "viable_long_axis_mm",
                      "long_endpoints", "short_endpoints", "viable_endpoints", "series_uid",
                      "viable_series_uid", "phase", "viable_phase", "slice_index", "mark_point",
                      "origins", "volume_mm3", "enhancing_volume_mm3")
_JSON = ("long_endpoints", "short_endpoints", "viable_endpoints", "mark_point")
LESION_COLUMNS = "lesion_id, role, organ, is_nodal, override_reason"
#: one statement writes a whole measurement (insert, or replace the row's values)
UPSERT_MEASUREMENT = (
    f"INSERT INTO measurements (read_id, lesion_id, date, {', '.join(MEASUREMENT_FIELDS)}, "
    f"updated) VALUES (?, ?, ?, {', '.join('?' * len(MEASUREMENT_FIELDS))}, ?) "
    "ON CONFLICT (read_id, lesion_id, date) DO UPDATE SET "
    + ", ".join(f"{c}=excluded.{c}" for c in (*MEASUREMENT_FIELDS, "updated")))
SELECT_MEASUREMENTS = (f"SELECT lesion_id, date, {', '.join(MEASUREMENT_FIELDS)} FROM measurements "
                       "WHERE read_id=? ORDER BY date, lesion_id")


#: the statement that records a write to a read: its time stamp and its version, bumped only when
#: the version is the one the writer last saw (0 rows changed: someone else wrote in between)
TOUCH_READ = "UPDATE reads SET updated=?, version=version+1 WHERE id=? AND version=?"


def migrate(db: sqlite3.Connection) -> None:
    """Bring an older store's tables up to :data:`SCHEMA` (inside the caller's transaction)."""
    columns = {r[1] for r in db.execute("PRAGMA table_info(measurements)")}
    if "mark_point" not in columns:  # stores written before lesion marks existed
        db.execute("ALTER TABLE measurements ADD COLUMN mark_point TEXT")
    if "origins" not in columns:  # stores written before click-to-measure (issue 12)
        db.execute("ALTER TABLE measurements ADD COLUMN origins TEXT NOT NULL DEFAULT ''")
    for name in ("volume_mm3", "enhancing_volume_mm3"):  # stores from before volumes (issue 22)
        if name not in columns:
            db.execute(f"ALTER TABLE measurements ADD COLUMN {name} REAL")
    columns = {r[1] for r in db.execute("PRAGMA table_info(reads)")}
    if "version" not in columns:  # stores written before the version check (schema 1)
        db.execute("ALTER TABLE reads ADD COLUMN version INTEGER NOT NULL DEFAULT 0")
    db.execute("UPDATE meta SET value=? WHERE key='schema_version' AND CAST(value AS INTEGER) < ?",
               (str(SCHEMA_VERSION), SCHEMA_VERSION))


def padded(state: list[Any] | None) -> list[Any] | None:
    """A measurement's state as an undo history row holds it, with the fields added since that
    row was written (they come last in :data:`MEASUREMENT_FIELDS`) as None: an edit made before
    volumes existed is undone and redone as it was."""
    if state is None:
        return None
    return [*state, *[None] * (len(MEASUREMENT_FIELDS) - len(state))]


def _json_points(value: Any) -> str | None:
    if value is None:
        return None
    if value and isinstance(value[0], (tuple, list)):
        return json.dumps([[float(c) for c in p] for p in value])
    return json.dumps([float(c) for c in value])


def measurement_params(m: Measurement) -> tuple[Any, ...]:
    """``m``'s values in :data:`MEASUREMENT_FIELDS` order, as SQLite stores them."""
    return tuple(_json_points(getattr(m, f)) if f in _JSON else
                 (str(m.status) if f == "status" else getattr(m, f)) for f in MEASUREMENT_FIELDS)


def measurement_of(row: sqlite3.Row | tuple[Any, ...]) -> Measurement:
    """A row of :data:`SELECT_MEASUREMENTS` as a :class:`Measurement`."""
    lesion_id, date, *values = tuple(row)
    fields = dict(zip(MEASUREMENT_FIELDS, values, strict=True))
    for name in _JSON:
        fields[name] = json.loads(fields[name]) if fields[name] else None
    return Measurement(lesion_id, date, **fields)


def lesion_of(row: sqlite3.Row | tuple[Any, ...]) -> Lesion:
    lesion_id, role, organ, is_nodal, reason = tuple(row)[:5]
    return Lesion(lesion_id, role, organ, bool(is_nodal), reason or "")


def timepoint_of(row: sqlite3.Row | tuple[Any, ...]) -> TimePoint:
    date, study_uid = tuple(row)[:2]
    return TimePoint(date, study_uid)
