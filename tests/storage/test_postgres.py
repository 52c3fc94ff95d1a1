"""PostgreSQL's connection lost and made again (storage/postgres.py, ``PgRaw``).

A restarted server, a failover or an operator's ``pg_terminate_backend`` ends the bot's
connections while they sit idle. A round trip of which nothing can have taken effect is sent
again on a new connection, once: a read outside a transaction, or a transaction's first
round trip (its BEGIN goes with it). One that follows an earlier round trip of the same
transaction, or that carries a COMMIT, is never sent again: it fails, and the transaction
rolls back whole.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator

import psycopg
import pytest

from storage import Database, DatabaseUnreachable
from storage.batch import read_all, write_later
from storage.database import run_sync
from storage.update_claims import CLAIM, Claim

INSERT_DECK = "INSERT INTO decks (slug, name, created_ms, updated_ms) VALUES (?, ?, 0, 0)"
ONCE = "SELECT CASE WHEN nextval('drops') <= {n} THEN pg_terminate_backend(pg_backend_pid()) END"
"""Ends the connection it runs on, the first ``n`` times it is run (a sequence counts them:
it is not rolled back with the transaction, nor with the connection)."""


@pytest.fixture
async def pg(postgres_url: str) -> AsyncIterator[Database]:
    database = await Database.open(postgres_url)
    yield database
    await database.close()


def terminate_others(url: str) -> int:
    """``pg_terminate_backend`` on every other connection to ``url``'s database, from a
    connection of its own (as an operator or a restarting server would); returns when they
    are gone."""
    with psycopg.connect(url, autocommit=True) as admin:
        others = (
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        ended = len(admin.execute(f"SELECT pg_terminate_backend(pid) FROM ({others}) o").fetchall())
        for _ in range(500):
            if not admin.execute(others).fetchall():
                return ended
            admin.execute("SELECT pg_sleep(0.01)")
    raise AssertionError("the terminated connections are still there after 5 s")


async def _backend(db: Database) -> int:
    async with db.read() as conn:
        return int((await conn.execute_fetchall("SELECT pg_backend_pid()"))[0][0])


async def _slugs(db: Database) -> list[str]:
    async with db.read() as conn:
        return [str(r[0]) for r in await conn.execute_fetchall("SELECT slug FROM decks")]


async def test_a_read_after_the_connection_was_terminated_is_answered(
    pg: Database, postgres_url: str
) -> None:
    async with pg.transaction() as conn:
        await conn.execute(INSERT_DECK, ("geo", "Geography"))
    before = await _backend(pg)
    assert await asyncio.to_thread(terminate_others, postgres_url) == 1
    assert await _slugs(pg) == ["geo"]  # one statement, no error
    assert await _backend(pg) != before

    # Reads sent together (one pipeline, outside a transaction) the same way.
    await asyncio.to_thread(terminate_others, postgres_url)
    statements = [("SELECT slug FROM decks", ()), ("SELECT count(*) FROM decks", ())]
    async with pg.read() as conn:
        rows = await run_sync(conn, lambda raw: read_all(raw, statements))
    assert [list(r) for r in rows[0]] == [["geo"]] and rows[1][0][0] == 1


async def test_a_handlers_write_after_the_connection_was_terminated_is_stored_once(
    pg: Database, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """As an answer is stored: the update's claim, deferred writes and a read go out with
    the transaction's BEGIN in its first round trip, then more in the next ones."""
    await _backend(pg)
    assert await asyncio.to_thread(terminate_others, postgres_url) == 1
    claim = Claim(pg, 41, "digest", "me", 1_000, lambda holder: False, [])
    token = CLAIM.set(claim)
    try:
        with caplog.at_level(logging.WARNING):
            async with pg.transaction() as conn:
                await write_later(conn, INSERT_DECK, ("geo", "Geography"))
                rows = await conn.execute_fetchall("SELECT count(*) FROM decks")
                await conn.execute(INSERT_DECK, ("history", "History"))
    finally:
        CLAIM.reset(token)
    # One line for the operator (psycopg's own about the broken pipeline is left out).
    told = [r.getMessage() for r in caplog.records]
    assert len(told) == 1, told
    assert told[0].startswith(f"{pg.location}: connection lost (")
    assert told[0].endswith("); connected again and sent it again")
    assert rows[0][0] == 1
    assert claim.state == "claimed"
    assert sorted(await _slugs(pg)) == ["geo", "history"]
    async with pg.read() as conn:
        claims = await conn.execute_fetchall("SELECT update_id FROM processed_updates")
    assert [r[0] for r in claims] == [41]


