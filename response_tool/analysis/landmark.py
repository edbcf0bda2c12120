"""Landmark analysis: classify each patient by the response seen up to a landmark, keep only the
patients alive and event-free at it, and measure their times from it (Anderson, Cain & Gelber,
J Clin Oncol 1983;1:710–719). Responders classified by their best response over the whole
follow-up are favoured by guarantee-time bias — they must live long enough to respond; at a
landmark every patient compared has had the same time to respond.

The landmark is a time in months from baseline (``months``) or a follow-up index (``followup``:
the K-th follow-up scan of each patient; its time is the median of their K-th scans, so that
one landmark holds for everyone).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

#: best first: the order in which the best response up to the landmark is chosen
ORDER = ("CR", "PR", "SD", "PD")
#: the days of a month in every conversion of the report (365.25 / 12)
DAYS_PER_MONTH = 30.4375


@dataclass
class Landmark:
    """Who is compared at the landmark, and who is not and why."""

    months: float
    #: patient_id, category (best response up to the landmark), ``time`` from the landmark,
    #: ``event``
    data: pd.DataFrame
    #: patients left out because their event (or censoring) came at or before the landmark
    not_at_risk: list[str] = field(default_factory=list)
    #: patients at risk with no evaluable response by the landmark
    not_assessed: list[str] = field(default_factory=list)


def landmark_months(timepoints: pd.DataFrame, followup: int) -> float:
    """The time of follow-up ``followup``: the median over patients of the months of their
    ``followup``-th follow-up scan (columns ``patient_id``, ``months``; the baseline at 0)."""
    follow = timepoints[timepoints["months"] > 0].sort_values("months")
    k = follow.groupby("patient_id").cumcount() + 1
    at = follow.loc[k == followup, "months"]
    if at.empty:
        raise ValueError(f"no patient has a follow-up {followup}")
    return float(at.median())


def at_landmark(timepoints: pd.DataFrame, survival: pd.DataFrame, months: float,
                time: str, event: str) -> Landmark:
    """``timepoints``: ``patient_id``, ``months`` since baseline, ``response`` (CR/PR/SD/PD,
    anything else not evaluable); ``survival``: ``patient_id``, ``time``, ``event`` columns
    named by ``time`` and ``event``. A patient is at risk when ``time > months`` (an event or a
    censoring exactly at the landmark leaves nothing to follow); their category is the best of
    their evaluable responses at scans up to and including the landmark."""
    surv = survival[["patient_id", time, event]].dropna()
    at_risk = surv[surv[time] > months]
    not_at_risk = sorted(set(surv["patient_id"]) - set(at_risk["patient_id"]))
    seen = timepoints[(timepoints["months"] > 0) & (timepoints["months"] <= months)
                      & timepoints["response"].isin(ORDER)]
    rank = seen["response"].map({c: i for i, c in enumerate(ORDER)})
    best = (seen.assign(rank=rank).sort_values("rank").groupby("patient_id")["response"]
            .first().rename("category"))
    data = at_risk.join(best, on="patient_id")
    not_assessed = sorted(data.loc[data["category"].isna(), "patient_id"])
    data = data.dropna(subset=["category"])
    data = pd.DataFrame({"patient_id": data["patient_id"], "category": data["category"],
                         "time": data[time] - months, "event": data[event]})
    return Landmark(months, data.reset_index(drop=True), not_at_risk, not_assessed)
