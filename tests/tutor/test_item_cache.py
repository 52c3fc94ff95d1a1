"""Parsed enrolled items are reused while their decks are unchanged, and only then."""

from __future__ import annotations

from storage import content as content_rows
from storage import enrolments as enrolment_rows
from tests.conftest import FakeClock
from tests.tutor.conftest import SAMPLE_DECK, sample_deck_bytes
from tutor.item_cache import ItemCache
from tutor.items import Item
from tutor.service import TutorService


async def _enrolled(service: TutorService, cache: ItemCache, user_id: int = 100) -> list[Item]:
    async with service.db.read() as conn:
        return await cache.enrolled(conn, user_id)


async def _uncached(service: TutorService, user_id: int = 100) -> list[Item]:
    async with service.db.read() as conn:
        return ItemCache().items(await content_rows.enrolled_item_rows(conn, user_id))


async def test_an_unchanged_deck_is_not_read_again(studying: TutorService) -> None:
    cache = ItemCache()
    first = await _enrolled(studying, cache)
    again = await _enrolled(studying, cache)
    assert cache.deck_reads == 1
    assert again == first == await _uncached(studying)
    assert all(a is b for a, b in zip(first, again, strict=True))


async def test_an_edited_reimported_or_deleted_item_is_seen_at_once(
    studying: TutorService, clock: FakeClock
) -> None:
    cache = ItemCache()
    before = await _enrolled(studying, cache)
    items = [dict(item) for item in SAMPLE_DECK["items"]]  # type: ignore[attr-defined]
    items[0]["question"] = "Which city was the Inca capital?"
    clock.advance(minutes=1)
    await studying.import_file(sample_deck_bytes(items=items), "sample.json")
    edited = await _enrolled(studying, cache)
    assert edited[0].prompt == "Which city was the Inca capital?"
    assert edited == await _uncached(studying)
    assert cache.deck_reads == 2
    async with studying.db.transaction() as conn:
        await content_rows.delete_item(conn, before[1].id, 1)
    remaining = await _enrolled(studying, cache)
    assert [item.id for item in remaining] == [item.id for item in edited if item != edited[1]]
    assert remaining == await _uncached(studying)


async def test_leaving_joining_and_deleting_decks_change_the_list(
    studying: TutorService, clock: FakeClock
) -> None:
    cache = ItemCache()
    n = len(await _enrolled(studying, cache))
    clock.advance(minutes=1)
    await studying.import_file(
        sample_deck_bytes(deck={"slug": "other", "name": "Other", "language": "en"}), "o.json"
    )
    await studying.enrol(100, "other")
    both = await _enrolled(studying, cache)
    assert len(both) == 2 * n and both == await _uncached(studying)
    await studying.leave(100, "sample")
    assert await _enrolled(studying, cache) == both[n:]
    async with studying.db.transaction() as conn:
        await content_rows.delete_deck(conn, both[n].deck_id, 1)
    assert await _enrolled(studying, cache) == []


async def test_decks_enrolled_at_the_same_instant_keep_the_stored_order(
    studying: TutorService,
) -> None:
    await studying.import_file(
        sample_deck_bytes(deck={"slug": "other", "name": "Other", "language": "en"}), "o.json"
    )
    other = await studying.find_deck("other")
    async with studying.db.transaction() as conn:
        # Same clock: both enrolments carry the same instant, so items interleave by position.
        await enrolment_rows.enrol(conn, 100, other.id, 1)
        await conn.execute("UPDATE enrolments SET enrolled_ms = 1 WHERE user_id = 100")
    cache = ItemCache()
    found = await _enrolled(studying, cache)
    assert found == await _uncached(studying)
    assert found[0].deck_id != found[1].deck_id
