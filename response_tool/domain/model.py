"""The read model: patient → read (one reader) → time points, lesions, measurements.

These are the objects the code runs on: the read store persists and returns them, the reading
session edits them, and :meth:`Read.to_frame` turns a read into the measurements table the engine
assesses (the columns of docs/measurements-csv.md). Frozen dataclasses, valid once constructed
(highdicom's habit): a bad value raises :class:`~response_tool.domain.errors.ResponseToolError`
naming the lesion, the date and the field. Units and axis order are in the names; points are
patient millimetres in z, y, x order (napari's world order).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import ResponseToolError
from .measurements import MAX_DIAMETER_MM, MAX_VOLUME_MM3, VOLUME_COLUMNS
from .vocabulary import DiameterKind, Role, Status

#: A point in patient millimetres (z, y, x).
Point = tuple[float, float, float]
#: The two ends of a drawn diameter (z, y, x mm each).
Segment = tuple[Point, Point]

#: The measurements-table columns :meth:`Read.to_frame` writes, in order (the read store's CSV
#: export has exactly these; docs/measurements-csv.md describes the engine's part of them).
FRAME_COLUMNS = ("patient_id", "reader_id", "timepoint_date", "lesion_id", "role", "organ",
                 "is_nodal", "long_axis_mm", "short_axis_mm", "viable_long_axis_mm", "status",
                 "override_reason", "series_uid", "phase", "slice_index")
#: The optional volume columns :meth:`Read.to_frame` adds after :data:`FRAME_COLUMNS` when a
#: measurement has a volume (a read with none keeps the table, and its CSV, as before).
VOLUME_FRAME_COLUMNS = VOLUME_COLUMNS


def iso_date(value: dt.date | str, what: str = "date") -> str:
    """``value`` as ``YYYY-MM-DD`` (a date, a datetime or ISO text); a clear error otherwise."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError as exc:
        raise ResponseToolError(f"{what} {value!r} is not a date; use YYYY-MM-DD") from exc


