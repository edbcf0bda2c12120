"""The read store's value checks: what it refuses before writing (see :mod:`response_tool.reading.store`).

Non-finite numbers, a diameter above :data:`~response_tool.domain.measurements.MAX_DIAMETER_MM` (a
volume above ``MAX_VOLUME_MM3``), a point farther than :data:`MAX_COORDINATE_MM` from the scanner's
origin, a burden outside 0–100 %, an unknown role, phase or field. Every refusal is a :class:`StoreError`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any

from response_tool.domain.errors import ResponseToolError, StoreError
from response_tool.domain.measurements import MAX_DIAMETER_MM, MAX_VOLUME_MM3, VOLUME_COLUMNS
from response_tool.domain.model import Measurement, iso_date
from response_tool.domain.vocabulary import Phase, Role

from ._rows import MEASUREMENT_FIELDS

#: The largest plausible coordinate of a drawn point, in patient millimetres from the scanner's
#: origin (any axis): a scanner's field of view and table travel are well inside it.
MAX_COORDINATE_MM = 10_000.0
#: The largest plausible area of the liver or tumour on one slice (mm²): a 1 m × 1 m slice.
MAX_SLICE_AREA_MM2 = 1_000_000.0


def now() -> str:
    """The time stamp the store writes (UTC, ISO 8601, milliseconds)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def store_date(value: dt.date | str) -> str:
    """``value`` as an ISO date, or a :class:`StoreError`."""
    try:
        return iso_date(value)
    except ResponseToolError as exc:
        raise StoreError(str(exc)) from exc


def finite(value: Any, what: str, low: float, high: float, unit: str) -> float | None:
    """``value`` as a float from ``low`` to ``high`` (None stays None), or a :class:`StoreError`."""
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
        finite(getattr(m, name), f"{where}: {name}", 0.0, MAX_DIAMETER_MM, "mm")  # may be forged
    for name in VOLUME_COLUMNS:
        finite(getattr(m, name), f"{where}: {name}", 0.0, MAX_VOLUME_MM3, "mm³")
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


def check_measurement_fields(fields: Mapping[str, Any]) -> None:
    """Refuse a field a measurement does not have."""
    unknown = set(fields) - set(MEASUREMENT_FIELDS)
    if unknown:
        raise StoreError(f"unknown measurement field(s) {', '.join(sorted(unknown))}")


def check_new_lesion(role: str, organ: str) -> None:
    """Refuse an unknown role or a missing organ."""
    if role not in tuple(Role):
        raise StoreError(f"role {role!r}: use one of {', '.join(Role)}")
    if organ is None or not str(organ).strip():
        raise StoreError("a lesion needs its organ")


def check_lesion_changes(lesion_id: str, fields: Mapping[str, Any]) -> None:
    """Refuse a change of a lesion other than its organ, nodal flag or override reason, or one of
    the wrong type."""
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


def check_phase(phase: str | None) -> None:
    """Refuse an unknown phase (None: no override)."""
    if phase is not None and phase not in tuple(Phase):
        raise StoreError(f"phase {phase!r}: use one of {', '.join(Phase)}")


def burden_values(estimate: Any) -> tuple[Any, ...]:
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
    pct = finite(pct, f"{what}: htb_pct", 0.0, 100.0, "%")
    if ci is not None and len(ci) != 2:
        raise StoreError(f"{what}: ci95_pct must be two numbers (low, high)")
    low, high = (None, None) if ci is None else (
        finite(ci[0], f"{what}: ci95_pct low", 0.0, 100.0, "%"),
        finite(ci[1], f"{what}: ci95_pct high", 0.0, 100.0, "%"))
    if low is not None and high is not None and low > high:
        raise StoreError(f"{what}: ci95_pct {low:g}–{high:g}: low above high")
    for name, areas in (("slice_liver_area_mm2", liver), ("slice_tumor_area_mm2", tumour)):
        if areas and len(areas) != len(slices):
            raise StoreError(f"{what}: {len(areas)} {name} for {len(slices)} slices")
        areas[:] = [finite(a, f"{what}: {name}", 0.0, MAX_SLICE_AREA_MM2, "mm²")
                    for a in areas]
    if any(isinstance(k, bool) or not isinstance(k, int) or k < 0 for k in slices):
        raise StoreError(f"{what}: slices {slices!r} must be slice indices (0 or more)")
    return (method, scheme, pct, category, low, high, json.dumps(slices), json.dumps(liver),
            json.dumps(tumour))
