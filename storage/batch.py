"""Fewer round trips to PostgreSQL: reads sent together, writes sent with what follows.

On PostgreSQL every statement is a round trip to the server's process, and inside a request
each one waits for that process to be scheduled: the number of round trips, not the work of
the statements (index lookups), is what a request pays for. On SQLite a statement is a call
into a library, and these helpers run the statements one after the other, as before.

* :func:`write_later` / :func:`defer`: a write whose result nobody reads goes out with the
  transaction's next statement or its COMMIT.
* :class:`Query` and :func:`read_together`: reads whose parameters do not depend on each
  other's results go out in one pipeline, each parsed by its own function.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from storage.database import Connection, run_sync
from storage.postgres import PgRaw

T = TypeVar("T")

Statement = tuple[str, tuple[Any, ...]]


async def write_later(
    conn: Connection,
    sql: str,
    parameters: Iterable[Any] = (),
    *,
    check: Callable[[list[Any]], None] | None = None,
) -> None:
    """A write inside a transaction whose result nobody reads (no row count, no id).

    On PostgreSQL it goes out with the transaction's next statement or its COMMIT, in the
    same round trip (its errors are raised there, and the transaction rolls back); on SQLite
    it runs now. ``check``, if given, gets the write's rows (``RETURNING``) when it is sent
    (never with the COMMIT: just before it); what ``check`` raises is raised there, so the
    transaction rolls back, as for the write's own error.
    """
    raw = getattr(conn, "_conn", None)
    values = tuple(parameters)
    if isinstance(raw, PgRaw) and raw.in_transaction:
        raw.defer(sql, values, check)
        return
    if not isinstance(raw, PgRaw) and conn.in_transaction:
        # Inside a write transaction (it holds the write lock): run_sync runs it at once,
        # without a hop to aiosqlite's thread.
        rows = await run_sync(conn, lambda connection: connection.execute(sql, values).fetchall())
    else:
        rows = list(await conn.execute_fetchall(sql, values))
    if check is not None:
        check(rows)


def defer(raw: sqlite3.Connection, sql: str, parameters: Iterable[Any] = ()) -> None:
    """:func:`write_later` on the raw connection (inside ``run_sync``)."""
    if isinstance(raw, PgRaw):
        raw.defer(sql, parameters)
    else:
        raw.execute(sql, tuple(parameters))


def read_all(
    raw: sqlite3.Connection, statements: Sequence[Statement], *, commit: bool = False
) -> list[list[Any]]:
    """The rows of each statement (reads, or writes with ``RETURNING``, whose parameters do
    not depend on each other's results), on the raw connection (inside ``run_sync``): in one
    round trip on PostgreSQL, one after the other on SQLite.

    ``commit``: these are the transaction's last statements; on PostgreSQL its COMMIT goes
    with them (the transaction's own COMMIT then sends nothing), on SQLite, where a COMMIT
    is a call into a library, the transaction commits at its end as usual. Only for a step
    after which nothing can fail that should undo it."""
    if isinstance(raw, PgRaw):
        return [cursor.fetchall() for cursor in raw.execute_all(statements, commit=commit)]
    return [raw.execute(sql, values).fetchall() for sql, values in statements]


@dataclass(frozen=True, slots=True)
class Query(Generic[T]):
    """A read as its statements (none, one or several) and what makes its result of their
    rows, so that several reads can go out together (:func:`read_together`)."""

    statements: list[Statement]
    parse: Callable[[list[list[Any]]], T]

    def run(self, raw: sqlite3.Connection) -> T:
        """This read alone (inside ``run_sync``)."""
        return self.parse(read_all(raw, self.statements))


def given(value: T) -> Query[T]:
    """A query that sends nothing and gives ``value`` (a result already known)."""
    return Query([], lambda _rows: value)


def joined(combine: Callable[..., T], *queries: Query[Any]) -> Query[T]:
    """One query of several: their statements together, ``combine`` of their results."""
    counts = [len(query.statements) for query in queries]

    def parse(rows: list[list[Any]]) -> T:
        results = []
        start = 0
        for query, count in zip(queries, counts, strict=True):
            results.append(query.parse(rows[start : start + count]))
            start += count
        return combine(*results)

    return Query([statement for query in queries for statement in query.statements], parse)


def read_together(raw: sqlite3.Connection, *queries: Query[Any]) -> list[Any]:
    """The results of ``queries``, their statements in one round trip (inside ``run_sync``)."""
    return joined(lambda *results: list(results), *queries).run(raw)


MAX_PARAMETERS = 500
"""Values per ``IN (...)`` list: well under SQLite's limit on bound parameters."""


def in_chunks(values: Iterable[T]) -> Iterator[tuple[list[T], str]]:
    """Split ``values`` for ``IN (...)`` queries: yields (chunk, "?,?,...") pairs."""
    items = list(values)
    for start in range(0, len(items), MAX_PARAMETERS):
        chunk = items[start : start + MAX_PARAMETERS]
        yield chunk, ",".join("?" * len(chunk))
