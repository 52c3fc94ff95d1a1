"""Schema migrations: from an empty file and from every earlier version, without loss."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest

from storage import Database
from storage.migrations import apply_migrations, latest_version, migrations


async def test_migrations_are_numbered_in_sequence() -> None:
    found = migrations()
    assert [m.version for m in found] == list(range(1, len(found) + 1))


async def test_empty_file_upgrades_to_latest(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.sqlite3", migrate=False)
    try:
        assert await db.version() == 0
        before, after = await db.upgrade()
        assert (before, after) == (0, latest_version())
        assert await db.upgrade() == (latest_version(), latest_version())
    finally:
        await db.close()


async def _seed_v1(conn: aiosqlite.Connection) -> None:
    """Rows every later schema must keep: a user, a deck, an item, an attempt."""
    await conn.executescript(
        """
        INSERT INTO users (id, chat_id, created_ms, last_seen_ms) VALUES (42, 42, 1, 1);
        INSERT INTO decks (id, slug, name, created_ms, updated_ms) VALUES (1, 'd', 'D', 1, 1);
        INSERT INTO items (id, deck_id, external_id, kind, payload, created_ms, updated_ms)
            VALUES (1, 1, 'x', 'typed', '{"prompt": "?", "accepted": ["a"]}', 1, 1);
        INSERT INTO attempts (user_id, item_id, answered_ms, response, correct, idempotency_key)
            VALUES (42, 1, 5, 'a', 1, 'q1');
        """
    )


@pytest.mark.parametrize("start", range(1, latest_version() + 1))
async def test_every_earlier_version_upgrades_without_loss(tmp_path: Path, start: int) -> None:
    path = tmp_path / f"v{start}.sqlite3"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        assert await apply_migrations(conn, target=start) == (0, start)
        if start >= 1:
            await _seed_v1(conn)
    db = await Database.open(path)
    try:
        assert await db.version() == latest_version()
        async with db.read() as conn:
            async with conn.execute("SELECT response, correct FROM attempts") as cur:
                assert [tuple(r) for r in await cur.fetchall()] == [("a", 1)]
            async with conn.execute("SELECT id FROM users") as cur:
                assert [r[0] for r in await cur.fetchall()] == [42]
        assert await db.integrity_check() == "ok"
    finally:
        await db.close()


async def test_newer_database_than_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    async with aiosqlite.connect(path) as conn:
        await conn.execute(f"PRAGMA user_version = {latest_version() + 1}")
        await conn.commit()
    with pytest.raises(RuntimeError, match="newer than this program"):
        await Database.open(path)


async def test_sessions_ended_before_the_summary_marker_count_as_shown(tmp_path: Path) -> None:
    # Found by name: its number may change when branches are merged.
    version = next(m.version for m in migrations() if m.name.endswith("_summary_shown.sql"))
    path = tmp_path / "summary.sqlite3"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await apply_migrations(conn, target=version - 1)
        await _seed_v1(conn)
        await conn.executescript(
            """
            INSERT INTO quiz_sessions (id, user_id, planned, started_ms, ended_ms)
                VALUES (1, 42, 5, 10, 20), (2, 42, 5, 30, NULL);
            """
        )
    db = await Database.open(path)
    try:
        async with (
            db.read() as conn,
            conn.execute("SELECT id, summary_ms FROM quiz_sessions ORDER BY id") as cur,
        ):
            assert [tuple(r) for r in await cur.fetchall()] == [(1, 20), (2, None)]
    finally:
        await db.close()
