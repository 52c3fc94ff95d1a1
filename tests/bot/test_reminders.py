"""The reminder job end to end: database rows, the rate-limited sender, the offline Bot API."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from telegram.ext import Application

from bot.bot_data import SERVICE_KEY
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.objects import FakeUser
from bot.reminders import ReminderRunner, build_runner
from bot.sender import Sender
from bot.settings import Settings
from storage import Database
from storage import reminders as reminder_rows
from storage import users as user_rows
from storage.records import UserRecord
from tests.conftest import FakeClock, virtual_time
from tests.tutor.conftest import sample_deck_bytes
from tutor.clock import to_millis
from tutor.reminder_queue import ReminderQueue
from tutor.service import TutorService
from tutor.students import QuietHours, StudentStatus

AnyApp = Application[Any, Any, Any, Any, Any, Any]


def settings(**overrides: Any) -> Settings:
    """Settings without environment or .env."""
    return Settings(_env_file=None, telegram_bot_token=None, **overrides)  # type: ignore[call-arg]


@pytest.fixture
async def app(fake_api: FakeBotApi, service: TutorService) -> AsyncIterator[AnyApp]:
    """A bare application on the fake (no handlers needed to send), with the service."""
    application = fake_api.application_builder().build()
    application.bot_data[SERVICE_KEY] = service
    async with application:
        yield application


def make_runner(
    app: AnyApp, clock: FakeClock, *, max_per_day: int = 2, **sender: Any
) -> ReminderRunner:
    monotonic, sleep = virtual_time(clock)
    sender.setdefault("max_in_flight", 1)
    return build_runner(
        app,
        settings(max_reminders_per_day=max_per_day),
        clock=clock,
        monotonic=monotonic,
        sleep=sleep,
        **sender,
    )


async def add_student(
    service: TutorService,
    fake: FakeBotApi,
    user_id: int,
    tz: str,
    at: time | None,
    quiet: str | None = None,
) -> None:
    fake.register_user(FakeUser(user_id, f"S{user_id}"))
    await service.register(user_id, user_id, f"S{user_id}", "en")
    await service.update_settings(
        user_id,
        timezone=tz,
        daily_quiz_time=at,
        quiet_hours=QuietHours.parse(quiet) if quiet else None,
    )


async def run_until(
    runner: ReminderRunner, clock: FakeClock, end: datetime, step: timedelta
) -> None:
    while clock() < end:
        await runner.tick()
        clock.advance(seconds=step.total_seconds())


def received(fake: FakeBotApi, chat_id: int) -> list[datetime]:
    return [datetime.fromtimestamp(m.date, UTC) for m in fake.messages(chat_id)]


async def test_daily_quiz_at_local_time_in_three_zones_across_dst(
    app: AnyApp, service: TutorService, fake_api: FakeBotApi, clock: FakeClock
) -> None:
    # Berlin moves its clocks forward on 2026-03-29; Shanghai has no DST.
    clock.set(datetime(2026, 3, 27, 0, 0, tzinfo=UTC))
    zones = {1: "Europe/Berlin", 2: "America/New_York", 3: "Asia/Shanghai"}
    for user_id, tz in zones.items():
        await add_student(service, fake_api, user_id, tz, time(8, 0))
    runner = make_runner(app, clock)
    await run_until(runner, clock, datetime(2026, 3, 31, 0, 0, tzinfo=UTC), timedelta(minutes=10))
    for user_id, tz in zones.items():
        local = [t.astimezone(ZoneInfo(tz)) for t in received(fake_api, user_id)]
        days = [t.date() for t in local]
        assert len(days) == len(set(days)), f"{tz}: two reminders on one day"
        assert len(days) >= 3
        for moment in local:
            assert (moment.hour, moment.minute // 5) == (8, 0), f"{tz}: sent at {moment}"
    berlin = received(fake_api, 1)
    assert (
        datetime(2026, 3, 28, 7, 0, tzinfo=UTC)
        <= berlin[1]
        < datetime(2026, 3, 28, 7, 5, tzinfo=UTC)
    )
    assert (
        datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
        <= berlin[2]
        < datetime(2026, 3, 29, 6, 5, tzinfo=UTC)
    )


async def test_reminder_says_what_is_due_and_carries_the_quiz_button(
    app: AnyApp, service: TutorService, fake_api: FakeBotApi, clock: FakeClock
) -> None:
    await service.import_file(sample_deck_bytes(), "sample.json")
    await add_student(service, fake_api, 7, "UTC", time(9, 30))
    await service.enrol(7, "sample")
    runner = make_runner(app, clock)
    await run_until(runner, clock, clock() + timedelta(hours=1), timedelta(minutes=1))
    [message] = fake_api.messages(7)
    assert "daily quiz" in message.plain
    assert "6 new to learn" in message.plain
    assert message.button_data == ["q:go"]


async def test_quiet_hours_pause_and_resume(
    app: AnyApp, service: TutorService, fake_api: FakeBotApi, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 3, 2, 0, 0, tzinfo=UTC))
    await add_student(service, fake_api, 5, "UTC", time(6, 30), quiet="22:00-07:00")
    runner = make_runner(app, clock)
    await run_until(runner, clock, datetime(2026, 3, 3, 0, 0, tzinfo=UTC), timedelta(minutes=10))
    [first] = received(fake_api, 5)
    assert first.replace(second=0) == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # quiet until 07:00

    await service.set_status(5, StudentStatus.PAUSED)
    await run_until(runner, clock, datetime(2026, 3, 4, 0, 0, tzinfo=UTC), timedelta(minutes=10))
    assert len(received(fake_api, 5)) == 1  # nothing while paused

    await service.set_status(5, StudentStatus.ACTIVE)
    await run_until(runner, clock, datetime(2026, 3, 5, 0, 0, tzinfo=UTC), timedelta(minutes=10))
    days = [t.date().isoformat() for t in received(fake_api, 5)]
    assert days == ["2026-03-02", "2026-03-04"]


async def test_no_reminder_once_the_daily_goal_is_met(
    app: AnyApp, service: TutorService, fake_api: FakeBotApi, clock: FakeClock
) -> None:
    await service.import_file(sample_deck_bytes(), "sample.json")
    await add_student(service, fake_api, 8, "UTC", time(12, 0))
    await service.enrol(8, "sample")
    await service.update_settings(8, daily_goal=1)
    question = await service.start_quiz(8, 1)
    assert question is not None
    from tutor.views import Answer

    await service.answer(8, question.id, Answer(text="x", choice=0))
    runner = make_runner(app, clock)
    await run_until(runner, clock, clock() + timedelta(hours=4), timedelta(minutes=2))
    assert fake_api.messages(8) == []
    async with service.db.read() as conn:
        [row] = await reminder_rows.rows_for_slot(conn, "daily", "2026-03-02")
    assert (row.status, row.detail) == ("skipped", "goal_met")


async def test_late_after_downtime_is_sent_once_if_useful(
    app: AnyApp, service: TutorService, fake_api: FakeBotApi, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 3, 2, 6, 0, tzinfo=UTC))
    await add_student(service, fake_api, 11, "UTC", time(7, 0))
    await add_student(service, fake_api, 12, "UTC", time(8, 30))
    runner = make_runner(app, clock)
    await runner.tick()  # plans both slots; then the bot is down from 06:00 to 10:00
    clock.set(datetime(2026, 3, 2, 10, 45, tzinfo=UTC))
    await runner.tick()
    await runner.tick()
    assert fake_api.messages(11) == []  # 3 h 45 late: skipped
    assert len(fake_api.messages(12)) == 1  # 2 h 15 late, same day: sent once


async def test_restart_in_the_middle_of_a_run_loses_nothing_and_repeats_nothing(
    fake_api: FakeBotApi, service: TutorService, clock: FakeClock, db_path: Path
) -> None:
    for user_id in range(1, 51):
        await add_student(service, fake_api, user_id, "UTC", time(9, 30))

    class Crash(BaseException):
        """The process dies."""

    first = fake_api.application_builder().build()
    first.bot_data[SERVICE_KEY] = service
    async with first:
        runner = make_runner(first, clock)
        await runner.tick()  # plan
        clock.set(datetime(2026, 3, 2, 9, 30, 1, tzinfo=UTC))
        real_advance = runner.queue.advance
        calls = 0

        async def dying_advance(started: int | None, sent: list[int]) -> bool:
            nonlocal calls
            calls += 1
            if calls == 22:  # message 21 reached the student; the process dies before noting it
                raise Crash
            return await real_advance(started, sent)

        runner.queue.advance = dying_advance  # type: ignore[method-assign]
        with pytest.raises(Crash):
            await runner.tick()
    assert len(fake_api.calls_of("sendMessage")) == 21

    # A new process on the same database file, once the dead one's fan-out lease ran out
    # (one on the same machine takes it at once, the pid gone: tests/tutor/test_leases.py).
    clock.advance(seconds=35)
    db2 = await Database.open(db_path)
    try:
        service2 = TutorService(db2, clock=clock)
        second = fake_api.application_builder().build()
        second.bot_data[SERVICE_KEY] = service2
        async with second:
            runner2 = make_runner(second, clock)
            report = await runner2.tick()
        assert (report.requeued, report.recovered_skipped) == (29, 1)
        for user_id in range(1, 51):
            assert len(fake_api.messages(user_id)) == 1, f"user {user_id}"
        async with db2.read() as conn:
            statuses = await reminder_rows.status_counts(conn, "daily", "2026-03-02")
        assert statuses == {("sent", ""): 49, ("skipped", "outcome unknown after a restart"): 1}
    finally:
        await db2.close()


async def test_ten_thousand_due_in_one_minute_all_sent_once_within_limits(
    app: AnyApp, service: TutorService, fake_api: FakeBotApi, clock: FakeClock
) -> None:
    n = 10_000
    now_ms = to_millis(clock())
    async with service.db.transaction() as conn:
        for user_id in range(1, n + 1):
            await user_rows.insert_user(
                conn,
                UserRecord(
                    user_id,
                    user_id,
                    f"S{user_id}",
                    "en",
                    "UTC",
                    "09:30",
                    None,
                    20,
                    10,
                    0.9,
                    "active",
                    True,
                    now_ms,
                    now_ms,
                ),
            )
    fake_api.require_known_chat = False
    fake_api.rate_limit(max_per_second=30, per_chat_per_second=1)
    runner = make_runner(app, clock)
    await runner.tick()
    clock.set(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    start = clock()
    report = await runner.tick()
    elapsed = (clock() - start).total_seconds()
    sends = fake_api.calls_of("sendMessage")
    assert report.tally is not None and report.tally.sent == n
    assert all(call.ok for call in sends), "a flood limit was hit"
    assert len(sends) == n
    assert len({call.chat_id for call in sends}) == n
    assert elapsed >= n / 30  # spread, not burst
    async with service.db.read() as conn:
        statuses = await reminder_rows.status_counts(conn, "daily", "2026-03-02")
    assert statuses == {("sent", ""): n}


async def test_flood_limit_is_honoured_and_the_message_still_sent(
    app: AnyApp, service: TutorService, fake_api: FakeBotApi, clock: FakeClock
) -> None:
    for user_id in (21, 22):
        await add_student(service, fake_api, user_id, "UTC", time(9, 30))
    fake_api.fail_next("sendMessage", 429, retry_after=7)
    runner = make_runner(app, clock)
    await runner.tick()
    clock.set(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    before = clock()
    report = await runner.tick()
    assert report.tally is not None
    assert (report.tally.sent, report.tally.flood_waits) == (2, 1)
    calls = fake_api.calls_of("sendMessage")
    assert [call.ok for call in calls] == [False, True, True]
    assert calls[0].chat_id == calls[1].chat_id  # the refused message was retried
    assert clock() - before >= timedelta(seconds=7)


async def test_forbidden_marks_the_student_blocked_until_they_write_again(
    app: AnyApp, service: TutorService, fake_api: FakeBotApi, clock: FakeClock
) -> None:
    await add_student(service, fake_api, 31, "UTC", time(9, 30))
    fake_api.block(31)
    runner = make_runner(app, clock)
    await run_until(runner, clock, clock() + timedelta(hours=2), timedelta(minutes=2))
    student = await service.student(31)
    assert student is not None and student.status is StudentStatus.BLOCKED
    async with service.db.read() as conn:
        [row] = await reminder_rows.rows_for_slot(conn, "daily", "2026-03-02")
    assert (row.status, row.detail) == ("failed", "blocked")
    tries = len(fake_api.calls_of("sendMessage"))
    await run_until(runner, clock, clock() + timedelta(days=2), timedelta(minutes=10))
    assert len(fake_api.calls_of("sendMessage")) == tries  # nothing more
    await service.register(31, 31, "S31", "en")  # they write to the bot again
    fake_api.blocked_chats.discard(31)
    assert (await service.student(31)).status is StudentStatus.ACTIVE  # type: ignore[union-attr]
    await run_until(runner, clock, clock() + timedelta(days=1), timedelta(minutes=10))
    assert len(fake_api.messages(31)) == 1


async def test_network_errors_are_retried_a_bounded_number_of_times(
    app: AnyApp,
    service: TutorService,
    fake_api: FakeBotApi,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await add_student(service, fake_api, 41, "UTC", time(9, 30))
    await add_student(service, fake_api, 42, "UTC", time(9, 30))
    fake_api.fail_next("sendMessage", "timeout", times=2, chat_id=41)
    fake_api.fail_next("sendMessage", "network", times=50, chat_id=42)
    runner = make_runner(app, clock, max_retries=3)
    await runner.tick()
    clock.set(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    with caplog.at_level(logging.ERROR, logger="bot.sender"):
        report = await runner.tick()
    assert report.tally is not None and (report.tally.sent, report.tally.failed) == (1, 1)
    assert len(fake_api.messages(41)) == 1
    assert len(fake_api.calls_of("sendMessage")) == 3 + 4  # 41: 2 fails + 1; 42: 1 + 3 retries
    assert any("42" in record.getMessage() for record in caplog.records)
    async with service.db.read() as conn:
        rows = await reminder_rows.rows_for_slot(conn, "daily", "2026-03-02")
    assert {(row.user_id, row.status) for row in rows} == {(41, "sent"), (42, "failed")}


async def test_concurrent_sender_spreads_within_limits(
    app: AnyApp, fake_api: FakeBotApi, clock: FakeClock
) -> None:
    from bot.sender import Outgoing

    fake_api.require_known_chat = False
    fake_api.rate_limit(max_per_second=30, per_chat_per_second=1)
    monotonic, sleep = virtual_time(clock)
    sender = Sender(app.bot, rate=25, max_in_flight=8, clock=monotonic, sleep=sleep)
    # Three messages to one chat among many others: at least a second between them.
    jobs = [Outgoing(i, 900 + (i % 100), 900 + (i % 100), f"hello {i}") for i in range(300)]
    tally = await sender.send_all(jobs)
    assert tally.sent == 300
    assert len(fake_api.messages(900)) == 3
    times = [m.date for m in fake_api.messages(900)]
    assert times == sorted(times) and times[-1] - times[0] >= 2


async def test_dry_run_lists_who_would_be_reminded(
    service: TutorService, fake_api: FakeBotApi, clock: FakeClock
) -> None:
    await add_student(service, fake_api, 51, "UTC", time(9, 20))
    await add_student(service, fake_api, 52, "Asia/Tokyo", time(18, 45))  # 09:45 UTC
    await add_student(service, fake_api, 53, "UTC", time(11, 0))
    await service.set_status(51, StudentStatus.PAUSED)
    queue = ReminderQueue(service.db, clock=clock)
    lines = await queue.dry_run(hours=1)
    assert [(line.user_id, line.verdict.split()[0]) for line in lines] == [(52, "send")]
    assert json.dumps([line.slot for line in lines]) == '["2026-03-02"]'


async def test_the_reminder_button_starts_a_quiz_in_the_real_bot(
    service: TutorService, fake_api: FakeBotApi, clock: FakeClock
) -> None:
    from bot.app import build_application
    from bot.fake_telegram.driver import ChatDriver
    from bot.reminders import JOB_NAME, schedule_reminders

    await service.import_file(sample_deck_bytes(), "sample.json")
    student = FakeUser(61, "Ada")
    await add_student(service, fake_api, student.id, "UTC", time(9, 30))
    await service.enrol(student.id, "sample")
    application = build_application(settings(), service, request=fake_api)
    runner = schedule_reminders(application, settings(), interval=30, first=3600)
    async with ChatDriver(application) as chat:
        [job] = application.job_queue.get_jobs_by_name(JOB_NAME)  # type: ignore[union-attr]
        assert job.trigger.interval == timedelta(seconds=30)  # type: ignore[union-attr]
        await runner.tick()
        clock.set(datetime(2026, 3, 2, 9, 30, 5, tzinfo=UTC))
        await runner.tick()
        reminder = chat.last(student)
        assert reminder.button_data == ["q:go"]
        turn = await chat.press(student, "q:go", message=reminder)
        assert any("Question 1/" in message.plain for message in turn.new)


async def test_a_changed_daily_time_moves_the_planned_slot(
    app: AnyApp, service: TutorService, fake_api: FakeBotApi, clock: FakeClock
) -> None:
    await add_student(service, fake_api, 71, "UTC", time(9, 30))
    runner = make_runner(app, clock)
    await runner.tick()  # 09:00: the 09:30 slot is planned
    await service.update_settings(71, daily_quiz_time=time(10, 0))
    await run_until(runner, clock, datetime(2026, 3, 2, 12, 0, tzinfo=UTC), timedelta(minutes=5))
    [sent] = received(fake_api, 71)
    assert sent.replace(second=0) == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


async def test_nudges_from_a_planner_follow_quiet_hours_and_the_daily_maximum(
    app: AnyApp, service: TutorService, fake_api: FakeBotApi, clock: FakeClock
) -> None:
    from tutor.students import Student

    class EveryEvening:
        """Asks for a nudge at 22:30 UTC, inside the student's quiet hours."""

        async def next_nudge(self, student: Student, now: datetime) -> datetime | None:
            return now.replace(hour=22, minute=30, second=0, microsecond=0)

    await add_student(service, fake_api, 81, "UTC", time(7, 30), quiet="22:00-07:00")
    runner = make_runner(app, clock, max_per_day=1)
    runner.nudge_planner = EveryEvening()
    await run_until(runner, clock, datetime(2026, 3, 3, 12, 0, tzinfo=UTC), timedelta(minutes=10))
    async with service.db.read() as conn:
        nudge = await reminder_rows.rows_for_slot(conn, "nudge", "2026-03-03")
    # The 22:30 nudge moved to 07:00 next morning; the daily quiz at 07:30 then hit the maximum.
    assert [(row.status, row.due_ms) for row in nudge] == [
        ("sent", to_millis(datetime(2026, 3, 3, 7, 0, tzinfo=UTC)))
    ]
    days = [t.isoformat(timespec="minutes") for t in received(fake_api, 81)]
    assert days == ["2026-03-03T07:00+00:00"]


