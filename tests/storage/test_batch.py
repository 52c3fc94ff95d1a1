"""Reads sent together and writes sent with what follows (storage/batch.py), on both
databases; on PostgreSQL, counted in round trips."""

from __future__ import annotations

import sqlite3

import pytest

from storage import Database
from storage.batch import Query, given, joined, read_together, write_later
from storage.database import run_sync


def _slugs() -> Query[list[str]]:
    return Query(
        [("SELECT slug FROM decks ORDER BY slug", ())], lambda rows: [r[0] for r in rows[0]]
    )


def _count() -> Query[int]:
    return Query([("SELECT COUNT(*) FROM decks", ())], lambda rows: int(rows[0][0][0]))


async def _add(conn: object, slug: str) -> None:
    await write_later(
        conn,  # type: ignore[arg-type]
        "INSERT INTO decks (slug, name, created_ms, updated_ms) VALUES (?, ?, 0, 0)",
        (slug, slug.upper()),
    )


async def test_reads_together_give_each_query_its_own_rows(db: Database) -> None:
    async with db.transaction() as conn:
        await _add(conn, "b")
        await _add(conn, "a")
        slugs, count, known = await run_sync(
            conn, lambda raw: read_together(raw, _slugs(), _count(), given("x"))
        )
        both = await run_sync(conn, joined(lambda s, c: (c, s), _slugs(), _count()).run)
    # the writes made before the reads are seen by them, in the same transaction
    assert (slugs, count, known) == (["a", "b"], 2, "x")
    assert both == (2, ["a", "b"])


async def test_a_deferred_write_that_fails_rolls_its_transaction_back(db: Database) -> None:
    async with db.transaction() as conn:
        await _add(conn, "a")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        async with db.transaction() as conn:
            await _add(conn, "b")
            await _add(conn, "a")  # on PostgreSQL it fails only at the COMMIT
    async with db.read() as conn:
        assert await run_sync(conn, _slugs().run) == ["a"]


async def test_rolled_back_deferred_writes_are_never_sent(db: Database) -> None:
    class Stop(Exception):
        pass

    with pytest.raises(Stop):
        async with db.transaction() as conn:
            await _add(conn, "a")
            raise Stop
    async with db.transaction() as conn:
        await _add(conn, "b")
    async with db.read() as conn:
        assert await run_sync(conn, _slugs().run) == ["b"]


async def test_postgresql_sends_deferred_writes_and_reads_together(postgres_url: str) -> None:
    db = await Database.open(postgres_url)
    try:
        traffic = db.traffic
        assert traffic is not None
        before = traffic.round_trips, traffic.statements
        async with db.transaction() as conn:
            await _add(conn, "a")
            await _add(conn, "b")
            # BEGIN, two writes and two reads: one round trip
            slugs, count = await run_sync(conn, lambda raw: read_together(raw, _slugs(), _count()))
            await _add(conn, "c")
        # ...and the COMMIT takes the last write with it: a second one
        assert (traffic.round_trips - before[0], traffic.statements - before[1]) == (2, 7)
        assert (slugs, count) == (["a", "b"], 2)
        async with db.read() as conn:
            assert await run_sync(conn, _slugs().run) == ["a", "b", "c"]
    finally:
        await db.close()


async def _add_checked(conn: object, slug: str, seen: list[list[str]]) -> None:
    """Add a deck unless one has the slug; ``seen`` gets the slugs the write returned, and
    nothing written raises (a write whose outcome matters, sent later)."""

    class NotAdded(Exception):
        pass

    def check(rows: list[object]) -> None:
        found = [str(row[0]) for row in rows]  # type: ignore[index]
        seen.append(found)
        if not found:
            raise NotAdded(slug)

    await write_later(
        conn,  # type: ignore[arg-type]
        "INSERT INTO decks (slug, name, created_ms, updated_ms) VALUES (?, ?, 0, 0)"
        " ON CONFLICT (slug) DO NOTHING RETURNING slug",
        (slug, slug.upper()),
        check=check,
    )


async def test_a_checked_deferred_write_is_checked_and_its_check_can_roll_it_back(
    db: Database,
) -> None:
    seen: list[list[str]] = []
    async with db.transaction() as conn:
        await _add_checked(conn, "a", seen)
        assert await run_sync(conn, _slugs().run) == ["a"]  # sent with this read
    assert seen == [["a"]]
    with pytest.raises(Exception, match=r"^a$"):
        async with db.transaction() as conn:
            await _add(conn, "b")
            # the transaction's last statements: on PostgreSQL the check runs before the
            # COMMIT is sent (not with it), so what it raises still rolls "b" back
            await _add_checked(conn, "a", seen)
            await _add_checked(conn, "c", seen)
    assert seen[1:] == [[]]  # "a" is there: nothing written, and nothing after it checked
    async with db.read() as conn:
        assert await run_sync(conn, _slugs().run) == ["a"]
