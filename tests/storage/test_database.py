"""The database file: pragmas, permissions, transactions, backup."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import aiosqlite
import pytest

from storage import Connection, Database
from storage.migrations import apply_migrations, latest_version


@pytest.mark.sqlite_only
async def test_new_database_is_migrated_private_and_in_wal_mode(
    db: Database, db_path: Path
) -> None:
    assert await db.version() == latest_version()
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    async with db.read() as conn:
        async with conn.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone())[0] == "wal"
        async with conn.execute("PRAGMA foreign_keys") as cur:
            assert (await cur.fetchone())[0] == 1
        async with conn.execute("PRAGMA busy_timeout") as cur:
            assert (await cur.fetchone())[0] >= 1000


async def test_failed_transaction_leaves_nothing_behind(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO decks (slug, name, created_ms, updated_ms) VALUES ('x', 'X', 0, 0)"
            )
            raise RuntimeError("boom")
    async with db.read() as conn, conn.execute("SELECT COUNT(*) FROM decks") as cur:
        assert (await cur.fetchone())[0] == 0


async def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(Exception, match="FOREIGN KEY"):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO items (deck_id, external_id, kind, payload, created_ms, updated_ms)"
                " VALUES (999, 'a', 'typed', '{}', 0, 0)"
            )


@pytest.mark.sqlite_only
async def test_online_backup_is_a_sound_copy(db: Database, tmp_path: Path) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO decks (slug, name, created_ms, updated_ms) VALUES ('d', 'D', 0, 0)"
        )
    target = tmp_path / "backups" / "copy.sqlite3"
    await db.backup(target)
    copy = await Database.open(target, migrate=False)
    try:
        assert await copy.integrity_check() == "ok"
        async with copy.read() as conn, conn.execute("SELECT slug FROM decks") as cur:
            assert [row[0] for row in await cur.fetchall()] == ["d"]
    finally:
        await copy.close()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


async def test_items_version_moves_with_every_change_to_a_decks_items(db: Database) -> None:
    async def version(deck_id: int) -> int:
        async with (
            db.read() as conn,
            conn.execute("SELECT items_version FROM decks WHERE id = ?", (deck_id,)) as cur,
        ):
            row = await cur.fetchone()
        assert row is not None
        return int(row[0])

    async with db.transaction() as conn:
        for deck_id in (1, 2):
            await conn.execute(
                "INSERT INTO decks (id, slug, name, created_ms, updated_ms)"
                " VALUES (?, ?, 'd', 0, 0)",
                (deck_id, f"d{deck_id}"),
            )
    seen = [await version(1)]
    changes = [
        "INSERT INTO items (id, deck_id, external_id, kind, payload, created_ms, updated_ms)"
        " VALUES (10, 1, 'a', 'flashcard', '{}', 0, 0)",
        "UPDATE items SET payload = '{\"x\": 1}' WHERE id = 10",
        "UPDATE items SET deleted_ms = 5 WHERE id = 10",
        "DELETE FROM items WHERE id = 10",
    ]
    for sql in changes:
        async with db.transaction() as conn:
            await conn.execute(sql)
        seen.append(await version(1))
    assert seen == sorted(set(seen)) and len(seen) == 5
    assert await version(2) == 0


async def test_storage_calls_run_in_one_trip_and_errors_roll_back(db: Database) -> None:
    import asyncio

    from storage import users as user_rows
    from storage.database import in_one_trip
    from storage.records import UserRecord

    def user(user_id: int) -> UserRecord:
        return UserRecord(
            user_id, user_id, "A", "en", "UTC", None, None, 20, 10, 0.9, "active", False, 0, 0
        )

    async def add_two(conn: Connection) -> list[int]:
        await user_rows.insert_user(conn, user(1))
        await user_rows.insert_user(conn, user(2))
        await user_rows.update_user(conn, 2, first_name="B")
        found = [await user_rows.get_user(conn, k) for k in (1, 2, 3)]
        return [u.id for u in found if u is not None]

    async with db.transaction() as conn:
        assert await in_one_trip(conn, add_two) == [1, 2]

    async def fail(conn: Connection) -> None:
        await user_rows.insert_user(conn, user(3))
        raise ValueError("stop")

    with pytest.raises(ValueError, match="stop"):
        async with db.transaction() as conn:
            await in_one_trip(conn, fail)

    async def wait(conn: Connection) -> None:
        await asyncio.sleep(0)

    async with db.read() as conn:
        assert await user_rows.get_user(conn, 3) is None
        renamed = await user_rows.get_user(conn, 2)
        assert renamed is not None and renamed.first_name == "B"
        if db.url is None:
            with pytest.raises(RuntimeError, match="awaited something other"):
                await in_one_trip(conn, wait)
        else:  # on PostgreSQL the work runs on the loop, each statement a round trip
            await in_one_trip(conn, wait)


async def test_wal_is_checkpointed_in_the_background_not_in_commits(db_path: Path) -> None:
    from storage.checkpoints import Checkpointer

    db = await Database.open(db_path)
    try:
        async with db.read() as conn, conn.execute("PRAGMA wal_autocheckpoint") as cur:
            row = await cur.fetchone()
        assert row is not None and row[0] == 0
        db.checkpoints = Checkpointer(db_path, 1000, every=5)
        for k in range(4):
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO decks (slug, name, created_ms, updated_ms) VALUES (?, 'd', 0, 0)",
                    (f"d{k}",),
                )
        await db.checkpoints.wait()
        assert db.checkpoints.runs == 0
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO decks (slug, name, created_ms, updated_ms) VALUES ('e', 'e', 0, 0)"
            )
        await db.checkpoints.wait()
        assert db.checkpoints.runs == 1
    finally:
        await db.close()


async def test_a_transaction_waits_for_another_processs_write_lock(db_path: Path) -> None:
    import asyncio
    import sqlite3

    db = await Database.open(db_path)
    other = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")

        async def write() -> None:
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO decks (slug, name, created_ms, updated_ms) VALUES ('w', 'w', 0, 0)"
                )

        task = asyncio.create_task(write())
        await asyncio.sleep(0.2)
        assert not task.done()  # waiting for the lock, without blocking the event loop
        other.execute("COMMIT")
        await asyncio.wait_for(task, 5)
        async with db.read() as conn, conn.execute("SELECT count(*) FROM decks") as cur:
            row = await cur.fetchone()
        assert row is not None and row[0] == 1
    finally:
        other.close()
        await db.close()


@pytest.mark.sqlite_only
async def test_a_failed_commit_rolls_back_and_the_next_transaction_works(
    db: Database, db_path: Path
) -> None:
    import sqlite3

    # A deferred foreign key is checked only at COMMIT, so COMMIT itself fails.
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        async with db.transaction() as conn:
            await conn.execute("PRAGMA defer_foreign_keys = ON")
            await conn.execute(
                "INSERT INTO decks (slug, name, created_ms, updated_ms) VALUES ('lost', 'L', 0, 0)"
            )
            await conn.execute(
                "INSERT INTO items (deck_id, external_id, kind, payload, created_ms, updated_ms)"
                " VALUES (999, 'dangling', 'typed', '{}', 0, 0)"
            )
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO decks (slug, name, created_ms, updated_ms) VALUES ('next', 'N', 0, 0)"
        )
    async with db.read() as conn, conn.execute("SELECT slug FROM decks") as cur:
        assert [row[0] for row in await cur.fetchall()] == ["next"]
    other = sqlite3.connect(db_path)
    try:
        assert other.execute("SELECT slug FROM decks").fetchall() == [("next",)]
        assert other.execute("SELECT COUNT(*) FROM items").fetchone() == (0,)
    finally:
        other.close()


async def test_a_failed_commit_on_postgresql_rolls_back_and_the_next_transaction_works(
    postgres_url: str,
) -> None:
    import sqlite3

    db = await Database.open(postgres_url)
    try:
        # Deferred, the foreign key is checked only at COMMIT, so COMMIT itself fails.
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            async with db.transaction() as conn:
                await conn.execute("SET CONSTRAINTS ALL DEFERRED")
                await conn.execute(
                    "INSERT INTO decks (slug, name, created_ms, updated_ms)"
                    " VALUES ('lost', 'L', 0, 0)"
                )
                await conn.execute(
                    "INSERT INTO items (deck_id, external_id, kind, payload, created_ms,"
                    " updated_ms) VALUES (999, 'dangling', 'typed', '{}', 0, 0)"
                )
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO decks (slug, name, created_ms, updated_ms) VALUES ('next', 'N', 0, 0)"
            )
        async with db.read() as conn:
            assert [row[0] for row in await conn.execute_fetchall("SELECT slug FROM decks")] == [
                "next"
            ]
            assert (await conn.execute_fetchall("SELECT COUNT(*) FROM items"))[0][0] == 0
    finally:
        await db.close()


async def test_postgresql_sends_begin_with_the_transactions_first_statement(
    postgres_url: str,
) -> None:
    import psycopg

    db = await Database.open(postgres_url)
    try:
        with psycopg.connect(postgres_url, autocommit=True) as watcher:

            def state(pid: int) -> str:
                row = watcher.execute(
                    "SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,)
                ).fetchone()
                assert row is not None
                return str(row[0])

            async with db.read() as conn:
                pid = int((await conn.execute_fetchall("SELECT pg_backend_pid()"))[0][0])
            async with db.transaction() as conn:
                # BEGIN has not gone out on its own (a round trip saved per transaction)...
                assert state(pid) == "idle"
                assert conn.in_transaction
                first = (await conn.execute_fetchall("SELECT txid_current()"))[0][0]
                # ...it went with the first statement, and what follows is in the same one.
                assert state(pid) == "idle in transaction"
                await conn.execute(
                    "INSERT INTO decks (slug, name, created_ms, updated_ms) VALUES ('a', 'A', 0, 0)"
                )
                assert (await conn.execute_fetchall("SELECT txid_current()"))[0][0] == first
            assert state(pid) == "idle"
            async with db.transaction():
                pass  # nothing sent at all
            assert not db._connection.in_transaction
            with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
                async with db.transaction() as conn:
                    await conn.execute(
                        "INSERT INTO decks (slug, name, created_ms, updated_ms)"
                        " VALUES ('a', 'again', 0, 0)"
                    )
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO decks (slug, name, created_ms, updated_ms) VALUES ('b', 'B', 0, 0)"
                )
        async with db.read() as conn:
            slugs = [row[0] for row in await conn.execute_fetchall("SELECT slug FROM decks")]
        assert sorted(slugs) == ["a", "b"]
    finally:
        await db.close()


async def test_a_postgresql_database_says_how_it_is_backed_up(
    postgres_url: str, tmp_path: Path
) -> None:
    import sqlite3

    db = await Database.open(postgres_url)
    try:
        with pytest.raises(sqlite3.OperationalError, match="pg_dump"):
            await db.backup(tmp_path / "copy.sqlite3")
        assert not (tmp_path / "copy.sqlite3").exists()
        assert await db.integrity_check() == "ok"
    finally:
        await db.close()


async def test_a_cancelled_transaction_rolls_back_and_the_next_one_works(db: Database) -> None:
    import asyncio

    inside = asyncio.Event()

    async def stuck() -> None:
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO decks (slug, name, created_ms, updated_ms) VALUES ('gone', 'G', 0, 0)"
            )
            inside.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(stuck())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO decks (slug, name, created_ms, updated_ms) VALUES ('kept', 'K', 0, 0)"
        )
    async with db.read() as conn, conn.execute("SELECT slug FROM decks") as cur:
        assert [row[0] for row in await cur.fetchall()] == ["kept"]


async def test_read_only_opening_writes_nothing_and_refuses_writes(db_path: Path) -> None:
    import sqlite3

    from storage import DatabaseMissing, SchemaMismatch

    with pytest.raises(DatabaseMissing):
        await Database.open_read_only(db_path)
    assert not db_path.exists()
    async with aiosqlite.connect(db_path, isolation_level=None) as conn:
        await apply_migrations(conn, target=latest_version() - 1)
    with pytest.raises(SchemaMismatch) as mismatch:
        await Database.open_read_only(db_path)
    assert (mismatch.value.found, mismatch.value.expected) == (
        latest_version() - 1,
        latest_version(),
    )
    upgraded = await Database.open(db_path)
    await upgraded.close()
    reader = await Database.open_read_only(db_path)
    try:
        assert await reader.version() == latest_version()
        with pytest.raises(sqlite3.OperationalError, match="read-only"):
            async with reader.transaction():
                pass
        async with reader.read() as conn:
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                await conn.execute(
                    "INSERT INTO decks (slug, name, created_ms, updated_ms) VALUES ('x', 'x', 0, 0)"
                )
    finally:
        await reader.close()


async def test_a_failed_rollback_keeps_the_first_error_and_the_next_transaction_starts_clean(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from storage import sqlite_writes

    real = sqlite_writes.rollback
    failures = []

    def failing_once(raw: sqlite3.Connection) -> None:
        if not failures:
            failures.append(True)
            raise sqlite3.OperationalError("disk I/O error")  # as a dying disk would
        real(raw)

    monkeypatch.setattr(sqlite_writes, "rollback", failing_once)
    with pytest.raises(ValueError, match="the caller's error"):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO decks (slug, name, created_ms, updated_ms) VALUES ('lost', 'L', 0, 0)"
            )
            raise ValueError("the caller's error")
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO decks (slug, name, created_ms, updated_ms) VALUES ('next', 'N', 0, 0)"
        )
    async with db.read() as conn, conn.execute("SELECT slug FROM decks") as cur:
        assert [row[0] for row in await cur.fetchall()] == ["next"]


async def test_the_exit_summary_speaks_of_a_write_lock_only_where_there_is_one(
    db: Database, backend: str
) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO decks (slug, name, created_ms, updated_ms) VALUES ('s', 'S', 0, 0)"
        )
    summary = db.write_stats.summary()
    assert summary.startswith("1 write transactions: ")
    # PostgreSQL has no database-wide write lock: "waited for the write lock 0 ms" misled.
    assert ("write lock" in summary) == (backend == "sqlite")
