"""Lesion segmentations kept with the read: the 3-D mask of a click-to-measure proposal the reader
accepted, per lesion and time point (issue 22).

One row of ``lesion_segmentations`` per lesion and time point: the series the mask lies on, its
grid (where the box of labels starts in the series' voxels, the box's size, the series' shape and
spacing) and the box's labels (uint8: 0 outside, 1 the lesion, 2 its arterially enhancing part;
:mod:`response_tool.reading.measure`), zlib-compressed as the burden outlines are (a 4 cm lesion's
box is a few kB).

A segmentation belongs to the lesion's measurement at that time point: the table's foreign key
deletes it with the measurement (``ON DELETE CASCADE``), so clearing the measurement or deleting
the lesion removes it — whichever response-tool does it (the key is in the file, and an older
response-tool that does not know the table never reads or writes it; no schema bump, as for the
burden outlines). Accepting a new proposal replaces it. Editing or redrawing a line keeps it: its
volumes are the segmentation's own figures (:attr:`Measurement.lines_as_segmented` tells the panel
the lines no longer come from it).

Undo and redo: the edit that writes or removes a segmentation records its state before and after
in the same history row (:mod:`._history`), so one undo takes back the lines, the volumes and the
mask of an accepted proposal together, and brings a cleared measurement's mask back. The state of
a segmentation a delete takes with it is read inside the delete's transaction (:meth:`_going`).

A mixin of :class:`~response_tool.reading.store.ReadStore`; the only writer of the table.
"""

from __future__ import annotations

import base64
import json
import math
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from response_tool.domain.errors import StoreError

from ._base import StoreParts
from ._checks import now, store_date

if TYPE_CHECKING:
    from ._history import Edit
    from .store import ReadKey

#: The labels a segmentation may hold (measure.LESION_LABEL, measure.ENHANCING_LABEL).
LABELS = (0, 1, 2)
#: The largest plausible voxel size (mm, any axis): thick CT slices are 5-10 mm; more is a unit
#: error (centimetres, or a spacing in micrometres).
MAX_SPACING_MM = 50.0


class _Keep:
    """The default of ``save_measurement(segmentation=...)``: the segmentation stays as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()


@dataclass(frozen=True)
class LesionSegmentation:
    """A lesion's segmentation at one time point: ``mask`` (a
    :class:`~response_tool.reading.measure.LesionMask`) on the grid of series ``series_uid``."""

    lesion_id: str
    date: str
    series_uid: str
    mask: Any

    @property
    def volume_mm3(self) -> float:
        """The lesion's volume (every label > 0), mm³."""
        return float(self.mask.volume_mm3())


def _state(segmentation: LesionSegmentation) -> list[Any]:
    """``segmentation`` as the store and the undo history hold it: [series UID, grid (JSON),
    labels (zlib, base64)], refused unless it is a mask on a series grid."""
    where = f"{segmentation.lesion_id} ({segmentation.date}): segmentation"
    mask, series = segmentation.mask, segmentation.series_uid
    try:
        labels = np.asarray(mask.labels)
        offset = [int(v) for v in mask.offset_zyx]
        shape = [int(v) for v in mask.shape_zyx]
        spacing = [float(v) for v in mask.spacing_zyx_mm]
    except (AttributeError, TypeError, ValueError) as exc:
        raise StoreError(f"{where}: not a lesion mask ({exc}); give the proposal's mask") from exc
    if not isinstance(series, str) or not series.strip():
        raise StoreError(f"{where}: no series; a mask lies on the grid of the series it was "
                         "found on (its Series Instance UID)")
    if labels.ndim != 3 or len(offset) != 3 or len(shape) != 3 or len(spacing) != 3:
        raise StoreError(f"{where}: a mask is a (z, y, x) box of labels on a (z, y, x) series; "
                         f"got {labels.ndim} dimension(s)")
    if any(o < 0 or o + n > s for o, n, s in zip(offset, labels.shape, shape, strict=True)):
        raise StoreError(f"{where}: its box {list(labels.shape)} at {offset} does not lie inside "
                         f"the series' {shape} voxels")
    if not all(math.isfinite(s) and 0 < s <= MAX_SPACING_MM for s in spacing):
        raise StoreError(f"{where}: voxel spacing {spacing} mm must be finite, above 0 and at "
                         f"most {MAX_SPACING_MM:g} mm; check the unit (mm)")
    values = np.unique(labels)
    if not np.isin(values, LABELS).all():
        raise StoreError(f"{where}: labels {values.tolist()}; a lesion mask holds 0 (outside), "
                         "1 (lesion), 2 (its enhancing part)")
    if not values.any():
        raise StoreError(f"{where}: the mask is empty; nothing to keep")
    grid = json.dumps({"offset_zyx": offset, "box_zyx": list(labels.shape), "shape_zyx": shape,
                       "spacing_zyx_mm": spacing})
    packed = zlib.compress(np.ascontiguousarray(labels, dtype=np.uint8).tobytes(), 6)
    return [series, grid, base64.b64encode(packed).decode("ascii")]