def _size(value: Any, name: str, where: str, unit: str, limit: float, too_large: str
          ) -> float | None:
    """``value`` as a size ≥ 0 in ``unit`` (None stays None), at most ``limit``: else one line
    naming the field, the lesion and date, and what to check."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise ResponseToolError(f"{where}: {name} {value!r} must be a number ≥ 0 ({unit})")
    if number > limit:
        raise ResponseToolError(f"{where}: {name} {value!r} is larger than {too_large}")
    return number


def _mm(value: Any, name: str, where: str) -> float | None:
    return _size(value, name, where, "millimetres", MAX_DIAMETER_MM,
                 f"{MAX_DIAMETER_MM:g} mm: not a diameter; check the unit (mm)")


def _mm3(value: Any, name: str, where: str) -> float | None:
    return _size(value, name, where, "cubic millimetres", MAX_VOLUME_MM3,
                 f"{MAX_VOLUME_MM3:.0f} mm³ (50 L): not a lesion's volume; check the unit (mm³)")


def ml_text(volume_mm3: float) -> str:
    """A volume in millilitres as a reader reads it: three significant figures down to 0.01 mL
    (a 5 mm lesion is 0.07 mL, a 10 cm one 524 mL)."""
    ml = volume_mm3 / 1000.0
    return f"{ml:.0f}" if ml >= 100 else f"{ml:.1f}" if ml >= 10 else f"{ml:.2f}"


def volumes_text(volume_mm3: float, enhancing_mm3: float | None) -> str:
    """``volume 19.5 mL, enhancing 1.70 mL`` (the enhancing part only when it was measured)."""
    text = f"volume {ml_text(volume_mm3)} mL"
    return text if enhancing_mm3 is None else text + f", enhancing {ml_text(enhancing_mm3)} mL"


def _point(value: Any, name: str, where: str) -> Point | None:
    if value is None:
        return None
    try:
        z, y, x = (float(c) for c in value)
    except (TypeError, ValueError):
        raise ResponseToolError(f"{where}: {name} must be three numbers (z, y, x mm)") from None
    if not all(math.isfinite(c) for c in (z, y, x)):
        raise ResponseToolError(f"{where}: {name} must be finite")
    return (z, y, x)


def _segment(value: Any, name: str, where: str) -> Segment | None:
    if value is None:
        return None
    ends = list(value)
    if len(ends) != 2:
        raise ResponseToolError(f"{where}: {name} must be two points (z, y, x mm)")
    a, b = (_point(p, name, where) for p in ends)
    assert a is not None and b is not None
    return (a, b)


@dataclass(frozen=True, slots=True)
class Lesion:
    """A lesion followed across the time points of one read (stable id: T1, N1, NT1, NEW1…)."""

    lesion_id: str
    role: Role
    organ: str
    is_nodal: bool = False
    #: the reader's reason to keep a lesion that fails a baseline check
    override_reason: str = ""

    def __post_init__(self) -> None:
        if not str(self.lesion_id).strip():
            raise ResponseToolError("a lesion needs an id")
        try:
            object.__setattr__(self, "role", Role(self.role))
        except ValueError:
            raise ResponseToolError(f"lesion {self.lesion_id}: role {self.role!r}: use one of "
                                    f"{', '.join(Role)}") from None
        if not str(self.organ).strip():
            raise ResponseToolError(f"lesion {self.lesion_id}: a lesion needs its organ")
        object.__setattr__(self, "is_nodal", bool(self.is_nodal))
        object.__setattr__(self, "override_reason", str(self.override_reason or ""))


#: How a stored line came to be (issue 12): drawn by the reader, proposed by click-to-measure and
#: accepted as it was, or proposed and then edited by the reader.
LINE_ORIGINS = ("drawn", "proposed", "edited")


@dataclass(frozen=True, slots=True)
class Measurement:
    """One lesion at one time point: status, diameters (mm), the lines they were drawn as, and
    on which series / phase / slice."""

    lesion_id: str
    date: str  # YYYY-MM-DD
    status: Status = Status.MEASURED
    long_axis_mm: float | None = None
    short_axis_mm: float | None = None
    viable_long_axis_mm: float | None = None
    long_endpoints: Segment | None = None
    short_endpoints: Segment | None = None
    viable_endpoints: Segment | None = None
    series_uid: str | None = None
    viable_series_uid: str | None = None
    phase: str | None = None
    viable_phase: str | None = None
    slice_index: int | None = None
    #: where a non-target or new lesion was marked with a click
    mark_point: Point | None = None
    #: how each line came to be: ``long:proposed,viable:edited`` (:data:`LINE_ORIGINS`; a line
    #: not named was drawn by hand or predates click-to-measure)
    origins: str = ""
    #: the lesion's volume and that of its arterially enhancing part (mm³), from the 3-D
    #: segmentation of an accepted click-to-measure proposal (None: not segmented); no
    #: criterion reads them
    volume_mm3: float | None = None
    enhancing_volume_mm3: float | None = None

    def __post_init__(self) -> None:
        where = f"{self.lesion_id} ({self.date})"
        origins = {}
        for part in filter(None, (self.origins or "").split(",")):
            kind, _, origin = part.partition(":")
            if kind not in {k.value for k in DiameterKind} or origin not in LINE_ORIGINS:
                raise ResponseToolError(f"{where}: line origin {part!r}: write kind:origin with a "
                                        f"kind of {', '.join(DiameterKind)} and an origin of "
                                        f"{', '.join(LINE_ORIGINS)}")
            origins[kind] = origin
        object.__setattr__(self, "origins", ",".join(f"{k}:{v}" for k, v in sorted(origins.items())))
        object.__setattr__(self, "date", iso_date(self.date, f"{self.lesion_id}: date"))
        try:
            object.__setattr__(self, "status", Status(self.status))
        except ValueError:
            raise ResponseToolError(f"{where}: status {self.status!r}: use one of "
                                    f"{', '.join(Status)}") from None
        for kind in DiameterKind:
            object.__setattr__(self, kind.column, _mm(getattr(self, kind.column), kind.column,
                                                       where))
            object.__setattr__(self, kind.endpoints, _segment(getattr(self, kind.endpoints),
                                                               kind.endpoints, where))
        object.__setattr__(self, "mark_point", _point(self.mark_point, "mark_point", where))
        for name in VOLUME_COLUMNS:
            object.__setattr__(self, name, _mm3(getattr(self, name), name, where))
        if self.volume_mm3 is not None and self.enhancing_volume_mm3 is not None \
                and self.enhancing_volume_mm3 > self.volume_mm3:
            raise ResponseToolError(f"{where}: enhancing_volume_mm3 {self.enhancing_volume_mm3:g} "
                                    f"is larger than the lesion's volume_mm3 "
                                    f"{self.volume_mm3:g}; the enhancing part lies inside it")
        if self.slice_index is not None:
            object.__setattr__(self, "slice_index", int(self.slice_index))

    def origin(self, kind: DiameterKind) -> str:
        """How the line of ``kind`` came to be: drawn, proposed (accepted as proposed), edited."""
        for part in filter(None, self.origins.split(",")):
            k, _, origin = part.partition(":")
            if k == DiameterKind(kind).value:
                return origin
        return "drawn"

    def with_origin(self, kind: DiameterKind, origin: str | None) -> str:
        """``origins`` with the line of ``kind`` set to ``origin`` (None: forgotten)."""
        parts = {p.partition(":")[0]: p.partition(":")[2] for p in filter(None, self.origins.split(","))}
        parts.pop(DiameterKind(kind).value, None)
        if origin not in (None, "drawn"):
            parts[DiameterKind(kind).value] = str(origin)
        return ",".join(f"{k}:{v}" for k, v in sorted(parts.items()))

    def diameter(self, kind: DiameterKind) -> float | None:
        """The diameter of ``kind`` in mm (None: not measured)."""
        return getattr(self, DiameterKind(kind).column)  # type: ignore[no-any-return]

    def endpoints(self, kind: DiameterKind) -> Segment | None:
        """The line drawn for ``kind`` (None: none drawn)."""
        return getattr(self, DiameterKind(kind).endpoints)  # type: ignore[no-any-return]

    def main_diameter_mm(self, is_nodal: bool) -> float | None:
        """The diameter RECIST sums: the short axis of a node, else the long axis."""
        return self.short_axis_mm if is_nodal else self.long_axis_mm

    def value_text(self, is_nodal: bool) -> str:
        """How a table shows it: the status, or ``main`` mm and `` / v viable`` (mRECIST)."""
        if self.status != Status.MEASURED:
            return str(self.status)
        main = self.main_diameter_mm(is_nodal)
        text = "—" if main is None else f"{main:.1f}"
        if self.viable_long_axis_mm is not None and not is_nodal:
            text += f" / v {self.viable_long_axis_mm:.1f}"
        return text

    def volume_text(self) -> str:
        """How a table shows the lesion's volume, in mL (as :meth:`value_text` shows mm): ``12.4``,
        with `` *`` when a line was edited or redrawn since (the volume is the segmentation's,
        not the lines'); empty when not segmented. :meth:`volume_detail` has the enhancing part."""
        if self.volume_mm3 is None:
            return ""
        text = ml_text(self.volume_mm3)
        return text if self.lines_as_segmented else text + " *"

    def volume_detail(self) -> str:
        """``volume 12.4 mL, enhancing 3.10 mL`` (the enhancing part with an arterial series);
        empty when not segmented."""
        return "" if self.volume_mm3 is None else volumes_text(self.volume_mm3,
                                                                self.enhancing_volume_mm3)

    @property
    def lines_as_segmented(self) -> bool:
        """Every line stored is as the accepted proposal drew it (origin ``proposed``): the
        volumes and the lines come from one segmentation. False once a line was edited or
        redrawn by hand (the volumes stay the segmentation's own figures)."""
        kinds = [k for k in DiameterKind if self.endpoints(k) is not None]
        return bool(kinds) and all(self.origin(k) == "proposed" for k in kinds)

    def with_changes(self, **changes: Any) -> Measurement:
        """A copy with ``changes`` applied (and validated)."""
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class TimePoint:
    """One imaging time point of a read."""

    date: str  # YYYY-MM-DD
    study_uid: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "date", iso_date(self.date, "time point"))


