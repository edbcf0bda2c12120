"""Baseline checks: which lesions may be targets (RECIST 1.1 section 3, mRECIST).

A failed check is a warning on that lesion — its id, the limit and the rule's source — never an
exception. A reader keeps a lesion anyway by giving an ``override_reason``; the warning is then
kept, marked overridden, with the reason.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from . import mrecist, recist11
from ._tables import Threshold

WARNING_COLUMNS = ("patient_id", "reader_id", "lesion_id", "criterion", "check_id", "message",
                   "limit", "source", "overridden", "override_reason")


def _warnings(rows: pd.DataFrame, criterion: str, t: Threshold, messages: pd.Series) -> pd.DataFrame:
    reason = rows["override_reason"].astype(str).str.strip() if len(rows) else pd.Series(dtype=str)
    return pd.DataFrame({
        "patient_id": rows["patient_id"].to_numpy(), "reader_id": rows["reader_id"].to_numpy(),
        "lesion_id": rows["lesion_id"].to_numpy(), "criterion": criterion, "check_id": t.id,
        "message": messages.to_numpy(), "limit": f"{t.as_float:g} {t.unit}", "source": str(t.source),
        "overridden": (reason != "").to_numpy(), "override_reason": reason.to_numpy(),
    }, columns=list(WARNING_COLUMNS))


def _fmt(values: pd.Series) -> pd.Series:
    return values.astype(float).map("{:g}".format).astype(str)


def baseline_warnings(df: pd.DataFrame, criteria: tuple[str, ...]) -> pd.DataFrame:
    """Warnings for the baseline lesions of a validated measurements table.

    Only the failing lesions are turned into text, so checking a 100 000-patient cohort costs a
    few vectorised comparisons.
    """
    at_base = df["_baseline"] if "_baseline" in df.columns else (
        df["timepoint_date"] == df.groupby(["patient_id", "reader_id"])["timepoint_date"]
        .transform("min"))
    needed = [c for c in ("patient_id", "reader_id", "lesion_id", "organ", "is_nodal", "long_axis_mm",
                          "short_axis_mm", "viable_long_axis_mm", "slice_thickness_mm",
                          "override_reason", "_read") if c in df.columns]
    base = df.loc[at_base.to_numpy(dtype=bool) & (df["role"] == "target").to_numpy(), needed]
    if base.empty:
        return pd.DataFrame(columns=list(WARNING_COLUMNS))
    nodal = base["is_nodal"].fillna(False).to_numpy(dtype=bool)
    short = base["short_axis_mm"].to_numpy(dtype=float)
    long_axis = base["long_axis_mm"].to_numpy(dtype=float)
    viable = base["viable_long_axis_mm"].to_numpy(dtype=float)
    thickness = (base["slice_thickness_mm"].to_numpy(dtype=float) if "slice_thickness_mm" in base
                 else np.full(len(base), np.nan))
    minimum = np.where(thickness > recist11.THICK_SLICE.as_float, 2 * thickness,
                       recist11.MEASURABLE.as_float)
    parts: list[pd.DataFrame] = []

    def add(mask: np.ndarray, criterion: str, t: Threshold,
            text: Callable[[pd.DataFrame, np.ndarray], pd.Series]) -> None:
        """Warnings for the rows in ``mask``; ``text`` builds their messages from those rows."""
        if mask.any():
            rows = base[mask]
            parts.append(_warnings(rows, criterion, t, text(rows, mask)))

    def ids(rows: pd.DataFrame) -> pd.Series:
        return rows["lesion_id"].astype(str)

    add(nodal & (short < recist11.NODE_TARGET.as_float), "recist1.1", recist11.NODE_TARGET,
        lambda b, m: "node " + ids(b) + ": short axis " + _fmt(b["short_axis_mm"]) + " mm < 15 mm "
        "is not measurable; record it as non-target (10–15 mm) or not at all (< 10 mm)")
    if "mrecist" in criteria:
        porta = base["organ"].astype(str).str.lower().str.contains("porta hepatis").to_numpy()
        add(nodal & porta & (short < mrecist.PORTA_HEPATIS_NODE.as_float), "mrecist",
            mrecist.PORTA_HEPATIS_NODE, lambda b, m: "porta-hepatis node " + ids(b)
            + ": short axis " + _fmt(b["short_axis_mm"]) + " mm < 20 mm is not malignant by mRECIST")
    add(~nodal & (long_axis < minimum), "recist1.1", recist11.MEASURABLE,
        lambda b, m: "lesion " + ids(b) + ": longest diameter " + _fmt(b["long_axis_mm"]) + " mm < "
        + _fmt(pd.Series(minimum[m], index=b.index)) + " mm is not measurable; record it as "
        "non-target")
    if "mrecist" in criteria:
        add(~nodal & ~(viable > 0), "mrecist", mrecist.ARTERIAL_ENHANCEMENT,
            lambda b, m: "lesion " + ids(b) + ": no arterial enhancement recorded at baseline; "
            "under mRECIST it follows RECIST 1.1 (total long axis)")
    read = (base["_read"].to_numpy() if "_read" in base.columns
            else base.groupby(["patient_id", "reader_id"], sort=False).ngroup().to_numpy())
    n_targets = np.bincount(read)[read]
    rank = base.groupby(read, sort=False).cumcount().to_numpy()
    add(rank >= recist11.MAX_TARGETS.as_float, "recist1.1", recist11.MAX_TARGETS,
        lambda b, m: pd.Series(n_targets[m], index=b.index).astype(str) + " targets for patient "
        + b["patient_id"].astype(str) + ", reader " + b["reader_id"].astype(str)
        + "; at most 5 — make " + ids(b) + " non-target")
    organ = base["organ"].astype(str).str.lower().where(~nodal, "lymph nodes")
    per_organ = base.groupby([read, pd.factorize(organ)[0]], sort=False)
    n_same = per_organ["lesion_id"].transform("size").to_numpy()
    rank_same = per_organ.cumcount().to_numpy()
    add(rank_same >= recist11.MAX_PER_ORGAN.as_float, "recist1.1", recist11.MAX_PER_ORGAN,
        lambda b, m: pd.Series(n_same[m], index=b.index).astype(str) + " targets in "
        + organ[m] + "; at most 2 per organ — make " + ids(b) + " non-target")
    if not parts:
        return pd.DataFrame(columns=list(WARNING_COLUMNS))
    out = pd.concat(parts, ignore_index=True)
    return out.astype({"overridden": bool})
