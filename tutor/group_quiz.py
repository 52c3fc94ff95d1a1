"""Group quizzes: questions chosen for the members, asked as polls, answers logged per member.

A quiz lives in the database and moves in *steps*; each step is claimed by one conditional
row update (:func:`storage.group_quizzes.claim_step`), so a periodic job, a command handler
and a second process never take the same step, and a restart continues where the quiz was:

1. close the poll that is out (its time is up: Telegram closed it) and tally it, or mark a
   poll whose send never finished as lost (it is never sent again);
2. end the quiz when every question was asked (with the members' scores), or choose the
   next item with the group policy over the recent members' learner models and write its
   poll ('sending') before the bot sends it; :meth:`GroupQuizzes.sent` then opens it.

Every member's answer (:meth:`GroupQuizzes.answer`) is logged as that member's attempt by
the same steps as a private answer (:func:`tutor.answer_log.log_answer`), exactly once.
"""

from __future__ import annotations

import enum
import functools
import random
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from storage import Connection, Database
from storage import attempts as attempt_rows
from storage import content as content_rows
from storage import group_quizzes as quiz_rows
from storage import groups as group_rows
from storage import users as user_rows
from storage.database import run_sync
from storage.group_quizzes import PollRow, QuizRow
from tutor.answer_log import log_answer, ready
from tutor.clock import Clock, exam_instant, local_day_start, require_utc, to_millis, utc_now
from tutor.convert import item_from_record, student_from_record
from tutor.grading import TRUE_FALSE_CHOICES, Marked
from tutor.groups import (
    MAX_GROUP_QUIZ,
    Group,
    NoGroupDecks,
    NothingToAsk,
    QuizRunning,
    UnknownGroup,
    group_from_record,
)
from tutor.item_cache import ItemCache
from tutor.items import Item, ItemKind
from tutor.learner import MemoryModel, last_seen_map
from tutor.policy.group import GroupChoice, GroupReason, GroupSettings
from tutor.policy.group_plan import Member, pick_group_quiz, recent_weights
from tutor.polls import PollForm, poll_form, pollable

LEASE = timedelta(minutes=2)
"""A claimed step not finished by then is taken over (its claimer died)."""
CLOSE_GRACE = timedelta(seconds=1)
"""A poll's results are read this long after it closes (Telegram closes it on its clock)."""
RETRY_AFTER_FAILURE = timedelta(seconds=5)
RECENT = timedelta(days=14)
"""Members who answered in the group this recently are the audience a question is chosen for."""
MAX_MEMBERS = 50
ATTENDANCE_QUIZZES = 14
CHOICES = 6
"""Items the policy ranks per question: the first that makes a poll is asked."""


class AnswerOutcome(enum.StrEnum):
    """What became of a member's poll answer."""

    LOGGED = "logged"
    DUPLICATE = "duplicate"
    UNKNOWN_POLL = "unknown_poll"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class PollResult:
    """How the members did on a poll that closed."""

    number: int
    total: int
    answered: int
    correct: int
    right_option: str
    true_false: bool
    reason: GroupReason | None = None
    count: int = 0
    audience: int = 0


@dataclass(frozen=True, slots=True)
class PollToSend:
    """A poll written ('sending') for the bot to send now. For a true/false item the
    options are ``("true", "false")``, for the bot to show in the group's language."""

    row_id: int
    number: int
    total: int
    question: str
    options: tuple[str, ...]
    correct: int
    explanation: str
    open_seconds: int
    true_false: bool
    reason: GroupReason
    count: int
    audience: int


@dataclass(frozen=True, slots=True)
class QuizEnd:
    """A quiz that finished: each member's (first name, right, answered), best first."""

    scores: list[tuple[str, int, int]]
    asked: int
    ran_out: bool


@dataclass(frozen=True, slots=True)
class Step:
    """What the bot sends for one step: a poll's result line, then the next poll or the
    quiz's end (result and ranking in one message)."""

    quiz_id: int
    chat_id: int
    language: str
    result: PollResult | None = None
    poll: PollToSend | None = None
    end: QuizEnd | None = None
    topic_id: int | None = None
    """The forum topic the quiz runs in (None: the group's main chat)."""


@dataclass(frozen=True, slots=True)
class Started:
    """A quiz started in a group."""

    quiz_id: int
    group: Group
    planned: int