async def test_a_transaction_sent_whole_with_its_commit_after_the_connection_was_terminated(
    pg: Database, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A transaction of deferred writes only goes out in one round trip, COMMIT included:
    never sent twice, so the lost connection is noticed before anything is sent."""
    first = await _backend(pg)
    # A live connection is kept, also after a transaction that failed on the server.
    async with pg.transaction() as conn:
        await write_later(conn, INSERT_DECK, ("geo", "Geography"))
    with pytest.raises(sqlite3.IntegrityError):
        async with pg.transaction() as conn:
            await write_later(conn, INSERT_DECK, ("geo", "Geography again"))
    assert await _backend(pg) == first

    await asyncio.to_thread(terminate_others, postgres_url)
    with caplog.at_level(logging.WARNING, logger="storage.postgres"):
        async with pg.transaction() as conn:
            await write_later(conn, INSERT_DECK, ("history", "History"))
    assert sorted(await _slugs(pg)) == ["geo", "history"]
    assert [r.getMessage() for r in caplog.records if r.name == "storage.postgres"] == [
        f"{pg.location}: connection ended by the server"
        " (terminating connection due to administrator command); connected again"
    ]


async def test_a_connection_lost_after_the_first_round_trip_fails_and_stores_nothing(
    pg: Database, postgres_url: str
) -> None:
    with pytest.raises(DatabaseUnreachable) as lost:  # one line in the log, not a stack
        async with pg.transaction() as conn:
            await conn.execute(INSERT_DECK, ("half", "Half"))  # sent, with the BEGIN
            await asyncio.to_thread(terminate_others, postgres_url)
            # Sent alone on a new connection, this would commit half a transaction.
            await conn.execute(INSERT_DECK, ("rest", "Rest"))
    assert str(lost.value).startswith(f"{pg.location}: connection lost: ")
    assert lost.value.hint == "the next statement connects again"
    assert await _slugs(pg) == []
    async with pg.transaction() as conn:
        await conn.execute(INSERT_DECK, ("after", "After"))
    assert await _slugs(pg) == ["after"]


async def test_a_first_round_trip_lost_while_it_ran_is_sent_again_once(pg: Database) -> None:
    """Lost halfway through the first round trip (its first statements ran): the server
    rolled them back, and sent again they are stored once. Lost twice: it fails."""
    async with pg.transaction() as conn:
        await conn.execute("CREATE SEQUENCE drops")
    async with pg.transaction() as conn:
        await write_later(conn, INSERT_DECK, ("geo", "Geography"))
        await conn.execute_fetchall(ONCE.format(n=1))
    assert await _slugs(pg) == ["geo"]

    with pytest.raises(DatabaseUnreachable, match="connection lost"):
        async with pg.transaction() as conn:
            await write_later(conn, INSERT_DECK, ("twice", "Twice"))
            await conn.execute_fetchall(ONCE.format(n=4))  # its 3rd and 4th run
    assert await _slugs(pg) == ["geo"]


async def test_a_round_trip_that_carries_the_commit_is_never_sent_again(pg: Database) -> None:
    """Its connection lost while it ran, whether the COMMIT went through cannot be known:
    sent again, a committed transaction would be stored twice. (Here it did not: the
    connection ended before the COMMIT, and sent again it would have been stored.)"""
    async with pg.transaction() as conn:
        await conn.execute("CREATE SEQUENCE drops")
    with pytest.raises(sqlite3.OperationalError, match="connection lost"):
        async with pg.transaction() as conn:
            await run_sync(
                conn,
                lambda raw: read_all(
                    raw, [(INSERT_DECK, ("geo", "Geography")), (ONCE.format(n=1), ())], commit=True
                ),
            )
    assert await _slugs(pg) == []


async def test_a_write_outside_a_transaction_is_never_sent_again(pg: Database) -> None:
    """Each statement outside a transaction commits by itself: only reads are sent again."""
    raw_sql = "SELECT count(*) FROM decks"
    async with pg.transaction() as conn:
        await conn.execute("CREATE SEQUENCE drops")
    async with pg.read() as conn:
        with pytest.raises(DatabaseUnreachable, match="connection lost"):
            await conn.execute_fetchall(ONCE.format(n=1))  # it calls nextval: not a read
        assert (await conn.execute_fetchall(raw_sql))[0][0] == 0
