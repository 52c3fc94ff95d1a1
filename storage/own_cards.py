"""Queries on students' own cards: each student's personal deck (``decks.owner_id``).

A personal deck is an ordinary deck with an owner, so its cards are scheduled, quizzed and
logged like any item; the queries here are the only ones that reach it by its owner.
"""

from __future__ import annotations

import json
from typing import Any

from storage.database import Connection, fetch_all, fetch_one
from storage.records import ItemRecord

_CARD_COLUMNS = (
    "i.id, i.deck_id, i.external_id, i.kind, i.payload, i.tags, i.image, i.position,"
    " i.audio, i.answer_audio"
)
_LIVE_CARDS = (
    " FROM items i JOIN decks d ON d.id = i.deck_id"
    " WHERE d.owner_id = ? AND d.deleted_ms IS NULL AND i.deleted_ms IS NULL"
)


def personal_slug(user_id: int) -> str:
    """The slug of a student's personal deck (a dot: no imported slug can look like it)."""
    return f"own.{user_id}"


def _card(row: Any) -> ItemRecord:
    return ItemRecord(
        id=row[0],
        deck_id=row[1],
        external_id=row[2],
        kind=row[3],
        payload=json.loads(row[4]),
        tags=tuple(row[5].split()) if row[5] else (),
        image=row[6],
        position=row[7],
        audio=row[8],
        answer_audio=row[9],
    )


async def personal_deck_id(conn: Connection, user_id: int) -> int | None:
    """The student's personal deck, if they have one."""
    row = await fetch_one(conn, "SELECT id FROM decks WHERE owner_id = ?", (user_id,))
    return int(row[0]) if row else None


async def create_personal_deck(
    conn: Connection, user_id: int, name: str, language: str, now_ms: int
) -> int:
    """Create the student's personal deck and enrol them in it; returns its id."""
    cursor = await conn.execute(
        "INSERT INTO decks (slug, name, description, language, bundled, owner_id,"
        " created_ms, updated_ms) VALUES (?, ?, '', ?, 0, ?, ?, ?)",
        (personal_slug(user_id), name, language, user_id, now_ms, now_ms),
    )
    deck_id = int(cursor.lastrowid or 0)
    await conn.execute(
        "INSERT INTO enrolments (user_id, deck_id, enrolled_ms, active) VALUES (?, ?, ?, 1)"
        " ON CONFLICT (user_id, deck_id) DO UPDATE SET active = 1",
        (user_id, deck_id, now_ms),
    )
    return deck_id


async def count_cards(conn: Connection, user_id: int) -> int:
    """How many live cards the student has."""
    row = await fetch_one(conn, "SELECT COUNT(*)" + _LIVE_CARDS, (user_id,))
    return int(row[0]) if row else 0


async def count_with_media(conn: Connection, user_id: int) -> int:
    """How many of the student's live cards carry a picture or a sound."""
    row = await fetch_one(
        conn,
        "SELECT COUNT(*)"
        + _LIVE_CARDS
        + " AND (i.image IS NOT NULL OR i.audio IS NOT NULL OR i.answer_audio IS NOT NULL)",
        (user_id,),
    )
    return int(row[0]) if row else 0


async def cards_page(conn: Connection, user_id: int, offset: int, limit: int) -> list[ItemRecord]:
    """The student's live cards, oldest first, ``limit`` from ``offset``."""
    rows = await fetch_all(
        conn,
        f"SELECT {_CARD_COLUMNS}" + _LIVE_CARDS + " ORDER BY i.position, i.id LIMIT ? OFFSET ?",
        (user_id, limit, offset),
    )
    return [_card(row) for row in rows]


async def get_card(conn: Connection, user_id: int, item_id: int) -> ItemRecord | None:
    """One live card of the student's (None if gone, or not theirs)."""
    row = await fetch_one(
        conn, f"SELECT {_CARD_COLUMNS}" + _LIVE_CARDS + " AND i.id = ?", (user_id, item_id)
    )
    return _card(row) if row else None


async def next_position(conn: Connection, deck_id: int) -> int:
    """The position after the deck's last card (deleted ones included: never reused)."""
    row = await fetch_one(
        conn, "SELECT COALESCE(MAX(position), -1) + 1 FROM items WHERE deck_id = ?", (deck_id,)
    )
    return int(row[0]) if row else 0