@dataclass(frozen=True)
class Read:
    """One reader's assessment of one patient."""

    patient_id: str
    reader_id: str
    lesions: tuple[Lesion, ...] = ()
    timepoints: tuple[TimePoint, ...] = ()
    measurements: tuple[Measurement, ...] = ()
    _by_id: dict[str, Lesion] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not str(self.patient_id).strip() or not str(self.reader_id).strip():
            raise ResponseToolError("a read needs a patient id and a reader id")
        where = f"read of {self.patient_id} by {self.reader_id}"
        by_id: dict[str, Lesion] = {}
        for les in self.lesions:
            if les.lesion_id in by_id:
                raise ResponseToolError(f"{where}: lesion {les.lesion_id} listed twice")
            by_id[les.lesion_id] = les
        object.__setattr__(self, "_by_id", by_id)
        seen: set[tuple[str, str]] = set()
        for m in self.measurements:
            if m.lesion_id not in by_id:
                raise ResponseToolError(f"{where}: measurement of unknown lesion {m.lesion_id}")
            if (m.lesion_id, m.date) in seen:
                raise ResponseToolError(f"{where}: lesion {m.lesion_id} measured twice on "
                                        f"{m.date}")
            seen.add((m.lesion_id, m.date))
        dates = [t.date for t in self.timepoints]
        if len(dates) != len(set(dates)):
            raise ResponseToolError(f"{where}: two time points on one date")

    @property
    def dates(self) -> list[str]:
        """The time points' dates, earliest (the baseline) first."""
        return sorted({t.date for t in self.timepoints} | {m.date for m in self.measurements})

    def lesion(self, lesion_id: str) -> Lesion:
        try:
            return self._by_id[lesion_id]
        except KeyError:
            raise ResponseToolError(f"no lesion {lesion_id} in this read") from None

    def measurement(self, lesion_id: str, date: str) -> Measurement | None:
        for m in self.measurements:
            if m.lesion_id == lesion_id and m.date == date:
                return m
        return None

    def to_frame(self) -> Any:
        """The read as rows of the measurements table (:data:`FRAME_COLUMNS`), in date then
        lesion order; a lesion with no measurement at a time point has no row there (the engine
        reads a missing target as not evaluated)."""
        return frame_of([self])


