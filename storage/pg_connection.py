"""The asynchronous face of a PostgreSQL connection: what storage code awaits, as it awaits
an ``aiosqlite.Connection``, with every statement run on the connection's own thread by
:class:`storage.postgres.PgRaw`."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Generator, Iterable
from types import TracebackType
from typing import Any, TypeVar

import psycopg

from storage.dialect import postgres_statement
from storage.pg_connect import open_connection, unreachable
from storage.pg_rows import NumericLoader, Row, row_factory, translate_error
from storage.postgres import PgCursor, PgRaw, redacted

T = TypeVar("T")


class _Result:
    """What ``PgConnection.execute`` returns: awaited, or used with ``async with``."""

    def __init__(self, running: asyncio.Future[PgCursor]) -> None:
        self._running = running

    def __await__(self) -> Generator[Any, None, _AsyncCursor]:
        cursor = yield from self._running.__await__()
        return _AsyncCursor(cursor)

    async def __aenter__(self) -> _AsyncCursor:
        return await self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class _AsyncCursor:
    def __init__(self, cursor: PgCursor) -> None:
        self._cursor = cursor
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid

    async def fetchone(self) -> Row | None:
        return self._cursor.fetchone()

    async def fetchall(self) -> list[Row]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        return None

    def __aiter__(self) -> _AsyncCursor:
        return self

    async def __anext__(self) -> Row:
        row = self._cursor.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row


class PgConnection:
    """The asynchronous side (in place of ``aiosqlite.Connection``): each call runs on the
    connection's own thread, in the order made."""

    def __init__(self, raw: PgRaw) -> None:
        self._conn = raw
        self._thread = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="metatutor-postgres"
        )
        self.row_factory: Any = None
        # The last call handed to the thread: the thread is idle once it is done (FIFO).
        self._last: concurrent.futures.Future[Any] | None = None

    @classmethod
    async def connect(cls, url: str, *, read_only: bool = False) -> PgConnection:
        """Connect to ``url`` (autocommit: transactions are begun and ended explicitly).

        A lost connection is made again, and what was lost with it sent again where that is
        safe (see :meth:`PgRaw._sent` and :meth:`PgRaw._alive`).

        Raises:
            DatabaseUnreachable: the server refused or did not answer.
        """
        loop = asyncio.get_running_loop()
        thread = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="metatutor-postgres"
        )

        def reopen() -> tuple[psycopg.Connection[Row], frozenset[str]]:
            try:
                pg = open_connection(url, autocommit=True, row_factory=row_factory)
            except psycopg.Error as error:
                raise unreachable(redacted(url), error) from error
            try:
                pg.adapters.register_loader("numeric", NumericLoader)
                with pg.cursor() as cursor:
                    if read_only:
                        cursor.execute("SET default_transaction_read_only = on")
                tables = _id_tables(pg)
            except psycopg.Error as error:
                pg.close()
                raise translate_error(error) from error
            return pg, tables

        def first() -> PgRaw:
            return PgRaw(*reopen(), reopen=reopen, location=redacted(url))

        raw = await loop.run_in_executor(thread, first)
        connection = cls(raw)
        connection._thread.shutdown(wait=False)
        connection._thread = thread
        return connection

    def refresh_tables(self) -> None:
        """Re-read which tables have an ``id`` column (after migrations made new ones)."""
        self._conn._id_tables = _id_tables(self._conn._pg)

    def _submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run ``fn(*args)`` on the connection's thread."""
        self._conn.traffic.hops += 1
        self._last = self._thread.submit(fn, *args)
        return asyncio.wrap_future(self._last)

    async def _execute(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._submit(fn, *args)

    @property
    def idle(self) -> bool:
        """Nothing runs or waits on the connection's thread (a cancelled caller's statement
        may still be running there after the caller has gone)."""
        return self._last is None or self._last.done()

    def execute(self, sql: str, parameters: Iterable[Any] = ()) -> _Result:
        values = tuple(parameters)
        if self.idle and not self._conn.in_transaction and postgres_statement(sql) == "BEGIN":
            # Nothing to send yet (it goes with the first statement): no trip to the thread.
            running: asyncio.Future[PgCursor] = asyncio.get_running_loop().create_future()
            running.set_result(self._conn.execute(sql, values))
            return _Result(running)
        return _Result(self._submit(self._conn.execute, sql, values))

    async def execute_fetchall(self, sql: str, parameters: Iterable[Any] = ()) -> list[Row]:
        cursor = await self._execute(self._conn.execute, sql, tuple(parameters))
        return cursor.fetchall()

    async def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> _AsyncCursor:
        values = [tuple(row) for row in rows]
        return _AsyncCursor(await self._execute(self._conn.executemany, sql, values))

    async def executescript(self, script: str) -> None:
        await self._execute(self._conn.executescript, script)

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    @property
    def total_changes(self) -> int:
        """Rows inserted, changed or deleted since the connection opened (as sqlite3's)."""
        return self._conn.total_changes

    async def close(self) -> None:
        try:
            await self._execute(self._conn.close)
        finally:
            self._thread.shutdown(wait=False)


def _id_tables(pg: psycopg.Connection[Row]) -> frozenset[str]:
    """The tables with an ``id`` column (whose inserts report it, as sqlite3's lastrowid)."""
    with pg.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND column_name = 'id'"
        )
        return frozenset(str(row[0]) for row in cursor.fetchall())
