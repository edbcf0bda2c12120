"""How the models code their covariates: numeric or categorical, the reference level, the design
matrix, complete cases — one documented rule shared by the Cox and the logistic models.

* A column is **numeric** when every non-empty value reads as a number and it has more than two
  distinct values, or exactly the values 0 and 1 (then the estimate is per unit: for a 0/1
  column, 1 against 0). Anything else is **categorical**.
* A categorical column gets one indicator per level except its **reference**: the level given
  (``references={"sex": "male"}``, ``--reference sex=male``), else the first level in natural
  order — numbers by value, ``<10 %`` before ``10-25 %``, words alphabetically (R's default of
  the first factor level, made numbers-aware).
* Rows with a missing value in any variable of a model are left out of that model (complete
  cases); how many is said in the model's notes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from response_tool.domain.errors import ReportInputError

NUMERIC, CATEGORICAL = "numeric", "categorical"


@dataclass(frozen=True)
class Term:
    """One variable of a model and the design columns that code it."""

    name: str
    kind: str
    #: the reference level (categorical), else ""
    reference: str = ""
    #: the levels coded by an indicator (categorical, in order), else ()
    levels: tuple[str, ...] = ()
    #: the design matrix columns, one per level (categorical) or the variable itself (numeric)
    columns: tuple[str, ...] = field(default=())


def natural_key(label: str) -> tuple[float, str]:
    """Sort key of a level: by its first number (``<10`` just before 10), then by its text."""
    text = str(label).strip()
    match = re.search(r"-?\d+(?:\.\d+)?", text)
    if match is None:
        return (math.inf, text.lower())
    value = float(match.group(0))
    if text.startswith(("<", "≤")):
        value -= 0.5
    elif text.startswith((">", "≥")):
        value += 0.5
    return (value, text.lower())


def _as_numbers(values: pd.Series) -> pd.Series | None:
    text = values.astype("string").str.strip()
    present = text.notna() & text.ne("")
    numbers = pd.to_numeric(text.where(present), errors="coerce")
    if (numbers.isna() & present).any():
        return None
    distinct = set(numbers.dropna().unique())
    if len(distinct) <= 2 and not distinct <= {0.0, 1.0}:
        return None
    return numbers.astype(float)


def kind_of(values: pd.Series) -> str:
    """``numeric`` or ``categorical`` by the rule of the module docstring."""
    return NUMERIC if _as_numbers(values) is not None else CATEGORICAL


def levels_of(values: pd.Series) -> list[str]:
    """The non-missing levels of a categorical column, in natural order."""
    text = values.astype("string").str.strip()
    return sorted({str(v) for v in text.dropna() if str(v) != ""}, key=natural_key)


def design(frame: pd.DataFrame, names: list[str], references: dict[str, str] | None = None,
           fixed: dict[str, Term] | None = None, where: str = "the clinical table"
           ) -> tuple[pd.DataFrame, list[Term]]:
    """The design matrix of ``names`` over ``frame`` (one row per row of ``frame``, NaN where a
    value is missing) and the terms coding it. ``fixed`` gives terms already coded (e.g. the
    response category with its chosen reference) to use as they are."""
    references = references or {}
    fixed = fixed or {}
    columns: dict[str, pd.Series] = {}
    terms = []
    for name in names:
        if name not in frame.columns:
            raise ReportInputError(f"{where}: no column {name!r} (its columns: "
                                   f"{', '.join(map(str, frame.columns))}); name a covariate "
                                   "that it has")
        values = frame[name]
        term = fixed.get(name)
        numbers = None if term is not None else _as_numbers(values)
        if term is None and numbers is not None:
            if name in references:
                raise ReportInputError(f"--reference {name}={references[name]}: {name} is "
                                       "numeric (a per-unit estimate has no reference level)")
            columns[name] = numbers
            terms.append(Term(name, NUMERIC, columns=(name,)))
            continue
        text = values.astype("string").str.strip().replace("", pd.NA)
        if term is None:
            levels = levels_of(values)
            if len(levels) < 2:
                raise ReportInputError(f"{where}: {name} has {len(levels)} level(s) "
                                       f"({', '.join(levels) or 'none'}); a covariate needs two "
                                       "or more")
            ref = references.get(name, levels[0])
            if ref not in levels:
                raise ReportInputError(f"--reference {name}={ref}: {name} has no level {ref!r} "
                                       f"(its levels: {', '.join(levels)})")
            term = Term(name, CATEGORICAL, ref, tuple(v for v in levels if v != ref))
        cols = tuple(f"{name}={level}" for level in term.levels)
        for level, col in zip(term.levels, cols, strict=True):
            columns[col] = pd.Series(np.where(text.isna(), np.nan, (text == level).astype(float)),
                                     index=frame.index)
        terms.append(Term(term.name, CATEGORICAL, term.reference, term.levels, cols))
    return pd.DataFrame(columns, index=frame.index), terms


def complete(frame: pd.DataFrame, needed: list[str]) -> tuple[pd.DataFrame, int]:
    """The rows of ``frame`` with every ``needed`` column present, and how many were left out."""
    keep = frame[needed].notna().all(axis=1)
    return frame[keep], int((~keep).sum())
