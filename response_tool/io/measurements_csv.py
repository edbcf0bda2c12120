"""The measurements CSV: reading and writing the engine's input table as a file.

The schema and its validation are the domain's (:mod:`response_tool.domain.measurements`); this
module reads a CSV fast (pyarrow, every column as dictionary-encoded text), falls back to pandas'
parser to name the line of a malformed row, and writes the generated documentation
(``python -m response_tool.io.measurements_csv --markdown`` writes ``docs/measurements-csv.md``; a
test checks the committed page is current).
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from response_tool.domain.errors import MeasurementInputError
from response_tool.domain.measurements import REQUIRED, ROLES, SCHEMA, STATUSES, validate
from response_tool.io.export import ExportOptions, neutralise_frame


def _read_table(p: Path) -> pd.DataFrame:
    """Every column as text, distinct values dictionary-encoded (cheap to clean and to group)."""
    with p.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh), [])
    convert = pacsv.ConvertOptions(
        column_types={name: pa.dictionary(pa.int32(), pa.string()) for name in header},
        strings_can_be_null=False, quoted_strings_can_be_null=False, null_values=[])
    # 4 MiB blocks: fewer chunks whose dictionaries pandas must unify (measured fastest)
    table = pacsv.read_csv(p, read_options=pacsv.ReadOptions(block_size=1 << 22),
                           convert_options=convert)
    return table.to_pandas()


def read_measurements(path: str | os.PathLike[str], impute_partial_dates: str | None = None
                      ) -> pd.DataFrame:
    """Read and validate a measurements CSV (see :data:`SCHEMA`; ``impute_partial_dates``: see
    :func:`~response_tool.domain.measurements.validate`)."""
    p = Path(path)
    if p.is_dir():
        raise MeasurementInputError(f"{p}: is a folder; give the path of the measurements CSV file")
    if not p.is_file():
        raise MeasurementInputError(f"{p}: no such file; give the path of the measurements CSV")
    try:
        frame = _read_table(p)
    except PermissionError as exc:
        raise MeasurementInputError(f"{p}: cannot be read (permission denied); check the file's "
                                    "permissions") from exc
    except (pa.ArrowInvalid, UnicodeDecodeError, csv.Error):
        # pandas' C parser names the line of a malformed row; used only when something is wrong
        try:
            frame = pd.read_csv(p, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise MeasurementInputError(f"{p}: not a readable CSV ({exc}); save it as UTF-8 CSV "
                                        "with one value per column on every row") from exc
    except pa.ArrowException as exc:
        raise MeasurementInputError(f"{p}: not a readable CSV ({exc}); save it as UTF-8 CSV") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing and len(frame.columns) == 1 and ";" in frame.columns[0]:
        raise MeasurementInputError(f"{p}: the columns are separated by semicolons (a spreadsheet's "
                                    "regional CSV); save it as comma-separated CSV (UTF-8)")
    if frame.empty and not missing:
        raise MeasurementInputError(f"{p}: no rows; the file needs a header and one row per lesion "
                                    "and time point")
    return validate(frame, source=str(p), impute_partial_dates=impute_partial_dates)


def write_measurements(frame: pd.DataFrame, path: str | os.PathLike[str],
                       export: ExportOptions | None = None) -> None:
    """Write a measurements table as the CSV :func:`read_measurements` reads (whole or not at
    all): booleans as ``true`` / ``false``, empty cells for missing values, text a spreadsheet
    would evaluate as a formula with a leading ``'``; with ``export``, patient ids pseudonymised
    and dates shifted (:mod:`response_tool.io.export`)."""
    from response_tool.io._atomic import atomic_write

    with atomic_write(path, newline="", encoding="utf-8") as fh:
        measurements_for_csv(frame, export).to_csv(fh, index=False)


def measurements_for_csv(frame: pd.DataFrame, export: ExportOptions | None = None
                         ) -> pd.DataFrame:
    """The table as the measurements CSV spells it (see :func:`write_measurements`); for
    callers that write it as one file of a set."""
    out = frame.copy() if export is None else export.apply(frame)
    for col in ("is_nodal", "cytology_proven"):
        if col in out.columns and out[col].dtype == bool:
            out[col] = np.where(out[col].to_numpy(), "true", "false")
    return neutralise_frame(out)


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
             "mm": "millimetres ≥ 0", "mm3": "cubic millimetres ≥ 0"}
    for c in SCHEMA:
        values = ", ".join(f"`{v}`" for v in c.choices) if c.choices else ""
        lines.append(f"| `{c.name}` | {'yes' if c.required else 'no'} | {kinds[c.kind]} | "
                     f"{values} | {c.description} |")
    lines += [
        "",
        "Checks that stop the run (exit code 2): a missing required column; an empty identifier;",
        "an unparseable date; an unknown role or status; a non-numeric, negative, infinite or",
        "implausible (> 2000 mm: a unit error) diameter, or such a volume (> 50 L), or an",
        "enhancing volume above the lesion's; a lesion listed twice at one time point;",
        "a measured target without its diameter (long axis; short axis for nodes); a baseline",
        "target that is not measured; a new lesion at the baseline; a patient without target or",
        "non-target lesions at baseline; a lesion that changes role; a target or non-target that",
        "first appears after baseline.",
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

__all__ = ["SCHEMA", "STATUSES", "ROLES", "read_measurements", "validate", "markdown",
           "write_measurements"]
