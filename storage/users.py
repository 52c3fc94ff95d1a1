"""Queries on ``users``."""

from __future__ import annotations

import sqlite3
from typing import Any

from storage.batch import write_later
from storage.database import Connection, fetch_all, fetch_one, run_sync
from storage.records import UserRecord

USER_COLUMNS = (
    "id, chat_id, first_name, language, timezone, daily_quiz_time, quiet_hours, daily_goal, "
    "quiz_length, target_retention, status, onboarded, created_ms, last_seen_ms"
)
_UPDATABLE = frozenset(
    {
        "chat_id",
        "first_name",
        "language",
        "timezone",
        "daily_quiz_time",
        "quiet_hours",
        "daily_goal",
        "quiz_length",
        "target_retention",
        "status",
        "onboarded",
        "last_seen_ms",
        "private_chat",
    }
)


def user_record(row: Any) -> UserRecord:
    """A ``users`` row selected as :data:`USER_COLUMNS`."""
    return UserRecord(
        id=row[0],
        chat_id=row[1],
        first_name=row[2],
        language=row[3],
        timezone=row[4],
        daily_quiz_time=row[5],
        quiet_hours=row[6],
        daily_goal=row[7],
        quiz_length=row[8],
        target_retention=row[9],
        status=row[10],
        onboarded=bool(row[11]),
        created_ms=row[12],
        last_seen_ms=row[13],
    )


async def get_user(conn: Connection, user_id: int) -> UserRecord | None:
    """The user, or None."""

    def read(raw: sqlite3.Connection) -> UserRecord | None:
        row = raw.execute(f"SELECT {USER_COLUMNS} FROM users WHERE id = ?", (user_id,)).fetchone()
        return user_record(row) if row else None

    return await run_sync(conn, read)


async def insert_user(conn: Connection, user: UserRecord) -> None:
    """Add a new user."""
    await conn.execute(
        f"INSERT INTO users ({USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            user.id,
            user.chat_id,
            user.first_name,
            user.language,
            user.timezone,
            user.daily_quiz_time,
            user.quiet_hours,
            user.daily_goal,
            user.quiz_length,
            user.target_retention,
            user.status,
            int(user.onboarded),
            user.created_ms,
            user.last_seen_ms,
        ),
    )


async def update_user(conn: Connection, user_id: int, **changes: Any) -> None:
    """Set the given columns (only known, updatable ones); on PostgreSQL the write goes out
    with the transaction's next statement (see :func:`storage.database.write_later`)."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    if not changes:
        return
    assignments = ", ".join(f"{column} = ?" for column in changes)
    values = [int(v) if isinstance(v, bool) else v for v in changes.values()]
    await write_later(conn, f"UPDATE users SET {assignments} WHERE id = ?", (*values, user_id))


async def count_users_by_status(conn: Connection) -> dict[str, int]:
    """Number of users per status."""
    rows = await fetch_all(conn, "SELECT status, COUNT(*) FROM users GROUP BY status")
    return {row[0]: row[1] for row in rows}


async def count_active_since(conn: Connection, since_ms: int) -> int:
    """Users who answered something since the given time."""
    row = await fetch_one(
        conn, "SELECT COUNT(DISTINCT user_id) FROM attempts WHERE answered_ms >= ?", (since_ms,)
    )
    return int(row[0]) if row else 0
