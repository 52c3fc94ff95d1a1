"""`db copy`: an SQLite deployment moved into PostgreSQL whole, or not at all."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from storage import Database
from storage import attempts as attempt_rows
from storage import quiz as quiz_rows
from storage import users as user_rows
from storage.records import AttemptRecord, UserRecord
from storage.transfer import CopyError, copy_database
from tutor.service import TutorService

DIGEST = (
    "SELECT (SELECT COUNT(*) FROM items), (SELECT SUM(items_version) FROM decks),"
    " (SELECT SUM(LENGTH(data)) FROM media), (SELECT MAX(id) FROM attempts),"
    " (SELECT SUM(answers) FROM users)"
)


async def _deployment(path: Path) -> None:
    """A small live deployment: the bundled decks (with pictures), students, answers."""
    db = await Database.open(path)
    try:
        await TutorService(db).install_bundled_decks()
        async with db.read() as conn:
            items = [row[0] for row in await conn.execute_fetchall("SELECT id FROM items")]
        async with db.transaction() as conn:
            for user_id in (11, 5_000_000_000):  # Telegram ids beyond 32 bits
                await user_rows.insert_user(
                    conn,
                    UserRecord(
                        user_id,
                        user_id,
                        "N",
                        "en",
                        "UTC",
                        None,
                        None,
                        20,
                        10,
                        0.9,
                        "active",
                        True,
                        0,
                        0,
                    ),
                )
                await quiz_rows.start_session(conn, user_id, 5, 1_700_000_000_000)
                for number, item_id in enumerate(items[:7]):
                    await attempt_rows.insert_attempt(
                        conn,
                        AttemptRecord(
                            user_id,
                            item_id,
                            1_700_000_000_000 + number,
                            "x",
                            number % 2 == 0,
                            None,
                            900,
                            f"{user_id}-{number}",
                        ),
                    )
    finally:
        await db.close()


async def _digest(location: Path | str) -> tuple[object, ...]:
    db = await Database.open(location)
    try:
        async with db.read() as conn:
            row = (await conn.execute_fetchall(DIGEST))[0]
            media = await conn.execute_fetchall("SELECT data FROM media ORDER BY deck_id, name")
        return (*row, hashlib.sha256(b"".join(bytes(r[0]) for r in media)).hexdigest())
    finally:
        await db.close()


async def test_a_copy_moves_every_row_and_new_rows_number_on(
    tmp_path: Path, postgres_url: str
) -> None:
    source = tmp_path / "live.sqlite3"
    await _deployment(source)
    before = (await _digest(source), source.read_bytes())

    counts = await copy_database(source, postgres_url)

    assert {count.table for count in counts} >= {"users", "items", "media", "attempts", "decks"}
    assert all(count.source == count.target for count in counts)
    assert next(c for c in counts if c.table == "attempts").target == 14
    assert await _digest(postgres_url) == before[0]  # items_version and pictures included
    assert source.read_bytes() == before[1]  # the source is only read
    db = await Database.open(postgres_url)
    try:
        async with db.transaction() as conn:
            new_id = await quiz_rows.start_session(conn, 11, 5, 1_700_000_100_000)
            latest = await conn.execute_fetchall("SELECT MAX(id) FROM quiz_sessions")
        assert new_id == latest[0][0] == 3  # after the two copied sessions
    finally:
        await db.close()


async def test_a_copy_into_a_database_with_rows_is_refused_and_changes_nothing(
    tmp_path: Path, postgres_url: str
) -> None:
    source = tmp_path / "live.sqlite3"
    await _deployment(source)
    await copy_database(source, postgres_url)
    copied = await _digest(postgres_url)
    with pytest.raises(CopyError, match=r"already holds rows in .*: copy into an empty database"):
        await copy_database(source, postgres_url)
    assert await _digest(postgres_url) == copied


SCHEMA = (
    "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()"
    " UNION ALL SELECT conrelid::regclass::text || ' ' || conname || ' '"
    " || pg_get_constraintdef(oid) FROM pg_constraint"
    " WHERE connamespace = current_schema()::regnamespace"
)


async def test_a_copy_leaves_every_index_and_constraint_as_the_migrations_made_them(
    tmp_path: Path, postgres_url: str
) -> None:
    # The copy sets indexes and foreign keys aside while it loads: all must come back.
    source = tmp_path / "live.sqlite3"
    await _deployment(source)
    db = await Database.open(postgres_url)
    try:
        async with db.read() as conn:
            migrated = sorted(row[0] for row in await conn.execute_fetchall(SCHEMA))
    finally:
        await db.close()
    assert any("FOREIGN KEY" in line for line in migrated)

    await copy_database(source, postgres_url)

    db = await Database.open(postgres_url)
    try:
        async with db.read() as conn:
            assert sorted(row[0] for row in await conn.execute_fetchall(SCHEMA)) == migrated
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO attempts (user_id, item_id, answered_ms, response, correct,"
                    " latency_ms, idempotency_key) VALUES (11, 999999, 0, 'x', 1, 1, 'dangling')"
                )
    finally:
        await db.close()