async def test_concurrent_sends_record_every_reminder_sent(
    app: AnyApp, service: TutorService, fake_api: FakeBotApi, clock: FakeClock
) -> None:
    # Sends overlap (eight in flight) while the database is slow to confirm each one: every
    # "sent" mark must still land, none dropped by another send's flush.
    for user_id in range(300, 340):
        await add_student(service, fake_api, user_id, "UTC", time(9, 30))
    runner = make_runner(app, clock, max_in_flight=8)
    queue = runner.queue
    advance = queue.advance

    async def slow_advance(started: int | None, sent: list[int]) -> bool:
        for _ in range(3):
            await asyncio.sleep(0)
        return await advance(started, sent)

    queue.advance = slow_advance  # type: ignore[method-assign]
    await runner.tick()
    clock.set(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    report = await runner.tick()
    assert report.tally is not None and report.tally.sent == 40
    async with service.db.read() as conn:
        rows = await reminder_rows.rows_for_slot(conn, "daily", "2026-03-02")
    assert len(rows) == 40 and {row.status for row in rows} == {"sent"}


@pytest.mark.parametrize("paid", [False, True])
async def test_paid_broadcasts_are_asked_for_only_when_the_operator_allows_them(
    app: AnyApp, service: TutorService, fake_api: FakeBotApi, clock: FakeClock, paid: bool
) -> None:
    monotonic, sleep = virtual_time(clock)
    config = settings(allow_paid_broadcast=paid, broadcast_rate=200 if paid else 29)
    runner = build_runner(app, config, clock=clock, monotonic=monotonic, sleep=sleep)
    assert runner.sender.pacer.gap == pytest.approx(1 / config.broadcast_rate)
    for user_id in (1, 2):
        await add_student(service, fake_api, user_id, "UTC", time(9, 30))
    await runner.tick()
    clock.set(datetime(2026, 3, 2, 9, 30, 1, tzinfo=UTC))
    await runner.tick()
    calls = fake_api.calls_of("sendMessage")
    assert len(calls) == 2
    assert [call.params.get("allow_paid_broadcast") for call in calls] == [
        True if paid else None
    ] * 2
