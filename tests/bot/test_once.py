"""What the record of handled updates costs an update: an answer nothing of its own (the
record goes in the answer's first transaction, on PostgreSQL in its first round trip); an
update that writes nothing (``/help``) one small transaction, one round trip on PostgreSQL.

One bot as ``serve`` builds it (:class:`tutor.deliveries.UpdateLog`); its record is switched
off and on between a student's updates, so the same kind of update is counted with and
without it. On SQLite and on PostgreSQL (``Database.traffic`` counts the round trips).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from statistics import median

import pytest

from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver
from bot.fake_telegram.objects import FakeUser
from bot.update_order import PerUserUpdateProcessor
from storage import Database
from tests.backends import on_each_backend
from tests.bot.stories.conftest import story_settings
from tests.conftest import FakeClock
from tutor.deliveries import UpdateLog
from tutor.service import TutorService

ADA = FakeUser(501, "Ada")
ITEMS = 20


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """On SQLite and on PostgreSQL (tests/backends.py)."""
    on_each_backend(metafunc)


def _deck_csv() -> bytes:
    lines = ["id,type,question,answer,options"]
    for i in range(ITEMS):
        options = "|".join(f"o{i}_{k}" for k in range(4))
        lines.append(f"r{i},multiple_choice,Question {i}?,o{i}_1,{options}")
    return ("\n".join(lines) + "\n").encode()


class Bot:
    """The bot, its database and record, and a switch for the record."""

    def __init__(self, db: Database, updates: UpdateLog, chat: ChatDriver) -> None:
        self.db = db
        self.updates = updates
        self.chat = chat
        processor = chat.application.update_processor
        assert isinstance(processor, PerUserUpdateProcessor)
        self.processor = processor

    def costs(self) -> tuple[int, int]:
        """Write transactions and PostgreSQL round trips (0 on SQLite) so far."""
        traffic = self.db.traffic
        return self.db.write_stats.transactions, traffic.round_trips if traffic else 0

    async def counted(self, with_record: bool, text: str | None = None) -> tuple[int, int]:
        """Send ``text`` or press the right option; its write transactions and round trips."""
        self.processor.updates = self.updates if with_record else None
        before = self.costs()
        if text is not None:
            await self.chat.send(ADA, text)
        else:
            right = [label for label in self.chat.buttons(ADA) if label.endswith("_1")]
            await self.chat.press(ADA, right[0])
        after = self.costs()
        return after[0] - before[0], after[1] - before[1]

    async def recorded(self) -> int:
        async with self.db.read() as conn:
            rows = await conn.execute_fetchall("SELECT count(*) FROM processed_updates")
        return int(next(iter(rows))[0])


@pytest.fixture
async def bot(database_location: Path | str, clock: FakeClock) -> AsyncIterator[Bot]:
    db = await Database.open(database_location)
    service = TutorService(db, clock=clock)
    report = await service.import_file(_deck_csv(), "record.csv")
    await service.register(ADA.id, ADA.id, ADA.first_name, "en")
    await service.enrol(ADA.id, report.deck.id)
    await service.update_settings(ADA.id, onboarded=True, quiz_length=50, daily_goal=500)
    updates = UpdateLog(db, clock=clock)
    fake = FakeBotApi(clock=clock)
    application = build_application(story_settings(), service, request=fake, updates=updates)
    try:
        async with ChatDriver(application) as chat:
            await chat.send(ADA, "/quiz")
            yield Bot(db, updates, chat)
    finally:
        await db.close()


async def test_an_answer_costs_no_transaction_or_round_trip_for_its_record(bot: Bot) -> None:
    costs: dict[bool, list[tuple[int, int]]] = {True: [], False: []}
    for press in range(12):
        with_record = press % 2 == 0
        costs[with_record].append(await bot.counted(with_record))
    with_it = (median(c[0] for c in costs[True]), median(c[1] for c in costs[True]))
    without = (median(c[0] for c in costs[False]), median(c[1] for c in costs[False]))
    assert with_it == without, costs  # before: one more transaction (and 2 round trips)
    assert await bot.recorded() == 1 + 6  # /quiz and the answers made with the record on


async def test_an_update_that_writes_nothing_pays_one_transaction_and_one_round_trip(
    bot: Bot,
) -> None:
    costs: dict[bool, list[tuple[int, int]]] = {True: [], False: []}
    for turn in range(6):
        with_record = turn % 2 == 0
        costs[with_record].append(await bot.counted(with_record, "/help"))
    assert {c[0] for c in costs[False]} == {0}  # /help reads the student; it writes nothing
    extra = {(w[0] - o[0], w[1] - o[1]) for w, o in zip(costs[True], costs[False], strict=True)}
    # before: 2 round trips on PostgreSQL (BEGIN and the statements, then COMMIT)
    assert extra == {(1, 1 if bot.db.traffic else 0)}, costs
    assert await bot.recorded() == 1 + 3
