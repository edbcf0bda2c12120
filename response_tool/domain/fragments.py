"""Lesions that split or coalesce: the ``fragment_of`` and ``merged_into`` columns.

RECIST 1.1 (Eisenhauer 2009, Appendix II, "Lesions that split or coalesce on treatment"): "when
non-nodal lesions 'fragment', the longest diameters of the fragmented portions should be added
together to calculate the target lesion sum"; when lesions "have truly coalesced such that they
are no longer separable, the vector of the longest diameter in this instance should be the
maximal longest diameter for the 'coalesced lesion'". mRECIST (Lencioni & Llovet 2010) keeps
RECIST's measurement conventions, so the same folding applies to the viable diameters.

The table says it explicitly instead of by a convention (recording a merged lesion as absent):

* ``fragment_of``: on an extra fragment's row, the baseline lesion it belongs to. The fragment has
  its own ``lesion_id`` and the lesion's role; the lesion's value is the sum of its own row (if
  any) and its fragments'.
* ``merged_into``: on the row of a lesion absorbed into another, the lesion carrying the
  measurement. The absorbed lesion counts 0 mm and follows the carrier's status.

:func:`check_links` (called by :func:`~response_tool.domain.measurements.validate`) refuses every
impossible link with its line; :func:`fold_links` (called by ``assess`` with the option
``too_small_mm``) turns the rows into one row per lesion and time point, as the engine expects,
and says what it did.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .measurement_schema import STATUSES

LINK_COLUMNS = ("fragment_of", "merged_into")
#: The published sentences the folding follows (the rule ids name them in notes and docs).
SOURCES = {
    "FRAGMENTS-SUM": "Eisenhauer 2009 (RECIST 1.1), Appendix II, lesions that split: the longest "
                     "diameters of the fragments are added together",
    "MERGED-CARRIES": "Eisenhauer 2009 (RECIST 1.1), Appendix II, lesions that coalesce: the "
                      "coalesced lesion carries the maximal longest diameter",
}
_NE, _ABSENT, _MEASURED = STATUSES.index("not-evaluated"), STATUSES.index("absent"), STATUSES.index("measured")
_TOO_SMALL, _PRESENT, _PROGRESSION = (STATUSES.index("too-small"), STATUSES.index("present"),
                                      STATUSES.index("progression"))
_DIAMETERS = ("long_axis_mm", "short_axis_mm", "viable_long_axis_mm")


def _links(df: pd.DataFrame, column: str) -> np.ndarray:
    if column not in df.columns:
        return np.full(len(df), "", dtype=object)
    values = df[column].astype("string").fillna("").str.strip().to_numpy(dtype=object)
    return values


def check_links(df: pd.DataFrame, add: Any, at_base: np.ndarray) -> np.ndarray:
    """Check the link columns of a typed table; report each problem with ``add(lines, column,
    values, message)``. Returns the rows that are fragments (exempt from "not recorded at the
    baseline"). ``at_base`` marks the baseline rows."""
    fragment_of, merged_into = _links(df, "fragment_of"), _links(df, "merged_into")
    is_fragment, is_merged = fragment_of != "", merged_into != ""
    if not (is_fragment.any() or is_merged.any()):
        return is_fragment
    for col in LINK_COLUMNS:
        if col in df.columns:
            df[col] = _links(df, col)
    lines = df["_line"].to_numpy()
    lesion_id = df["lesion_id"].astype(str).to_numpy(dtype=object)
    patient, reader = df["patient_id"].astype(str).to_numpy(), df["reader_id"].astype(str).to_numpy()
    read = df["_read"].to_numpy()
    role = df["role"].astype(str).to_numpy(dtype=object)
    nodal = df["is_nodal"].to_numpy(dtype=bool, na_value=False)
    # the baseline lesions of each read: (read, lesion_id) → (role, nodal)
    base = pd.DataFrame({"read": read[at_base], "lesion": lesion_id[at_base], "role": role[at_base],
                         "nodal": nodal[at_base]}).drop_duplicates(["read", "lesion"])
    base_of = {(r, les): (ro, no) for r, les, ro, no in base.itertuples(index=False)}
    rows_at = set(zip(read, df["_day"].to_numpy(), lesion_id, strict=True))
    merged_at = set(zip(read[is_merged], df["_day"].to_numpy()[is_merged], lesion_id[is_merged],
                        strict=True))
    parent_of: dict[tuple[int, str], tuple[str, int]] = {}
    for i in np.flatnonzero(is_fragment | is_merged):
        col = "fragment_of" if is_fragment[i] else "merged_into"
        other = fragment_of[i] or merged_into[i]
        who = f"patient {patient[i]}, reader {reader[i]}"

        def bad(message: str, i: int = i, col: str = col, other: str = other) -> None:
            add([lines[i]], col, [other], message)

        if is_fragment[i] and is_merged[i]:
            bad("a row is either a fragment (fragment_of) or merged (merged_into), not both")
            continue
        if at_base[i]:
            bad(f"{col} at the baseline: lesions split or coalesce after it; at the baseline "
                "measure each lesion as it is")
            continue
        if other == lesion_id[i]:
            bad(f"lesion {lesion_id[i]} cannot be {col.replace('_', ' ')} itself")
            continue
        target = base_of.get((read[i], other))
        if target is None:
            bad(f"{who}: no baseline target or non-target lesion {other}; name the baseline "
                "lesion's id")
            continue
        if target[0] != role[i]:
            bad(f"lesion {lesion_id[i]} is {role[i]}, {other} is {target[0]}: a lesion splits into "
                "or merges with lesions of its own role")
            continue
        if is_fragment[i]:
            if (read[i], lesion_id[i]) in base_of:
                bad(f"lesion {lesion_id[i]} is a baseline lesion; a fragment gets an id of its own "
                    f"(e.g. {other}.2)")
            elif nodal[i] or target[1]:
                bad("RECIST 1.1 adds fragments of non-nodal lesions only; record a node by its "
                    "short axis")
            elif parent_of.setdefault((read[i], lesion_id[i]), (other, lines[i]))[0] != other:
                first = parent_of[(read[i], lesion_id[i])]
                bad(f"fragment {lesion_id[i]} belongs to {first[0]} on line {first[1]}; a fragment "
                    "keeps its lesion")
            continue
        day = df["_day"].to_numpy()[i]
        if (read[i], day, other) not in rows_at:
            bad(f"{who}: {other} has no row at this time point; record the coalesced lesion's "
                f"diameter on {other}")
        elif (read[i], day, other) in merged_at:
            bad(f"{other} is itself merged into another lesion here; name the lesion that "
                "carries the measurement")
        else:
            given = [c for c in _DIAMETERS if np.isfinite(df[c].to_numpy(dtype=float)[i])]
            if given:
                bad(f"lesion {lesion_id[i]} is merged into {other}: its diameter is carried by "
                    f"{other}; leave {', '.join(given)} empty")
    _check_fragment_viable(df, is_fragment, fragment_of, add)
    return is_fragment


def _check_fragment_viable(df: pd.DataFrame, is_fragment: np.ndarray, fragment_of: np.ndarray,
                           add: Any) -> None:
    """The viable diameters of one lesion's measured parts: given for every one or for none."""
    parts = _parts(df, is_fragment, fragment_of)
    if parts.empty:
        return
    sized = parts["_status"] == _MEASURED  # a too-small part counts too_small_mm when empty
    viable = parts["viable_long_axis_mm"].notna()
    mixed = (viable & sized).groupby(parts["group"]).any() & (~viable & sized).groupby(
        parts["group"]).any()
    for group in mixed[mixed].index:
        rows = parts[(parts["group"] == group) & sized & ~viable]
        add([int(rows["_line"].iloc[0])], "viable_long_axis_mm", [""],
            f"lesion {rows['_parent'].iloc[0]} split: give the viable diameter of every fragment "
            "(0 when a fragment does not enhance), or of none")


def _parts(df: pd.DataFrame, is_fragment: np.ndarray, fragment_of: np.ndarray) -> pd.DataFrame:
    """Every row that is part of a split lesion at a time point (the lesion's own row and its
    fragments), with ``group`` numbering read × day × lesion and ``_parent`` the lesion's id."""
    if not is_fragment.any():
        return pd.DataFrame()
    parent = np.where(is_fragment, fragment_of, df["lesion_id"].astype(str).to_numpy(dtype=object))
    frame = pd.DataFrame({"_read": df["_read"].to_numpy(), "_day": df["_day"].to_numpy(),
                          "_parent": parent, "_row": np.arange(len(df))})
    split = frame[is_fragment][["_read", "_day", "_parent"]].drop_duplicates()
    parts = frame.merge(split, on=["_read", "_day", "_parent"])
    parts["group"] = parts.groupby(["_read", "_day", "_parent"], sort=False).ngroup()
    for col in ("_status", "_line", "role", "long_axis_mm", "viable_long_axis_mm"):
        parts[col] = df[col].to_numpy()[parts["_row"].to_numpy()]
    parts["is_fragment"] = is_fragment[parts["_row"].to_numpy()]
    return parts


def _combined(statuses: list[int], target: bool) -> int:
    if not target:  # non-target: progression > seen > not evaluated > gone
        if _PROGRESSION in statuses:
            return _PROGRESSION
        if any(s not in (_ABSENT, _NE) for s in statuses):
            return _PRESENT
        return _NE if _NE in statuses else _ABSENT
    if _NE in statuses or any(s not in (_MEASURED, _TOO_SMALL, _ABSENT) for s in statuses):
        return _NE
    return _ABSENT if all(s == _ABSENT for s in statuses) else _MEASURED


def fold_links(df: pd.DataFrame, too_small_mm: float) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """One row per lesion and time point: fragments added into their lesion's row, merged
    lesions at 0 mm with their carrier's status. Returns the table and one note per kind."""
    fragment_of, merged_into = _links(df, "fragment_of"), _links(df, "merged_into")
    is_fragment, is_merged = fragment_of != "", merged_into != ""
    if not (is_fragment.any() or is_merged.any()):
        return df, ()
    df = df.copy()
    text_columns = ("lesion_id", "status", "organ")
    for col in text_columns:
        df[col] = df[col].astype(object)
    notes = []
    drop: list[int] = []
    codes = dict(zip(df["lesion_id"].astype(str), df["_lesion"], strict=True))
    base_rows = df[df["_baseline"].to_numpy(dtype=bool)].drop_duplicates(["_read", "_lesion"])
    base_organ = dict(zip(zip(base_rows["_read"], base_rows["lesion_id"].astype(str), strict=True),
                          base_rows["organ"], strict=True))
    parts = _parts(df, is_fragment, fragment_of)
    for _, group in (parts.groupby("group", sort=False) if len(parts) else ()):
        target = group["role"].iloc[0] == "target"
        status = _combined(group["_status"].tolist(), target)
        own = group[~group["is_fragment"]]
        keep = int(own["_row"].iloc[0] if len(own) else group["_row"].iloc[0])
        sized = group["_status"].isin([_MEASURED, _TOO_SMALL])
        long = np.where(group["_status"] == _TOO_SMALL, too_small_mm, group["long_axis_mm"])
        small = (group["_status"] == _TOO_SMALL).to_numpy()
        viable = group["viable_long_axis_mm"].mask(small & group["viable_long_axis_mm"].isna(),
                                                   too_small_mm).where(sized, 0.0)
        at = df.index[keep]
        parent = str(group["_parent"].iloc[0])
        df.loc[at, ["lesion_id", "_lesion"]] = [parent, codes[parent]]
        df.loc[at, "organ"] = base_organ.get((group["_read"].iloc[0], parent), df.at[at, "organ"])
        df.loc[at, ["_status", "status"]] = [status, STATUSES[status]]
        measured = target and status == _MEASURED
        df.loc[at, "long_axis_mm"] = float(np.sum(long[sized.to_numpy()])) if measured else (
            0.0 if target and status == _ABSENT else np.nan)
        df.loc[at, "viable_long_axis_mm"] = (float(viable.sum()) if measured and viable.notna().all()
                                             else np.nan)
        df.loc[at, "short_axis_mm"] = np.nan
        drop.extend(int(r) for r in group["_row"] if int(r) != keep)
    if is_fragment.any():
        lines = ", ".join(str(int(v)) for v in df["_line"].to_numpy()[is_fragment][:20])
        notes.append(f"{int(is_fragment.sum())} fragment row(s) added into their lesion "
                     f"({SOURCES['FRAGMENTS-SUM']}): line(s) {lines}")
    if is_merged.any():
        carrier = {(r, d, les): i for i, (r, d, les) in enumerate(zip(
            df["_read"], df["_day"], df["lesion_id"].astype(str), strict=True))}
        for i in np.flatnonzero(is_merged):
            j = carrier[(df["_read"].iat[i], df["_day"].iat[i], merged_into[i])]
            status = int(df["_status"].iat[j])
            if df["role"].iat[i] == "target":
                status = _MEASURED if status in (_MEASURED, _TOO_SMALL) else status
                value = 0.0 if status in (_MEASURED, _ABSENT) else np.nan
                for col in _DIAMETERS:
                    df.iat[i, df.columns.get_loc(col)] = value
            df.iat[i, df.columns.get_loc("_status")] = status
            df.iat[i, df.columns.get_loc("status")] = STATUSES[status]
        lines = ", ".join(str(int(v)) for v in df["_line"].to_numpy()[is_merged][:20])
        notes.append(f"{int(is_merged.sum())} lesion row(s) merged into another count 0 mm with "
                     f"its status ({SOURCES['MERGED-CARRIES']}): line(s) {lines}")
    if drop:
        df = df.drop(index=df.index[drop])
    for col in text_columns:
        df[col] = pd.Categorical(df[col].astype(str))
    return df, tuple(notes)


__all__ = ["LINK_COLUMNS", "SOURCES", "check_links", "fold_links"]
