"""Erasing a student: every row that refers to them, or nothing at all."""

from __future__ import annotations

import sqlite3

import pytest

from storage import Database
from storage import privacy as privacy_rows
from storage import users as user_rows
from storage.records import UserRecord


def _user(user_id: int) -> UserRecord:
    return UserRecord(
        user_id, user_id, "N", "en", "UTC", None, None, 20, 10, 0.9, "active", True, 0, 0
    )


async def _count(db: Database, table: str, user_id: int) -> int:
    async with (
        db.read() as conn,
        conn.execute(f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", (user_id,)) as cursor,
    ):
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def test_erase_removes_the_user_and_their_rows_only(db: Database) -> None:
    async with db.transaction() as conn:
        for user_id in (1, 2):
            await user_rows.insert_user(conn, _user(user_id))
            await conn.execute(
                "INSERT INTO quiz_sessions (user_id, planned, started_ms) VALUES (?, 5, 0)",
                (user_id,),
            )
            await conn.execute(
                "INSERT INTO reminders (user_id, kind, slot, due_ms) VALUES (?, 'daily', 'x', 0)",
                (user_id,),
            )
    async with db.transaction() as conn:
        deleted = await privacy_rows.erase_user(conn, 1)
    assert deleted == {"quiz_sessions": 1, "reminders": 1, "users": 1}
    assert await _count(db, "quiz_sessions", 1) == 0
    assert await _count(db, "quiz_sessions", 2) == 1
    async with db.read() as conn:
        assert await user_rows.get_user(conn, 2) is not None


async def test_a_row_left_behind_aborts_the_whole_erasure(db: Database) -> None:
    async with db.transaction() as conn:
        await user_rows.insert_user(conn, _user(1))
        await conn.execute(
            "INSERT INTO quiz_sessions (id, user_id, planned, started_ms) VALUES (7, 1, 5, 0)"
        )
        # A table the erasure does not know, pointing at the user's session.
        await conn.execute(
            "CREATE TABLE notes (session_id INTEGER REFERENCES quiz_sessions (id), body TEXT)"
        )
        await conn.execute("INSERT INTO notes VALUES (7, 'kept')")
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as conn:
            await privacy_rows.erase_user(conn, 1)
    assert await _count(db, "quiz_sessions", 1) == 1  # rolled back: nothing erased
