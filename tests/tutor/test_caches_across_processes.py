"""What one process caches, another process's edits reach at once.

Two :class:`Database` objects on one file or URL stand for two bot processes. Each cache is
checked against the database on every use (a deck's ``items_version``, an item's whole row,
a learner state's stored bytes), so an edit committed through one process is what the
other serves at its very next read: well within the second the deployment promises.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import Database
from storage import content as content_rows
from tests.conftest import FakeClock
from tests.tutor.conftest import SAMPLE_DECK, sample_deck_bytes
from tests.tutor.test_service import right_answer
from tutor.item_cache import ItemCache
from tutor.items import Item
from tutor.learner import ModelMemory
from tutor.service import TutorService


@pytest.fixture
async def other(database_location: Path | str) -> AsyncIterator[Database]:
    """The second process's connection to the test's database."""
    database = await Database.open(database_location)
    yield database
    await database.close()


async def _enrolled(db: Database, cache: ItemCache, user_id: int = 100) -> list[Item]:
    async with db.read() as conn:
        return await cache.enrolled(conn, user_id)


async def test_an_item_an_admin_edits_in_one_process_is_served_new_by_the_other(
    studying: TutorService, other: Database, clock: FakeClock
) -> None:
    cache = ItemCache()  # the serving process's parsed items
    before = await _enrolled(studying.db, cache)
    admin = TutorService(other, clock=clock)  # the process the admin's /import reached
    items = [dict(item) for item in SAMPLE_DECK["items"]]  # type: ignore[attr-defined]
    items[0]["question"] = "Which city was the Inca capital?"
    clock.advance(minutes=1)
    await admin.import_file(sample_deck_bytes(items=items), "sample.json")
    edited = await _enrolled(studying.db, cache)
    assert edited[0].prompt == "Which city was the Inca capital?"
    assert before[0].prompt != edited[0].prompt
    async with other.transaction() as conn:
        await content_rows.delete_item(conn, edited[1].id, 1)
    assert edited[1].id not in {item.id for item in await _enrolled(studying.db, cache)}
    await admin.leave(100, "sample")
    assert await _enrolled(studying.db, cache) == []


async def test_a_learner_state_one_process_updated_is_not_served_stale_by_the_other(
    studying: TutorService, other: Database, clock: FakeClock
) -> None:
    """Process A answers, caching the student's parsed state; process B answers next
    (a student's updates may reach either); A then predicts from B's state, as a process
    that never cached anything does."""
    first = TutorService(studying.db, clock=clock, memory=ModelMemory())
    second = TutorService(other, clock=clock, memory=ModelMemory())
    for service in (first, second, first, second):
        question = await service.start_quiz(100, 1)
        assert question is not None
        await service.answer(100, question.id, right_answer(question))
        clock.advance(minutes=3)
    fresh = TutorService(studying.db, clock=clock, memory=ModelMemory())
    assert (await first.stats(100)).recall_by_tag == (await fresh.stats(100)).recall_by_tag
