"""Imported SRs into the read store, checked whole before anything is written.

Each SR is one time point of one reader's read (patient id, reader). Its lesions are added to the
read (or must agree with the ones there: role, organ, lymph-node flag), its time point is added
with its study, and its measurements are saved. A measurement already in the store that differs
from the SR's is refused unless ``replace`` (nothing is overwritten unseen); one that is the same
is left as it is. Every check runs over all the files before the first write.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from response_tool.domain.model import Lesion, Measurement, Read

from .sr_import import ImportedSR, SRImportError

#: The fields a measurement is compared on (the lines to a micrometre: float32 in the SR).
_VALUES = ("status", "long_axis_mm", "short_axis_mm", "viable_long_axis_mm")
_ENDS = ("long_endpoints", "short_endpoints", "viable_endpoints")


def _same(a: Measurement, b: Measurement) -> bool:
    if any(getattr(a, f) != getattr(b, f) for f in _VALUES):
        return False
    for f in _ENDS:
        x, y = getattr(a, f), getattr(b, f)
        if (x is None) != (y is None):
            return False
        if x is not None and max(abs(p - q) for u, v in zip(x, y, strict=True)
                                 for p, q in zip(u, v, strict=True)) > 1e-3:
            return False
    return True


def _lesion_conflict(old: Lesion, new: Lesion) -> str | None:
    for f in ("role", "organ", "is_nodal"):
        if getattr(old, f) != getattr(new, f):
            return f"{f} {getattr(old, f)!s} in the store, {getattr(new, f)!s} in the SR"
    return None


def plan_import(store: Any, imports: Sequence[ImportedSR], replace: bool = False
                ) -> list[tuple[Any, ImportedSR, list[Lesion], list[Measurement]]]:
    """What each SR adds to the store, or an :class:`SRImportError` naming the first conflict."""
    plans = []
    seen: dict[tuple[str, str, str], Lesion] = {}
    dates: dict[tuple[str, str, str], str] = {}
    for imp in imports:
        key = (imp.patient_id, imp.reader_id, imp.date)
        if key in dates:
            raise SRImportError(f"{imp.path}: {imp.patient_id} by {imp.reader_id} on {imp.date} "
                                f"is also in {dates[key]}; import one SR per time point")
        dates[key] = str(imp.path)
        existing: Read | None = None
        if any(k.patient_id == imp.patient_id and k.reader_id == imp.reader_id
               for k in store.reads()):
            from response_tool.reading.store import ReadKey

            existing = store.load(ReadKey(imp.patient_id, imp.reader_id))
        known = {les.lesion_id: les for les in (existing.lesions if existing else ())}
        new_lesions = []
        for les in imp.lesions:
            other = known.get(les.lesion_id) or seen.get((imp.patient_id, imp.reader_id,
                                                          les.lesion_id))
            if other is not None:
                conflict = _lesion_conflict(other, les)
                if conflict:
                    raise SRImportError(f"{imp.path}: lesion {les.lesion_id} of {imp.patient_id} "
                                        f"by {imp.reader_id}: {conflict}; fix one of them first")
            else:
                new_lesions.append(les)
                seen[(imp.patient_id, imp.reader_id, les.lesion_id)] = les
        to_save = []
        for m in imp.measurements:
            old = existing.measurement(m.lesion_id, m.date) if existing else None
            if old is not None and _same(old, m):
                continue
            if old is not None and not replace:
                raise SRImportError(
                    f"{imp.path}: {m.lesion_id} on {m.date} ({imp.patient_id} by "
                    f"{imp.reader_id}) is already in the store with other values; --replace "
                    "writes the SR's over it")
            to_save.append(m)
        plans.append((existing, imp, new_lesions, to_save))
    return plans


def import_into_store(store: Any, imports: Sequence[ImportedSR], replace: bool = False
                      ) -> list[str]:
    """Write ``imports`` into ``store`` (see the module docstring); one line per SR of what was
    done."""
    lines = []
    for _existing, imp, new_lesions, to_save in plan_import(store, imports, replace):
        if not imp.measurements:
            lines.append(f"{imp.path.name}: no lesion in it; nothing imported (see the notes)")
            continue
        key = store.open_read(imp.patient_id, imp.reader_id)
        for les in new_lesions:
            store.add_lesion(key, les.role, les.organ, les.is_nodal, lesion_id=les.lesion_id)
            if les.override_reason:
                store.update_lesion(key, les.lesion_id, override_reason=les.override_reason)
        store.add_timepoint(key, imp.date, imp.study_uid)
        for m in to_save:
            store.save_measurement(key, m)
        lines.append(f"{imp.path.name}: {imp.patient_id} by {imp.reader_id}, {imp.date}: "
                     f"{len(to_save)} measurement(s) saved, {len(new_lesions)} new lesion(s)"
                     f"{'' if len(to_save) == len(imp.measurements) else ', the rest unchanged'}")
    return lines
