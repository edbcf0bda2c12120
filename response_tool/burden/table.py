"""The burden table (``response-tool assess --burden BURDEN.csv``): one HTB estimate per patient
(× reader) × time point, validated line by line and categorized under one scheme."""

from __future__ import annotations

import pandas as pd

from response_tool.domain.errors import BurdenInputError

from .estimates import METHODS
from .schemes import Scheme, resolve

#: Columns of a burden table (``response-tool assess --burden BURDEN.csv``): one row per patient
#: (× reader) × time point.
BURDEN_COLUMNS = ("patient_id", "reader_id", "timepoint_date", "htb_pct", "htb_category",
                  "htb_method")


def read_burden_table(source: object, scheme: str | Scheme = "liu2022") -> pd.DataFrame:
    """Validate a burden table (a CSV path or a DataFrame) and categorize it under ``scheme``.

    Columns: ``patient_id``, ``timepoint_date`` (YYYY-MM-DD), ``htb_method`` (volumetric,
    semi-quantitative or visual), ``htb_pct`` (0–100; required unless visual), ``htb_category``
    (required for visual: a category of ``scheme``), optional ``reader_id`` (empty or absent: the
    value applies to every reader of that patient). Problems are listed by line and column.
    """
    s = resolve(scheme)
    name = str(source) if not isinstance(source, pd.DataFrame) else "burden table"
    if isinstance(source, pd.DataFrame):
        frame = source.astype(object).where(source.notna(), "")
    else:
        try:
            frame = pd.read_csv(source, dtype=str, keep_default_na=False)  # type: ignore[arg-type]
        except FileNotFoundError as exc:
            raise BurdenInputError(f"{name}: no such file; give the burden CSV") from exc
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise BurdenInputError(f"{name}: not a readable CSV ({exc})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in ("patient_id", "timepoint_date", "htb_method") if c not in frame.columns]
    if missing:
        raise BurdenInputError(f"{name}: missing column(s) {', '.join(missing)}; the header needs "
                               "patient_id, timepoint_date, htb_method and htb_pct or htb_category")
    problems: list[str] = []
    rows = []
    for i, r in enumerate(frame.to_dict("records"), start=2):
        text = {k: str(r.get(k, "")).strip() for k in BURDEN_COLUMNS}
        method = text["htb_method"].lower()
        date = pd.to_datetime(text["timepoint_date"], format="%Y-%m-%d", errors="coerce")
        if not text["patient_id"]:
            problems.append(f"line {i}, column patient_id: must not be empty")
        if pd.isna(date):
            problems.append(f"line {i}, column timepoint_date ({text['timepoint_date']!r}): not a "
                            "date; write YYYY-MM-DD")
        if method not in METHODS:
            problems.append(f"line {i}, column htb_method ({text['htb_method']!r}): use one of "
                            f"{', '.join(METHODS)}")
        pct = None
        category = text["htb_category"]
        if text["htb_pct"]:
            try:
                pct = float(text["htb_pct"])
            except ValueError:
                pct = None
            if pct is None or not 0 <= pct <= 100:
                problems.append(f"line {i}, column htb_pct ({text['htb_pct']!r}): a percentage "
                                "between 0 and 100")
                pct = None
            else:
                category = s.categorize(pct)
        elif method == "visual":
            if category not in s.labels:
                problems.append(f"line {i}, column htb_category ({category!r}): a visual estimate "
                                f"needs a category of {s.id} ({', '.join(s.labels)})")
        elif method in METHODS:
            problems.append(f"line {i}, column htb_pct: a {method} estimate needs its HTB %")
        rows.append({"patient_id": text["patient_id"], "reader_id": text["reader_id"],
                     "timepoint_date": date, "htb_pct": pct, "htb_category": category,
                     "htb_method": method, "_line": i})
    out = pd.DataFrame(rows, columns=[*BURDEN_COLUMNS, "_line"])
    dup = out.duplicated(["patient_id", "reader_id", "timepoint_date"], keep="first")
    problems += [f"line {line}: a second burden estimate for this patient, reader and date; keep "
                 "one" for line in out.loc[dup, "_line"]]
    if problems:
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise BurdenInputError(f"{name}: {len(problems)} problem(s); nothing was written.\n  "
                               + "\n  ".join(problems[:20]) + more)
    return out  # with _line, so callers can name the line of a row that matches nothing


__all__ = ["BURDEN_COLUMNS", "read_burden_table"]
