"""The reminder job: one repeating JobQueue job plans slots, claims due rows and sends them.

Reminders live in the database (see :mod:`tutor.reminder_queue` for the delivery guarantee);
the job keeps nothing in memory that a restart could lose. Each run:

0. with several processes on one database, goes on only in the one holding the ``fanout``
   lease (:mod:`tutor.leases`): the bot's broadcast rate is that one process's;
1. releases rows claimed by a previous process (at the first run, and when the lease comes
   afresh: every claim older than that moment; later: claims older than the lease);
2. writes the daily-quiz slots of the next day (only new or changed ones);
3. claims due rows in batches and sends them through the shared rate-limited sender.

The reminder carries a "Start a quiz" button whose callback data is ``q:go``
(:func:`bot.callbacks.start_quiz`), handled by the quiz handlers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram.ext import Application, ContextTypes

from bot import reminder_text
from bot.bot_data import SERVICE_KEY
from bot.render import start_quiz_keyboard
from bot.sender import Delivery, Outcome, Outgoing, Sender, Sleep, Tally
from bot.settings import Settings
from tutor.clock import Clock
from tutor.leases import FANOUT, FanoutTurn, Lease
from tutor.reminder_queue import Claim, Reminder, ReminderQueue
from tutor.reminders import NudgePlanner, ReminderKind
from tutor.service import TutorService
from tutor.students import StudentStatus

log = logging.getLogger("bot.reminders")

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
RUNNER_KEY = "reminder_runner"
SENDER_KEY = "fanout_sender"
LEASE_KEY = "fanout_lease"
JOB_NAME = "reminders"
DEFAULT_INTERVAL = 30.0
LEASE = timedelta(minutes=10)
BATCH = 200


@dataclass
class TickReport:
    """What one run of the job did."""

    requeued: int = 0
    recovered_skipped: int = 0
    planned: int = 0
    claimed: int = 0
    settled_without_send: int = 0
    tally: Tally | None = None
    busy: bool = False
    standby: bool = False
    """Another process holds the fan-out lease: it sends, this one waits."""


def fanout_lease(application: AnyApplication, service: TutorService) -> Lease:
    """The application's hold on the ``fanout`` lease (created on first use), shared by
    every job that sends to many, so only one process on the database fans out."""
    existing = application.bot_data.get(LEASE_KEY)
    if isinstance(existing, Lease):
        return existing
    lease = Lease(service.db, FANOUT, clock=service.now)
    application.bot_data[LEASE_KEY] = lease
    return lease


def shared_sender(
    application: AnyApplication,
    service: TutorService,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Sleep = asyncio.sleep,
    **options: Any,
) -> Sender:
    """The application's one fan-out sender (created on first use), so limits are global."""
    existing = application.bot_data.get(SENDER_KEY)
    if isinstance(existing, Sender):
        return existing

    async def blocked(user_id: int) -> None:
        await service.set_status(user_id, StudentStatus.BLOCKED)

    sender = Sender(application.bot, on_blocked=blocked, clock=clock, sleep=sleep, **options)
    application.bot_data[SENDER_KEY] = sender
    return sender


