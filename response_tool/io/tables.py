"""Reading the CSVs the tool itself writes (responses, BOR, clinical) for the research commands."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from response_tool.domain.errors import ResponseToolError


def read_table(source: str | Path | pd.DataFrame, what: str, needed: Sequence[str],
               error: type[ResponseToolError] = ResponseToolError) -> pd.DataFrame:
    """``source`` (a CSV path or a frame) as text columns, empty cells as ``""``.

    Raises ``error`` naming the file when it is absent, not a readable CSV, or lacks a column of
    ``needed``; ``what`` says what the file should be (e.g. "responses CSV written by
    `response-tool assess`")."""
    if isinstance(source, pd.DataFrame):
        frame, where = source.copy(), what
    else:
        path = Path(source)
        where = str(path)
        if not path.is_file():
            raise error(f"{path}: no such file; give the {what}")
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise error(f"{path}: not a readable CSV ({exc}); give the {what}") from exc
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise error(f"{where}: column(s) {', '.join(missing)} missing; expected the {what}")
    return frame


__all__ = ["read_table"]
