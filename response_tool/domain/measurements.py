"""The measurements table: the engine's input contract, as one schema object, and its validation.

One row per lesion per time point per reader. The same :data:`SCHEMA` drives validation, the CSV
reader (:mod:`response_tool.io.measurements_csv`) and the generated documentation
(``docs/measurements-csv.md``). :func:`validate` turns any table in that schema — read from a CSV,
built by a caller, or made from a read (:meth:`response_tool.domain.model.Read.to_frame`) — into
the typed table the engine runs on, with integer keys (``_read``, ``_day``, ``_lesion``, ``_role``,
``_status``, ``_baseline``) added, or raises one
:class:`~response_tool.domain.errors.MeasurementInputError` carrying every problem.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._dates import IMPUTATIONS, PARTIAL, impute
from .errors import MeasurementInputError, Problem
from .fragments import check_links
from .measurement_schema import (
    BY_NAME,
    MAX_DIAMETER_MM,
    MAX_VOLUME_MM3,
    MM_COLUMNS,
    REQUIRED,
    ROLES,
    SCHEMA,
    STATUSES,
    VOLUME_COLUMNS,
    Column,
)

TRUE_VALUES = ("true", "yes", "1", "y", "t")
FALSE_VALUES = ("false", "no", "0", "n", "f")
MAX_ERRORS = 20
_SMALL = 2000  # rows: below this, text columns are cleaned in plain Python (same result)


class _Collector:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.total = 0

    def add(self, lines: Sequence[int] | np.ndarray, column: str | None, values: Sequence[object],
            message: str) -> None:
        self.total += len(lines)
        room = max(0, MAX_ERRORS - len(self.problems))
        for line, value in zip(list(lines[:room]), list(values[:room]), strict=False):
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
            f"\n  {lines}{more}", ordered)


def _text(series: pd.Series, lower: bool = False, sort: bool = False
          ) -> tuple[pd.Series, np.ndarray, pd.Index]:
    """``series`` as stripped (and optionally lower-cased) text (a categorical), missing → "",
    with its integer codes into the distinct cleaned values (also returned; sorted if ``sort``).

    Cleans each distinct value once and maps the result back: identifiers, roles and dates repeat
    thousands of times in a cohort table, so this is what makes validating millions of rows fast.
    """
    if len(series) <= _SMALL:  # a read in the viewer: plain Python beats per-call pandas costs
        clean = ["" if v is None or v is pd.NA or (isinstance(v, float) and v != v)
                 else str(v).strip() for v in series.tolist()]
        if lower:
            clean = [c.lower() for c in clean]
        distinct_list = sorted(set(clean)) if sort else list(dict.fromkeys(clean))
        index = {d: i for i, d in enumerate(distinct_list)}
        small_codes = np.fromiter((index[c] for c in clean), dtype=np.intp, count=len(clean))
        distinct = pd.Index(distinct_list, dtype="str")
        text = pd.Categorical.from_codes(small_codes, categories=distinct, validate=False)
        return pd.Series(text, index=series.index), small_codes, distinct
    if isinstance(series.dtype, pd.CategoricalDtype):  # as read from CSV: already encoded
        codes, uniques = series.cat.codes.to_numpy(), series.cat.categories
    else:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    clean = pd.Index(uniques, dtype=object).astype(str).str.strip()
    if lower:
        clean = clean.str.lower()
    clean = clean.append(pd.Index([""], dtype=object))  # code -1 (missing) → the last element
    clean_codes, clean_uniques = pd.factorize(clean, sort=sort)
    if np.array_equal(clean_codes[:-1], np.arange(len(clean) - 1)):  # already clean (usual)
        if (codes < 0).any():
            codes = np.where(codes < 0, clean_codes[-1], codes)
    else:  # cleaning merged values, or sorting reordered them (code −1 → the last element)
        codes = clean_codes[codes]
    distinct = pd.Index(clean_uniques, dtype="str")
    # a categorical: the cleaned text without copying a string per row
    text = pd.Categorical.from_codes(codes, categories=distinct, validate=False)
    return pd.Series(text, index=series.index), codes, distinct


def _numbers(distinct: pd.Index) -> np.ndarray:
    """Each distinct text as a float (NaN when empty or not a number), as pandas parses it."""
    if len(distinct) > 5000:
        uniques = pd.Series(distinct, dtype=object)
        return pd.to_numeric(uniques.where(uniques != ""), errors="coerce").to_numpy(dtype=float)
    out = np.full(len(distinct), np.nan)
    for i, text in enumerate(distinct):
        if text and "_" not in text:  # Python's float() takes 1_000, a CSV value should not
            with contextlib.suppress(ValueError):
                out[i] = float(text)
    return out


def _bool(series: pd.Series | None, column: str, lines: np.ndarray, errors: _Collector,
          default: bool | None = None) -> pd.Series:
    """true/false text → a nullable boolean column (``series`` None: an absent optional column)."""
    if series is None:
        return pd.Series(pd.arrays.BooleanArray(np.full(len(lines), bool(default)),
                                                np.full(len(lines), default is None)))
    text, codes, distinct = _text(series, lower=True)
    value = np.asarray([d in TRUE_VALUES or (d == "" and bool(default)) for d in distinct], bool)
    known = np.asarray([d in TRUE_VALUES or d in FALSE_VALUES or (d == "" and default is not None)
                        for d in distinct], bool)
    out = pd.Series(pd.arrays.BooleanArray(value[codes], ~known[codes]), index=series.index)
    empty = np.asarray([d == "" for d in distinct], bool)[codes]
    bad = ~known[codes] & ~(empty & (default is None))  # no default: empty means not recorded
    if bad.any():
        errors.add(lines[bad], column, series[bad].tolist(), "write true or false")
    return out


def _optional_date(df: pd.DataFrame, column: str, lines: np.ndarray, errors: _Collector
                   ) -> pd.Series:
    """An optional date column: ``YYYY-MM-DD`` or empty (NaT), one value per read."""
    raw = df[column]
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        dates = raw.dt.normalize().astype("datetime64[ns]")
    else:
        text, codes, distinct = _text(raw)
        parsed = pd.to_datetime(pd.Series(distinct, dtype=object), format="%Y-%m-%d",
                                errors="coerce").to_numpy()
        dates = pd.Series(parsed[codes], index=df.index).astype("datetime64[ns]")
        bad = (dates.isna() & (text != "")).to_numpy()
        if bad.any():
            errors.add(lines[bad], column, raw[bad].tolist(),
                       "not a date; write YYYY-MM-DD or leave empty")
    per_read = pd.DataFrame({"r": df["_read"].to_numpy(), "d": dates.to_numpy()}).dropna()
    several = per_read.groupby("r")["d"].nunique()
    for r in several[several > 1].index[:MAX_ERRORS]:
        row = df[df["_read"] == r].iloc[0]
        errors.add([row["_line"]], column, [""], f"patient {row['patient_id']}, reader "
                   f"{row['reader_id']}: several treatment start dates; give one per patient")
    # every row of a read carries its read's date
    first = per_read.drop_duplicates("r")
    out = np.full(len(df), np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
    at = pd.Index(first["r"]).get_indexer(df["_read"].to_numpy())
    out[at >= 0] = first["d"].to_numpy(dtype="datetime64[ns]")[at[at >= 0]]
    return pd.Series(out, index=df.index)


def validate(frame: pd.DataFrame, source: str = "measurements",
             impute_partial_dates: str | None = None) -> pd.DataFrame:
    """Check ``frame`` against :data:`SCHEMA` and return it typed.

    Raises :class:`MeasurementInputError` listing every problem (up to 20) with its line number,
    column, value and what to do. Nothing is returned half-checked. A partial date (``2014-02``)
    is refused unless ``impute_partial_dates`` says how to complete it (:data:`IMPUTATIONS`); the
    rows imputed are marked in the column ``_imputed_date`` (their original text).
    """
    if impute_partial_dates is not None and impute_partial_dates not in IMPUTATIONS:
        raise MeasurementInputError(f"impute_partial_dates {impute_partial_dates!r}: use one of "
                                    f"{', '.join(IMPUTATIONS)}")
    errors = _Collector(source)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise MeasurementInputError(
            f"{source}: missing column(s) {', '.join(missing)}; the header must include "
            f"{', '.join(REQUIRED)} (see docs/measurements-csv.md)")
    df = frame.copy()
    lines = np.arange(len(df)) + 2  # header is line 1
    df["_line"] = lines
    codes = {}
    for col in ("patient_id", "reader_id", "lesion_id", "organ"):
        text, codes[col], _ = _text(df[col], sort=col in ("patient_id", "reader_id"))
        empty = text == ""
        if empty.any():
            errors.add(lines[empty.to_numpy()], col, [""] * int(empty.sum()), "must not be empty")
        df[col] = text
    # integer keys for grouping: _read = (patient, reader) in sorted order, _lesion, _day
    n_readers = int(codes["reader_id"].max(initial=0)) + 1
    pair = codes["patient_id"].astype(np.int64) * n_readers + codes["reader_id"]
    # patient and reader codes are sorted and dense: their pair is already an ordered read code
    # (a few unused codes are harmless); factorize only when patients × readers is sparse
    df["_read"] = pair if int(pair.max(initial=0)) < 4 * len(df) + 16 else \
        pd.factorize(pair, sort=True)[0]
    df["_lesion"] = codes["lesion_id"]
    raw_dates = df["timepoint_date"]
    is_partial = np.zeros(len(df), dtype=bool)  # partial dates left incomplete (refused)
    df["_imputed_date"] = ""
    if pd.api.types.is_datetime64_any_dtype(raw_dates.dtype):  # a DataFrame with real dates
        dates = raw_dates.dt.tz_localize(None) if raw_dates.dt.tz is not None else raw_dates
        dates = dates.dt.normalize().astype("datetime64[ns]")
    else:
        _, date_codes, distinct = _text(raw_dates)
        text = pd.Series(distinct, dtype=object)
        # a date, or a date-time at midnight (what a spreadsheet or pandas makes of a date)
        text = text.str.replace(r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00$", r"\1", regex=True)
        parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        partial = text.str.fullmatch(PARTIAL).fillna(False).to_numpy(dtype=bool) & parsed.isna()
        imputed = np.full(len(text), "", dtype=object)
        if partial.any() and impute_partial_dates is not None:
            filled = impute(text[partial], impute_partial_dates)
            parsed = parsed.copy()
            parsed[partial] = filled.to_numpy()
            imputed[partial] = text[partial].to_numpy()
        df["_imputed_date"] = imputed[date_codes]
        dates = pd.Series(parsed.to_numpy()[date_codes], index=df.index).astype("datetime64[ns]")
        is_partial = partial[date_codes] & dates.isna().to_numpy()
        if is_partial.any():
            errors.add(lines[is_partial], "timepoint_date",
                       df["timepoint_date"].to_numpy()[is_partial].tolist(),
                       "a partial date; give the full date, or choose how to complete it "
                       "(assess --impute-partial-dates first|mid|last)")
    bad = dates.isna().to_numpy() & ~is_partial
    if bad.any():
        errors.add(lines[bad], "timepoint_date", df["timepoint_date"].to_numpy()[bad].tolist(),
                   "not a date; write YYYY-MM-DD, e.g. 2026-03-09")
    df["timepoint_date"] = dates
    df["_day"] = (dates.to_numpy().astype("datetime64[D]").astype(np.int64)
                  if not (bad.any() or is_partial.any()) else np.zeros(len(df), dtype=np.int64))
    if "treatment_start_date" in df.columns:
        df["treatment_start_date"] = _optional_date(df, "treatment_start_date", lines, errors)
    if "tumour_markers_normal" in df.columns:
        df["tumour_markers_normal"] = _bool(df["tumour_markers_normal"], "tumour_markers_normal",
                                            lines, errors, default=None)
    for col, allowed in (("role", ROLES), ("status", STATUSES)):
        text, choice_codes, distinct = _text(df[col], lower=True)
        position = {v: i for i, v in enumerate(allowed)}
        per_value = np.asarray([position.get(v, -1) for v in distinct], dtype=np.int64)
        df[f"_{col}"] = per_value[choice_codes]  # -1 = unknown
        bad = per_value[choice_codes] < 0
        if bad.any():
            errors.add(lines[bad], col, df.loc[bad, col].tolist(),
                       f"unknown value; use one of {', '.join(allowed)}")
        df[col] = text
    df["is_nodal"] = _bool(df["is_nodal"], "is_nodal", lines, errors)
    if "is_baseline" in df.columns:
        df["is_baseline"] = _bool(df["is_baseline"], "is_baseline", lines, errors, default=False)
    df["cytology_proven"] = _bool(df.get("cytology_proven"), "cytology_proven", lines, errors,
                                  default=False)
    for col in MM_COLUMNS:
        raw = df[col] if col in df.columns else pd.Series("", index=df.index)
        text, mm_codes, distinct = _text(raw)
        numbers = _numbers(distinct)  # one parse per distinct value
        blank = np.asarray([d == "" for d in distinct], dtype=bool)
        values = numbers[mm_codes]
        for problem, message in (
                ((np.isnan(numbers) & ~blank)[mm_codes],
                 "not a number; write millimetres like 12.5, or leave empty"),
                ((numbers < 0)[mm_codes], "a diameter cannot be negative; correct the value"),
                (np.isinf(numbers)[mm_codes], "must be a finite number"),
                ((np.isfinite(numbers) & (numbers > MAX_DIAMETER_MM))[mm_codes],
                 f"larger than {MAX_DIAMETER_MM:g} mm: not a diameter; check the unit (mm) and "
                 "the decimal point")):
            if problem.any():
                errors.add(lines[problem], col, text[problem].tolist(), message)
        df[col] = values
    _volumes(df, lines, errors)
    if "override_reason" not in df.columns:
        df["override_reason"] = ""
    df["override_reason"] = df["override_reason"].fillna("").astype(str)
    errors.raise_if_any()
    _check_consistency(df, errors)
    errors.raise_if_any()
    return df


def _volumes(df: pd.DataFrame, lines: np.ndarray, errors: _Collector) -> None:
    """The optional volume columns, when the table has them, as numbers (mm³; NaN when empty):
    finite, ≥ 0, at most :data:`MAX_VOLUME_MM3`, the enhancing part no larger than the lesion.
    Absent columns stay absent (no criterion reads them)."""
    texts = {}
    for col in VOLUME_COLUMNS:
        if col not in df.columns:
            continue
        text, codes, distinct = _text(df[col])
        texts[col] = text
        numbers = _numbers(distinct)
        blank = np.asarray([d == "" for d in distinct], dtype=bool)
        for problem, message in (
                ((np.isnan(numbers) & ~blank)[codes],
                 "not a number; write cubic millimetres like 4188.8, or leave empty"),
                ((numbers < 0)[codes], "a volume cannot be negative; correct the value"),
                (np.isinf(numbers)[codes], "must be a finite number"),
                ((np.isfinite(numbers) & (numbers > MAX_VOLUME_MM3))[codes],
                 f"larger than {MAX_VOLUME_MM3:.0f} mm³ (50 L): not a lesion's volume; check the "
                 "unit (mm³; 1 mL = 1000 mm³) and the decimal point")):
            if problem.any():
                errors.add(lines[problem], col, text[problem].tolist(), message)
        df[col] = numbers[codes]
    if set(VOLUME_COLUMNS) <= set(df.columns):
        whole, part = (df[c].to_numpy(dtype=float) for c in VOLUME_COLUMNS)
        larger = part > whole  # NaN (empty) compares False
        if larger.any():
            errors.add(lines[larger], VOLUME_COLUMNS[1], texts[VOLUME_COLUMNS[1]][larger].tolist(),
                       "the enhancing part cannot be larger than the lesion (volume_mm3 "
                       "on the same row); correct one of them")


def _check_consistency(df: pd.DataFrame, errors: _Collector) -> None:
    key = ["_read", "_day", "_lesion"]
    n_lesions = int(df["_lesion"].to_numpy().max(initial=0)) + 1
    day = df["_day"].to_numpy(np.int64)
    span = int(day.max(initial=0)) - int(day.min(initial=0)) + 1
    read = df["_read"].to_numpy(np.int64)
    lesion_key = read * n_lesions + df["_lesion"].to_numpy(np.int64)  # one per read × lesion
    dup = pd.Series((read * span + day - day.min(initial=0)) * n_lesions
                    + df["_lesion"].to_numpy(np.int64), index=df.index).duplicated(keep="first")
    if dup.any():
        first = df.drop_duplicates(key).set_index(key)["_line"]
        for row in df[dup].head(MAX_ERRORS).to_dict("records"):
            errors.add([row["_line"]], "lesion_id", [row["lesion_id"]],
                       f"lesion listed twice at {row['timepoint_date']:%Y-%m-%d} for patient "
                       f"{row['patient_id']}, reader {row['reader_id']} (first on line "
                       f"{first[(row['_read'], row['_day'], row['_lesion'])]}); keep one row per "
                       "lesion and time point")
        errors.total += int(dup.sum()) - min(int(dup.sum()), MAX_ERRORS)
    # plain numpy on the integer codes: the same checks cost little for 16 rows or 3 million
    role = df["_role"].to_numpy()
    status = df["_status"].to_numpy()
    lines = df["_line"].to_numpy()
    measured = status == STATUSES.index("measured")
    target = role == ROLES.index("target")
    nodal = df["is_nodal"].to_numpy(dtype=bool, na_value=False)
    need_long = target & measured & ~nodal & np.isnan(df["long_axis_mm"].to_numpy(dtype=float))
    if need_long.any():
        errors.add(lines[need_long], "long_axis_mm", [""] * int(need_long.sum()),
                   "a measured non-nodal target needs its long axis; enter it or set status")
    need_short = target & measured & nodal & np.isnan(df["short_axis_mm"].to_numpy(dtype=float))
    if need_short.any():
        errors.add(lines[need_short], "short_axis_mm", [""] * int(need_short.sum()),
                   "a measured nodal target needs its short axis; enter it or set status")
    n_reads = int(read.max(initial=-1)) + 1
    first_day = np.full(n_reads, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_day, read, day)
    at_base = day == first_day[read]
    df["_baseline"] = at_base
    if "is_baseline" in df.columns:
        marked = df["is_baseline"].to_numpy(dtype=bool, na_value=False)
        pinned = np.bincount(read, weights=marked, minlength=n_reads) > 0
        # the rows of a read with a marked baseline that are dated before it
        marked_day = np.full(n_reads, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(marked_day, read[marked], day[marked])
        early = pinned[read] & (day < marked_day[read])
        if early.any():
            first_marked = df[marked].drop_duplicates("_read").set_index("_read")["_line"]
            for row in df[early].head(MAX_ERRORS).to_dict("records"):
                errors.add([row["_line"]], "timepoint_date", [f"{row['timepoint_date']:%Y-%m-%d}"],
                           f"dated before the baseline marked on line "
                           f"{first_marked[row['_read']]} (patient {row['patient_id']}, reader "
                           f"{row['reader_id']}); correct the date, or mark the right baseline")
            errors.total += int(early.sum()) - min(int(early.sum()), MAX_ERRORS)
    not_measured = at_base & target & ~measured
    if not_measured.any():
        errors.add(lines[not_measured], "status", df.loc[not_measured, "status"].tolist(),
                   "a baseline target must be measured (status measured with its diameter); "
                   "make it non-target if it cannot be measured")
    new_at_base = at_base & (role == ROLES.index("new"))
    if new_at_base.any():
        errors.add(lines[new_at_base], "role", ["new"] * int(new_at_base.sum()),
                   "a new lesion cannot be at the baseline (the earliest date); check the date "
                   "or the role")
    existing = target | (role == ROLES.index("non-target"))
    has_disease = np.bincount(read, weights=at_base & existing, minlength=n_reads) > 0
    lacking = at_base & ~has_disease[read]
    if lacking.any():
        for row in df[lacking].drop_duplicates("_read").head(MAX_ERRORS).to_dict("records"):
            errors.add([row["_line"]], "role", [row["role"]],
                       f"patient {row['patient_id']}, reader {row['reader_id']}: no target or "
                       "non-target lesion at the baseline; add the baseline lesions")
    lesion_group, _ = pd.factorize(lesion_key)
    n_groups = int(lesion_group.max(initial=-1)) + 1
    roles_per_lesion = (np.bincount(lesion_group * len(ROLES) + role,
                                    minlength=n_groups * len(ROLES)).reshape(-1, len(ROLES)) > 0)
    changes = roles_per_lesion.sum(axis=1)[lesion_group] > 1
    if changes.any():
        for row in df[changes].drop_duplicates(["_read", "_lesion"]).head(MAX_ERRORS) \
                .to_dict("records"):
            same = (df["_read"] == row["_read"]) & (df["_lesion"] == row["_lesion"])
            roles = sorted(set(df.loc[same, "role"]))
            errors.add([row["_line"]], "role", [", ".join(roles)],
                       f"lesion {row['lesion_id']} changes role between time points; a lesion "
                       "keeps its role")
    base_mask = at_base
    fragments = check_links(df, errors.add, at_base)
    unknown = existing & ~base_mask & ~fragments
    unknown[unknown] = ~np.isin(lesion_key[unknown], lesion_key[existing & base_mask])
    if unknown.any():
        errors.add(lines[unknown], "lesion_id",
                   df.loc[unknown, "lesion_id"].head(MAX_ERRORS).tolist(),
                   "a target/non-target lesion not recorded at the baseline; use role new for "
                   "lesions that appear after baseline")


__all__ = ["BY_NAME", "MAX_DIAMETER_MM", "MAX_VOLUME_MM3", "MM_COLUMNS", "REQUIRED", "ROLES",
           "SCHEMA", "STATUSES", "VOLUME_COLUMNS", "Column", "validate"]
