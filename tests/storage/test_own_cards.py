"""Personal decks in storage: found only by their owner, counted for admins, erased whole."""

from __future__ import annotations

import dataclasses

from storage import Database
from storage import admin as admin_rows
from storage import content as content_rows
from storage import own_cards as card_rows
from storage import privacy as privacy_rows
from storage import users as user_rows
from storage.database import fetch_all
from storage.records import ItemRecord, UserRecord


def _user(user_id: int) -> UserRecord:
    return UserRecord(
        user_id, user_id, "N", "en", "UTC", None, None, 20, 10, 0.9, "active", True, 0, 0
    )


def _card(deck_id: int, n: int, image: str | None = None) -> ItemRecord:
    return ItemRecord(
        0, deck_id, f"card-{n}", "flashcard", {"prompt": f"front {n}", "answer": "b"}, (), image, n
    )


async def _personal(db: Database, user_id: int, cards: int) -> tuple[int, list[int]]:
    async with db.transaction() as conn:
        await user_rows.insert_user(conn, _user(user_id))
        deck_id = await card_rows.create_personal_deck(conn, user_id, "My cards", "en", 0)
        ids = [
            await card_rows.insert_card(conn, deck_id, _card(deck_id, n), 0) for n in range(cards)
        ]
    return deck_id, ids


async def test_a_personal_deck_is_found_only_by_its_owner(db: Database) -> None:
    deck_id, [item_id] = await _personal(db, 1, 1)
    async with db.transaction() as conn:
        shared, _ = await content_rows.upsert_deck(
            conn,
            slug="shared",
            name="Shared",
            description="",
            language="en",
            bundled=False,
            now_ms=0,
        )
    async with db.read() as conn:
        assert [deck.id for deck in await content_rows.list_decks(conn)] == [shared]
        assert await content_rows.get_deck(conn, deck_id) is None
        assert await content_rows.get_deck(conn, deck_id, owner_id=2) is None
        found = await content_rows.get_deck(conn, deck_id, owner_id=1)
        assert found is not None and found.n_items == 1
        assert await content_rows.find_deck(conn, "own.1") is None
        assert await content_rows.find_deck(conn, "My cards") is None
        assert await content_rows.get_deck(conn, shared) is not None
        assert await card_rows.owner_of_item(conn, item_id) == 1
        # the owner is enrolled: the cards are among the items they study
        assert [item.id for item in await content_rows.enrolled_items(conn, 1)] == [item_id]
        assert await card_rows.get_card(conn, 2, item_id) is None
        assert await card_rows.get_card(conn, 1, item_id) is not None


async def test_cards_page_and_count_skip_deleted_cards(db: Database) -> None:
    _, ids = await _personal(db, 1, 7)
    async with db.transaction() as conn:
        await card_rows.delete_card(conn, ids[0], (), 5)
    async with db.read() as conn:
        assert await card_rows.count_cards(conn, 1) == 6
        page = await card_rows.cards_page(conn, 1, 5, 5)
        assert [card.id for card in page] == [ids[6]]
        assert await card_rows.get_card(conn, 1, ids[0]) is None
        assert await card_rows.totals(conn) == (6, 1)


async def test_erasing_a_student_removes_their_deck_cards_and_pictures_only(
    db: Database,
) -> None:
    mine, [card] = await _personal(db, 1, 1)
    theirs, [other] = await _personal(db, 2, 1)
    async with db.transaction() as conn:
        await content_rows.put_media(conn, mine, "card-1.jpg", b"\xff\xd8\xff")
        await content_rows.put_media(conn, theirs, "card-1.jpg", b"\xff\xd8\xff")
        for user_id, item_id in ((1, card), (2, other)):
            await conn.execute(
                "INSERT INTO attempts (user_id, item_id, answered_ms, correct, idempotency_key)"
                " VALUES (?, ?, 0, 1, ?)",
                (user_id, item_id, f"k{user_id}"),
            )
            await conn.execute(
                "INSERT INTO item_stats (item_id, attempts, correct) VALUES (?, 1, 1)", (item_id,)
            )
    async with db.transaction() as conn:
        deleted = await privacy_rows.erase_user(conn, 1)
    assert deleted["items"] == 1 and deleted["media"] == 1 and deleted["decks"] == 1
    async with db.read() as conn:
        for table, expected in (("decks", 1), ("items", 1), ("media", 1), ("item_stats", 1)):
            async with conn.execute(f"SELECT COUNT(*) FROM {table}") as cur:
                row = await cur.fetchone()
            assert row is not None and row[0] == expected, table
        assert await card_rows.personal_deck_id(conn, 2) == theirs
        assert await card_rows.get_card(conn, 2, other) is not None


async def test_admin_numbers_leave_own_cards_out(db: Database) -> None:
    _, [card] = await _personal(db, 1, 1)
    async with db.transaction() as conn:
        shared, _ = await content_rows.upsert_deck(
            conn,
            slug="shared",
            name="Shared",
            description="",
            language="en",
            bundled=False,
            now_ms=0,
        )
        item = await card_rows.insert_card(conn, shared, _card(shared, 0), 0)
        for item_id in (card, item):
            await conn.execute(
                "INSERT INTO item_stats (item_id, attempts, correct) VALUES (?, 5, 1)", (item_id,)
            )
    async with db.read() as conn:
        assert [row[0] for row in await admin_rows.hardest_items(conn, 3, 10)] == [item]
        assert await admin_rows.accuracy_per_deck(conn) == [("Shared", 5, 1)]


async def test_a_cards_sounds_are_stored_replaced_and_dropped_with_it(db: Database) -> None:
    deck_id, [plain] = await _personal(db, 1, 1)
    sounded = dataclasses.replace(_card(deck_id, 1, "card-1.jpg"), answer_audio="card-1-answer.ogg")
    async with db.transaction() as conn:
        card = await card_rows.insert_card(conn, deck_id, sounded, 0)
        for name in ("card-1.jpg", "card-1-answer.ogg", "card-0.jpg"):
            await content_rows.put_media(conn, deck_id, name, b"data")
    async with db.read() as conn:
        stored = await card_rows.get_card(conn, 1, card)
        assert stored is not None and (stored.audio, stored.answer_audio) == (
            None,
            "card-1-answer.ogg",
        )
        assert await card_rows.count_with_media(conn, 1) == 1
    async with db.transaction() as conn:
        await content_rows.put_media(conn, deck_id, "card-1-answer.mp3", b"new")
        await card_rows.set_card_sound(
            conn, card, None, "card-1-answer.mp3", ("card-1-answer.ogg",), 1
        )
        await card_rows.set_card_sound(conn, plain, "card-0-question.ogg", None, (), 1)
    async with db.read() as conn:
        stored = await card_rows.get_card(conn, 1, card)
        assert stored is not None and stored.answer_audio == "card-1-answer.mp3"
        assert await content_rows.get_media(conn, deck_id, "card-1-answer.ogg") is None
        assert await card_rows.count_with_media(conn, 1) == 2
    async with db.transaction() as conn:
        await card_rows.delete_card(conn, card, ("card-1.jpg", "card-1-answer.mp3"), 2)
    async with db.read() as conn:
        rows = await fetch_all(conn, "SELECT name FROM media WHERE deck_id = ?", (deck_id,))
        assert [row[0] for row in rows] == ["card-0.jpg"]
        assert await card_rows.count_with_media(conn, 1) == 1