class ReminderRunner:
    """Plans, claims and sends reminders; one run at a time."""

    def __init__(
        self,
        queue: ReminderQueue,
        sender: Sender,
        *,
        nudge_planner: NudgePlanner | None = None,
        batch: int = BATCH,
        lease: timedelta = LEASE,
        plan_every: timedelta = timedelta(minutes=1),
        nudge_every: timedelta = timedelta(minutes=15),
        fanout: Lease | None = None,
    ) -> None:
        self.queue = queue
        self.turn = FanoutTurn(fanout, queue.now())
        self.sender = sender
        self.nudge_planner = nudge_planner
        self.batch = batch
        self.lease = lease
        self.plan_every = plan_every
        self.nudge_every = nudge_every
        self._last_nudge_plan: datetime | None = None
        self._last_plan: datetime | None = None
        self._lock = asyncio.Lock()

    async def tick(self) -> TickReport:
        """One run of the job (returns at once with ``busy`` if a run is still going)."""
        report = TickReport()
        if self._lock.locked():
            report.busy = True
            return report
        async with self._lock:
            if not await self.turn.hold(self.queue.now()):
                report.standby = True
                return report
            now = self.queue.now()
            cutoff = self.turn.stale_before(now, self.lease)
            report.requeued, report.recovered_skipped = await self.queue.recover(cutoff)
            if self._last_plan is None or now - self._last_plan >= self.plan_every:
                report.planned = await self.queue.plan_daily()
                self._last_plan = now
            if self.nudge_planner is not None and (
                self._last_nudge_plan is None or now - self._last_nudge_plan >= self.nudge_every
            ):
                report.planned += await self._plan_nudges()
                self._last_nudge_plan = now
            report.tally = Tally()
            while True:
                claim = await self.queue.claim(self.batch)
                if not claim.to_send and not claim.settled:
                    break
                report.claimed += len(claim.to_send) + len(claim.settled)
                report.settled_without_send += len(claim.settled)
                _merge(report.tally, await self.deliver(claim))
        return report

    async def _plan_nudges(self) -> int:
        assert self.nudge_planner is not None
        students = await self.queue.active_students()
        return await self.queue.plan_nudges(self.nudge_planner, students)

    async def deliver(self, claim: Claim) -> Tally:
        """Send a claimed batch; each row is marked started before, settled right after."""
        sent: list[int] = []  # delivered, not yet committed as sent (see ReminderQueue.advance)

        async def before(outgoing: Outgoing) -> bool:
            # Take the marks before awaiting: sends run concurrently, and another before()
            # flushing the same list meanwhile must neither repeat nor drop any of them.
            done = sent.copy()
            sent.clear()
            try:
                if self.turn.fanout is not None and not await self.turn.fanout.hold():
                    # Lost the lease (stuck past it): the new holder sends the rest.
                    await self.queue.advance(None, done)
                    return False
                return await self.queue.advance(int(str(outgoing.key)), done)
            except BaseException:
                sent[:0] = done  # not committed: the next flush carries them
                raise

        async def after(delivery: Delivery) -> None:
            key = int(str(delivery.outgoing.key))
            if delivery.outcome is Outcome.SENT:
                sent.append(key)
            elif delivery.outcome is not Outcome.SKIPPED:  # skipped: no longer claimed
                await self.queue.mark_failed(key, delivery.detail)

        tally = await self.sender.send_all(
            (outgoing_for(reminder) for reminder in claim.to_send), before=before, after=after
        )
        if sent:
            await self.queue.advance(None, sent)
        return tally

    async def send_slot(self, kind: ReminderKind, slot: str) -> Tally:
        """Claim and send every due row of one slot (an announcement), now.

        Runs beside the periodic job (claims never overlap; the shared sender keeps the
        combined rate within the limits). In a process without the fan-out lease it sends
        nothing: the holder's next run sends the rows (they are due now).
        """
        tally = Tally()
        if self.turn.fanout is not None and not await self.turn.fanout.hold():
            return tally
        while True:
            claim = await self.queue.claim(self.batch, kind=kind, slot=slot)
            if not claim.to_send and not claim.settled:
                break
            _merge(tally, await self.deliver(claim))
        return tally


def outgoing_for(reminder: Reminder) -> Outgoing:
    """The message of a reminder: text, and the "Start a quiz" button (not on announcements)."""
    keyboard = None
    if reminder.kind is not ReminderKind.ANNOUNCE:
        keyboard = start_quiz_keyboard(reminder.student.language)
    return Outgoing(
        key=reminder.id,
        chat_id=reminder.student.chat_id,
        user_id=reminder.student.id,
        text=reminder_text.render(reminder),
        keyboard=keyboard,
    )


def _merge(total: Tally, part: Tally) -> None:
    total.sent += part.sent
    total.blocked += part.blocked
    total.failed += part.failed
    total.skipped += part.skipped
    total.flood_waits += part.flood_waits
    total.deliveries.extend(part.deliveries)


def build_runner(
    application: AnyApplication,
    settings: Settings,
    *,
    clock: Clock | None = None,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Sleep = asyncio.sleep,
    nudge_planner: NudgePlanner | None = None,
    **sender_options: Any,
) -> ReminderRunner:
    """The application's reminder runner (created once, kept in ``bot_data``)."""
    existing = application.bot_data.get(RUNNER_KEY)
    if isinstance(existing, ReminderRunner):
        return existing
    service = application.bot_data[SERVICE_KEY]
    assert isinstance(service, TutorService)
    queue = ReminderQueue(
        service.db, clock=clock or service.now, max_per_day=settings.max_reminders_per_day
    )
    sender_options.setdefault("rate", settings.broadcast_rate)
    sender_options.setdefault("paid", settings.allow_paid_broadcast)
    sender = shared_sender(application, service, clock=monotonic, sleep=sleep, **sender_options)
    runner = ReminderRunner(
        queue, sender, nudge_planner=nudge_planner, fanout=fanout_lease(application, service)
    )
    application.bot_data[RUNNER_KEY] = runner
    return runner


def schedule_reminders(
    application: AnyApplication,
    settings: Settings,
    *,
    interval: float = DEFAULT_INTERVAL,
    first: float = 5.0,
    clock: Clock | None = None,
    nudge_planner: NudgePlanner | None = None,
) -> ReminderRunner:
    """Add the repeating reminder job to the application's JobQueue; returns its runner."""
    runner = build_runner(application, settings, clock=clock, nudge_planner=nudge_planner)
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError(
            "the application has no JobQueue (install python-telegram-bot[job-queue])"
        )

    async def run(context: ContextTypes.DEFAULT_TYPE) -> None:
        report = await runner.tick()
        if report.standby:
            log.debug("reminders: another process holds the fan-out lease")
        if report.tally and (report.tally.deliveries or report.claimed):
            log.info(
                "reminders: %d claimed, %d sent, %d blocked, %d failed, %d not sent by rule",
                report.claimed,
                report.tally.sent,
                report.tally.blocked,
                report.tally.failed,
                report.settled_without_send,
            )

    job_queue.run_repeating(run, interval=interval, first=first, name=JOB_NAME)
    return runner
