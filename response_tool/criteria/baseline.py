"""Baseline checks: which lesions may be targets (RECIST 1.1 section 3, mRECIST).

A failed check is a warning on that lesion — its id, the limit and the rule's source — never an
exception. A reader keeps a lesion anyway by giving an ``override_reason``; the warning is then
kept, marked overridden, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import CRITERIA
from ._tables import BaselineCheck

WARNING_COLUMNS = ("patient_id", "reader_id", "lesion_id", "criterion", "check_id", "message",
                   "limit", "source", "overridden", "override_reason")


@dataclass(frozen=True)
class BaselineTargets:
    """The baseline targets of a measurements table, as the checks read them."""

    rows: pd.DataFrame
    nodal: np.ndarray
    short: np.ndarray
    long_axis: np.ndarray
    viable: np.ndarray
    thickness: np.ndarray
    read: np.ndarray       # one code per patient × reader
    n_targets: np.ndarray  # targets of the lesion's read
    rank: np.ndarray       # the lesion's position among them


@dataclass(frozen=True)
class NewLesionRows:
    """The new-lesion rows of a measurements table, as the new-lesion checks read them (only the
    unequivocal ones can be demoted)."""

    rows: pd.DataFrame
    unequivocal: np.ndarray


def _warnings(rows: pd.DataFrame, criterion: str, check: BaselineCheck, messages: pd.Series
              ) -> pd.DataFrame:
    t = check.threshold
    reason = rows["override_reason"].astype(str).str.strip() if len(rows) else pd.Series(dtype=str)
    return pd.DataFrame({
        "patient_id": rows["patient_id"].to_numpy(), "reader_id": rows["reader_id"].to_numpy(),
        "lesion_id": rows["lesion_id"].to_numpy(), "criterion": criterion, "check_id": t.id,
        "message": messages.to_numpy(), "limit": f"{t.as_float:g} {t.unit}", "source": str(t.source),
        "overridden": (reason != "").to_numpy(), "override_reason": reason.to_numpy(),
    }, columns=list(WARNING_COLUMNS))


def baseline_warnings(df: pd.DataFrame, criteria: tuple[str, ...]) -> pd.DataFrame:
    """Warnings for the baseline lesions of a validated measurements table: the baseline checks
    of each criterion in ``criteria`` (``CriterionDefinition.baseline_checks``), listed in their
    ``order``.

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
    read = (base["_read"].to_numpy() if "_read" in base.columns
            else base.groupby(["patient_id", "reader_id"], sort=False).ngroup().to_numpy())
    targets = BaselineTargets(
        rows=base, nodal=base["is_nodal"].fillna(False).to_numpy(dtype=bool),
        short=base["short_axis_mm"].to_numpy(dtype=float),
        long_axis=base["long_axis_mm"].to_numpy(dtype=float),
        viable=base["viable_long_axis_mm"].to_numpy(dtype=float),
        thickness=(base["slice_thickness_mm"].to_numpy(dtype=float)
                   if "slice_thickness_mm" in base else np.full(len(base), np.nan)),
        read=read, n_targets=np.bincount(read)[read],
        rank=base.groupby(read, sort=False).cumcount().to_numpy())
    checks = sorted(((c, crit) for crit in CRITERIA if crit in criteria
                     for c in CRITERIA[crit].DEFINITION.baseline_checks), key=lambda x: x[0].order)
    parts = []
    for check, criterion in checks:
        mask = np.asarray(check.fails(targets), dtype=bool)
        if mask.any():
            parts.append(_warnings(base[mask], criterion, check, check.message(targets, mask)))
    if not parts:
        return pd.DataFrame(columns=list(WARNING_COLUMNS))
    out = pd.concat(parts, ignore_index=True)
    return out.astype({"overridden": bool})


def new_lesion_warnings(df: pd.DataFrame, criteria: tuple[str, ...]) -> pd.DataFrame:
    """Warnings for new lesions that a criterion counts only as equivocal (not PD), e.g. a new
    node below 10 mm short axis, a new intrahepatic lesion that was not measured (mRECIST)."""
    from response_tool.domain.vocabulary import UNEQUIVOCAL_STATUSES

    is_new = (df["role"] == "new").to_numpy(dtype=bool)
    if not is_new.any():
        return pd.DataFrame(columns=list(WARNING_COLUMNS))
    cols = [c for c in ("patient_id", "reader_id", "lesion_id", "timepoint_date", "organ",
                        "status", "is_nodal", "long_axis_mm", "short_axis_mm", "cytology_proven",
                        "override_reason") if c in df.columns]
    rows = df.loc[is_new, cols]
    status = rows["status"].astype(str).to_numpy()
    new = NewLesionRows(rows, np.isin(status, [s.value for s in UNEQUIVOCAL_STATUSES]))
    parts = []
    for crit in CRITERIA:
        if crit not in criteria:
            continue
        for check in sorted(CRITERIA[crit].DEFINITION.new_lesion_checks, key=lambda c: c.order):
            mask = np.asarray(check.fails(new), dtype=bool)
            if mask.any():
                parts.append(_warnings(rows[mask], crit, check, check.message(new, mask)))
    if not parts:
        return pd.DataFrame(columns=list(WARNING_COLUMNS))
    return pd.concat(parts, ignore_index=True).astype({"overridden": bool})
