"""The database: one connection, one writer, versioned migrations.

SQLite (a file, WAL) by default; PostgreSQL when given a ``postgresql://`` URL, through the
same connection API (:mod:`storage.postgres`), so storage functions run on either.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from storage import sqlite_writes
from storage.checkpoints import Checkpointer
from storage.dialect import POSTGRESQL, SQLITE
from storage.migrations import apply_migrations, latest_version, schema_version
from storage.pg_connection import PgConnection
from storage.postgres import PgRaw, Traffic, is_postgres_url, redacted
from storage.update_claims import CLAIM, Claim
from storage.write_lock import WriteLock, WriteStats

BUSY_TIMEOUT_MS = 5000

log = logging.getLogger(__name__)

Connection = aiosqlite.Connection
T = TypeVar("T")


class DatabaseMissing(Exception):
    """A command that only reads found no database file."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"no database at {path}")
        self.path = path


class SchemaMismatch(RuntimeError):
    """The file's schema is not this program's: newer (never touched), or older where
    migrating is not allowed (a command that only reads)."""

    def __init__(self, path: Path, found: int, expected: int) -> None:
        relation = "newer" if found > expected else "older"
        super().__init__(
            f"{path}: database schema version {found} is {relation} than this program ({expected})"
        )
        self.path = path
        self.found = found
        self.expected = expected


