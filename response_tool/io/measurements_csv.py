"""The measurements CSV: the engine's input contract, as one schema object.

One row per lesion per time point per reader. The same :data:`SCHEMA` drives reading, validation
and the generated documentation (``python -m response_tool.io.measurements_csv --markdown``
writes ``docs/measurements-csv.md``; a test checks the committed page is current).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from response_tool.errors import MeasurementInputError

ROLES = ("target", "non-target", "new")
STATUSES = ("measured", "present", "too-small", "absent", "not-evaluated", "equivocal",
            "progression")
TRUE_VALUES = ("true", "yes", "1", "y", "t")
FALSE_VALUES = ("false", "no", "0", "n", "f")
MAX_ERRORS = 20


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "text" | "date" | "choice" | "bool" | "mm"
    required: bool
    description: str
    choices: tuple[str, ...] = ()


SCHEMA: tuple[Column, ...] = (
    Column("patient_id", "text", True, "Patient identifier (any text)."),
    Column("reader_id", "text", True, "Reader identifier; each reader's read is assessed separately."),
    Column("timepoint_date", "date", True,
           "Date of the imaging time point, `YYYY-MM-DD`. The earliest date of a patient and reader "
           "is the baseline."),
    Column("lesion_id", "text", True,
           "Stable lesion identifier across time points (e.g. T1, NT1, N1)."),
    Column("role", "choice", True,
           "`target` (measured, summed), `non-target` (present / absent / progression) or `new` "
           "(a lesion not present at baseline).", ROLES),
    Column("organ", "text", True,
           "Organ or site (`liver`, `lymph node`, `lung`…). All nodes count as one organ for the "
           "2-per-organ limit. `porta hepatis` marks a porta-hepatis node (mRECIST 20 mm rule); "
           "`pleural effusion` / `ascites` are effusions (mRECIST: PD only with cytology)."),
    Column("is_nodal", "bool", True,
           "`true` for lymph nodes (measured by their short axis), else `false`.",
           ("true", "false")),
    Column("long_axis_mm", "mm", False,
           "Longest diameter (mm) on the axial plane. Required for measured non-nodal targets."),
    Column("short_axis_mm", "mm", False,
           "Short axis (mm), perpendicular to the long axis. Required for measured nodal targets."),
    Column("viable_long_axis_mm", "mm", False,
           "Longest diameter (mm) of the viable, arterially enhancing tumour (mRECIST). `0` means "
           "no enhancement. Empty at baseline for a lesion that does not enhance: it then follows "
           "RECIST 1.1 under mRECIST."),
    Column("status", "choice", True,
           "`measured` (diameters given); `present` (a non-target or new lesion seen, no size); "
           "`too-small` (present but too small to measure: 5 mm by default); `absent` "
           "(disappeared: 0 mm); `not-evaluated` (not assessed at this time point); `equivocal` "
           "(a new lesion that may not be real: not PD until confirmed); `progression` "
           "(unequivocal progression of a non-target lesion).", STATUSES),
    Column("cytology_proven", "bool", False,
           "For effusions / ascites: `true` when cytology proved malignancy (mRECIST).",
           ("true", "false")),
    Column("slice_thickness_mm", "mm", False,
           "Reconstructed slice thickness (mm); above 5 mm the measurable minimum is twice it."),
    Column("override_reason", "text", False,
           "A reader's reason to keep a lesion that fails a baseline check; the warning is kept "
           "with the reason."),
)
REQUIRED = tuple(c.name for c in SCHEMA if c.required)
MM_COLUMNS = tuple(c.name for c in SCHEMA if c.kind == "mm")
BY_NAME = {c.name: c for c in SCHEMA}


@dataclass(frozen=True)
class Problem:
    line: int | None  # line number in the file (header = 1)
    column: str | None
    value: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        col = f", column {self.column}" if self.column else ""
        val = f" ({self.value!r})" if self.value not in (None, "") else ""
        return f"{where}{col}{val}: {self.message}"


class _Collector:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.total = 0

    def add(self, lines: Sequence[int] | np.ndarray, column: str | None, values: Sequence[object],
            message: str) -> None:
        for line, value in zip(lines, values, strict=False):
            self.total += 1
            if len(self.problems) < MAX_ERRORS:
                self.problems.append(Problem(int(line), column, None if value is None else str(value),
                                             message))

    def raise_if_any(self) -> None:
        if not self.total:
            return
        more = f"\n  … and {self.total - len(self.problems)} more" if self.total > len(self.problems) else ""
        ordered = sorted(self.problems, key=lambda p: (p.line or 0, p.column or ""))
        lines = "\n  ".join(str(p) for p in ordered)
        raise MeasurementInputError(
            f"{self.source}: {self.total} problem(s) in the measurements table; nothing was written."
            f"\n  {lines}{more}")


def _bool(series: pd.Series, column: str, lines: np.ndarray, errors: _Collector,
          default: bool | None = None) -> pd.Series:
    text = series.fillna("").astype(str).str.strip().str.lower()
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    out[text.isin(TRUE_VALUES)] = True
    out[text.isin(FALSE_VALUES)] = False
    empty = text == ""
    if default is not None:
        out[empty] = default
    bad = out.isna() & ~empty if default is not None else out.isna()
    if bad.any():
        errors.add(lines[bad.to_numpy()], column, series[bad].tolist(),
                   "write true or false")
    return out


def validate(frame: pd.DataFrame, source: str = "measurements") -> pd.DataFrame:
    """Check ``frame`` against :data:`SCHEMA` and return it typed.

    Raises :class:`MeasurementInputError` listing every problem (up to 20) with its line number,
    column, value and what to do. Nothing is returned half-checked.
    """
    errors = _Collector(source)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise MeasurementInputError(
            f"{source}: missing column(s) {', '.join(missing)}; the header must include "
            f"{', '.join(REQUIRED)} (see docs/measurements-csv.md)")
    df = frame.copy()
    lines = np.arange(len(df)) + 2  # header is line 1
    df["_line"] = lines
    for col in ("patient_id", "reader_id", "lesion_id", "organ"):
        text = df[col].fillna("").astype(str).str.strip()
        empty = text == ""
        if empty.any():
            errors.add(lines[empty.to_numpy()], col, [""] * int(empty.sum()), "must not be empty")
        df[col] = text
    dates = pd.to_datetime(df["timepoint_date"].astype(str).str.strip(), format="%Y-%m-%d",
                           errors="coerce")
    bad = dates.isna()
    if bad.any():
        errors.add(lines[bad.to_numpy()], "timepoint_date", df.loc[bad, "timepoint_date"].tolist(),
                   "not a date; write YYYY-MM-DD, e.g. 2026-03-09")
    df["timepoint_date"] = dates.dt.date
    for col, allowed in (("role", ROLES), ("status", STATUSES)):
        text = df[col].fillna("").astype(str).str.strip().str.lower()
        bad = ~text.isin(allowed)
        if bad.any():
            errors.add(lines[bad.to_numpy()], col, df.loc[bad, col].tolist(),
                       f"unknown value; use one of {', '.join(allowed)}")
        df[col] = text
    df["is_nodal"] = _bool(df["is_nodal"], "is_nodal", lines, errors)
    df["cytology_proven"] = _bool(df.get("cytology_proven", pd.Series("", index=df.index)),
                                  "cytology_proven", lines, errors, default=False)
    for col in MM_COLUMNS:
        raw = df[col] if col in df.columns else pd.Series("", index=df.index)
        text = raw.fillna("").astype(str).str.strip()
        values = pd.to_numeric(text.where(text != ""), errors="coerce")
        nonnum = values.isna() & (text != "")
        if nonnum.any():
            errors.add(lines[nonnum.to_numpy()], col, text[nonnum].tolist(),
                       "not a number; write millimetres like 12.5, or leave empty")
        neg = values < 0
        if neg.any():
            errors.add(lines[neg.to_numpy()], col, text[neg].tolist(),
                       "a diameter cannot be negative; correct the value")
        inf = np.isinf(values)
        if inf.any():
            errors.add(lines[inf.to_numpy()], col, text[inf].tolist(), "must be a finite number")
        df[col] = values.astype(float)
    if "override_reason" not in df.columns:
        df["override_reason"] = ""
    df["override_reason"] = df["override_reason"].fillna("").astype(str)
    errors.raise_if_any()
    _check_consistency(df, errors)
    errors.raise_if_any()
    return df


def _check_consistency(df: pd.DataFrame, errors: _Collector) -> None:
    key = ["patient_id", "reader_id", "timepoint_date", "lesion_id"]
    dup = df.duplicated(key, keep="first")
    if dup.any():
        first = df.drop_duplicates(key).set_index(key)["_line"]
        for _, row in df[dup].iterrows():
            errors.add([row["_line"]], "lesion_id", [row["lesion_id"]],
                       f"lesion listed twice at {row['timepoint_date']} for patient "
                       f"{row['patient_id']}, reader {row['reader_id']} (first on line "
                       f"{first[tuple(row[k] for k in key)]}); keep one row per lesion and time point")
    measured = df["status"] == "measured"
    target = df["role"] == "target"
    nodal = df["is_nodal"].fillna(False).astype(bool)
    need_long = target & measured & ~nodal & df["long_axis_mm"].isna()
    if need_long.any():
        errors.add(df.loc[need_long, "_line"].to_numpy(), "long_axis_mm",
                   [""] * int(need_long.sum()),
                   "a measured non-nodal target needs its long axis; enter it or set status")
    need_short = target & measured & nodal & df["short_axis_mm"].isna()
    if need_short.any():
        errors.add(df.loc[need_short, "_line"].to_numpy(), "short_axis_mm",
                   [""] * int(need_short.sum()),
                   "a measured nodal target needs its short axis; enter it or set status")
    baseline = df.groupby(["patient_id", "reader_id"])["timepoint_date"].transform("min")
    at_base = df["timepoint_date"] == baseline
    not_measured = at_base & target & ~df["status"].isin(["measured"])
    if not_measured.any():
        errors.add(df.loc[not_measured, "_line"].to_numpy(), "status",
                   df.loc[not_measured, "status"].tolist(),
                   "a baseline target must be measured (status measured with its diameter); "
                   "make it non-target if it cannot be measured")
    new_at_base = at_base & (df["role"] == "new")
    if new_at_base.any():
        errors.add(df.loc[new_at_base, "_line"].to_numpy(), "role", ["new"] * int(new_at_base.sum()),
                   "a new lesion cannot be at the baseline (the earliest date); check the date "
                   "or the role")
    base_lesions = df[at_base].groupby(["patient_id", "reader_id"])["role"].agg(
        lambda r: bool(set(r) & {"target", "non-target"}))
    for (pid, rid), has_disease in base_lesions.items():
        if not has_disease:
            rows = df[(df.patient_id == pid) & (df.reader_id == rid) & at_base]
            errors.add(rows["_line"].to_numpy()[:1], "role", ["new"],
                       f"patient {pid}, reader {rid}: no target or non-target lesion at the "
                       "baseline; add the baseline lesions")
    ids_by_role = df.groupby(["patient_id", "reader_id", "lesion_id"])["role"].nunique()
    mixed = ids_by_role[ids_by_role > 1]
    for (pid, rid, lid) in mixed.index[:MAX_ERRORS]:
        rows = df[(df.patient_id == pid) & (df.reader_id == rid) & (df.lesion_id == lid)]
        errors.add(rows["_line"].to_numpy()[:1], "role", [", ".join(sorted(set(rows.role)))],
                   f"lesion {lid} changes role between time points; a lesion keeps its role")
    base_ids = df[at_base & df["role"].isin(["target", "non-target"])][
        ["patient_id", "reader_id", "lesion_id"]].drop_duplicates()
    later = df[~at_base & df["role"].isin(["target", "non-target"])]
    merged = later.merge(base_ids, on=["patient_id", "reader_id", "lesion_id"], how="left",
                         indicator=True)
    unknown = merged["_merge"] == "left_only"
    if unknown.any():
        errors.add(merged.loc[unknown, "_line"].to_numpy(), "lesion_id",
                   merged.loc[unknown, "lesion_id"].tolist(),
                   "a target/non-target lesion not recorded at the baseline; use role new for "
                   "lesions that appear after baseline")


def read_measurements(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and validate a measurements CSV (see :data:`SCHEMA`)."""
    p = Path(path)
    if not p.is_file():
        raise MeasurementInputError(f"{p}: no such file; give the path of the measurements CSV")
    try:
        frame = pd.read_csv(p, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise MeasurementInputError(f"{p}: not a readable CSV ({exc}); save it as UTF-8 CSV") from exc
    missing = [c for c in REQUIRED if c not in frame.columns]
    if frame.empty and not missing:
        raise MeasurementInputError(f"{p}: no rows; the file needs a header and one row per lesion "
                                    "and time point")
    return validate(frame, source=str(p))


def markdown() -> str:
    """The schema as the Markdown page docs/measurements-csv.md."""
    lines = [
        "# The measurements CSV (input of `response-tool assess`)",
        "",
        "<!-- generated by `python -m response_tool.io.measurements_csv --markdown`; do not edit -->",
        "",
        "One row per lesion per time point per reader, UTF-8, comma-separated, with a header row.",
        "Further columns are allowed and ignored by the engine. Every problem is reported with its",
        "line number (the header is line 1), column and value, and nothing is written.",
        "",
        "| column | required | type | values | meaning |",
        "|---|---|---|---|---|",
    ]
    kinds = {"text": "text", "date": "date YYYY-MM-DD", "choice": "one of", "bool": "true/false",
             "mm": "millimetres ≥ 0"}
    for c in SCHEMA:
        values = ", ".join(f"`{v}`" for v in c.choices) if c.choices else ""
        lines.append(f"| `{c.name}` | {'yes' if c.required else 'no'} | {kinds[c.kind]} | "
                     f"{values} | {c.description} |")
    lines += [
        "",
        "Checks that stop the run (exit code 2): a missing required column; an empty identifier;",
        "an unparseable date; an unknown role or status; a non-numeric, negative or infinite",
        "diameter; a lesion listed twice at one time point; a measured target without its",
        "diameter (long axis; short axis for nodes); a baseline target that is not measured; a new",
        "lesion at the baseline; a patient without target or non-target lesions at baseline; a",
        "lesion that changes role; a target or non-target that first appears after baseline.",
        "",
        "A target with no row at a follow-up is *not evaluated* at that time point (target NE",
        "unless PD is already proven).",
    ]
    return "\n".join(lines) + "\n"


def _main(argv: Sequence[str]) -> int:
    if list(argv) == ["--markdown"]:
        sys.stdout.write(markdown())
        return 0
    print("usage: python -m response_tool.io.measurements_csv --markdown", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))

__all__ = ["SCHEMA", "STATUSES", "ROLES", "read_measurements", "validate", "markdown"]