class GroupQuizzes:
    """Group quizzes on one database with one memory model."""

    def __init__(
        self,
        db: Database,
        memory: MemoryModel,
        *,
        clock: Clock = utc_now,
        seed: int = 0,
        default_timezone: str = "UTC",
    ) -> None:
        self.db = db
        self.memory = memory
        self._clock = clock
        self.seed = seed
        self.default_timezone = default_timezone
        self.items = ItemCache()

    def now(self) -> datetime:
        """The injected clock (aware UTC)."""
        return require_utc(self._clock())

    # -- starting and stopping ------------------------------------------------------------------

    async def start(
        self,
        chat_id: int,
        planned: int | None = None,
        kind: str = "command",
        topic_id: int | None = None,
    ) -> Started:
        """Start a quiz of ``planned`` questions (default: the daily length) in the group, in
        forum topic ``topic_id`` (None: the main chat).

        Raises UnknownGroup, NoGroupDecks, NothingToAsk (no item of its decks makes a poll)
        or QuizRunning.
        """
        async with self.db.read() as conn:
            record = await group_rows.group_by_chat(conn, chat_id)
            decks = await group_rows.deck_ids(conn, record.id) if record else []
        if record is None or not record.active:
            raise UnknownGroup(str(chat_id))
        group = group_from_record(record, tuple(decks))
        if not decks:
            raise NoGroupDecks()
        if not any(pollable(item) for item in await self._items(decks)):
            raise NothingToAsk()
        length = max(1, min(planned or group.daily_length, MAX_GROUP_QUIZ))
        async with self.db.transaction() as conn:
            quiz_id = await quiz_rows.start_quiz(
                conn, group.id, kind, length, to_millis(self.now()), topic_id
            )
        if quiz_id is None:
            raise QuizRunning()
        return Started(quiz_id, group, length)

    async def stop(self, chat_id: int) -> bool:
        """Stop the group's running quiz (the poll out stays, its answers still count)."""
        now_ms = to_millis(self.now())
        async with self.db.transaction() as conn:
            record = await group_rows.group_by_chat(conn, chat_id)
            return record is not None and await quiz_rows.stop_group(conn, record.id, now_ms) > 0

    async def due(self, stale_before: datetime, limit: int = 100) -> list[int]:
        """Quizzes whose next step is due now (claims older than ``stale_before`` are over)."""
        async with self.db.read() as conn:
            return await quiz_rows.due_quizzes(
                conn, to_millis(self.now()), to_millis(stale_before), limit
            )

    # -- steps ------------------------------------------------------------------------------------

    async def step(self, quiz_id: int, stale_before: datetime | None = None) -> Step | None:
        """Take the quiz's due step (see the module); None if it is not due or not ours."""
        now = self.now()
        now_ms = to_millis(now)
        stale = to_millis(stale_before if stale_before is not None else now - LEASE)
        async with self.db.transaction() as conn:
            quiz = await quiz_rows.claim_step(conn, quiz_id, now_ms, stale)
            if quiz is None:
                return None
            record = await group_rows.get_group(conn, quiz.group_id)
            assert record is not None
            if not record.active:
                await quiz_rows.end_quiz(conn, quiz.id, quiz_rows.STOPPED, now_ms)
                return None
            decks = await group_rows.deck_ids(conn, record.id)
            result = await self._settle_last(conn, quiz)
            end = None
            if quiz.asked >= quiz.planned:
                end = await self._end(conn, quiz, now_ms, ran_out=False)
        group = group_from_record(record, tuple(decks))
        base = Step(quiz.id, group.chat_id, group.language, result=result, topic_id=quiz.topic_id)
        if end is not None:
            return replace(base, end=end)
        chosen = await self._choose(group, quiz, now)
        async with self.db.transaction() as conn:
            if chosen is None:
                end = await self._end(conn, quiz, now_ms, ran_out=True)
                return replace(base, end=end)
            item, form, choice = chosen
            why = f"{choice.reason.value}:{choice.count}:{choice.audience}"
            row = await quiz_rows.add_poll(
                conn, quiz.id, item.id, form.options, form.correct, why, now_ms
            )
        poll = PollToSend(
            row_id=row.id,
            number=row.number,
            total=quiz.planned,
            question=form.question,
            options=form.options,
            correct=form.correct,
            explanation=form.explanation,
            open_seconds=group.question_seconds,
            true_false=item.kind is ItemKind.TRUE_FALSE,
            reason=choice.reason,
            count=choice.count,
            audience=choice.audience,
        )
        return replace(base, poll=poll)

    async def _settle_last(self, conn: Connection, quiz: QuizRow) -> PollResult | None:
        """Close the poll that is out and tally it; a poll left 'sending' is lost."""
        last = await quiz_rows.last_poll(conn, quiz.id)
        if last is None:
            return None
        if last.status == quiz_rows.SENDING:
            await quiz_rows.set_poll_status(conn, last.id, quiz_rows.LOST)
            return None
        if last.status != quiz_rows.OPEN:
            return None
        await quiz_rows.set_poll_status(conn, last.id, quiz_rows.CLOSED)
        answered, correct = await quiz_rows.poll_tally(conn, last.id)
        reason, count, audience = _why(last.reason)
        return PollResult(
            number=last.number,
            total=quiz.planned,
            answered=answered,
            correct=correct,
            right_option=last.options[last.correct],
            true_false=last.options == TRUE_FALSE_CHOICES,
            reason=reason,
            count=count,
            audience=audience,
        )

    async def _end(self, conn: Connection, quiz: QuizRow, now_ms: int, *, ran_out: bool) -> QuizEnd:
        await quiz_rows.end_quiz(conn, quiz.id, quiz_rows.FINISHED, now_ms)
        scores = await quiz_rows.quiz_scores(conn, quiz.id)
        return QuizEnd(scores, await quiz_rows.shown_polls(conn, quiz.id), ran_out)

    async def sent(self, poll: PollToSend, poll_id: str, message_id: int) -> None:
        """Telegram showed the poll: it is open for its time, then the next step is due."""
        now = self.now()
        closes = now + timedelta(seconds=poll.open_seconds)
        async with self.db.transaction() as conn:
            await quiz_rows.poll_sent(
                conn, poll.row_id, poll_id, message_id, to_millis(now), to_millis(closes)
            )
            quiz_id = await quiz_rows.quiz_of_poll(conn, poll.row_id)
            if quiz_id is not None:
                await quiz_rows.release(conn, quiz_id, to_millis(closes + CLOSE_GRACE))

    async def topic_gone(self, step: Step) -> None:
        """The step's forum topic was deleted or closed: the quiz, and the group's daily
        quizzes if they went there, carry on in the main chat."""
        async with self.db.transaction() as conn:
            await quiz_rows.clear_topic(conn, step.quiz_id)
            quiz = await quiz_rows.get_quiz(conn, step.quiz_id)
            record = await group_rows.get_group(conn, quiz.group_id) if quiz else None
            if record is not None and record.topic_id == step.topic_id:
                await group_rows.update_group(conn, record.id, topic_id=None)

    async def failed(self, step: Step, *, gone: bool) -> None:
        """The step's message could not be sent: its poll is lost; the quiz goes on a little
        later, or stops for good when the bot can no longer write to the group (``gone``)."""
        now = self.now()
        async with self.db.transaction() as conn:
            if step.poll is not None:
                await quiz_rows.set_poll_status(conn, step.poll.row_id, quiz_rows.LOST)
            if gone:
                await quiz_rows.end_quiz(conn, step.quiz_id, quiz_rows.STOPPED, to_millis(now))
            else:
                await quiz_rows.release(conn, step.quiz_id, to_millis(now + RETRY_AFTER_FAILURE))

    # -- choosing ---------------------------------------------------------------------------------

    async def _items(self, deck_ids: Sequence[int]) -> list[Item]:
        """The live items of the decks, in deck order."""
        found: list[Item] = []
        async with self.db.read() as conn:
            for deck_id in deck_ids:
                rows = await run_sync(conn, functools.partial(_deck_rows, deck_id=deck_id))
                found.extend(self.items.items(rows))
        return found

    async def _choose(
        self, group: Group, quiz: QuizRow, now: datetime
    ) -> tuple[Item, PollForm, GroupChoice] | None:
        """The next item for the group with its poll, by the group policy over the members'
        learner models; None when no item is left to ask."""
        items = await self._items(group.deck_ids)
        candidates = [item for item in items if pollable(item)]
        if not candidates:
            return None
        await ready(self.memory)  # never load the model while holding the database
        ids = [item.id for item in candidates]
        day_start = to_millis(local_day_start(now, group.timezone))
        async with self.db.read() as conn:
            recent = await group_rows.recent_members(
                conn, group.id, to_millis(now - RECENT), MAX_MEMBERS
            )
            quizzes, attended = await quiz_rows.attendance(conn, group.id, ATTENDANCE_QUIZZES)
            this_quiz = await quiz_rows.quiz_items(conn, quiz.id)
            today = await quiz_rows.asked_items_since(conn, group.id, day_start)
        weights = recent_weights(
            {uid: [q in attended.get(uid, set()) for q in quizzes] for uid, _ in recent}
        )
        members = []
        for user_id, _ in recent:
            # One member at a time: the database is free between them.
            async with self.db.read() as conn:
                memories = await attempt_rows.memory_of(conn, user_id, ids)
                predictor = await self.memory.predictor(conn, user_id, candidates, memories)
            members.append(Member(predictor, last_seen_map(memories), weights[user_id]))
        exam = group.exam_date
        settings = GroupSettings(exam_at=exam_instant(exam, group.timezone) if exam else None)
        number = len(this_quiz) + 1
        rng = np.random.default_rng([self.seed, group.id, quiz.id, number])
        by_deck: dict[int, list[Item]] = {}
        for item in items:
            by_deck.setdefault(item.deck_id, []).append(item)
        by_id = {item.id: item for item in candidates}
        # Not what this quiz asked, nor (while there is other work) what the group saw today.
        for asked in ([*reversed(today), *this_quiz], this_quiz):
            choices = pick_group_quiz(
                members,
                candidates,
                CHOICES,
                now,
                rng,
                per_day=float(group.daily_length),
                settings=settings,
                asked=asked,
            )
            for choice in choices:
                item = by_id[choice.item_id]
                shuffle = random.Random(f"{self.seed}:{quiz.id}:{number}:{item.id}")
                form = poll_form(item, by_deck[item.deck_id], shuffle, TRUE_FALSE_CHOICES)
                if form is not None:
                    return item, form, choice
        return None

    # -- answers --------------------------------------------------------------------------------

    async def answer(
        self,
        poll_id: str,
        user_id: int,
        first_name: str,
        language: str,
        option_ids: Sequence[int],
    ) -> AnswerOutcome:
        """Log a member's answer to a group poll as their own attempt, exactly once.

        A member who never started the bot gets a user row (``private_chat`` 0, so nothing is
        ever sent to them privately until they /start). An answer Telegram took after our
        own close still counts: Telegram decides when a poll is closed.
        """
        if not option_ids:
            return AnswerOutcome.IGNORED  # a retracted vote: quizzes have none
        async with self.db.read() as conn:
            found = await quiz_rows.poll_by_telegram_id(conn, poll_id)
        if found is None:
            return AnswerOutcome.UNKNOWN_POLL
        poll, group_id = found
        option = int(option_ids[0])
        if not 0 <= option < len(poll.options):
            return AnswerOutcome.IGNORED
        await ready(self.memory)  # outside the transaction: the first load takes seconds
        now = self.now()
        now_ms = to_millis(now)
        correct = option == poll.correct
        async with self.db.transaction() as conn:
            await group_rows.ensure_user(
                conn, user_id, first_name, language, self.default_timezone, now_ms
            )
            if not await quiz_rows.add_answer(conn, poll.id, user_id, option, correct, now_ms):
                return AnswerOutcome.DUPLICATE
            record = await content_rows.get_item(conn, poll.item_id)
            user = await user_rows.get_user(conn, user_id)
            if record is None or user is None:  # the item was deleted since: ranking only
                await group_rows.touch_member(conn, group_id, user_id, now_ms)
                return AnswerOutcome.LOGGED

            async def finish(c: Connection) -> None:
                await group_rows.touch_member(c, group_id, user_id, now_ms)

            await log_answer(
                conn,
                self.memory,
                student_from_record(user),
                item_from_record(record),
                Marked(correct, None, poll.options[option]),
                key=f"gp{poll.id}:{user_id}",
                latency_ms=max(0, now_ms - poll.created_ms),
                now=now,
                finish=finish,
            )
        return AnswerOutcome.LOGGED


def _why(text: str) -> tuple[GroupReason | None, int, int]:
    """A poll's stored reason, ``reason:count:audience``."""
    name, _, rest = text.partition(":")
    count, _, audience = rest.partition(":")
    try:
        return GroupReason(name), int(count), int(audience)
    except ValueError:
        return None, 0, 0


def _deck_rows(raw: sqlite3.Connection, deck_id: int) -> list[tuple[Any, ...]]:
    return content_rows.read_deck_item_rows(raw, deck_id)


__all__ = [
    "AnswerOutcome",
    "GroupQuizzes",
    "PollResult",
    "PollRow",
    "PollToSend",
    "QuizEnd",
    "Started",
    "Step",
]
