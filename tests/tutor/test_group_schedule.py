"""Daily group quizzes: planned like reminders, started at most once per slot, late rules."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from storage import Database
from tests.conftest import FakeClock
from tests.tutor.conftest import sample_deck_bytes
from tutor.group_schedule import GroupSchedule
from tutor.service import TutorService
from tutor.students import parse_hhmm

CHAT = -7007


@pytest.fixture
async def daily(service: TutorService) -> TutorService:
    """A group of the sample deck with a daily quiz at 18:00 Berlin time (17:00 UTC)."""
    report = await service.import_file(sample_deck_bytes(), "sample.json")
    await service.groups.joined(CHAT, "Class", "en")
    await service.groups.add_deck(CHAT, report.deck.id)
    await service.groups.update(CHAT, timezone="Europe/Berlin", daily_quiz_time=parse_hhmm("18:00"))
    return service


async def quizzes(service: TutorService) -> list[tuple[str, int]]:
    async with (
        service.db.read() as conn,
        conn.execute("SELECT kind, planned FROM group_quizzes ORDER BY id") as cur,
    ):
        return [(row[0], row[1]) for row in await cur.fetchall()]


async def test_the_slot_starts_one_quiz_on_time(daily: TutorService, clock: FakeClock) -> None:
    schedule = daily.group_schedule
    assert await schedule.plan() >= 1
    assert await schedule.claim() == []  # 09:00 UTC: not yet
    clock.set(clock().replace(hour=17, minute=0, second=20))
    [outcome] = await schedule.claim()
    assert outcome.quiz_id is not None and outcome.reason == "on_time"
    assert await quizzes(daily) == [("daily", 5)]
    assert await schedule.claim() == []
    await schedule.plan()
    assert await schedule.claim() == []  # planning again adds nothing for the same day


@pytest.mark.parametrize(("down_until", "started"), [((19, 30), True), ((21, 0), False)])
async def test_a_slot_missed_while_down_follows_the_reminder_late_rules(
    daily: TutorService, clock: FakeClock, down_until: tuple[int, int], started: bool
) -> None:
    await daily.group_schedule.plan()
    clock.set(clock().replace(hour=down_until[0], minute=down_until[1]))
    [outcome] = await daily.group_schedule.claim()
    assert (outcome.quiz_id is not None) is started
    assert outcome.reason == ("late" if started else "too_late")


async def test_a_changed_time_moves_the_slot(daily: TutorService, clock: FakeClock) -> None:
    await daily.group_schedule.plan()
    await daily.groups.update(CHAT, daily_quiz_time=parse_hhmm("20:00"))
    daily.group_schedule.forget(1)
    await daily.group_schedule.plan()
    clock.set(clock().replace(hour=17, minute=1))
    assert await daily.group_schedule.claim() == []
    clock.set(clock().replace(hour=19, minute=0, second=10))
    [outcome] = await daily.group_schedule.claim()
    assert outcome.quiz_id is not None


async def test_two_processes_claim_a_slot_once(
    daily: TutorService, database_location: Path | str, clock: FakeClock
) -> None:
    await daily.group_schedule.plan()
    clock.set(clock().replace(hour=17, minute=0, second=20))
    # database_location, not db_path: on PostgreSQL the other process must open the same
    # database (a file path opened an empty SQLite file, and the test passed trivially).
    other = await Database.open(database_location)
    try:
        schedules = [daily.group_schedule, GroupSchedule(other, clock=clock)]
        results = await asyncio.gather(*(s.claim() for s in schedules))
    finally:
        await other.close()
    started = [o for found in results for o in found if o.quiz_id is not None]
    assert len(started) == 1
    assert await quizzes(daily) == [("daily", 5)]


async def test_a_group_without_decks_or_removed_gets_no_quiz(
    service: TutorService, clock: FakeClock
) -> None:
    await service.groups.joined(CHAT, "Class", "en")
    await service.groups.update(CHAT, daily_quiz_time=parse_hhmm("10:00"))
    await service.group_schedule.plan()
    clock.set(clock().replace(hour=10, minute=0, second=5))
    [outcome] = await service.group_schedule.claim()
    assert outcome.quiz_id is None and outcome.reason == "no_decks"
    await service.groups.left(CHAT)
    clock.advance(days=1)
    await service.group_schedule.plan()
    assert await service.group_schedule.claim() == []


async def test_a_time_changed_and_changed_back_through_another_process_is_planned_again(
    daily: TutorService, database_location: Path | str, clock: FakeClock
) -> None:
    """The planning process noted the group as planned for 18:00; an admin, through another
    process, moves the quiz to 19:00 and back to 18:00 before the next run (each change
    drops the pending slot). The next run plans 18:00 again: the note alone used to keep
    the group without a slot for up to an hour, and the quiz was missed."""
    assert await daily.group_schedule.plan() >= 1
    other = await Database.open(database_location)
    try:
        admin = TutorService(other, clock=clock)
        await admin.groups.update(CHAT, daily_quiz_time=parse_hhmm("19:00"))
        await admin.groups.update(CHAT, daily_quiz_time=parse_hhmm("18:00"))
    finally:
        await other.close()
    clock.advance(minutes=1)
    assert await daily.group_schedule.plan() == 1
    clock.set(clock().replace(hour=17, minute=0, second=20))
    [outcome] = await daily.group_schedule.claim()
    assert outcome.quiz_id is not None
