"""Two bot processes on one database and one Telegram: every reminder, daily group quiz and
announcement arrives once, and together they keep to the bot's broadcast rate.

Each "process" is what ``metatutor serve`` builds: its own :class:`Database` connection, its
own :class:`TutorService` and its own application (``build_application``) with its
reminder and group quiz runners; both talk to one fake Bot API. Their jobs run at the same
moments (``asyncio.gather`` of both ticks), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import time as wall
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application

from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.objects import FakeChat, FakeUser
from bot.group_quizzes import RUNNER_KEY as GROUP_RUNNER_KEY
from bot.group_quizzes import GroupQuizRunner, build_group_runner
from bot.reminders import LEASE_KEY, SENDER_KEY, ReminderRunner, build_runner
from bot.settings import Settings
from storage import Database
from tests.backends import on_each_backend
from tests.bot.stories.test_groups import CAPITALS
from tests.bot.test_reminders import add_student
from tests.conftest import FakeClock, virtual_time
from tutor.admin import AdminService
from tutor.leases import Lease
from tutor.reminder_queue import announcement_slot
from tutor.reminders import ReminderKind
from tutor.service import TutorService
from tutor.students import parse_hhmm

AnyApp = Application[Any, Any, Any, Any, Any, Any]
ADMIN = FakeUser(1, "Lee")
CLASS = FakeChat(-900, "Class")
STUDENTS = range(10, 40)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """On SQLite and on PostgreSQL (tests/backends.py)."""
    on_each_backend(metafunc)


def settings(**changes: Any) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, telegram_bot_token=None, timezone="UTC", flood_burst=0, **changes
    )


class Process:
    """One bot process: its database connection, service, application and runners."""

    def __init__(self, db: Database, service: TutorService, application: AnyApp) -> None:
        self.db = db
        self.service = service
        self.application = application
        runner = application.bot_data["reminder_runner"]
        groups = application.bot_data[GROUP_RUNNER_KEY]
        assert isinstance(runner, ReminderRunner) and isinstance(groups, GroupQuizRunner)
        self.reminders = runner
        self.groups = groups

    @property
    def lease(self) -> Lease:
        found = self.application.bot_data[LEASE_KEY]
        assert isinstance(found, Lease)
        return found

    async def jobs(self) -> tuple[Any, Any]:
        """The two repeating jobs' runs, as the JobQueue makes them."""
        return await asyncio.gather(self.reminders.tick(), self.groups.tick())


async def start_process(
    location: Path | str,
    fake: FakeBotApi,
    clock: FakeClock,
    monotonic: Callable[[], float],
    sleep: Callable[[float], Any],
    **changes: Any,
) -> Process:
    db = await Database.open(location)
    service = TutorService(db, clock=clock)
    config = settings(**changes)
    application = build_application(config, service, request=fake)
    # The runners on the test's time (build_application made the group runner on real time).
    application.bot_data.pop(GROUP_RUNNER_KEY)
    application.bot_data.pop(SENDER_KEY)
    build_runner(application, config, clock=clock, monotonic=monotonic, sleep=sleep)
    build_group_runner(application, config)
    await application.initialize()
    return Process(db, service, application)


async def stop_process(process: Process) -> None:
    await process.application.shutdown()
    await process.db.close()


@pytest.fixture
async def two(
    database_location: Path | str, clock: FakeClock
) -> AsyncIterator[tuple[FakeBotApi, Process, Process]]:
    fake = FakeBotApi(clock=clock)
    fake.rate_limit(max_per_second=30, per_group_per_minute=20)  # Telegram's limits
    monotonic, sleep = virtual_time(clock)
    first = await start_process(database_location, fake, clock, monotonic, sleep)
    second = await start_process(database_location, fake, clock, monotonic, sleep)
    try:
        yield fake, first, second
    finally:
        await stop_process(first)
        await stop_process(second)