async def insert_card(conn: Connection, deck_id: int, record: ItemRecord, now_ms: int) -> int:
    """Add a card to the personal deck at ``record.position``; returns its id."""
    cursor = await conn.execute(
        "INSERT INTO items (deck_id, external_id, kind, payload, tags, image, position,"
        " audio, answer_audio, created_ms, updated_ms)"
        " VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?)",
        (
            deck_id,
            record.external_id,
            record.kind,
            json.dumps(record.payload, ensure_ascii=False, sort_keys=True),
            record.image,
            record.position,
            record.audio,
            record.answer_audio,
            now_ms,
            now_ms,
        ),
    )
    return int(cursor.lastrowid or 0)


async def update_card(
    conn: Connection, item_id: int, kind: str, payload: dict[str, Any], now_ms: int
) -> None:
    """Replace a card's kind and text (its picture, schedule and answers stay)."""
    await conn.execute(
        "UPDATE items SET kind = ?, payload = ?, updated_ms = ? WHERE id = ?",
        (kind, json.dumps(payload, ensure_ascii=False, sort_keys=True), now_ms, item_id),
    )


async def set_card_sound(
    conn: Connection,
    item_id: int,
    audio: str | None,
    answer_audio: str | None,
    dropped: tuple[str, ...],
    now_ms: int,
) -> None:
    """Give a card its sound (question's, answer's) in place of the old, whose media files
    ``dropped`` go (its text, schedule and answers stay)."""
    await conn.execute(
        "UPDATE items SET audio = ?, answer_audio = ?, updated_ms = ? WHERE id = ?",
        (audio, answer_audio, now_ms, item_id),
    )
    await _drop_media(conn, item_id, dropped)


async def delete_card(conn: Connection, item_id: int, media: tuple[str, ...], now_ms: int) -> None:
    """Hide a card (its answers stay in the student's history) and drop its picture and
    sounds (the media names in ``media``)."""
    await conn.execute("UPDATE items SET deleted_ms = ? WHERE id = ?", (now_ms, item_id))
    await _drop_media(conn, item_id, media)


async def _drop_media(conn: Connection, item_id: int, names: tuple[str, ...]) -> None:
    """Delete the named media files of the card's deck."""
    row = await fetch_one(conn, "SELECT deck_id FROM items WHERE id = ?", (item_id,))
    for name in names:
        if name and row:
            await conn.execute("DELETE FROM media WHERE deck_id = ? AND name = ?", (row[0], name))


async def owner_of_item(conn: Connection, item_id: int) -> int | None:
    """The student whose personal deck holds the item (None for a shared deck's item)."""
    row = await fetch_one(
        conn,
        "SELECT d.owner_id FROM items i JOIN decks d ON d.id = i.deck_id WHERE i.id = ?",
        (item_id,),
    )
    return int(row[0]) if row and row[0] is not None else None


async def totals(conn: Connection) -> tuple[int, int]:
    """(live own cards, students with any) over everyone: counts only, never contents."""
    row = await fetch_one(
        conn,
        "SELECT COUNT(*), COUNT(DISTINCT d.owner_id) FROM items i JOIN decks d ON d.id = i.deck_id"
        " WHERE d.owner_id IS NOT NULL AND d.deleted_ms IS NULL AND i.deleted_ms IS NULL",
    )
    return (int(row[0]), int(row[1])) if row else (0, 0)


async def erase_personal_deck(conn: Connection, user_id: int) -> dict[str, int]:
    """Delete the student's personal deck with its cards, pictures and answer tallies.

    Part of erasing a student (``storage.privacy.erase_user``): run inside its transaction,
    which also deletes the student's answers to these cards and the deck row itself.
    """
    deck_id = await personal_deck_id(conn, user_id)
    if deck_id is None:
        return {}
    deleted: dict[str, int] = {}
    in_deck = "(SELECT id FROM items WHERE deck_id = ?)"
    for table, sql in (
        ("item_stats", f"DELETE FROM item_stats WHERE item_id IN {in_deck}"),
        ("questions", f"DELETE FROM questions WHERE item_id IN {in_deck}"),
        ("memory", f"DELETE FROM memory WHERE item_id IN {in_deck}"),
        ("attempts", f"DELETE FROM attempts WHERE item_id IN {in_deck}"),
        ("media", "DELETE FROM media WHERE deck_id = ?"),
        ("items", "DELETE FROM items WHERE deck_id = ?"),
        ("enrolments", "DELETE FROM enrolments WHERE deck_id = ?"),
    ):
        cursor = await conn.execute(sql, (deck_id,))
        if cursor.rowcount:
            deleted[table] = cursor.rowcount
    return deleted
