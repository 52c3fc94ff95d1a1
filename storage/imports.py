"""The writes of a deck import, in steps that each hold the database briefly.

A deck that does not exist yet is *built* first: a row of ``decks`` whose slug starts with
:data:`BUILD_PREFIX` (no deck name slugifies to that) and whose ``deleted_ms`` is set, so
every query of students and admins already skips it and its items. ``updated_ms`` is the
build's heartbeat. Publishing gives it its real slug and clears ``deleted_ms``: one row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from storage.database import Connection, fetch_all, fetch_one
from storage.records import DeckRow, ItemValues, StoredItem

BUILD_PREFIX = "~import-"
# Every build slug sorts between these two (the character after '-' is '.').
_BUILD_RANGE = (BUILD_PREFIX, BUILD_PREFIX[:-1] + ".")
_DECK_ROW = (
    "SELECT id, slug, name, description, language, bundled, deleted_ms, source_digest FROM decks"
)


def _deck_row(row: Any) -> DeckRow:
    return DeckRow(
        id=row[0],
        slug=row[1],
        name=row[2],
        description=row[3],
        language=row[4],
        bundled=bool(row[5]),
        deleted=row[6] is not None,
        source_digest=row[7],
    )


async def deck_by_slug(conn: Connection, slug: str) -> DeckRow | None:
    """The deck (live or deleted, never a build) with this slug."""
    row = await fetch_one(conn, _DECK_ROW + " WHERE slug = ?", (slug,))
    return _deck_row(row) if row and not row[1].startswith(BUILD_PREFIX) else None


async def deck_by_id(conn: Connection, deck_id: int) -> DeckRow | None:
    """The deck (live or deleted, or a build) with this id."""
    row = await fetch_one(conn, _DECK_ROW + " WHERE id = ?", (deck_id,))
    return _deck_row(row) if row else None


async def item_rows(conn: Connection, deck_id: int, after_id: int, limit: int) -> list[StoredItem]:
    """Up to ``limit`` items of a deck (live or deleted) with ids above ``after_id``, by id."""
    rows = await fetch_all(
        conn,
        "SELECT id, external_id, kind, payload, tags, image, position, deleted_ms, audio,"
        " answer_audio FROM items"
        " WHERE deck_id = ? AND id > ? ORDER BY id LIMIT ?",
        (deck_id, after_id, limit),
    )
    return [
        StoredItem(
            id=row[0],
            values=ItemValues(row[1], row[2], row[3], row[4], row[5], row[6], row[8], row[9]),
            deleted=row[7] is not None,
        )
        for row in rows
    ]


async def create_build(
    conn: Connection,
    *,
    build_slug: str,
    name: str,
    description: str,
    language: str,
    bundled: bool,
    source_digest: str | None,
    now_ms: int,
) -> int:
    """A hidden deck row to build a new deck in; returns its id."""
    if not build_slug.startswith(BUILD_PREFIX):
        raise ValueError(f"a build's slug must start with {BUILD_PREFIX!r}")
    cursor = await conn.execute(
        "INSERT INTO decks (slug, name, description, language, bundled, source_digest,"
        " deleted_ms, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            build_slug,
            name,
            description,
            language,
            int(bundled),
            source_digest,
            now_ms,
            now_ms,
            now_ms,
        ),
    )
    return int(cursor.lastrowid or 0)


async def heartbeat(conn: Connection, deck_id: int, now_ms: int) -> None:
    """Mark a build as still in progress."""
    await conn.execute("UPDATE decks SET updated_ms = ? WHERE id = ?", (now_ms, deck_id))


async def insert_items(
    conn: Connection, deck_id: int, items: Sequence[ItemValues], now_ms: int
) -> None:
    """Add items to a deck; an external id the deck has already is updated instead."""
    await conn.executemany(
        "INSERT INTO items (deck_id, external_id, kind, payload, tags, image, audio,"
        " answer_audio, position, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (deck_id, external_id) DO UPDATE SET kind = excluded.kind,"
        " payload = excluded.payload, tags = excluded.tags, image = excluded.image,"
        " audio = excluded.audio, answer_audio = excluded.answer_audio,"
        " position = excluded.position, deleted_ms = NULL, updated_ms = excluded.updated_ms",
        [
            (
                deck_id,
                v.external_id,
                v.kind,
                v.payload,
                v.tags,
                v.image,
                v.audio,
                v.answer_audio,
                v.position,
                now_ms,
                now_ms,
            )
            for v in items
        ],
    )


async def update_items(
    conn: Connection, changes: Sequence[tuple[int, ItemValues]], now_ms: int
) -> None:
    """Rewrite items by id (reviving deleted ones); each (item id, new values)."""
    await conn.executemany(
        "UPDATE items SET kind = ?, payload = ?, tags = ?, image = ?, audio = ?,"
        " answer_audio = ?, position = ?, deleted_ms = NULL, updated_ms = ? WHERE id = ?",
        [
            (
                v.kind,
                v.payload,
                v.tags,
                v.image,
                v.audio,
                v.answer_audio,
                v.position,
                now_ms,
                item_id,
            )
            for item_id, v in changes
        ],
    )


async def publish_build(conn: Connection, deck_id: int, slug: str, now_ms: int) -> None:
    """Make a built deck live under its real slug (one row: students see all of it at once)."""
    await conn.execute(
        "UPDATE decks SET slug = ?, deleted_ms = NULL, updated_ms = ? WHERE id = ?",
        (slug, now_ms, deck_id),
    )


async def refresh_deck(
    conn: Connection,
    deck_id: int,
    *,
    name: str,
    description: str,
    language: str,
    bundled: bool,
    source_digest: str | None,
    now_ms: int,
) -> None:
    """Set a deck's header (reviving it if deleted); a header that is already so stays untouched."""
    await conn.execute(
        "UPDATE decks SET name = ?, description = ?, language = ?, bundled = ?,"
        " source_digest = ?, deleted_ms = NULL, updated_ms = ? WHERE id = ? AND NOT"
        " (name = ? AND description = ? AND language = ? AND bundled = ?"
        "  AND source_digest IS ? AND deleted_ms IS NULL)",
        (
            name,
            description,
            language,
            int(bundled),
            source_digest,
            now_ms,
            deck_id,
            name,
            description,
            language,
            int(bundled),
            source_digest,
        ),
    )


