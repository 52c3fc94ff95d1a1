"""PostgreSQL's rows and errors in the shapes storage code expects from ``sqlite3``.

Rows answer by index and by column name like ``sqlite3.Row``; NUMERIC comes back as int or
float as SQLite gives it; psycopg's errors become ``sqlite3``'s classes (the storage API's
error contract, which callers already catch).
"""

from __future__ import annotations

import functools
import sqlite3
from typing import Any, ClassVar

import psycopg
from psycopg import adapt
from psycopg.rows import RowMaker


class Row(tuple[Any, ...]):
    """A result row: by index, by column name, and ``keys()``, like ``sqlite3.Row``.

    Each result's columns get a subclass holding their names (:func:`row_class`), so a row
    is a plain tuple underneath: no per-row dictionary, built by the tuple's own constructor.
    """

    __slots__ = ()
    _names: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return super().__getitem__(self._names[key])
        return super().__getitem__(key)

    def keys(self) -> list[str]:
        return list(self._names)


@functools.lru_cache(maxsize=1024)
def row_class(columns: tuple[str, ...]) -> type[Row]:
    """The row type of a result with these columns (the same few hundred recur)."""
    names = {name: index for index, name in enumerate(columns)}
    return type("Row", (Row,), {"__slots__": (), "_names": names})


def row_factory(cursor: psycopg.Cursor[Any]) -> RowMaker[Row]:
    # The names straight from the result: ``cursor.description`` builds a Column per column.
    result = cursor.pgresult
    if result is None:
        return row_class(())
    return _named_row_class(tuple(result.fname(k) or b"" for k in range(result.nfields)))


@functools.lru_cache(maxsize=1024)
def _named_row_class(names: tuple[bytes, ...]) -> type[Row]:
    return row_class(tuple(name.decode() for name in names))


class NumericLoader(adapt.Loader):
    """NUMERIC (what SUM of integers gives) as int or float, as SQLite gives them."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        return float(text) if any(c in text for c in ".eEn") else int(text)


_CONSTRAINTS = {
    "23503": "FOREIGN KEY",
    "23505": "UNIQUE",
    "23502": "NOT NULL",
    "23514": "CHECK",
}


def translate_error(error: psycopg.Error) -> sqlite3.Error:
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if isinstance(error, psycopg.IntegrityError):
        kind = _CONSTRAINTS.get(error.sqlstate or "")
        # Worded like SQLite's ("FOREIGN KEY constraint failed"), PostgreSQL's detail after.
        return sqlite3.IntegrityError(f"{kind} constraint failed: {message}" if kind else message)
    if isinstance(error, psycopg.OperationalError):
        return sqlite3.OperationalError(message)
    if isinstance(error, psycopg.ProgrammingError):
        return sqlite3.OperationalError(message)
    return sqlite3.DatabaseError(message)
