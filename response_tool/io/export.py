"""Safe exports: every CSV the tool writes for users goes through here.

* **Formula-like cells neutralised.** A spreadsheet (Excel, LibreOffice Calc, Google Sheets)
  evaluates a cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
  (OWASP, "CSV Injection"): an identifier such as ``=HYPERLINK(…)`` typed into a read would run
  when the export is opened. Such a **text** cell is written with a leading ``'`` (shown by the
  spreadsheet as the text itself). A cell that is a number (``-12.5``, ``+3``, ``-1e-3``) is a
  number, not a formula, and is written as it is — also when it is held as text. Numeric columns
  are never touched. The tool's own readers do not strip the ``'``: a neutralised id reads back
  with it.
* **Pseudonymisation** (:class:`ExportOptions`, ``--pseudonymise KEY``): each patient id becomes
  ``P-`` and the first 12 hex digits of HMAC-SHA256(KEY, id): the same id gives the same
  pseudonym in every file of a run and in every run with the same key, and nobody without the
  key can recompute it. An id that already has that form is kept (so a table pseudonymised by
  ``assess`` and a raw clinical table can meet in ``report``).
* **Date shift** (``--shift-dates DAYS``): every date of every patient moves by the same number
  of days. Intervals — all the criteria use — are unchanged, and dates stay comparable across
  patients and across files shifted with the same number.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from response_tool.domain.errors import ResponseToolError

#: first characters that make a spreadsheet evaluate a cell (OWASP, CSV Injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA = r"^[=+\-@\t\r]"
#: a decimal number as a spreadsheet reads one: not a formula
_NUMBER = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_NUMBER_RE = re.compile(_NUMBER)
#: the columns holding patient ids, and dates, in the tool's exports
ID_COLUMNS = ("patient_id",)
DATE_COLUMNS = ("timepoint_date", "new_lesion_first_seen", "baseline_date",
                "best_overall_response_date", "confirmed_bor_date")
PSEUDONYM = re.compile(r"P-[0-9a-f]{12}")


def is_formula(text: str) -> bool:
    """A text cell a spreadsheet would evaluate (and that is not a number)."""
    return text[:1] in FORMULA_START and not _NUMBER_RE.match(text)


def neutralise_text(text: str) -> str:
    """``text`` with a leading ``'`` if a spreadsheet would evaluate it."""
    return "'" + text if is_formula(text) else text


