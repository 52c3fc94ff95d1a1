"""Queries behind the admin commands: totals, per-day and per-deck numbers, item edits."""

from __future__ import annotations

import json
from typing import Any

from storage.database import Connection
from storage.records import ItemRecord


async def _one(conn: Connection, sql: str, params: tuple[Any, ...] = ()) -> int:
    async with conn.execute(sql, params) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row and row[0] is not None else 0


async def users_total(conn: Connection) -> int:
    """Every user who ever started the bot."""
    return await _one(conn, "SELECT COUNT(*) FROM users")


async def users_seen_since(conn: Connection, since_ms: int) -> int:
    """Users who wrote to the bot (or answered) since a time."""
    return await _one(conn, "SELECT COUNT(*) FROM users WHERE last_seen_ms >= ?", (since_ms,))


async def answers_since(conn: Connection, since_ms: int) -> list[tuple[int, bool, int]]:
    """(answered_ms, correct, item_id) of every attempt since a time, oldest first."""
    async with conn.execute(
        "SELECT answered_ms, correct, item_id FROM attempts WHERE answered_ms >= ?"
        " ORDER BY answered_ms",
        (since_ms,),
    ) as cur:
        return [(row[0], bool(row[1]), row[2]) for row in await cur.fetchall()]


async def accuracy_per_deck(conn: Connection) -> list[tuple[str, int, int]]:
    """(deck name, attempts, correct) per live deck with answers, most answered first."""
    async with conn.execute(
        "SELECT d.name, SUM(s.attempts), SUM(s.correct) FROM item_stats s"
        " JOIN items i ON i.id = s.item_id JOIN decks d ON d.id = i.deck_id"
        " WHERE d.deleted_ms IS NULL AND d.owner_id IS NULL"
        " GROUP BY d.id HAVING SUM(s.attempts) > 0"
        " ORDER BY SUM(s.attempts) DESC"
    ) as cur:
        return [(row[0], int(row[1]), int(row[2])) for row in await cur.fetchall()]


async def hardest_items(
    conn: Connection, min_attempts: int, limit: int
) -> list[tuple[int, str, str, int, int]]:
    """(item id, deck name, payload JSON, attempts, correct) of live items of shared decks
    (a student's own cards are private), worst first."""
    async with conn.execute(
        "SELECT i.id, d.name, i.payload, s.attempts, s.correct FROM item_stats s"
        " JOIN items i ON i.id = s.item_id AND i.deleted_ms IS NULL"
        " JOIN decks d ON d.id = i.deck_id AND d.deleted_ms IS NULL AND d.owner_id IS NULL"
        " WHERE s.attempts >= ?"
        " ORDER BY CAST(s.correct AS DOUBLE PRECISION) / s.attempts, s.attempts DESC"
        " LIMIT ?",
        (min_attempts, limit),
    ) as cur:
        return [(row[0], row[1], row[2], row[3], row[4]) for row in await cur.fetchall()]


async def global_rate(conn: Connection) -> tuple[int, int]:
    """(attempts, correct) over every item."""
    async with conn.execute("SELECT SUM(attempts), SUM(correct) FROM item_stats") as cur:
        row = await cur.fetchone()
    return (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)


async def item_learners(conn: Connection, item_id: int) -> int:
    """Students who answered an item."""
    return await _one(
        conn, "SELECT COUNT(DISTINCT user_id) FROM attempts WHERE item_id = ?", (item_id,)
    )


async def update_item(conn: Connection, item_id: int, record: ItemRecord, now_ms: int) -> None:
    """Replace an item's kind and content (its id, deck and attempts stay)."""
    await conn.execute(
        "UPDATE items SET kind = ?, payload = ?, tags = ?, updated_ms = ? WHERE id = ?",
        (
            record.kind,
            json.dumps(record.payload, ensure_ascii=False, sort_keys=True),
            " ".join(record.tags),
            now_ms,
            item_id,
        ),
    )


async def append_item(conn: Connection, deck_id: int, record: ItemRecord, now_ms: int) -> int:
    """Add an item at the end of a deck; returns its id."""
    position = await _one(
        conn, "SELECT COALESCE(MAX(position), -1) + 1 FROM items WHERE deck_id = ?", (deck_id,)
    )
    cursor = await conn.execute(
        "INSERT INTO items (deck_id, external_id, kind, payload, tags, image, position,"
        " created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?)",
        (
            deck_id,
            record.external_id,
            record.kind,
            json.dumps(record.payload, ensure_ascii=False, sort_keys=True),
            " ".join(record.tags),
            position,
            now_ms,
            now_ms,
        ),
    )
    return int(cursor.lastrowid or 0)