def frame_of(reads: Iterable[Read]) -> Any:
    """Several reads as one measurements table (:data:`FRAME_COLUMNS`)."""
    import pandas as pd

    rows: list[Sequence[Any]] = []
    volumes = False
    for read in reads:
        for m in sorted(read.measurements, key=lambda m: (m.date, m.lesion_id)):
            les = read.lesion(m.lesion_id)
            rows.append((read.patient_id, read.reader_id, m.date, m.lesion_id, str(les.role),
                         les.organ, les.is_nodal, m.long_axis_mm,
                         m.short_axis_mm, m.viable_long_axis_mm, str(m.status),
                         les.override_reason, m.series_uid, m.phase, m.slice_index,
                         m.volume_mm3, m.enhancing_volume_mm3))
            volumes |= m.volume_mm3 is not None or m.enhancing_volume_mm3 is not None
    # the volume columns only when a lesion was segmented: a read without volumes (every read
    # before them) gives the table, its CSV and the golden outputs exactly as before
    columns = [*FRAME_COLUMNS, *VOLUME_FRAME_COLUMNS]
    frame = pd.DataFrame(rows, columns=columns)
    return frame if volumes else frame[list(FRAME_COLUMNS)]


__all__ = ["FRAME_COLUMNS", "VOLUME_FRAME_COLUMNS", "Lesion", "Measurement", "Point", "Read",
           "Segment", "TimePoint", "frame_of", "iso_date", "ml_text", "volumes_text"]
