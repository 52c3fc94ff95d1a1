"""The group quiz job: daily group quizzes started on time, and every running quiz stepped.

One repeating JobQueue job (:func:`schedule_group_quizzes`) keeps nothing in memory that a
restart could lose; each run:

1. writes the daily slots of the next day for groups with a daily quiz time (every minute);
2. claims due slots, which starts their quizzes (at most once per slot, see
   :mod:`tutor.group_schedule`);
3. takes the due step of every running quiz (:mod:`tutor.group_quiz`): a poll's one result
   line once it closed, then the next poll, or the quiz's ranking after the last.

Messages to groups go through the application's limiter (twenty a minute per group, a 429
holds only that group) and, for the whole bot, the reminders' pacer (29 a second): a
thousand groups whose quiz falls in the same minute never exceed Telegram's limits. A quiz
sends two messages per question (the poll and its result line, the last one merged with the
ranking), never one per answer.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError
from telegram.ext import Application, ContextTypes

from bot.bot_data import SERVICE_KEY
from bot.group_text import poll_labels, poll_question, step_text
from bot.reminders import fanout_lease, shared_sender
from bot.sender import Pacer
from bot.settings import Settings
from tutor.group_quiz import LEASE, Step
from tutor.leases import FanoutTurn, Lease
from tutor.service import TutorService

log = logging.getLogger("bot.group_quizzes")

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
RUNNER_KEY = "group_quiz_runner"
JOB_NAME = "group_quizzes"
DEFAULT_INTERVAL = 5.0
_TOPIC_GONE = ("thread not found", "topic_closed", "topic_deleted")
IN_FLIGHT = 64
"""Steps taken at once (each waits for its turn at the pacer)."""


class _Gone(Exception):
    """The bot can no longer write to the group (removed from it)."""


@dataclass
class GroupTick:
    """What one run of the job did."""

    planned: int = 0
    started: int = 0
    skipped: int = 0
    steps: int = 0
    polls: int = 0
    busy: bool = False
    standby: bool = False
    """Another process holds the fan-out lease: it runs the group quizzes."""
    skipped_reasons: list[str] = field(default_factory=list)


class GroupQuizRunner:
    """Starts daily group quizzes and takes every due quiz step; one run at a time."""

    def __init__(
        self,
        service: TutorService,
        bot: Bot,
        pacer: Pacer,
        *,
        lease: timedelta = LEASE,
        plan_every: timedelta = timedelta(minutes=1),
        in_flight: int = IN_FLIGHT,
        fanout: Lease | None = None,
        paid: bool = False,
    ) -> None:
        self.service = service
        self.turn = FanoutTurn(fanout, service.now())
        self.paid = paid
        self.bot = bot
        self.pacer = pacer
        self.lease = lease
        self.plan_every = plan_every
        self.in_flight = in_flight
        self._last_plan: datetime | None = None
        self._lock = asyncio.Lock()

    async def tick(self) -> GroupTick:
        """One run of the job (returns at once with ``busy`` if a run is still going)."""
        report = GroupTick()
        if self._lock.locked():
            report.busy = True
            return report
        async with self._lock:
            if not await self.turn.hold(self.service.now()):
                report.standby = True
                return report
            now = self.service.now()
            if self._last_plan is None or now - self._last_plan >= self.plan_every:
                report.planned = await self.service.group_schedule.plan()
                self._last_plan = now
            # Every due slot now: a thousand groups at 18:00 all start in this run.
            while outcomes := await self.service.group_schedule.claim():
                for outcome in outcomes:
                    if outcome.quiz_id is not None:
                        report.started += 1
                    else:
                        report.skipped += 1
                        report.skipped_reasons.append(outcome.reason)
            stale = self.turn.stale_before(self.service.now(), self.lease)
            limit = asyncio.Semaphore(self.in_flight)

            async def one(quiz_id: int) -> None:
                async with limit:
                    if self.turn.fanout is not None and not await self.turn.fanout.hold():
                        return  # lost the lease during a long run: the new holder goes on
                    if await self.run_step(quiz_id, stale):
                        report.polls += 1
                    report.steps += 1

            while due := await self.service.group_quizzes.due(stale, limit=500):
                await asyncio.gather(*(one(quiz_id) for quiz_id in due))
        return report

    async def run_step(self, quiz_id: int, stale_before: datetime | None = None) -> bool:
        """Take the quiz's due step and send its messages; True if a poll went out."""
        quizzes = self.service.group_quizzes
        step = await quizzes.step(quiz_id, stale_before)
        if step is None:
            return False
        try:
            text = step_text(step)
            chat_id = step.chat_id
            if text:
                sent = await self._send(step, chat_id, "text", text)
                if sent is not None:  # where it went: maybe a supergroup, or out of a topic
                    chat_id = sent.chat_id
                    step = replace(
                        step, topic_id=sent.message_thread_id if sent.is_topic_message else None
                    )
            if step.poll is None:
                return False
            message = await self._send(step, chat_id, "poll", "")
        except _Gone:
            await self.service.groups.left(step.chat_id)
            await quizzes.failed(step, gone=True)
            return False
        if message is None or message.poll is None:
            await quizzes.failed(step, gone=False)
            return False
        await quizzes.sent(step.poll, message.poll.id, message.message_id)
        return True

    def _paid(self) -> dict[str, Any]:
        """``allow_paid_broadcast`` when the operator allowed rates above the free limit."""
        return {"allow_paid_broadcast": True} if self.paid else {}

    async def _send(self, step: Step, chat_id: int, kind: str, text: str) -> Message | None:
        """Send a text or the step's poll to the group, in the quiz's forum topic: paced,
        followed to a supergroup once, to the main chat once the topic is gone; None after
        any other refusal (logged)."""
        topic = step.topic_id
        for _ in range(3):
            await self.pacer.turn(chat_id)
            try:
                if kind == "text":
                    return await self.bot.send_message(
                        chat_id,
                        text,
                        parse_mode="HTML",
                        message_thread_id=topic,
                        **self._paid(),
                    )
                poll = step.poll
                assert poll is not None
                return await self.bot.send_poll(
                    chat_id,
                    poll_question(poll),
                    list(poll_labels(step.language, poll.options, poll.true_false)),
                    is_anonymous=False,
                    type="quiz",
                    correct_option_ids=[poll.correct],  # type: ignore[list-item]
                    explanation=poll.explanation or None,
                    open_period=poll.open_seconds,
                    message_thread_id=topic,
                    **self._paid(),
                )
            except BadRequest as error:
                if topic is None or not _topic_gone(error):
                    log.warning("group %s: %s not sent: %s", chat_id, kind, error.message)
                    return None
                log.info("group %s: topic %s is gone (%s)", chat_id, topic, error.message)
                await self.service.group_quizzes.topic_gone(step)
                topic = None
            except ChatMigrated as moved:
                log.info("group %s is now supergroup %s", chat_id, moved.new_chat_id)
                await self.service.groups.migrated(chat_id, moved.new_chat_id)
                chat_id = moved.new_chat_id
            except Forbidden as error:
                log.info("group %s: the bot can no longer write there (%s)", chat_id, error)
                raise _Gone from error
            except TelegramError as error:
                log.warning("group %s: %s not sent: %s", chat_id, kind, error.message)
                return None
        return None


