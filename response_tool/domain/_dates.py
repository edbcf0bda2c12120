"""Partial dates (ISO 8601 ``YYYY-MM`` / ``YYYY``, as SDTM ``--DTC`` allows) and how to complete them."""

from __future__ import annotations

import pandas as pd

#: How a partial date (``YYYY-MM`` or ``YYYY``, valid ISO 8601 and SDTM --DTC values) may be
#: completed: the first, the middle or the last day of the month (or year). None: refused.
IMPUTATIONS = ("first", "mid", "last")
PARTIAL = r"^(\d{4})(?:-(\d{2}))?$"


def impute(text: pd.Series, how: str) -> pd.Series:
    """Each partial date of ``text`` completed the ``how`` way (others: NaT)."""
    parts = text.str.extract(PARTIAL)
    year = pd.to_numeric(parts[0], errors="coerce")
    month = pd.to_numeric(parts[1], errors="coerce")
    start_month = month.fillna(1 if how == "first" else (7 if how == "mid" else 12))
    if how == "mid" and month.notna().any():
        start_month = month.where(month.notna(), 7)
    ok = year.notna() & start_month.between(1, 12)
    first = pd.to_datetime(pd.DataFrame({"year": year.where(ok, 2000), "month": start_month
                                         .where(ok, 1), "day": 1}), errors="coerce")
    if how == "last":
        first = first + pd.offsets.MonthEnd(0)
    elif how == "mid":
        first = first + pd.Timedelta(days=14)  # the 15th
    return first.where(ok)
