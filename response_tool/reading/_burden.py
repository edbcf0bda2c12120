"""The reader's phase overrides, the hepatic tumour burden saved with each time point, and the
engine's input tables (measurements, burden) with the measurements CSV.

A mixin of :class:`~response_tool.reading.store.ReadStore`; each write is one transaction that
records the write to the read (its ``updated`` time and ``version``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from response_tool.domain.model import frame_of

from ._base import StoreParts
from ._checks import burden_values, check_phase, now, store_date

if TYPE_CHECKING:
    from .store import ReadKey


class OverridesAndBurden(StoreParts):
    """Phase overrides per series, burden estimates per time point, the engine's tables."""

    # -- phase overrides ------------------------------------------------------------------------
    def set_phase_override(self, key: ReadKey, series_uid: str, phase: str | None, *,
                           expect: int | None = None) -> None:
        check_phase(phase)
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

    #: The estimate's values as stored, refused unless finite and plausible.
    _burden_values = staticmethod(burden_values)

    def set_burden(self, key: ReadKey, date: dt.date | str, estimate: Any, *,
                   expect: int | None = None) -> None:
        """Store a :class:`~response_tool.burden.BurdenEstimate` with the time point."""
        values = self._burden_values(estimate)
        d = store_date(date)
        names = self._BURDEN[1:]
        with self._transaction():
            rid = self._read_id(key)
            self._db.execute(
                f"INSERT INTO burden (read_id, {', '.join(self._BURDEN)}) VALUES "
                f"({', '.join('?' * (len(self._BURDEN) + 1))}) ON CONFLICT (read_id, date) DO "
                "UPDATE SET " + ", ".join(f"{c}=excluded.{c}" for c in names),
                (rid, d, *values, now()))
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

    # -- burden outlines ---------------------------------------------------------------------------
    # The liver / tumour outlines the semi-quantitative estimate was measured on: a (z, y, x) label
    # array (1 liver, 2 tumour) on the grid of one series, stored as its outlined planes only,
    # zlib-compressed (a 512 x 512 plane is a few kB). A table added without a schema bump: a
    # response-tool that does not know it never reads or writes it.
    def set_burden_outlines(self, key: ReadKey, date: dt.date | str, series_uid: str,
                            outlines: Any, *, expect: int | None = None) -> list[int]:
        """Store the outlines drawn at ``date`` on ``series_uid``; returns the outlined slices."""
        import zlib

        import numpy as np

        from response_tool.domain.errors import StoreError

        labels = np.asarray(outlines)
        if labels.ndim != 3 or not series_uid:
            raise StoreError("burden outlines are a (z, y, x) label array on a series; got "
                             f"{labels.ndim} dimension(s){'' if series_uid else ' and no series'}")
        if labels.size and (labels.min() < 0 or labels.max() > 255):
            raise StoreError("burden outlines hold labels 0 (none), 1 (liver), 2 (tumour); got "
                             f"values {labels.min()}..{labels.max()}")
        slices = [int(z) for z in np.flatnonzero(labels.reshape(labels.shape[0], -1).any(axis=1))]
        planes = zlib.compress(np.ascontiguousarray(labels[slices], dtype=np.uint8).tobytes(), 6)
        d = store_date(date)
        with self._transaction():
            rid = self._read_id(key)
            self._db.execute(
                "INSERT INTO burden_outlines VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (read_id, "
                "date) DO UPDATE SET series_uid=excluded.series_uid, shape=excluded.shape, "
                "slices=excluded.slices, planes=excluded.planes, updated=excluded.updated",
                (rid, d, str(series_uid), json.dumps(list(labels.shape)), json.dumps(slices),
                 planes, now()))
            self._db.execute("INSERT OR IGNORE INTO timepoints (read_id, date) VALUES (?, ?)",
                             (rid, d))
            self._touch(key, rid, expect)
        return slices

    def burden_outlines(self, key: ReadKey) -> list[dict[str, Any]]:
        """The outlines saved with each time point: ``date``, ``series_uid``, ``slices`` and
        ``labels`` (the whole (z, y, x) uint8 array, zero off the outlined slices)."""
        import zlib

        import numpy as np

        rid = self._read_id(key)
        out = []
        for date, series, shape, slices, planes in self._rows(
                "SELECT date, series_uid, shape, slices, planes FROM burden_outlines WHERE "
                "read_id=? ORDER BY date", (rid,)):
            shape_zyx, ks = tuple(json.loads(shape)), json.loads(slices)
            labels = np.zeros(shape_zyx, dtype=np.uint8)
            if ks:
                labels[ks] = np.frombuffer(zlib.decompress(planes), dtype=np.uint8).reshape(
                    len(ks), *shape_zyx[1:])
            out.append({"date": date, "series_uid": series, "slices": ks, "labels": labels})
        return out

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