async def media_matches(conn: Connection, deck_id: int, name: str, data: bytes) -> bool | None:
    """Whether the deck's media file ``name`` holds ``data`` (None: the deck has no such file)."""
    row = await fetch_one(
        conn,
        "SELECT length(data) = ? AND data = ? FROM media WHERE deck_id = ? AND name = ?",
        (len(data), data, deck_id, name),
    )
    return None if row is None else bool(row[0])


async def builds(conn: Connection) -> list[tuple[int, str, int]]:
    """(deck id, build slug, heartbeat ms) of every deck build left in the database."""
    rows = await fetch_all(
        conn,
        "SELECT id, slug, updated_ms FROM decks WHERE slug >= ? AND slug < ?",
        _BUILD_RANGE,
    )
    return [(row[0], row[1], row[2]) for row in rows]


async def delete_build_step(conn: Connection, deck_id: int, limit: int) -> bool:
    """Delete up to ``limit`` rows of an abandoned build; True once nothing of it is left."""
    row = await fetch_one(conn, "SELECT slug FROM decks WHERE id = ?", (deck_id,))
    if row is None:
        return True
    if not str(row[0]).startswith(BUILD_PREFIX):
        raise ValueError(f"deck {deck_id} is not a build")
    cursor = await conn.execute(
        "DELETE FROM items WHERE id IN (SELECT id FROM items WHERE deck_id = ? LIMIT ?)",
        (deck_id, limit),
    )
    if cursor.rowcount:
        return False
    cursor = await conn.execute(
        "DELETE FROM media WHERE rowid IN (SELECT rowid FROM media WHERE deck_id = ? LIMIT ?)",
        (deck_id, max(1, limit // 100)),
    )
    if cursor.rowcount:
        return False
    await conn.execute("DELETE FROM decks WHERE id = ?", (deck_id,))
    return True