def _topic_gone(error: BadRequest) -> bool:
    """Telegram's refusals for a forum topic that was deleted or closed."""
    message = error.message.lower()
    return any(sign in message for sign in _TOPIC_GONE)


def build_group_runner(
    application: AnyApplication, settings: Settings, **pacing: Any
) -> GroupQuizRunner:
    """The application's group quiz runner (created once, kept in ``bot_data``); it shares
    the reminders' sender's pacer, so both together stay within the bot-wide rate."""
    existing = application.bot_data.get(RUNNER_KEY)
    if isinstance(existing, GroupQuizRunner):
        return existing
    service = application.bot_data[SERVICE_KEY]
    assert isinstance(service, TutorService)
    pacing.setdefault("rate", settings.broadcast_rate)
    pacing.setdefault("paid", settings.allow_paid_broadcast)
    sender = shared_sender(application, service, **pacing)
    runner = GroupQuizRunner(
        service,
        application.bot,
        sender.pacer,
        fanout=fanout_lease(application, service),
        paid=settings.allow_paid_broadcast,
    )
    application.bot_data[RUNNER_KEY] = runner
    return runner


def group_runner(application: AnyApplication) -> GroupQuizRunner | None:
    """The runner, if the application has one."""
    found = application.bot_data.get(RUNNER_KEY)
    return found if isinstance(found, GroupQuizRunner) else None


def schedule_group_quizzes(
    application: AnyApplication,
    settings: Settings,
    *,
    interval: float = DEFAULT_INTERVAL,
    first: float = 3.0,
) -> GroupQuizRunner:
    """Add the repeating group quiz job to the application's JobQueue; returns its runner."""
    runner = build_group_runner(application, settings)
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError(
            "the application has no JobQueue (install python-telegram-bot[job-queue])"
        )

    async def run(context: ContextTypes.DEFAULT_TYPE) -> None:
        report = await runner.tick()
        if report.standby:
            log.debug("group quizzes: another process holds the fan-out lease")
        if report.started or report.skipped or report.polls:
            log.info(
                "group quizzes: %d started, %d slots skipped, %d steps, %d polls",
                report.started,
                report.skipped,
                report.steps,
                report.polls,
            )

    job_queue.run_repeating(run, interval=interval, first=first, name=JOB_NAME)
    return runner
