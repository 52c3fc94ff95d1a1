"""PostgreSQL behind the same connection API as SQLite's (aiosqlite and sqlite3).

Storage functions take an ``aiosqlite.Connection`` and, inside ``run_sync``, the raw
``sqlite3.Connection``. ``storage.pg_connection.PgConnection`` and :class:`PgRaw` stand in
for those two over one psycopg connection: statements are rewritten by
:mod:`storage.dialect`, rows answer by index (tuples), and
errors are raised as ``sqlite3``'s classes (the storage API's error contract, which callers
already catch). As with aiosqlite, every statement runs on the connection's own thread, so
the event loop never waits on the network.

psycopg 3 rather than asyncpg: ``run_sync`` hands storage and tutor code a connection they use
synchronously, in one step; psycopg has a synchronous connection (asyncpg has none), so that
contract holds unchanged.
"""

from __future__ import annotations

import functools
import logging
import re
import select
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from psycopg import pq

from storage.dialect import postgres_call, postgres_statement
from storage.pg_connect import DatabaseUnreachable, unreachable
from storage.pg_rows import Row, translate_error

T = TypeVar("T")

URL = re.compile(r"^postgres(ql)?://", re.IGNORECASE)

_ID_TABLE = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.IGNORECASE)

_READ = re.compile(r"^\s*(SELECT|WITH|SHOW)\b", re.IGNORECASE)
_WRITE_WORD = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|NEXTVAL|SETVAL)\b", re.IGNORECASE)
_END = re.compile(r"^\s*(COMMIT|END)\b", re.IGNORECASE)

log = logging.getLogger(__name__)


class _Repeated(logging.Filter):
    """Drops psycopg's "error ignored terminating <Pipeline>" warning: it comes only when
    a pipeline's statements raised, and that error is raised (and told) anyway; after a
    lost connection it was a second, louder line about the same loss."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("error ignored terminating")


logging.getLogger("psycopg").addFilter(_Repeated())


@functools.lru_cache(maxsize=1024)
def _is_read(statement: str) -> bool:
    """True for a statement that changes nothing (sent twice, it does no harm)."""
    return bool(_READ.match(statement)) and not _WRITE_WORD.search(statement)


@functools.lru_cache(maxsize=1024)
def _ends(statement: str) -> bool:
    """True for a COMMIT (or END)."""
    return bool(_END.match(statement))


def is_postgres_url(location: object) -> bool:
    """True for a ``postgresql://`` (or ``postgres://``) URL."""
    return isinstance(location, str) and bool(URL.match(location))


def redacted(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages and logs)."""
    return re.sub(r"(?<=://)([^/@:]*):[^/@]*@", r"\1:***@", url)


class PgCursor:
    """A finished statement's rows (read whole), ``rowcount`` and ``lastrowid``."""

    def __init__(self, rows: list[Row], rowcount: int, lastrowid: int | None) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    def fetchone(self) -> Row | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Row]:
        rest = self._rows[self._next :]
        self._next = len(self._rows)
        return rest

    def __iter__(self) -> Iterator[Row]:
        return iter(self.fetchall())

    def close(self) -> None:
        """Nothing to release: the rows were read whole."""


@dataclass(slots=True)
class Traffic:
    """What a connection has sent the server: statements, and round trips (a statement
    on its own, or a pipeline of several), counted for the benchmarks; ``log``, when a
    list, receives each statement's text."""

    statements: int = 0
    round_trips: int = 0
    seconds: float = 0.0
    """Time spent in the round trips, on the connection's thread (from the statements'
    sending to their rows read, parsing included)."""
    hops: int = 0
    """Calls handed to the connection's thread (each one waits for the thread to wake)."""
    log: list[str] | None = None


