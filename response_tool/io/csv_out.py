"""Writing result tables as CSV: fast (Arrow's writer), whole or not at all, readable anywhere.

Dates are written ``YYYY-MM-DD``; floats rounded to ``decimals`` places and printed in their
shortest form (``111.24``, not ``111.2400`` or ``111.24000000000001``); booleans ``true`` /
``false``; missing values and empty texts as empty cells; text a spreadsheet would evaluate as a
formula with a leading ``'`` (:mod:`response_tool.io.export`). Several tables are written as one
set: all or none.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from response_tool.io.export import neutralise_array
from response_tool.io.output import FileSet


def _column(values: pd.Series, decimals: int) -> pa.Array:
    if isinstance(values.dtype, pd.CategoricalDtype):  # response and rule columns: write as is
        categories = values.cat.categories.astype(str)
        codes = values.cat.codes.to_numpy()
        blank = codes < 0
        if (categories == "").any():
            blank |= codes == int(np.flatnonzero(categories == "")[0])
        return pa.DictionaryArray.from_arrays(pa.array(codes, mask=blank),
                                              pa.array(list(categories), type=pa.string()))
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        array = pa.array(values.array)
        return pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array) \
            if len(array) else array
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        days = values.to_numpy(dtype="datetime64[ns]")
        if (days[~np.isnat(days)].astype("datetime64[D]") == days[~np.isnat(days)]).all():
            return pa.array(days.astype("datetime64[D]"), mask=np.isnat(days))
        return pa.array(days, mask=np.isnat(days))
    if pd.api.types.is_bool_dtype(values.dtype):
        return pa.array(values.to_numpy(dtype=bool, na_value=False), mask=values.isna().to_numpy())
    if pd.api.types.is_float_dtype(values.dtype):
        return pa.array(np.round(values.to_numpy(dtype=float), decimals), from_pandas=True)
    if pd.api.types.is_integer_dtype(values.dtype):
        return pa.array(values.to_numpy(), mask=values.isna().to_numpy())
    text = values.astype(object)
    missing = text.isna() | (text == "")
    return pa.array(text.where(~missing, None).astype(str).to_numpy(dtype=object),
                    type=pa.string(), mask=missing.to_numpy(dtype=bool))


def _table(frame: pd.DataFrame, decimals: int) -> pa.Table:
    """``frame`` as the Arrow table written, formula-like text cells neutralised
    (:mod:`response_tool.io.export`)."""
    return pa.table({str(c): neutralise_array(_column(frame[c], decimals)) for c in frame.columns})


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str], decimals: int = 4) -> None:
    """Write ``frame`` (no index) to ``path`` as CSV; the file appears whole or not at all."""
    write_tables([(frame, path)], decimals=decimals)


def write_tables(jobs: Sequence[tuple[pd.DataFrame, str | os.PathLike[str]]], decimals: int = 4,
                 *, make_parents: bool = True) -> None:
    """Write several tables as one set (:class:`~response_tool.io.output.FileSet`): every file
    or none, the old ones left as they were on any error. Staged in parallel, one thread each
    (Arrow's writer releases the GIL); the first error is raised after every writer has finished.
    ``make_parents``: create a missing folder (the commands check theirs first, and refuse)."""
    with FileSet(make_parents=make_parents) as files:
        def stage(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
            table = _table(frame, decimals)
            with files.open(path, "wb") as fh:
                pacsv.write_csv(table, fh)

        if len(jobs) <= 1:
            for frame, path in jobs:
                stage(frame, path)
            return
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            futures = [pool.submit(stage, frame, path) for frame, path in jobs]
        for future in futures:
            future.result()


__all__ = ["write_table", "write_tables"]
