"""What the read store's mixins (:mod:`._versions`, :mod:`._copies`, :mod:`._burden`, …) use of
:class:`~response_tool.reading.store.ReadStore`, which defines it: declared for type checkers only."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from response_tool.domain.model import Read

    from .store import ReadKey


class StoreParts:
    """The connection, transactions and read look-ups of a :class:`ReadStore`."""

    path: Path
    _db: sqlite3.Connection
    _known: dict[ReadKey, tuple[int, int]]
    _pending: dict[ReadKey, tuple[int, int]]

    if TYPE_CHECKING:
        def _transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...

        def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...

        def _one(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

        def _read_id(self, key: ReadKey, create: bool = False) -> int: ...

        def _touch(self, key: ReadKey, read_id: int, expect: int | None = None) -> None: ...

        def reads(self) -> list[ReadKey]: ...

        def load(self, key: ReadKey) -> Read: ...

        def _segmentation_state(self, rid: int, lesion_id: str, date: str) -> list[Any] | None: ...

        def _put_segmentation(self, rid: int, lesion_id: str, date: str,
                              state: list[Any] | None) -> None: ...
