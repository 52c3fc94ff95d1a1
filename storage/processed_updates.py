"""Queries on ``processed_updates``: which Telegram updates a process began and finished.

:func:`begin` is one statement that inserts the update's row, or takes over a row of another
update that reused the id; :func:`take_from` hands a row begun by a process that is gone to
the caller. Under PostgreSQL's ``ON CONFLICT`` and SQLite's write lock two processes never
both begin one update.
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.database import Connection, fetch_all, fetch_one


async def begin(conn: Connection, update_id: int, digest: str, holder: str, now_ms: int) -> bool:
    """Record that ``holder`` begins the update; False if a row for it (same digest) exists."""
    rows = await fetch_all(
        conn,
        "INSERT INTO processed_updates (update_id, digest, holder, done, at_ms)"
        " VALUES (?, ?, ?, 0, ?) ON CONFLICT (update_id) DO UPDATE SET"
        " digest = excluded.digest, holder = excluded.holder, done = 0, at_ms = excluded.at_ms"
        " WHERE processed_updates.digest <> excluded.digest RETURNING update_id",
        (update_id, digest, holder, now_ms),
    )
    return bool(rows)


async def state_of(conn: Connection, update_id: int) -> tuple[str, bool] | None:
    """(holder, done) of the update's row, if there is one."""
    row = await fetch_one(
        conn, "SELECT holder, done FROM processed_updates WHERE update_id = ?", (update_id,)
    )
    return (str(row[0]), bool(row[1])) if row else None


async def take_from(conn: Connection, update_id: int, gone: str, holder: str, now_ms: int) -> bool:
    """Take an unfinished update over from ``gone`` (a process that stopped); False if it moved."""
    rows = await fetch_all(
        conn,
        "UPDATE processed_updates SET holder = ?, at_ms = ?"
        " WHERE update_id = ? AND holder = ? AND done = 0 RETURNING update_id",
        (holder, now_ms, update_id, gone),
    )
    return bool(rows)


async def finish(conn: Connection, update_ids: Sequence[int], holder: str) -> None:
    """Mark the updates done (those ``holder`` holds)."""
    ids = list(update_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        await conn.execute(
            f"UPDATE processed_updates SET done = 1 WHERE holder = ? AND update_id IN ({marks})",
            (holder, *chunk),
        )


async def prune(conn: Connection, before_ms: int) -> None:
    """Forget updates begun before ``before_ms``."""
    await conn.execute("DELETE FROM processed_updates WHERE at_ms < ?", (before_ms,))