class Database:
    """An open metatutor database.

    All access goes through :meth:`transaction` (writes, committed on exit, rolled back on
    error) or :meth:`read`. Both hold one lock, so work from concurrent handlers is
    serialised: SQLite allows one writer, and a reader on the same connection must not see
    another coroutine's uncommitted rows. Other processes (the command line while the bot
    runs) use their own connection; WAL and the busy timeout let them share the file.
    """

    def __init__(
        self,
        connection: Connection,
        path: Path | None,
        *,
        read_only: bool = False,
        url: str | None = None,
    ) -> None:
        self._connection = connection
        self._lock = asyncio.Lock()
        self.path = path
        self.url = url
        self.dialect = POSTGRESQL if url is not None else SQLITE
        self.read_only = read_only
        self.write_stats = WriteStats(locked=url is None)
        # Other processes' writers wait for this one in the kernel, not in the busy handler.
        self._write_lock = (
            WriteLock(path) if path is not None and url is None and not read_only else None
        )
        self.checkpoints = (
            Checkpointer(path, BUSY_TIMEOUT_MS) if path is not None and not read_only else None
        )

    @property
    def traffic(self) -> Traffic | None:
        """What this connection has sent PostgreSQL so far (statements, round trips), for the
        benchmarks; None on SQLite, whose statements are calls into a library."""
        raw = getattr(self._connection, "_conn", None)
        return raw.traffic if isinstance(raw, PgRaw) else None

    @property
    def location(self) -> str:
        """Where the database is, for people: the file, or the URL without its password."""
        if self.url is not None:
            return redacted(self.url)
        return str(self.path or ":memory:")

    @classmethod
    async def open(cls, path: Path | str, *, migrate: bool = True) -> Database:
        """Open (creating if needed, owner-only) and upgrade the database at ``path`` (a file,
        or a ``postgresql://`` URL).

        Raises:
            SchemaMismatch: (with ``migrate``) the file's schema is newer than this program's.
        """
        if is_postgres_url(path):
            return await cls._open_postgres(str(path), migrate=migrate)
        location = Path(path)
        if str(path) != ":memory:":
            location.parent.mkdir(parents=True, exist_ok=True)
            if not location.exists():
                # Created owner-only: the file holds students' answers.
                fd = os.open(location, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
        # Any thread may use the connection (see run_sync); the lock keeps it to one at a time.
        connection = await aiosqlite.connect(
            str(path), isolation_level=None, check_same_thread=False
        )
        _INLINE.add(connection)
        connection.row_factory = aiosqlite.Row
        await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await connection.execute("PRAGMA foreign_keys = ON")
        if str(path) != ":memory:":
            await connection.execute("PRAGMA journal_mode = WAL")
            # Checkpoints run in the background (storage.checkpoints), not inside a COMMIT.
            await connection.execute("PRAGMA wal_autocheckpoint = 0")
        await connection.execute("PRAGMA synchronous = NORMAL")
        database = cls(connection, None if str(path) == ":memory:" else location)
        if migrate:
            try:
                await database.upgrade()
            except BaseException:
                await connection.close()
                raise
        return database

    @classmethod
    async def _open_postgres(cls, url: str, *, migrate: bool, read_only: bool = False) -> Database:
        connection = await PgConnection.connect(url, read_only=read_only)
        database = cls(cast(Connection, connection), None, read_only=read_only, url=url)
        if migrate:
            try:
                await database.upgrade()
            except BaseException:
                await connection.close()
                raise
        return database

    @classmethod
    async def open_read_only(cls, path: Path | str) -> Database:
        """Open an existing database at the current schema version for reading only.

        SQLite itself refuses every write on this connection, and nothing is created or
        migrated: commands that only read leave the file as they found it.

        Raises:
            DatabaseMissing: there is no file at ``path``.
            SchemaMismatch: the file's schema is older or newer than this program's.
        """
        if is_postgres_url(path):
            database = await cls._open_postgres(str(path), migrate=False, read_only=True)
            found, expected = await database.version(), latest_version()
            if found != expected:
                await database.close()
                if found == 0:
                    raise DatabaseMissing(Path(database.location))
                raise SchemaMismatch(Path(database.location), found, expected)
            return database
        location = Path(path)
        if not location.is_file():
            raise DatabaseMissing(location)
        connection = await aiosqlite.connect(
            f"{location.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
        _INLINE.add(connection)
        connection.row_factory = aiosqlite.Row
        database = cls(connection, location, read_only=True)
        try:
            await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            found, expected = await database.version(), latest_version()
        except BaseException:
            await connection.close()
            raise
        if found != expected:
            await connection.close()
            raise SchemaMismatch(location, found, expected)
        return database

    async def upgrade(self) -> tuple[int, int]:
        """Apply pending migrations; returns (version before, version after).

        Raises:
            SchemaMismatch: the schema is newer than this program's (the file is untouched).
        """
        found = await self.version()
        if found > latest_version():
            raise SchemaMismatch(Path(self.location), found, latest_version())
        async with self._lock:
            done = await apply_migrations(self._connection, dialect=self.dialect)
            if isinstance(self._connection, PgConnection):
                await self._connection._execute(self._connection.refresh_tables)
            return done

    async def version(self) -> int:
        """The schema version (SQLite's ``PRAGMA user_version``, PostgreSQL's version table)."""
        async with self.read() as conn:
            return await schema_version(conn, self.dialect)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A write transaction (``BEGIN IMMEDIATE``): commit on success, roll back on error.

        The first one of an update's handling also records the update as begun (its
        :data:`storage.update_claims.CLAIM`), and raises
        :class:`storage.update_claims.UpdateHandled` if it was handled already.
        """
        if self.read_only:
            raise sqlite3.OperationalError(f"{self.location} is open read-only")
        claim = CLAIM.get()
        if claim is not None and not claim.wanted_by(self):
            claim = None
        async with self._lock:
            if self._connection.in_transaction:
                # Left open by a ROLLBACK that failed (an I/O error): start clean.
                await self._roll_back()
            began = time.perf_counter()
            began_cpu = time.thread_time()
            waited = 0.0
            if claim is not None and not claim.wanted_by(self):
                claim = None  # recorded by another transaction while this one waited
            if not self._begin_now(claim):
                # On the connection's thread: it may wait for another process's writer.
                execute: Callable[..., Awaitable[float]] = self._connection._execute
                lock = self._write_lock
                raw = self._connection._conn
                begin = asyncio.ensure_future(execute(sqlite_writes.begin, raw, lock, claim))
                try:
                    waited = await asyncio.shield(begin)
                except asyncio.CancelledError:
                    # The thread still takes the lock: undo that, or every other process waits.
                    await asyncio.shield(self._undo_begin(begin))
                    if claim is not None:
                        claim.rolled_back()
                    raise
                began_cpu = time.thread_time()
            stats = self.write_stats
            stats.transactions += 1
            stats.waited_s += waited
            stats.waits += waited > 0.001
            try:
                yield self._connection
                # On the loop's thread (see run_sync): with WAL, synchronous = NORMAL and
                # checkpoints in the background, a COMMIT appends to the WAL and waits for
                # nothing (this connection holds the write lock since BEGIN IMMEDIATE). On
                # PostgreSQL the last statements may have taken the COMMIT with them.
                if self._connection.in_transaction:
                    await run_sync(self._connection, sqlite_writes.commit)
                if claim is not None:
                    claim.committed()
            except BaseException as error:
                if claim is not None:
                    claim.rolled_back()
                # Also when COMMIT itself fails (a deferred constraint, a full disk): the
                # connection must not stay inside the failed transaction, or every later
                # BEGIN fails and the failed one's rows would commit with the next COMMIT.
                try:
                    await self._roll_back()
                except sqlite3.Error as rollback_error:
                    log.error("ROLLBACK failed after %r: %s", error, rollback_error)
                raise
            finally:
                if self._write_lock is not None:
                    self._write_lock.release()
                stats.held_s += time.perf_counter() - began - waited
                stats.held_cpu_s += time.thread_time() - began_cpu
        if self.checkpoints is not None:
            self.checkpoints.committed()

    def _begin_now(self, claim: Claim | None) -> bool:
        """BEGIN IMMEDIATE here, on the loop's thread, if no writer holds the database (on
        PostgreSQL: if the connection's thread is idle).

        Saves the trip to the connection's thread and back, during which the lock would be
        held while the loop serves other coroutines: another process would wait for that.
        False (nothing begun) when another connection holds the lock file or SQLite's lock
        (the busy handler is off for this try: the loop must never wait).
        """
        if isinstance(self._connection, PgConnection):
            if not self._connection.idle:
                return False
            # BEGIN and the update's claim wait there for the transaction's first statement
            # (nothing is sent now): a trip to the thread would carry nothing.
            sqlite_writes.begin(self._connection._conn, None, claim)
            return True
        lock = self._write_lock
        if lock is None or not lock.try_acquire():
            return False
        try:
            if sqlite_writes.begin_unless_busy(self._connection._conn):
                if claim is not None:
                    sqlite_writes.claim_or_roll_back(self._connection._conn, claim)
                return True
        except BaseException:
            lock.release()
            raise
        lock.release()  # a writer outside the lock file: wait for it on the thread
        return False

    async def _undo_begin(self, begin: asyncio.Future[float]) -> None:
        """After a cancelled BEGIN: wait for its thread, roll back, let the next writer in."""
        with contextlib.suppress(BaseException):
            await begin
        try:
            await self._roll_back()
        finally:
            if self._write_lock is not None:
                self._write_lock.release()

    async def _roll_back(self) -> None:
        """ROLLBACK (if a transaction is open) on the connection's thread.

        Queued there after any statement a cancelled caller left running, and shielded: a
        second cancellation cannot skip it.
        """
        execute: Callable[..., Awaitable[None]] = self._connection._execute
        await asyncio.shield(execute(sqlite_writes.rollback, self._connection._conn))

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        """Read access: sees only committed data."""
        async with self._lock:
            yield self._connection

    async def backup(self, destination: Path | str) -> None:
        """Copy the live database to ``destination`` with SQLite's online backup."""
        if self.url is not None:
            raise sqlite3.OperationalError(
                f"{self.location}: a PostgreSQL database is backed up with pg_dump"
                " (see docs/operations.md, PostgreSQL)"
            )
        target = Path(destination)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o600))
        copy = sqlite3.connect(str(target), check_same_thread=False)
        try:
            async with self._lock:
                await self._connection.backup(copy)
        finally:
            copy.close()
        os.chmod(target, 0o600)

    async def integrity_check(self) -> str:
        """``PRAGMA integrity_check``: 'ok' when the file is sound (PostgreSQL: when it answers)."""
        if self.url is not None:
            async with self.read() as conn:
                rows = await conn.execute_fetchall("SELECT 'ok'")
            return str(next(iter(rows))[0])
        async with self.read() as conn, conn.execute("PRAGMA integrity_check") as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else "no answer"

    async def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        if self.write_stats.transactions:
            log.debug("%s: %s", self.location, self.write_stats.summary())
        if self.checkpoints is not None:
            await self.checkpoints.close()
        await self._connection.close()
        if self._write_lock is not None:
            self._write_lock.close()


