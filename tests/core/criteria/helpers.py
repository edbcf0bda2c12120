"""Build small measurement tables for rule tests."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from response_tool.assessment import AssessmentOptions, assess

BASE = dt.date(2026, 1, 5)


def day(weeks: float) -> str:
    return (BASE + dt.timedelta(days=round(weeks * 7))).isoformat()


def row(week: float, lesion: str, role: str = "target", status: str = "measured", *,
        long: float | None = None, short: float | None = None, viable: float | None = None,
        organ: str = "liver", nodal: bool = False, patient: str = "P1", reader: str = "R1",
        **extra: object) -> dict[str, object]:
    return {"patient_id": patient, "reader_id": reader, "timepoint_date": day(week),
            "lesion_id": lesion, "role": role, "organ": organ, "is_nodal": str(nodal).lower(),
            "long_axis_mm": "" if long is None else long,
            "short_axis_mm": "" if short is None else short,
            "viable_long_axis_mm": "" if viable is None else viable, "status": status, **extra}


def run(rows: list[dict[str, object]], criteria: tuple[str, ...] = ("recist1.1",),
        **options: object) -> pd.DataFrame:
    """Time-point table (follow-ups only) of one read."""
    result = assess(pd.DataFrame(rows), AssessmentOptions(criteria=criteria, **options))  # type: ignore[arg-type]
    tp = result.timepoints
    return tp[~tp["is_baseline"]].reset_index(drop=True)


def sums(base: list[float], *follow: list[float | str], week_step: float = 8,
         non_target: list[str] | None = None, new: list[str] | None = None) -> list[dict]:
    """Targets T1..Tn (non-nodal, liver/lung alternating) with the given long axes per time point.

    A value "NE" marks the lesion not evaluated; "too-small" / "absent" are statuses.
    ``non_target``: status of one non-target lesion NT1 per follow-up (None = no non-target).
    ``new``: status of a new lesion NEW1 per follow-up ("" = none).
    """
    organs = ["liver", "lung", "liver", "lung", "bone"]
    rows = [row(0, f"T{i + 1}", long=v, organ=organs[i]) for i, v in enumerate(base)]
    if non_target is not None:
        rows.append(row(0, "NT1", "non-target", "present", organ="peritoneum"))
    for k, values in enumerate(follow, start=1):
        for i, v in enumerate(values):
            if v == "NE":
                continue
            if isinstance(v, str):
                rows.append(row(k * week_step, f"T{i + 1}", status=v, organ=organs[i]))
            else:
                rows.append(row(k * week_step, f"T{i + 1}", long=v, organ=organs[i]))
        if non_target is not None and non_target[k - 1]:
            rows.append(row(k * week_step, "NT1", "non-target", non_target[k - 1],
                            organ="peritoneum"))
        if new is not None and new[k - 1]:
            rows.append(row(k * week_step, "NEW1", "new", new[k - 1], long=12, organ="lung"))
    return rows
