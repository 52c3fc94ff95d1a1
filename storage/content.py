"""Queries on decks, items and their media."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from storage.batch import Query, in_chunks
from storage.database import Connection, fetch_all, fetch_one
from storage.records import DeckRecord, ItemRecord

_DECK_COUNTS = """
SELECT d.id, d.slug, d.name, d.description, d.language, d.bundled,
       (SELECT COUNT(*) FROM items i WHERE i.deck_id = d.id AND i.deleted_ms IS NULL),
       (SELECT COUNT(*) FROM enrolments e WHERE e.deck_id = d.id AND e.active = 1)
FROM decks d
"""
_ITEM_COLUMNS = (
    "id, deck_id, external_id, kind, payload, tags, image, position, audio, answer_audio"
)
ITEM_COLUMNS = _ITEM_COLUMNS
"""The columns :func:`item_from_row` reads, in order."""
_ENROLLED_ITEMS = (
    f"SELECT {', '.join('i.' + c.strip() for c in _ITEM_COLUMNS.split(','))} FROM items i"
    " JOIN enrolments e ON e.deck_id = i.deck_id AND e.user_id = ? AND e.active = 1"
    " JOIN decks d ON d.id = i.deck_id AND d.deleted_ms IS NULL"
    " WHERE i.deleted_ms IS NULL ORDER BY e.enrolled_ms, i.position, i.id"
)


def _deck(row: Any) -> DeckRecord:
    return DeckRecord(
        id=row[0],
        slug=row[1],
        name=row[2],
        description=row[3],
        language=row[4],
        bundled=bool(row[5]),
        n_items=row[6],
        n_students=row[7],
    )


def _item(row: Any) -> ItemRecord:
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


async def list_decks(conn: Connection) -> list[DeckRecord]:
    """Live shared decks with counts, bundled first, then by name (never a student's own)."""
    sql = (
        _DECK_COUNTS
        + " WHERE d.deleted_ms IS NULL AND d.owner_id IS NULL"
        + " ORDER BY d.bundled DESC, d.name, d.id"
    )
    rows = await fetch_all(conn, sql)
    return [_deck(row) for row in rows]


async def get_deck(
    conn: Connection, deck_id: int, *, owner_id: int | None = None
) -> DeckRecord | None:
    """A live shared deck by id, or with ``owner_id`` also that student's own deck.

    A student's personal deck is found only by its owner: every other way in (deck lists,
    enrolment, imports, group decks, admin commands) goes through here or :func:`find_deck`.
    """
    sql = _DECK_COUNTS + " WHERE d.id = ? AND d.deleted_ms IS NULL"
    sql += " AND (d.owner_id IS NULL OR d.owner_id = ?)"
    row = await fetch_one(conn, sql, (deck_id, owner_id))
    return _deck(row) if row else None


def read_item_and_deck_name(
    raw: sqlite3.Connection, item_id: int
) -> tuple[ItemRecord | None, str | None]:
    """An item (live or not) and its deck's name if the deck is live, in one statement; a
    student's own deck has the name '' (the bot names it in the student's language)."""
    row = raw.execute(
        f"SELECT {', '.join('i.' + c.strip() for c in _ITEM_COLUMNS.split(','))},"
        " CASE WHEN d.owner_id IS NULL THEN d.name ELSE '' END FROM items i"
        " LEFT JOIN decks d ON d.id = i.deck_id AND d.deleted_ms IS NULL WHERE i.id = ?",
        (item_id,),
    ).fetchone()
    if row is None:
        return None, None
    return _item(row), (str(row[-1]) if row[-1] is not None else None)


def read_item_enrolled(raw: sqlite3.Connection, user_id: int, item_id: int) -> bool:
    """Whether the item is live, in a live deck the student studies (inside ``run_sync``)."""
    row = raw.execute(
        "SELECT 1 FROM items i"
        " JOIN enrolments e ON e.deck_id = i.deck_id AND e.user_id = ? AND e.active = 1"
        " JOIN decks d ON d.id = i.deck_id AND d.deleted_ms IS NULL"
        " WHERE i.id = ? AND i.deleted_ms IS NULL",
        (user_id, item_id),
    ).fetchall()
    return bool(row)


async def deck_name(conn: Connection, deck_id: int) -> str | None:
    """A live deck's name (without the counts :func:`get_deck` adds, slow at scale)."""
    row = await fetch_one(
        conn, "SELECT name FROM decks WHERE id = ? AND deleted_ms IS NULL", (deck_id,)
    )
    return str(row[0]) if row else None


async def find_deck(conn: Connection, ref: str) -> DeckRecord | None:
    """A live shared deck by slug, or by name ignoring case."""
    sql = (
        _DECK_COUNTS
        + " WHERE d.deleted_ms IS NULL AND d.owner_id IS NULL"
        + " AND (d.slug = ? OR lower(d.name) = lower(?))"
        + " ORDER BY d.slug = ? DESC LIMIT 1"
    )
    row = await fetch_one(conn, sql, (ref, ref, ref))
    return _deck(row) if row else None


async def slug_taken(conn: Connection, slug: str) -> bool:
    """True if any deck (live or deleted) uses ``slug``."""
    row = await fetch_one(conn, "SELECT 1 FROM decks WHERE slug = ?", (slug,))
    return row is not None


async def upsert_deck(
    conn: Connection,
    *,
    slug: str,
    name: str,
    description: str,
    language: str,
    bundled: bool,
    now_ms: int,
) -> tuple[int, bool]:
    """Create the deck or refresh it (reviving a deleted one); returns (id, created)."""
    row = await fetch_one(conn, "SELECT id FROM decks WHERE slug = ?", (slug,))
    if row:
        await conn.execute(
            "UPDATE decks SET name = ?, description = ?, language = ?, bundled = ?,"
            " deleted_ms = NULL, updated_ms = ? WHERE id = ?",
            (name, description, language, int(bundled), now_ms, row[0]),
        )
        return int(row[0]), False
    cursor = await conn.execute(
        "INSERT INTO decks (slug, name, description, language, bundled, created_ms, updated_ms)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (slug, name, description, language, int(bundled), now_ms, now_ms),
    )
    return int(cursor.lastrowid or 0), True


async def rename_deck(conn: Connection, deck_id: int, name: str, now_ms: int) -> None:
    """Give a deck a new display name."""
    await conn.execute(
        "UPDATE decks SET name = ?, updated_ms = ? WHERE id = ?", (name, now_ms, deck_id)
    )


async def delete_deck(conn: Connection, deck_id: int, now_ms: int) -> None:
    """Hide a deck and its items; attempts and items stay for the record."""
    await conn.execute("UPDATE decks SET deleted_ms = ? WHERE id = ?", (now_ms, deck_id))
    await conn.execute("UPDATE enrolments SET active = 0 WHERE deck_id = ?", (deck_id,))


def payload_text(payload: dict[str, Any]) -> str:
    """An item's payload as stored: JSON with sorted keys, so equal payloads are equal text."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)


async def put_media(conn: Connection, deck_id: int, name: str, data: bytes) -> None:
    """Store (or replace) one media file of a deck; new bytes forget Telegram's file id."""
    await conn.execute(
        "INSERT INTO media (deck_id, name, data) VALUES (?, ?, ?)"
        " ON CONFLICT (deck_id, name) DO UPDATE SET data = excluded.data,"
        " file_id = CASE WHEN media.data = excluded.data THEN media.file_id ELSE NULL END",
        (deck_id, name, data),
    )


async def get_media_file(
    conn: Connection, deck_id: int, name: str
) -> tuple[bytes, str | None] | None:
    """One media file's bytes and the Telegram file id stored for it (None until sent)."""
    row = await fetch_one(
        conn, "SELECT data, file_id FROM media WHERE deck_id = ? AND name = ?", (deck_id, name)
    )
    return (bytes(row[0]), row[1]) if row else None


async def set_media_file_id(conn: Connection, deck_id: int, name: str, file_id: str) -> None:
    """Remember the file id Telegram gave a media file, to send it by id from now on."""
    await conn.execute(
        "UPDATE media SET file_id = ? WHERE deck_id = ? AND name = ?", (file_id, deck_id, name)
    )


async def get_media(conn: Connection, deck_id: int, name: str) -> bytes | None:
    """One media file's bytes."""
    row = await fetch_one(
        conn, "SELECT data FROM media WHERE deck_id = ? AND name = ?", (deck_id, name)
    )
    return bytes(row[0]) if row else None


async def get_item(conn: Connection, item_id: int, *, live_only: bool = True) -> ItemRecord | None:
    """One item by id (None if missing, or deleted when ``live_only``)."""
    sql = f"SELECT {_ITEM_COLUMNS} FROM items i WHERE id = ?"
    if live_only:
        sql += (
            " AND deleted_ms IS NULL AND EXISTS"
            " (SELECT 1 FROM decks d WHERE d.id = i.deck_id AND d.deleted_ms IS NULL)"
        )
    row = await fetch_one(conn, sql, (item_id,))
    return _item(row) if row else None


async def get_items(conn: Connection, item_ids: Iterable[int]) -> dict[int, ItemRecord]:
    """Live items by id."""
    ids = list(item_ids)
    if not ids:
        return {}
    found: dict[int, ItemRecord] = {}
    for chunk, marks in in_chunks(ids):
        rows = await fetch_all(
            conn,
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE deleted_ms IS NULL AND id IN ({marks})",
            chunk,
        )
        for row in rows:
            found[row[0]] = _item(row)
    return found


async def deck_items(conn: Connection, deck_id: int) -> list[ItemRecord]:
    """A deck's live items in file order."""
    rows = await fetch_all(
        conn,
        f"SELECT {_ITEM_COLUMNS} FROM items WHERE deck_id = ? AND deleted_ms IS NULL"
        " ORDER BY position, id",
        (deck_id,),
    )
    return [_item(row) for row in rows]


async def delete_item(conn: Connection, item_id: int, now_ms: int) -> None:
    """Hide one item; its attempts stay."""
    await conn.execute("UPDATE items SET deleted_ms = ? WHERE id = ?", (now_ms, item_id))


async def deck_media_names(conn: Connection, deck_id: int) -> list[str]:
    """Names of a deck's media files."""
    rows = await fetch_all(conn, "SELECT name FROM media WHERE deck_id = ?", (deck_id,))
    return [row[0] for row in rows]


async def enrolled_item_rows(conn: Connection, user_id: int) -> list[tuple[Any, ...]]:
    """Live items of the student's active decks as raw rows (payload JSON still a string).

    For callers that keep parsed items across calls (``item_from_row`` parses one): an
    unchanged row can reuse its parsed item.
    """
    rows = await fetch_all(conn, _ENROLLED_ITEMS, (user_id,))
    return [tuple(row) for row in rows]


def enrolled_decks_query(user_id: int) -> Query[list[tuple[int, int, int]]]:
    """(deck id, enrolled ms, items version) of the student's active enrolments in live decks,
    in enrolment order; the items version moves with every change to the deck's items."""

    def parse(results: list[list[Any]]) -> list[tuple[int, int, int]]:
        return [(row[0], row[1], row[2]) for row in results[0]]

    return Query(
        [
            (
                "SELECT e.deck_id, e.enrolled_ms, d.items_version FROM enrolments e"
                " JOIN decks d ON d.id = e.deck_id AND d.deleted_ms IS NULL"
                " WHERE e.user_id = ? AND e.active = 1 ORDER BY e.enrolled_ms, e.deck_id",
                (user_id,),
            )
        ],
        parse,
    )


def read_enrolled_decks(raw: sqlite3.Connection, user_id: int) -> list[tuple[int, int, int]]:
    """:func:`enrolled_decks_query` on the raw connection (inside ``run_sync``)."""
    return enrolled_decks_query(user_id).run(raw)


def read_deck_item_rows(raw: sqlite3.Connection, deck_id: int) -> list[tuple[Any, ...]]:
    """A deck's live items as raw rows (see :func:`enrolled_item_rows`), in deck order."""
    return [
        tuple(row)
        for row in raw.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE deck_id = ? AND deleted_ms IS NULL"
            " ORDER BY position, id",
            (deck_id,),
        )
    ]


def read_enrolled_item_rows(raw: sqlite3.Connection, user_id: int) -> list[tuple[Any, ...]]:
    """:func:`enrolled_item_rows` on the raw connection (inside ``run_sync``)."""
    return [tuple(row) for row in raw.execute(_ENROLLED_ITEMS, (user_id,))]


def item_from_row(row: tuple[Any, ...]) -> ItemRecord:
    """An item record from a raw row of ``enrolled_item_rows``."""
    return _item(row)


async def enrolled_items(conn: Connection, user_id: int) -> list[ItemRecord]:
    """Live items of the student's active decks, in enrolment then deck order."""
    columns = ", ".join("i." + c.strip() for c in _ITEM_COLUMNS.split(","))
    rows = await fetch_all(
        conn,
        f"SELECT {columns} FROM items i"
        " JOIN enrolments e ON e.deck_id = i.deck_id AND e.user_id = ? AND e.active = 1"
        " JOIN decks d ON d.id = i.deck_id AND d.deleted_ms IS NULL"
        " WHERE i.deleted_ms IS NULL ORDER BY e.enrolled_ms, i.position, i.id",
        (user_id,),
    )
    return [_item(row) for row in rows]