async def test_two_processes_send_every_reminder_daily_quiz_and_announcement_once(
    two: tuple[FakeBotApi, Process, Process], clock: FakeClock
) -> None:
    fake, first, second = two
    service = first.service
    clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    report = await service.import_file(json.dumps(CAPITALS).encode(), "capitals.json")
    for user_id in STUDENTS:
        await add_student(service, fake, user_id, "UTC", time(9, 30))
    fake.set_member(CLASS, ADMIN, "creator")
    await service.groups.joined(CLASS.id, CLASS.title, "en")
    await service.groups.add_deck(CLASS.id, report.deck.id)
    await service.groups.update(CLASS.id, daily_quiz_time=parse_hhmm("09:30"))
    await asyncio.gather(first.jobs(), second.jobs())  # both plan: one set of rows

    # 09:30: the daily reminders and the group's daily quiz are due; an admin (whose
    # /announce reached the second process) confirms an announcement to everyone.
    clock.set(datetime(2026, 3, 2, 9, 30, 1, tzinfo=UTC))
    admin = AdminService(second.service)
    draft = await admin.draft_announcement(ADMIN.id, "Exam room changed to 204.")
    assert await admin.confirm_announcement(ADMIN.id, draft.id) == len(STUDENTS)
    for _ in range(4):
        (mine, groups_mine), (other, groups_other), _ = await asyncio.gather(
            first.jobs(),
            second.jobs(),
            second.reminders.send_slot(ReminderKind.ANNOUNCE, announcement_slot(draft.id)),
        )
        # One process holds the fan-out lease and runs both jobs; the other stands by.
        assert mine.standby != other.standby
        assert groups_mine.standby != groups_other.standby
        clock.advance(seconds=5)

    for user_id in STUDENTS:
        texts = [m.text or "" for m in fake.messages(user_id)]
        assert len(texts) == 2, (user_id, texts)
        assert sum("Exam room changed to 204." in text for text in texts) == 1
    polls = [m for m in fake.messages(CLASS.id) if m.poll is not None]
    assert len(polls) == 1  # one daily quiz, its first question once
    async with first.db.read() as conn:
        quizzes = await conn.execute_fetchall("SELECT kind, status FROM group_quizzes")
    assert [tuple(row) for row in quizzes] == [("daily", "running")]
    assert [c for c in fake.calls if not c.ok] == []  # no 429, nothing refused
    assert (await admin.announcement_result(draft.id)).delivered == len(STUDENTS)


async def test_a_stopped_holders_work_is_taken_over_and_sent_once(
    two: tuple[FakeBotApi, Process, Process], clock: FakeClock
) -> None:
    """The holder claims a batch and dies before sending it (it never ticks again); the
    other process takes the lease once it expired and sends every reminder, once."""
    fake, first, second = two
    clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    for user_id in STUDENTS:
        await add_student(first.service, fake, user_id, "UTC", time(9, 30))
    await first.jobs()  # the first holds the lease and planned
    assert (await second.jobs())[0].standby
    clock.set(datetime(2026, 3, 2, 9, 30, 1, tzinfo=UTC))
    assert await first.lease.hold()  # renewed, as its group quiz job does every 5 s
    claim = await first.reminders.queue.claim(12)  # claimed, then the process is gone
    assert len(claim.to_send) == 12
    assert (await second.jobs())[0].standby  # the lease has not run out yet
    clock.advance(seconds=31)
    tick, _ = await second.jobs()
    assert not tick.standby and tick.requeued == 12
    for user_id in STUDENTS:
        assert len(fake.messages(user_id)) == 1, user_id


async def test_together_they_keep_to_the_bots_broadcast_rate(
    database_location: Path | str, clock: FakeClock
) -> None:
    """Two processes whose reminders fall due at once send at the bot's rate, not twice it:
    Telegram (the fake, at 30 a second on the wall clock) answers no 429.

    On wall time: on a shared virtual clock, two pacers' sleeps would add up and hide a
    doubled rate. Without the lease both send at 29 a second and the fake refuses some.
    """
    fake = FakeBotApi(clock=wall.time)
    fake.rate_limit(max_per_second=30)
    processes = [
        await start_process(database_location, fake, clock, wall.monotonic, asyncio.sleep)
        for _ in range(2)
    ]
    try:
        clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
        users = range(100, 250)
        for user_id in users:
            await add_student(processes[0].service, fake, user_id, "UTC", time(9, 30))
        await asyncio.gather(*(p.reminders.tick() for p in processes))
        for process in processes:
            process.reminders.batch = 10  # both would claim and send side by side
        clock.set(datetime(2026, 3, 2, 9, 30, 1, tzinfo=UTC))
        reports = await asyncio.gather(*(p.reminders.tick() for p in processes))
    finally:
        for process in processes:
            await stop_process(process)
    assert sorted(r.standby for r in reports) == [False, True]
    assert [c for c in fake.calls if c.method == "sendMessage" and not c.ok] == []
    assert sum(len(fake.messages(u)) for u in users) == len(users)