async def fetch_all(conn: Connection, sql: str, parameters: Iterable[Any] = ()) -> list[Any]:
    """All rows of a query, in one trip to the connection's thread.

    ``async with conn.execute(...) as cur`` costs three trips (execute, fetch, close), each
    0.1-0.5 ms on a busy machine: more than most of the hot paths' queries themselves.
    """
    return list(await conn.execute_fetchall(sql, tuple(parameters)))


async def fetch_one(conn: Connection, sql: str, parameters: Iterable[Any] = ()) -> Any | None:
    """The first row of a query (None if none), in one trip; for queries of one row."""
    rows = await conn.execute_fetchall(sql, tuple(parameters))
    return next(iter(rows), None)


def dialect_of(conn: Connection) -> str:
    """The SQL dialect of a connection given to storage functions (also inside run_sync)."""
    raw = getattr(conn, "_conn", conn)
    return (
        POSTGRESQL if isinstance(conn, PgConnection | PgRaw) or isinstance(raw, PgRaw) else SQLITE
    )


_INLINE: weakref.WeakSet[Connection] = weakref.WeakSet()
"""Connections opened by :class:`Database`, whose raw connection any thread may use."""


async def run_sync(conn: Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``work`` with the underlying ``sqlite3`` connection, as one step.

    On a connection of :class:`Database` it runs at once on the event loop's thread: the
    caller holds the database lock, so nothing else uses the connection meanwhile, and a
    hop to the connection's thread (0.2-1 ms on a busy machine, more than the short
    statements of the hot paths) is saved. Only for work that is short and never waits
    for another process's lock: reads (WAL readers do not wait) and writes inside a
    ``transaction`` (which already holds the write lock). Elsewhere it runs on the
    connection's own thread.
    """
    if conn in _INLINE:
        return work(conn._conn)
    # aiosqlite runs each callable it is given, in order, on the connection's thread.
    execute: Callable[..., Awaitable[T]] = conn._execute
    return await execute(work, conn._conn)


class _Direct:
    """Stands in for the aiosqlite connection inside :func:`in_one_trip`: the same calls the
    storage functions make, run at once on the raw connection (already on its thread)."""

    def __init__(self, raw: sqlite3.Connection) -> None:
        self._conn = raw

    async def execute(self, sql: str, parameters: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, tuple(parameters))

    async def execute_fetchall(self, sql: str, parameters: Iterable[Any] = ()) -> list[Any]:
        return self._conn.execute(sql, tuple(parameters)).fetchall()

    async def _execute(self, fn: Callable[..., T], *args: Any) -> T:
        return fn(*args)

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction


async def in_one_trip(conn: Connection, work: Callable[[Connection], Coroutine[Any, Any, T]]) -> T:
    """Run ``work`` (storage calls and plain Python) in one trip to the connection's thread.

    ``work`` gets a stand-in connection on which the storage functions built on
    ``conn.execute``, :func:`fetch_all`, :func:`fetch_one` and :func:`run_sync` run their
    statements directly, so a sequence of them costs one thread hop instead of one each.
    It must await nothing else (no sleeps, no other I/O): it runs to completion at once.
    On PostgreSQL, where each statement is a round trip of its own anyway, ``work`` runs on
    the event loop with the connection itself.
    """

    if isinstance(conn, PgConnection):
        # On PostgreSQL each statement is a round trip of its own anyway, and the writes
        # that wait for the next one (storage.batch) send nothing: run here, and only the
        # statements that are sent go to the connection's thread.
        return await work(conn)

    def run(raw: sqlite3.Connection) -> T:
        coroutine = work(cast(Connection, _Direct(raw)))
        try:
            coroutine.send(None)
        except StopIteration as done:
            result: T = done.value
            return result
        coroutine.close()
        raise RuntimeError("work run in one trip awaited something other than the database")

    return await run_sync(conn, run)