class PgRaw:
    """The synchronous side (in place of ``sqlite3.Connection``), used on one thread at a time.

    Round trips, not the statements, are what a request pays for here (each one waits for
    the server's process to be scheduled): BEGIN goes out with a transaction's first
    statement, writes whose results nobody reads (:meth:`defer`) wait and go out with the
    next statement or the COMMIT, and independent reads go out together (:meth:`execute_all`),
    each group in one pipeline."""

    def __init__(
        self,
        connection: psycopg.Connection[Row],
        id_tables: frozenset[str],
        reopen: Callable[[], tuple[psycopg.Connection[Row], frozenset[str]]] | None = None,
        location: str = "PostgreSQL",
    ) -> None:
        self._pg = connection
        self._location = location
        self._id_tables = id_tables
        self._reopen = reopen
        # The server went away (restarted, failed over, the network): a round trip of which
        # nothing can have taken effect is sent again on a new connection (:meth:`_sent`);
        # one that failed otherwise leaves the next statement to connect again, unless the
        # lost connection was inside a transaction, whose later statements must not run on
        # their own: those fail until the caller's ROLLBACK.
        self._lost_in_transaction = False
        self.total_changes = 0
        self._begin = False
        self._queued: list[tuple[str, tuple[Any, ...]]] = []
        # the first writes of the transaction and what checks the last one's rows
        self._checked: tuple[list[tuple[str, tuple[Any, ...]]], Callable[[list[Row]], None]] | None
        self._checked = None
        # what checks the rows of a queued write, by its place in ``_queued``
        self._checks: dict[int, Callable[[list[Row]], None]] = {}
        self.traffic = Traffic()

    @property
    def in_transaction(self) -> bool:
        if self._pg.closed:
            return self._begin or self._lost_in_transaction
        return self._begin or self._pg.info.transaction_status != pq.TransactionStatus.IDLE

    def _failed(self, error: psycopg.Error, in_transaction: bool) -> sqlite3.Error:
        """``error`` as sqlite3's; if it lost the connection, notes whether a transaction
        was open (see :meth:`_connected`)."""
        if self._pg.closed:
            self._lost_in_transaction = self._lost_in_transaction or in_transaction
            hint = "the next statement connects again"
            lost = unreachable(self._location, error)
            return DatabaseUnreachable(
                self._location, lost.reason, hint, setting_wrong=False, lost=True
            )
        return translate_error(error)

    def _connected(self, statement: str = "") -> bool:
        """Connect again if the connection was lost; False for a ROLLBACK then (nothing to
        send: the server rolled back whatever the lost connection held). A BEGIN waits: it
        goes out with the first statement, on the connection's thread (never the loop's)."""
        if not self._pg.closed or self._reopen is None:
            return True
        word = statement.split(None, 1)[0].upper() if statement else ""
        if word == "ROLLBACK":
            self._begin, self._queued, self._checked, self._checks = False, [], None, {}
            self._lost_in_transaction = False
            return False
        if self._lost_in_transaction:
            raise sqlite3.OperationalError(
                "the connection to PostgreSQL was lost during this transaction; roll it back"
            )
        if word != "BEGIN":
            self._pg, self._id_tables = self._reopen()
        return True

    def _deferred(self, statement: str) -> PgCursor | None:
        """BEGIN waits for the next statement and goes out with it (one round trip instead
        of two per transaction); a COMMIT or ROLLBACK with nothing in between sends nothing;
        a COMMIT takes the deferred writes with it, a ROLLBACK drops them."""
        word = statement.split(None, 1)[0].upper() if statement else ""
        if word in ("ROLLBACK", "BEGIN") and not self._connected(word):
            return PgCursor([], -1, None)
        if word == "BEGIN" and not self.in_transaction:
            self._begin = True
            return PgCursor([], -1, None)
        if word == "ROLLBACK":
            self._queued.clear()
            self._checked = None
            self._checks.clear()
        if word in ("COMMIT", "ROLLBACK", "END") and self._begin and not self._pending:
            self._begin = False
            return PgCursor([], -1, None)
        if word in ("COMMIT", "END") and not self.in_transaction:
            return PgCursor([], -1, None)  # committed already, with its last statements
        return None

    @property
    def _pending(self) -> bool:
        """Deferred writes wait to go out."""
        return bool(self._queued) or self._checked is not None

    def _send_begin(self) -> None:
        """The deferred BEGIN and writes on their own (before statements that cannot be
        pipelined)."""
        if self._begin or self._pending:
            self._pipelined([])

    def defer(
        self,
        sql: str,
        parameters: Iterable[Any] = (),
        check: Callable[[list[Row]], None] | None = None,
    ) -> None:
        """A write inside a transaction whose result nobody reads: it goes out with the
        transaction's next statement or its COMMIT, in the same round trip. Its errors
        (a constraint) are raised there, and the transaction rolls back as for any error.
        Outside a transaction it runs at once.

        ``check``, if given, gets the write's rows (``RETURNING``) once it is sent; what it
        raises is raised there, as the write's error would be. A checked write is never
        sent with the COMMIT (it goes just before), so raising still rolls back."""
        if not self.in_transaction:
            found = self.execute(sql, parameters)
            if check is not None:
                check(found.fetchall())
            return
        if check is not None:
            self._checks[len(self._queued)] = check
        self._queued.append(postgres_call(sql, tuple(parameters)))

    def defer_checked(
        self, statements: Sequence[tuple[str, tuple[Any, ...]]], check: Callable[[list[Row]], None]
    ) -> None:
        """Writes that go out first with the transaction's next statement, like :meth:`defer`;
        ``check`` gets the last one's rows once they are back, on this thread, and may run
        statements of its own or raise (the transaction then rolls back). A COMMIT does not
        go out with them together with other work: ``check`` sees them before it commits."""
        self._checked = ([postgres_call(sql, values) for sql, values in statements], check)

    def _statement(self, statement: str) -> tuple[str, bool]:
        """``statement`` (in PostgreSQL's dialect), and whether ``RETURNING id`` was added."""
        table = _ID_TABLE.match(statement)
        if (
            table
            and table.group(1).lower() in self._id_tables
            and not re.search(r"\bRETURNING\b", statement, re.IGNORECASE)
        ):
            # sqlite3's lastrowid: PostgreSQL says it only when asked.
            return statement + " RETURNING id", True
        return statement, False

    def _pipelined(self, statements: Sequence[tuple[str, tuple[Any, ...]]]) -> list[PgCursor]:
        """The pending BEGIN and deferred writes, then ``statements``, in one round trip;
        the results of ``statements``."""
        checked = self._checked
        if (
            statements
            and statements[-1][0].upper() == "COMMIT"
            and (self._checks or (checked is not None and (len(statements) > 1 or self._queued)))
        ):
            # A check must see its rows before the work beside them commits. A claim on
            # its own may go with the COMMIT: refused, it wrote nothing.
            found = self._pipelined(statements[:-1])
            return [*found, *self._pipelined(statements[-1:])]
        self._connected()
        lead = checked[0] if checked else []
        begin, queued = self._begin, [*lead, *self._queued]
        was_open = begin or self.in_transaction
        checks = {k + len(lead): check for k, check in self._checks.items()}
        self._begin, self._queued, self._checked, self._checks = False, [], None, {}
        # Sent again on a new connection if the old one turned out lost: the transaction's
        # first round trip (its BEGIN goes with it: the server rolled back whatever of it
        # arrived), or reads outside a transaction. Never one after an earlier round trip
        # of the same transaction (what that one did went with the lost connection: sent
        # alone, the rest would commit half a transaction), nor one that carries a COMMIT
        # (the server may have committed before the connection broke: sent again, the
        # transaction would be stored twice).
        replayable = (
            (begin or not self.in_transaction)
            and not any(_ends(sql) for sql, _ in statements)
            and (begin or all(_is_read(sql) for sql, _ in [*queued, *statements]))
        )

        def send() -> tuple[list[PgCursor], list[Row], dict[int, list[Row]]]:
            self.traffic.round_trips += 1
            self.traffic.statements += int(begin) + len(queued) + len(statements)
            if self.traffic.log is not None:
                self.traffic.log.extend(["BEGIN"] * begin + [sql for sql, _ in queued])
                self.traffic.log.extend(sql for sql, _ in statements)
            writes = [self._pg.cursor() for _ in queued]
            cursors = [self._pg.cursor() for _ in statements]
            started = time.perf_counter()
            try:
                with self._pg.pipeline():
                    if begin:
                        self._pg.execute(b"BEGIN")
                    for cursor, (sql, values) in zip(writes, queued, strict=True):
                        cursor.execute(sql, values)
                    for cursor, (sql, values) in zip(cursors, statements, strict=True):
                        cursor.execute(sql, values)
                # The deferred writes' row counts stay out of total_changes: a caller counting
                # its own statement's changes (before and after it) must not see theirs.
                found = [self._finish(cursor) for cursor in cursors]
                checked_rows = writes[len(lead) - 1].fetchall() if checked else []
                check_rows = {
                    k: writes[k].fetchall() if writes[k].description is not None else []
                    for k in checks
                }
            finally:
                for cursor in writes + cursors:
                    cursor.close()
                self.traffic.seconds += time.perf_counter() - started
            return found, checked_rows, check_rows

        if not replayable:
            self._alive()
        found, checked_rows, check_rows = self._sent(send, replayable, was_open)
        if checked is not None:
            checked[1](checked_rows)
        for k, check in checks.items():
            check(check_rows[k])
        return found

    def _sent(self, send: Callable[[], T], replayable: bool, was_open: bool) -> T:
        """``send()``'s result; if it failed because the connection was lost and
        ``replayable`` (nothing it sent can have taken effect), connects again and sends
        once more. Errors are raised as sqlite3's (see :meth:`_failed`)."""
        changes = self.total_changes
        try:
            return send()
        except psycopg.Error as error:
            if not replayable or self._reopen is None or not self._pg.closed:
                raise self._failed(error, was_open) from error
            reason = unreachable(self._location, error).reason
        self.total_changes = changes
        self._pg, self._id_tables = self._reopen()
        log.warning(
            "%s: connection lost (%s); connected again and sent it again", self._location, reason
        )
        try:
            return send()
        except psycopg.Error as error:
            raise self._failed(error, was_open) from error

    def _alive(self) -> None:
        """Before a round trip that cannot be sent twice, on a connection between
        transactions: a server that ended the connection since the last round trip (a
        restart, a terminated backend, its idle timeout) has left its goodbye, a FATAL
        message, in the socket; if anything is there, connect again now, before anything
        is sent. (One that ends it during the round trip still fails it: whether a COMMIT
        went through cannot be known then.)"""
        pg = self._pg
        if self._reopen is None or pg.closed:
            return
        if pg.info.transaction_status != pq.TransactionStatus.IDLE:
            return
        try:
            if not select.select([pg.pgconn.socket], [], [], 0)[0]:
                return
            # Between round trips the server sends nothing unasked but that message
            # (the connection may still look open: the end of the stream is not read yet).
            said: list[str] = []
            pg.add_notice_handler(heard := lambda notice: said.append(notice.message_primary or ""))
            try:
                pg.pgconn.consume_input()
                pg.pgconn.is_busy()  # parses what came: the message goes to ``heard``
            finally:
                pg.remove_notice_handler(heard)
            reason = "; ".join(said) or "it sent a message between round trips"
        except psycopg.Error as error:
            reason = unreachable(self._location, error).reason
        pg.close()
        self._pg, self._id_tables = self._reopen()
        log.warning(
            "%s: connection ended by the server (%s); connected again", self._location, reason
        )

    def _finish(self, cursor: psycopg.Cursor[Row]) -> PgCursor:
        rows = cursor.fetchall() if cursor.description is not None else []
        rowcount = cursor.rowcount
        if (cursor.statusmessage or "").startswith(("INSERT", "UPDATE", "DELETE")):
            self.total_changes += max(0, rowcount)
        return PgCursor(rows, rowcount, None)

    def execute(self, sql: str, parameters: Iterable[Any] = ()) -> PgCursor:
        deferred = self._deferred(postgres_statement(sql))
        if deferred is not None:
            return deferred
        converted, values = postgres_call(sql, tuple(parameters))
        statement, wants_id = self._statement(converted)
        if self._begin or self._pending:
            found = self._pipelined([(statement, values)])[0]
        else:
            self._connected(statement)
            was_open = self.in_transaction

            def send() -> PgCursor:
                self.traffic.round_trips += 1
                self.traffic.statements += 1
                if self.traffic.log is not None:
                    self.traffic.log.append(statement)
                started = time.perf_counter()
                try:
                    with self._pg.cursor() as cursor:
                        cursor.execute(statement, values)
                        return self._finish(cursor)
                finally:
                    self.traffic.seconds += time.perf_counter() - started

            # A read outside a transaction is sent again if the connection turned out lost.
            replayable = not was_open and _is_read(statement)
            if not replayable:
                self._alive()
            found = self._sent(send, replayable, was_open or statement == "BEGIN")
        if wants_id:
            rows = found.fetchall()
            return PgCursor([], found.rowcount, int(rows[0][0]) if rows else None)
        return found

    def execute_all(
        self, statements: Sequence[tuple[str, Iterable[Any]]], *, commit: bool = False
    ) -> list[PgCursor]:
        """Statements whose parameters do not depend on each other's results (reads), in
        one round trip (with the pending BEGIN and deferred writes); their cursors. With
        ``commit``, the transaction's COMMIT goes in the same round trip."""
        found = [postgres_call(sql, tuple(values)) for sql, values in statements]
        if not commit or not self.in_transaction:
            return self._pipelined(found)
        return self._pipelined([*found, ("COMMIT", ())])[: len(found)]

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> PgCursor:
        statement = postgres_statement(sql)
        values = [tuple(row) for row in rows]
        self._send_begin()
        self._connected()
        self._alive()
        was_open = self.in_transaction
        try:
            self.traffic.round_trips += 1
            self.traffic.statements += len(values)
            with self._pg.cursor() as cursor:
                cursor.executemany(statement, values)
                rowcount = cursor.rowcount
                self.total_changes += max(0, rowcount)
        except psycopg.Error as error:
            raise self._failed(error, was_open) from error
        return PgCursor([], rowcount, None)

    def executescript(self, script: str) -> None:
        """Run several statements at once, as written (no parameters, no rewriting)."""
        self._send_begin()
        self._connected()
        self._alive()
        was_open = self.in_transaction
        try:
            self.traffic.round_trips += 1
            self.traffic.statements += 1
            self._pg.execute(script.encode())
        except psycopg.Error as error:
            raise self._failed(error, was_open or "BEGIN" in script.upper()) from error

    def close(self) -> None:
        self._pg.close()
