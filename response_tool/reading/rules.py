"""The reading rules a session applies while a reader annotates, each from its criterion module.

A session asks here whether a role may be added now, which baseline targets still lack their
diameter, and which drawn lines break a measuring rule; every message names the rule id
(:data:`response_tool.criteria.recist11.READING_RULES`,
:data:`response_tool.criteria.mrecist.READING_RULES`).
"""

from __future__ import annotations

import numpy as np

from response_tool.criteria import mrecist, recist11
from response_tool.domain import geometry
from response_tool.domain.model import Read
from response_tool.domain.vocabulary import Phase, Role, Status

ROLES_AT_BASELINE = recist11.READING_RULES["roles-at-baseline"]
ABSENT_IS_0MM = recist11.READING_RULES["absent-0mm"]
BASELINE_MEASURED = recist11.READING_RULES["baseline-measured"]
PERPENDICULAR = recist11.READING_RULES["short-axis-perpendicular"]
NODE_SHORT_AXIS = recist11.READING_RULES["node-short-axis"]
VIABLE_ON_ARTERIAL = mrecist.READING_RULES["viable-arterial"]


def role_allowed(role: Role, at_baseline: bool) -> str:
    """Why a lesion of ``role`` cannot be added now ("" if it can)."""
    if role in (Role.TARGET, Role.NON_TARGET) and not at_baseline:
        return (f"{role} lesions are chosen at the baseline; at a follow-up add a new lesion "
                f"[{ROLES_AT_BASELINE.id}]")
    if role == Role.NEW and at_baseline:
        return ("a new lesion appears after the baseline; at the baseline add a target or "
                f"non-target [{ROLES_AT_BASELINE.id}]")
    return ""


def waiting_for_baseline(read: Read, baseline: str) -> list[str]:
    """Targets with no measurement at the baseline (:data:`BASELINE_MEASURED`)."""
    measured = {m.lesion_id for m in read.measurements if m.date == baseline}
    return [les.lesion_id for les in read.lesions
            if les.role == Role.TARGET and les.lesion_id not in measured]


def drawing_warnings(read: Read) -> list[str]:
    """Lines that break a measuring rule, per measurement in date then lesion order."""
    out = []
    for m in sorted(read.measurements, key=lambda m: (m.date, m.lesion_id)):
        les = read.lesion(m.lesion_id)
        where = f"{m.lesion_id} ({m.date})"
        if m.long_endpoints and m.short_endpoints:
            a, b = np.asarray(m.long_endpoints), np.asarray(m.short_endpoints)
            if not geometry.is_perpendicular(a, b):
                out.append(f"{where}: short axis not perpendicular to the long axis "
                           f"({geometry.angle_deg(a, b):.0f}°, tolerance "
                           f"{geometry.PERPENDICULAR_TOLERANCE_DEG:.0f}°) [{PERPENDICULAR.id}]")
        if m.viable_endpoints and (m.viable_phase or "") != Phase.ARTERIAL:
            out.append(f"{where}: viable diameter drawn on a {m.viable_phase or 'unknown'}-phase "
                       f"series; mRECIST measures it on the arterial phase [{VIABLE_ON_ARTERIAL.id}]")
        if les.role == Role.TARGET and les.is_nodal and m.status == Status.MEASURED \
                and m.short_axis_mm is None:
            out.append(f"{where}: a nodal target is measured by its short axis; draw it "
                       f"[{NODE_SHORT_AXIS.id}]")
    return out
