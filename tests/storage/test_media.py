"""Deck media with Telegram's file ids: kept while the bytes stay, forgotten when they change."""

from __future__ import annotations

from storage import Database
from storage import content as content_rows
from storage import imports as import_rows
from storage.records import ItemValues


async def test_a_file_id_lives_as_long_as_the_bytes_it_was_given_for(db: Database) -> None:
    async with db.transaction() as conn:
        deck, _ = await content_rows.upsert_deck(
            conn, slug="fr", name="French", description="", language="en", bundled=False, now_ms=1
        )
        await content_rows.put_media(conn, deck, "bonjour.mp3", b"ID3 one")
    async with db.read() as conn:
        assert await content_rows.get_media_file(conn, deck, "bonjour.mp3") == (b"ID3 one", None)
        assert await content_rows.get_media_file(conn, deck, "missing.mp3") is None
    async with db.transaction() as conn:
        await content_rows.set_media_file_id(conn, deck, "bonjour.mp3", "CQACAgIAAxkBAAI-one")
        await content_rows.put_media(conn, deck, "bonjour.mp3", b"ID3 one")  # the same bytes
    async with db.read() as conn:
        found = await content_rows.get_media_file(conn, deck, "bonjour.mp3")
        assert found == (b"ID3 one", "CQACAgIAAxkBAAI-one")
    async with db.transaction() as conn:
        await content_rows.put_media(conn, deck, "bonjour.mp3", b"ID3 two")  # a new recording
    async with db.read() as conn:
        assert await content_rows.get_media_file(conn, deck, "bonjour.mp3") == (b"ID3 two", None)


async def test_items_keep_their_sounds(db: Database) -> None:
    async with db.transaction() as conn:
        deck, _ = await content_rows.upsert_deck(
            conn, slug="fr", name="French", description="", language="en", bundled=False, now_ms=1
        )
        values = ItemValues("w1", "flashcard", '{"prompt": "chat"}', "", None, 0, "q.mp3", "a.ogg")
        await import_rows.insert_items(conn, deck, [values], 1)
    async with db.read() as conn:
        [item] = await content_rows.deck_items(conn, deck)
        assert (item.audio, item.answer_audio) == ("q.mp3", "a.ogg")
        [stored] = await import_rows.item_rows(conn, deck, 0, 10)
        assert stored.values == values
    async with db.transaction() as conn:
        changed = ItemValues("w1", "flashcard", '{"prompt": "chat"}', "", None, 0, None, "b.ogg")
        await import_rows.update_items(conn, [(item.id, changed)], 2)
    async with db.read() as conn:
        [item] = await content_rows.deck_items(conn, deck)
        assert (item.audio, item.answer_audio) == (None, "b.ogg")
