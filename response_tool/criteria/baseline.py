"""Baseline checks: which lesions may be targets (RECIST 1.1 section 3, mRECIST).

A failed check is a warning on that lesion — its id, the limit and the rule's source — never an
exception. A reader keeps a lesion anyway by giving an ``override_reason``; the warning is then
kept, marked overridden, with the reason.
"""

from __future__ import annotations

import pandas as pd

from . import mrecist, recist11
from ._tables import Threshold

WARNING_COLUMNS = ("patient_id", "reader_id", "lesion_id", "criterion", "check_id", "message",
                   "limit", "source", "overridden", "override_reason")


def _warn(out: list[dict], r: dict, criterion: str, t: Threshold, message: str) -> None:
    reason = str(r.get("override_reason") or "").strip()
    out.append({
        "patient_id": r["patient_id"], "reader_id": r["reader_id"], "lesion_id": r["lesion_id"],
        "criterion": criterion, "check_id": t.id, "message": message,
        "limit": f"{t.as_float:g} {t.unit}", "source": str(t.source),
        "overridden": bool(reason), "override_reason": reason,
    })


def baseline_warnings(df: pd.DataFrame, criteria: tuple[str, ...]) -> pd.DataFrame:
    """Warnings for the baseline lesions of a validated measurements table."""
    first = df.groupby(["patient_id", "reader_id"])["timepoint_date"].transform("min")
    base = df[(df["timepoint_date"] == first) & (df["role"] == "target")]
    out: list[dict] = []
    for r in base.to_dict("records"):
        nodal = bool(r["is_nodal"])
        thickness = r.get("slice_thickness_mm")
        minimum = recist11.MEASURABLE.as_float
        if thickness == thickness and thickness is not None and thickness > recist11.THICK_SLICE.as_float:
            minimum = 2 * float(thickness)
        if nodal:
            short = r["short_axis_mm"]
            if short < recist11.NODE_TARGET.as_float:
                _warn(out, r, "recist1.1", recist11.NODE_TARGET,
                      f"node {r['lesion_id']}: short axis {short:g} mm < 15 mm is not measurable; "
                      "record it as non-target (10–15 mm) or not at all (< 10 mm)")
            if ("mrecist" in criteria and "porta hepatis" in str(r["organ"]).lower()
                    and short < mrecist.PORTA_HEPATIS_NODE.as_float):
                _warn(out, r, "mrecist", mrecist.PORTA_HEPATIS_NODE,
                      f"porta-hepatis node {r['lesion_id']}: short axis {short:g} mm < 20 mm is not "
                      "malignant by mRECIST")
        else:
            long_axis = r["long_axis_mm"]
            if long_axis < minimum:
                _warn(out, r, "recist1.1", recist11.MEASURABLE,
                      f"lesion {r['lesion_id']}: longest diameter {long_axis:g} mm < {minimum:g} mm "
                      "is not measurable; record it as non-target")
            viable = r["viable_long_axis_mm"]
            if "mrecist" in criteria and not (viable == viable and viable is not None and viable > 0):
                _warn(out, r, "mrecist", mrecist.ARTERIAL_ENHANCEMENT,
                      f"lesion {r['lesion_id']}: no arterial enhancement recorded at baseline; under "
                      "mRECIST it follows RECIST 1.1 (total long axis)")
    for (pid, rid), g in base.groupby(["patient_id", "reader_id"]):
        if len(g) > recist11.MAX_TARGETS.as_float:
            for r in g.iloc[int(recist11.MAX_TARGETS.as_float):].to_dict("records"):
                _warn(out, r, "recist1.1", recist11.MAX_TARGETS,
                      f"{len(g)} targets for patient {pid}, reader {rid}; at most 5 — make "
                      f"{r['lesion_id']} non-target")
        organ = g["organ"].str.lower().where(~g["is_nodal"].astype(bool), "lymph nodes")
        for name, same in g.groupby(organ):
            if len(same) > recist11.MAX_PER_ORGAN.as_float:
                for r in same.iloc[int(recist11.MAX_PER_ORGAN.as_float):].to_dict("records"):
                    _warn(out, r, "recist1.1", recist11.MAX_PER_ORGAN,
                          f"{len(same)} targets in {name}; at most 2 per organ — make "
                          f"{r['lesion_id']} non-target")
    return pd.DataFrame(out, columns=list(WARNING_COLUMNS))