def _of_state(lesion_id: str, date: str, state: list[Any]) -> LesionSegmentation:
    from .measure import LesionMask  # its module needs SimpleITK: loaded when a mask is read

    series, grid_text, packed = state
    grid = json.loads(grid_text)
    labels = np.frombuffer(zlib.decompress(base64.b64decode(packed)), dtype=np.uint8)
    mask = LesionMask(labels.reshape(grid["box_zyx"]).copy(), tuple(grid["offset_zyx"]),
                      tuple(grid["shape_zyx"]), tuple(grid["spacing_zyx_mm"]))
    return LesionSegmentation(lesion_id, date, series, mask)


_COLUMNS = "series_uid, grid, labels"


def _row_state(row: Any) -> list[Any]:
    series, grid, labels = tuple(row)
    return [series, grid, base64.b64encode(bytes(labels)).decode("ascii")]


class LesionSegmentations(StoreParts):
    """The lesion segmentations of each read."""

    # -- inside a write's transaction ------------------------------------------------------------
    def _segmentation_state(self, rid: int, lesion_id: str, date: str) -> list[Any] | None:
        row = self._one(f"SELECT {_COLUMNS} FROM lesion_segmentations WHERE read_id=? AND "
                        "lesion_id=? AND date=?", (rid, lesion_id, date))
        return None if row is None else _row_state(row)

    def _put_segmentation(self, rid: int, lesion_id: str, date: str, state: list[Any] | None
                          ) -> None:
        """Write ``state`` (None: delete) — the measurement must exist (the foreign key)."""
        if state is None:
            self._db.execute("DELETE FROM lesion_segmentations WHERE read_id=? AND lesion_id=? "
                             "AND date=?", (rid, lesion_id, date))
            return
        series, grid, packed = state
        self._db.execute(
            "INSERT INTO lesion_segmentations VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (read_id, "
            "lesion_id, date) DO UPDATE SET series_uid=excluded.series_uid, grid=excluded.grid, "
            "labels=excluded.labels, updated=excluded.updated",
            (rid, lesion_id, date, series, grid, base64.b64decode(packed), now()))

    def _replace_segmentation(self, rid: int, lesion_id: str, date: str,
                              state: list[Any] | None, edit: Edit | None) -> None:
        """Replace the segmentation of ``lesion_id`` at ``date`` by ``state``, recording both in
        ``edit`` (its history row)."""
        before = self._segmentation_state(rid, lesion_id, date) if edit is not None else None
        self._put_segmentation(rid, lesion_id, date, state)
        if edit is not None and (before, state) != (None, None):
            edit.segmentations.append([lesion_id, date, before, state])

    def _going(self, rid: int, lesion_id: str, date: str | None, edit: Edit | None) -> None:
        """Record in ``edit`` the segmentations a delete of ``lesion_id``'s measurement at
        ``date`` (None: all of them) is about to take with it (the foreign key's cascade), so
        its undo brings them back."""
        if edit is None:
            return
        sql, params = (f"SELECT date, {_COLUMNS} FROM lesion_segmentations WHERE read_id=? AND "
                       "lesion_id=?", [rid, lesion_id])
        if date is not None:
            sql, params = sql + " AND date=?", [*params, date]
        for row in self._rows(sql, params):
            edit.segmentations.append([lesion_id, row[0], _row_state(row[1:]), None])

    # -- reading ---------------------------------------------------------------------------------
    def lesion_segmentation(self, key: ReadKey, lesion_id: str, date: Any
                            ) -> LesionSegmentation | None:
        """The segmentation of ``lesion_id`` at ``date`` (None: none kept)."""
        d = store_date(date)
        state = self._segmentation_state(self._read_id(key), lesion_id, d)
        return None if state is None else _of_state(lesion_id, d, state)

    def lesion_segmentations(self, key: ReadKey, date: Any = None) -> list[LesionSegmentation]:
        """Every segmentation of the read (at ``date`` only, when given), by date then lesion."""
        rid = self._read_id(key)
        sql = f"SELECT lesion_id, date, {_COLUMNS} FROM lesion_segmentations WHERE read_id=?"
        params: list[Any] = [rid]
        if date is not None:
            sql, params = sql + " AND date=?", [*params, store_date(date)]
        rows = self._rows(sql + " ORDER BY date, lesion_id", params)
        return [_of_state(r[0], r[1], _row_state(r[2:])) for r in rows]


def check_segmentation(segmentation: Any, lesion_id: str, date: str) -> list[Any] | None:
    """The state to write for ``save_measurement(..., segmentation=...)`` of ``lesion_id`` at
    ``date`` (None: remove it), refused unless it is that lesion's at that date."""
    if segmentation is None:
        return None
    if not isinstance(segmentation, LesionSegmentation):
        raise StoreError(f"{lesion_id} ({date}): not a lesion segmentation: {segmentation!r}")
    if (segmentation.lesion_id, store_date(segmentation.date)) != (lesion_id, date):
        raise StoreError(f"the segmentation of {segmentation.lesion_id} at {segmentation.date} "
                         f"cannot be saved with the measurement of {lesion_id} at {date}")
    return _state(segmentation)


__all__ = ["KEEP", "LesionSegmentation", "LesionSegmentations", "check_segmentation"]
