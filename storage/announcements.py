"""Queries on ``announcements``: an admin's message waiting for confirmation, then sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.database import Connection

_COLUMNS = "id, actor_id, text, deck_id, created_ms, confirmed_ms, cancelled_ms, finished_ms"


@dataclass(frozen=True, slots=True)
class AnnouncementRow:
    """A row of ``announcements``."""

    id: int
    actor_id: int
    text: str
    deck_id: int | None
    created_ms: int
    confirmed_ms: int | None
    cancelled_ms: int | None
    finished_ms: int | None


def _row(row: Any) -> AnnouncementRow:
    return AnnouncementRow(*row)


async def create(
    conn: Connection, actor_id: int, text: str, deck_id: int | None, now_ms: int
) -> int:
    """Store a draft; returns its id."""
    cursor = await conn.execute(
        "INSERT INTO announcements (actor_id, text, deck_id, created_ms) VALUES (?, ?, ?, ?)",
        (actor_id, text, deck_id, now_ms),
    )
    return int(cursor.lastrowid or 0)


async def get(conn: Connection, announcement_id: int) -> AnnouncementRow | None:
    """One announcement."""
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM announcements WHERE id = ?", (announcement_id,)
    ) as cur:
        row = await cur.fetchone()
    return _row(row) if row else None


async def confirm(conn: Connection, announcement_id: int, now_ms: int) -> bool:
    """Confirm a draft exactly once; False if it was confirmed or cancelled before."""
    cursor = await conn.execute(
        "UPDATE announcements SET confirmed_ms = ? WHERE id = ?"
        " AND confirmed_ms IS NULL AND cancelled_ms IS NULL",
        (now_ms, announcement_id),
    )
    return cursor.rowcount == 1


async def cancel(conn: Connection, announcement_id: int, now_ms: int) -> bool:
    """Cancel a draft; False if it was already confirmed or cancelled."""
    cursor = await conn.execute(
        "UPDATE announcements SET cancelled_ms = ? WHERE id = ?"
        " AND confirmed_ms IS NULL AND cancelled_ms IS NULL",
        (now_ms, announcement_id),
    )
    return cursor.rowcount == 1


async def finish(conn: Connection, announcement_id: int, now_ms: int) -> None:
    """Note that every delivery is settled."""
    await conn.execute(
        "UPDATE announcements SET finished_ms = ? WHERE id = ? AND finished_ms IS NULL",
        (now_ms, announcement_id),
    )


async def recipients(conn: Connection, deck_id: int | None) -> list[int]:
    """Users an announcement goes to: everyone not blocked, or a deck's active students;
    never a group-only member (they never started the bot privately)."""
    if deck_id is None:
        sql = "SELECT id FROM users WHERE status != 'blocked' AND private_chat = 1 ORDER BY id"
        params: tuple[Any, ...] = ()
    else:
        sql = (
            "SELECT u.id FROM users u JOIN enrolments e ON e.user_id = u.id"
            " WHERE e.deck_id = ? AND e.active = 1 AND u.status != 'blocked'"
            " AND u.private_chat = 1 ORDER BY u.id"
        )
        params = (deck_id,)
    async with conn.execute(sql, params) as cur:
        return [row[0] for row in await cur.fetchall()]