def neutralise_array(array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A string (or dictionary-of-strings) Arrow array with its formula-like cells neutralised;
    any other array as it is. Unchanged arrays are returned as they are (same object)."""
    typ = array.type
    if pa.types.is_dictionary(typ):
        if not pa.types.is_string(typ.value_type) and not pa.types.is_large_string(typ.value_type):
            return array
        if isinstance(array, pa.ChunkedArray):
            return pa.chunked_array([neutralise_array(c) for c in array.chunks], type=typ) \
                if array.num_chunks else array
        safe = neutralise_array(array.dictionary)
        return array if safe is array.dictionary else pa.DictionaryArray.from_arrays(
            array.indices, safe)
    if not (pa.types.is_string(typ) or pa.types.is_large_string(typ)) or len(array) == 0:
        return array
    risky = pc.and_(pc.match_substring_regex(array, _FORMULA),
                    pc.invert(pc.match_substring_regex(array, _NUMBER)))
    if not pc.any(risky).as_py():
        return array
    quoted = pc.binary_join_element_wise(pa.scalar("'", typ), array, pa.scalar("", typ))
    return pc.if_else(risky, quoted, array)


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the formula-like cells of its text columns neutralised (a copy where
    something changes; numeric, boolean and date columns are never touched)."""
    out = frame
    for col in frame.columns:
        values = frame[col]
        if isinstance(values.dtype, pd.CategoricalDtype):
            cats = values.cat.categories
            if cats.dtype.kind in "OUT" or isinstance(cats.dtype, pd.StringDtype):
                safe = [neutralise_text(c) if isinstance(c, str) else c for c in cats]
                if safe != list(cats):
                    out = out.copy() if out is frame else out
                    out[col] = values.cat.rename_categories(safe) if len(set(safe)) == len(safe) \
                        else values.astype(object).map(neutralise_text, na_action="ignore")
            continue
        if values.dtype.kind == "O" or isinstance(values.dtype, pd.StringDtype):
            risky = values.map(lambda v: isinstance(v, str) and is_formula(v), na_action="ignore")
            risky = risky.fillna(False).astype(bool)
            if risky.any():
                out = out.copy() if out is frame else out
                out[col] = values.where(~risky, "'" + values.where(risky, "").astype(str))
    return out


def neutralise_csv_file(path: str | os.PathLike[str]) -> bool:
    """Neutralise the formula-like cells of a CSV in place (pandas' dialect: minimal quoting,
    ``\\n``); a file with none is not rewritten. True if it was."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not any(is_formula(cell) for row in rows for cell in row):
        return False
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\n").writerows(
        [[neutralise_text(cell) for cell in row] for row in rows])
    p.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return True


def pseudonym(key: bytes, patient_id: str) -> str:
    """``P-`` + the first 12 hex digits of HMAC-SHA256(key, patient_id)."""
    return "P-" + hmac.new(key, patient_id.encode("utf-8"), hashlib.sha256).hexdigest()[:12]


def read_key(spec: str) -> bytes:
    """The pseudonymisation key of ``--pseudonymise``: the text itself, ``file:PATH`` (the
    file's content, trailing newline removed) or ``env:NAME`` (an environment variable) — the
    last two keep the key out of the shell history and the process list."""
    if spec.startswith("file:"):
        path = Path(spec[5:])
        try:
            key = path.read_bytes().rstrip(b"\r\n")
        except OSError as exc:
            raise ResponseToolError(f"{path}: cannot read the --pseudonymise key file "
                                    f"({exc.strerror}); give a readable file") from exc
        if not key:
            raise ResponseToolError(f"{path}: the --pseudonymise key file is empty; write a "
                                    "secret in it (e.g. `openssl rand -hex 32 > KEYFILE`)")
    elif spec.startswith("env:"):
        value = os.environ.get(spec[4:])
        if value is None:
            raise ResponseToolError(f"--pseudonymise {spec}: no environment variable "
                                    f"{spec[4:]}; set it or give the key another way")
        key = value.encode("utf-8")
    else:
        key = spec.encode("utf-8")
    if not key:
        raise ResponseToolError("--pseudonymise: the key is empty; give a secret text (e.g. "
                                "file:KEYFILE written by `openssl rand -hex 32 > KEYFILE`)")
    return key


def _shift(values: pd.Series, days: int) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values + pd.Timedelta(days=days)
    text = values.astype(object)
    parsed = pd.to_datetime(text.where(text.astype(str).str.strip() != ""), errors="coerce",
                            format="ISO8601")
    shifted = (parsed + pd.Timedelta(days=days)).dt.strftime("%Y-%m-%d")
    return text.where(parsed.isna(), shifted)


@dataclass(frozen=True)
class ExportOptions:
    """How the exports of one run hide who and when: ``key`` pseudonymises patient ids,
    ``shift_days`` moves every date. The default does neither."""

    key: bytes | None = None
    shift_days: int = 0

    @classmethod
    def from_cli(cls, pseudonymise: str | None, shift_dates: int | None = None) -> ExportOptions:
        """From the values of ``--pseudonymise`` and ``--shift-dates``."""
        return cls(None if pseudonymise is None else read_key(pseudonymise), int(shift_dates or 0))

    @property
    def active(self) -> bool:
        return self.key is not None or self.shift_days != 0

    def mapping(self, ids: Iterable[object]) -> dict[str, str]:
        """id → pseudonym for every distinct id (ids already pseudonyms kept)."""
        assert self.key is not None
        out: dict[str, str] = {}
        for value in ids:
            text = str(value)
            if text in out:
                continue
            out[text] = text if PSEUDONYM.fullmatch(text) or text == "" else \
                pseudonym(self.key, text)
        seen: dict[str, str] = {}
        for original, new in out.items():
            if new in seen and seen[new] != original:
                raise ResponseToolError(f"--pseudonymise: patients {seen[new]!r} and {original!r} "
                                        f"get the same pseudonym {new}; use another key")
            seen[new] = original
        return out

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with its patient ids pseudonymised and its dates shifted (a copy)."""
        if not self.active:
            return frame
        out = frame.copy()
        if self.key is not None:
            for col in ID_COLUMNS:
                if col not in out.columns:
                    continue
                values = out[col]
                if isinstance(values.dtype, pd.CategoricalDtype):
                    names = self.mapping(values.cat.categories)
                    out[col] = values.cat.rename_categories(
                        [names[str(c)] for c in values.cat.categories])
                else:
                    names = self.mapping(values.dropna().unique())
                    out[col] = values.map(lambda v, n=names: n[str(v)], na_action="ignore")
        if self.shift_days:
            for col in out.columns:
                if col in DATE_COLUMNS or pd.api.types.is_datetime64_any_dtype(out[col].dtype):
                    out[col] = _shift(out[col], self.shift_days)
        return out


__all__ = ["DATE_COLUMNS", "FORMULA_START", "ID_COLUMNS", "ExportOptions", "is_formula",
           "neutralise_array", "neutralise_csv_file", "neutralise_frame", "neutralise_text",
           "pseudonym", "read_key"]
