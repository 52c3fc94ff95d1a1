"""PostgreSQL's rows and errors in the shapes storage code expects from ``sqlite3``.

Rows are tuples read by position; NUMERIC comes back as int or float as SQLite gives it;
psycopg's errors become ``sqlite3``'s classes (the storage API's error contract, which
callers already catch).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg
from psycopg import adapt
from psycopg.rows import tuple_row

Row = tuple[Any, ...]
"""A result row: a plain tuple, read by position (as storage code reads SQLite's rows).

Not a ``sqlite3.Row`` look-alike: a tuple subclass answering by name as well needs its own
``__getitem__``, a Python call on every column read, which made parsing a heavy student's
1,400 memory rows cost 16.7 ms on PostgreSQL against 5.4 ms on SQLite."""

row_factory = tuple_row
"""psycopg's own tuple rows, built in its C implementation."""


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
