"""Each student's learner-model state, stored as opaque bytes."""

from __future__ import annotations

import sqlite3

from storage.database import Connection, fetch_all, run_sync


def read_state(raw: sqlite3.Connection, user_id: int) -> tuple[str, bytes] | None:
    """:func:`get_state` on the raw connection (inside :func:`storage.database.run_sync`)."""
    row = raw.execute(
        "SELECT model_version, state FROM learner_state WHERE user_id = ?", (user_id,)
    ).fetchone()
    return (row[0], bytes(row[1])) if row else None


async def get_state(conn: Connection, user_id: int) -> tuple[str, bytes] | None:
    """(model version, state bytes), or None before the first answer."""
    return await run_sync(conn, lambda raw: read_state(raw, user_id))


async def put_state(
    conn: Connection, user_id: int, model_version: str, state: bytes, now_ms: int
) -> None:
    """Store a student's state."""

    def write(raw: sqlite3.Connection) -> None:
        raw.execute(
            "INSERT INTO learner_state (user_id, model_version, state, updated_ms)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
            " model_version = excluded.model_version, state = excluded.state,"
            " updated_ms = excluded.updated_ms",
            (user_id, model_version, state, now_ms),
        )

    await run_sync(conn, write)


async def user_ids_with_attempts(conn: Connection) -> list[int]:
    """Every student who answered something."""
    rows = await fetch_all(conn, "SELECT DISTINCT user_id FROM attempts ORDER BY user_id")
    return [row[0] for row in rows]
