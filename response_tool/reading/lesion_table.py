"""The Reading panel's lesion table as data: one row per lesion at the current time point, with
its baseline and previous values beside the current one (no Qt: the panel only shows them)."""

from __future__ import annotations

from dataclasses import dataclass

from response_tool.domain.model import Lesion, Read
from response_tool.domain.vocabulary import Role


@dataclass
class LesionRow:
    """What the lesion table shows for one lesion at the current time point."""

    lesion_id: str
    role: str
    organ: str
    is_nodal: bool
    baseline: str
    previous: str
    current: str
    state: str
    #: the current time point's volume in mL and its detail (``Measurement.volume_text``,
    #: ``volume_detail``; empty: not segmented)
    volume: str = ""
    volume_detail: str = ""


def lesion_rows(read: Read, dates: list[str], current: str) -> list[LesionRow]:
    """Every lesion of ``read`` at ``current`` (one of ``dates``, baseline first)."""
    i = dates.index(current)
    baseline, previous = dates[0], (dates[i - 1] if i > 0 else None)
    by = {(m.lesion_id, m.date): m for m in read.measurements}

    def text(les: Lesion, date: str | None) -> str:
        m = by.get((les.lesion_id, date)) if date else None
        return "" if m is None else m.value_text(les.is_nodal)

    out = []
    for les in read.lesions:
        lid = les.lesion_id
        m = by.get((lid, current))
        state = "not yet measured" if m is None else str(m.status)
        if les.role == Role.NEW and m is None and current < min(
                (d for (x, d) in by if x == lid), default=current):
            state = "not yet seen"
        out.append(LesionRow(lid, str(les.role), les.organ, les.is_nodal,
                             text(les, baseline), text(les, previous), text(les, current), state,
                             m.volume_text() if m else "", m.volume_detail() if m else ""))
    return out


__all__ = ["LesionRow", "lesion_rows"]
