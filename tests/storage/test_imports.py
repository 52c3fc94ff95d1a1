"""The storage side of imports: hidden builds, headers that change only when they differ."""

from __future__ import annotations

import pytest

from storage import Database
from storage import imports as import_rows
from storage.records import ItemValues


async def _changes(db: Database) -> int:
    async with db.read() as conn:
        return conn.total_changes


async def test_a_build_is_hidden_until_published_and_only_builds_are_deleted(
    db: Database,
) -> None:
    from storage import content as content_rows

    async with db.transaction() as conn:
        build = await import_rows.create_build(
            conn,
            build_slug=f"{import_rows.BUILD_PREFIX}x-1@here",
            name="Rivers",
            description="",
            language="en",
            bundled=False,
            source_digest=None,
            now_ms=5,
        )
        values = [
            ItemValues(f"r{k}", "flashcard", '{"prompt": "?"}', "", None, k) for k in range(3)
        ]
        await import_rows.insert_items(conn, build, values, 5)
    async with db.read() as conn:
        assert await content_rows.list_decks(conn) == []
        assert await import_rows.deck_by_slug(conn, f"{import_rows.BUILD_PREFIX}x-1@here") is None
        assert [row[0] for row in await import_rows.builds(conn)] == [build]
    async with db.transaction() as conn:
        await import_rows.publish_build(conn, build, "rivers", 6)
        with pytest.raises(ValueError, match="not a build"):
            await import_rows.delete_build_step(conn, build, 10)
    async with db.read() as conn:
        (deck,) = await content_rows.list_decks(conn)
        assert (deck.slug, deck.n_items) == ("rivers", 3)
        assert await import_rows.builds(conn) == []


async def test_an_unchanged_header_is_not_rewritten(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO decks (id, slug, name, created_ms, updated_ms) VALUES (1, 'd', 'D', 0, 0)"
        )
    header = {
        "name": "D",
        "description": "",
        "language": "en",
        "bundled": False,
        "source_digest": None,
    }
    before = await _changes(db)
    async with db.transaction() as conn:
        await import_rows.refresh_deck(conn, 1, now_ms=9, **header)  # type: ignore[arg-type]
    assert await _changes(db) == before
    async with db.transaction() as conn:
        await import_rows.refresh_deck(conn, 1, now_ms=9, **(header | {"name": "E"}))  # type: ignore[arg-type]
    assert await _changes(db) == before + 1
