"""A line the reader draws, or accepts from click-to-measure, as the changes it makes to the
lesion's measurement.

:class:`LineRecord` says where a diameter was drawn (endpoints in patient mm, series, phase,
slice) and how it came to be; :func:`line_changes` turns one into the measurement fields it sets
(its length rounded to 0.01 mm, its endpoints, series, the lesion's status, the line's origin);
:func:`accepted` applies every line of an accepted click-to-measure proposal at once, with the
volumes of the proposal's segmentation. The session's ``record_line`` and ``accept_proposal``
share them, so a line is stored the same way whether drawn or proposed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from response_tool.domain import geometry
from response_tool.domain.errors import ResponseToolError
from response_tool.domain.model import LINE_ORIGINS, Lesion, Measurement
from response_tool.domain.vocabulary import DiameterKind, Role, Status

from ._lesion_masks import LesionSegmentation

#: diameter kinds in the order the panel offers them
KINDS = tuple(k.value for k in DiameterKind)


@dataclass
class LineRecord:
    """Where a diameter was drawn: endpoints in patient mm (z, y, x) and on which series."""

    endpoints_mm: list[list[float]]
    series_uid: str | None = None
    phase: str | None = None
    slice_index: int | None = None
    #: drawn by hand, proposed by click-to-measure and accepted, or proposed then edited
    origin: str = "drawn"


def line_changes(lesion: Lesion, old: Measurement, kind: str, line: LineRecord
                 ) -> tuple[DiameterKind, float, dict[str, Any]]:
    """The diameter ``kind`` drawn as ``line`` on ``lesion`` whose measurement is ``old``: the
    kind, the length (mm, to 0.01) and the changes of the measurement."""
    try:
        kind = DiameterKind(kind)
    except ValueError:
        raise ResponseToolError(f"diameter kind {kind!r}: use one of {', '.join(KINDS)}") from None
    pts = np.asarray(line.endpoints_mm, dtype=float)
    length = round(geometry.length_mm(pts[0], pts[1]), 2)
    if line.origin not in LINE_ORIGINS:
        raise ResponseToolError(f"line origin {line.origin!r}: use one of {', '.join(LINE_ORIGINS)}")
    changes: dict[str, Any] = {kind.column: length, kind.endpoints: pts.tolist(),
                               "status": Status.PRESENT if lesion.role == Role.NON_TARGET
                               else Status.MEASURED,
                               "origins": old.with_origin(kind, line.origin)}
    if kind == DiameterKind.VIABLE:
        changes.update(viable_series_uid=line.series_uid, viable_phase=line.phase)
    else:
        changes.update(series_uid=line.series_uid, phase=line.phase,
                       slice_index=line.slice_index)
    return kind, length, changes


def accepted(lesion: Lesion, old: Measurement, lines: Mapping[str, LineRecord], proposal: Any,
             series_uid: str | None) -> tuple[Measurement, LesionSegmentation | None]:
    """``old`` with a click-to-measure proposal accepted: every line of ``lines`` (kind → line,
    as the reader accepted it: proposed or edited), the proposal's volumes (``volume_mm3``,
    ``enhancing_volume_mm3``; None when it has none — a volume kept from an earlier proposal
    would be another segmentation's), and the segmentation to keep with it: the proposal's
    ``mask`` on ``series_uid`` (None without a mask or a series: the volumes are then kept
    without it). Lines the proposal did not give are kept as they were."""
    if not lines:
        raise ResponseToolError(f"{lesion.lesion_id}: no line to accept; Measure again, or draw "
                                "the lines")
    m = old
    for kind, line in lines.items():
        m = m.with_changes(**line_changes(lesion, m, kind, line)[2])
    m = m.with_changes(volume_mm3=getattr(proposal, "volume_mm3", None),
                       enhancing_volume_mm3=getattr(proposal, "enhancing_volume_mm3", None))
    mask = getattr(proposal, "mask", None)
    kept = None if mask is None or not series_uid else \
        LesionSegmentation(m.lesion_id, m.date, series_uid, mask)
    return m, kept


__all__ = ["KINDS", "LineRecord", "accepted", "line_changes"]
