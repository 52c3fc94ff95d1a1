"""Quiz sessions: choosing each question with the policy, marking and logging answers."""

from __future__ import annotations

import random
import sqlite3
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, NamedTuple

import numpy as np

from storage import Connection, Database
from storage import attempts as attempt_rows
from storage import content as content_rows
from storage import enrolments as enrolment_rows
from storage import quiz as quiz_rows
from storage.batch import Query, given, joined
from storage.database import in_one_trip, run_sync
from storage.dialect import POSTGRESQL
from storage.records import EnrolmentRecord, MemoryRecord, QuestionRecord, SessionRecord
from tutor.answer_log import Before, log_answer
from tutor.answered_before import feedback_again
from tutor.clock import exam_instant, local_day_start, to_millis, zone
from tutor.convert import item_from_record
from tutor.errors import NotEnrolled, QuestionNotFound, StaleQuestion
from tutor.grading import Marked, choice_order, mark
from tutor.item_cache import ItemCache
from tutor.items import Item
from tutor.learner import MemoryModel, last_seen_map
from tutor.model_reads import Observed, Prefetched
from tutor.new_items import NewItemRequests
from tutor.policy import Reason, SessionHistory, StudySettings, TodayCounts
from tutor.policy.plan import items_to_score, pick_next
from tutor.policy.types import RELEARN_GAP
from tutor.question_view import build_question, question_view
from tutor.students import Student
from tutor.views import (
    Answer,
    ChoiceReason,
    Feedback,
    Question,
    SessionProgress,
    StalledQuiz,
)

REASONS = {
    Reason.DUE_REVIEW: ChoiceReason.REVIEW,
    Reason.NEW_ITEM: ChoiceReason.NEW,
    Reason.RELEARN: ChoiceReason.RELEARN,
    Reason.EXAM_PRIORITY: ChoiceReason.EXAM,
    Reason.EXTRA_PRACTICE: ChoiceReason.PRACTICE,
}


MAX_ASKED = 4096  # questions whose items Quizzes keeps: one per student with one open
CHOICE_ATTEMPTS = 3
"""How often a question is chosen again when its item is deleted while it is chosen."""


class _ChosenItemGone(StaleQuestion):
    """The chosen item was deleted before its question was stored (nothing was written)."""


@dataclass(slots=True)
class Quizzes:
    """Runs quiz sessions on one database with one memory model."""

    db: Database
    memory: MemoryModel
    seed: int = 0
    items: ItemCache = field(default_factory=ItemCache)
    new_requests: NewItemRequests = field(default_factory=NewItemRequests)
    # items of the questions asked here: an answer reads what the model will with its look-up
    asked: OrderedDict[int, Item] = field(default_factory=OrderedDict)

    async def start(self, student: Student, planned: int, now: datetime) -> None:
        """Start a session of ``planned`` questions (ending any running one)."""
        async with self.db.read() as conn:
            if not await enrolment_rows.enrolments(conn, student.id):
                raise NotEnrolled()
        async with self.db.transaction() as conn:
            await quiz_rows.start_session(conn, student.id, planned, to_millis(now))

    async def next_question(self, student: Student, now: datetime) -> Question | None:
        """The waiting question, a newly chosen one, or None when the session is over."""
        for _ in range(CHOICE_ATTEMPTS - 1):
            try:
                return await self._next_question(student, now)
            except _ChosenItemGone:
                continue  # deleted while it was chosen: nothing was written; choose again
        return await self._next_question(student, now)

    async def _next_question(self, student: Student, now: datetime) -> Question | None:
        now_ms = to_millis(now)
        user_id = student.id
        choice_reads = _choice_query(user_id, to_millis(local_day_start(now, student.timezone)))
        chosen: tuple[Item, ChoiceReason, int] | None = None
        early = None
        if self.db.dialect != POSTGRESQL:
            # SQLite has one writer at a time across processes: the choice (the learner
            # model's predictions, most of a question's CPU) is made on a read, before the
            # write transaction, and kept if the quiz still stands where it stood.
            async with self.db.read() as conn:
                session, row, history = await run_sync(conn, quiz_rows.position_query(user_id).run)
                if session is None:
                    return None
                if row is not None:
                    return await build_question(conn, row, session.planned)
                early = (session, history)
                if session.answered < session.planned:
                    early_reads = await run_sync(conn, choice_reads.run)
                    chosen = await self._choose(
                        conn, student, history, session.id, now, early_reads
                    )

        def position(raw: sqlite3.Connection) -> tuple[Any, Any, Any, bool]:
            found = quiz_rows.position_query(user_id).run(raw)
            live = chosen is None or content_rows.read_item_enrolled(raw, user_id, chosen[0].id)
            return *found, live

        async with self.db.transaction() as conn:
            reads: _ChoiceReads | None = None
            prefetched: Prefetched | None = None
            if self.db.dialect == POSTGRESQL:
                # Rows are locked, not the database, so the choice is made here; a round trip
                # per read costs, so what a choice reads goes with the position's reads (in
                # vain when a question waits or the session is over), the memory model's
                # reads too (those of the student's last choice and answers since).
                query = joined(
                    lambda *found: found,
                    quiz_rows.position_query(user_id),
                    choice_reads,
                    self.memory.choice_query(user_id),
                )
                (session, row, history), reads, prefetched = await run_sync(conn, query.run)
                item_live = True  # the question's insert checks it (``quiz_rows.ask``)
            else:
                session, row, history, item_live = await run_sync(conn, position)
            if session is None:
                return None
            if row is None:
                if session.answered >= session.planned:
                    await quiz_rows.end_sessions(conn, user_id, now_ms)
                    return None
                choice: tuple[Item, ChoiceReason, int] | None = chosen
                # Chosen here first, or again if changed since (another process, an admin).
                if chosen is None or (session, history) != early or not item_live:
                    if reads is None:
                        reads = await run_sync(conn, choice_reads.run)
                    choice = await self._choose(
                        conn, student, history, session.id, now, reads, prefetched
                    )
                if choice is None:
                    await quiz_rows.end_sessions(conn, user_id, now_ms)
                    return None
                item, reason, new_waiting = choice
                number = len(history) + 1
                rng = random.Random(f"{self.seed}:{user_id}:{session.id}:{number}")
                choices = choice_order(item, rng)
                planned = session.planned

                async def ask(c: Connection) -> Question:
                    """Store the question and build its view: one trip to the database (the
                    item and its deck's name read in the same round trip as the insert)."""
                    question_id, record, deck_name = await run_sync(
                        c,
                        lambda raw: quiz_rows.ask(
                            raw,
                            user_id=user_id,
                            session_id=session.id,
                            item_id=item.id,
                            choices=choices,
                            reason=reason.value,
                            number=number,
                            now_ms=now_ms,
                            last=True,  # on PostgreSQL the COMMIT goes with it
                        ),
                    )
                    if record is None:  # nothing was written
                        raise _ChosenItemGone()
                    # The row just written, without reading it back.
                    row = QuestionRecord(
                        id=question_id,
                        user_id=user_id,
                        session_id=session.id,
                        item_id=item.id,
                        choices=tuple(choices),
                        reason=reason.value,
                        number=number,
                        asked_ms=now_ms,
                        message_id=None,
                        answered_ms=None,
                    )
                    view = self.asked[question_id] = item_from_record(record)
                    while len(self.asked) > MAX_ASKED:
                        self.asked.popitem(last=False)
                    question = await question_view(c, row, view, deck_name, planned)
                    return replace(question, new_waiting=new_waiting)

                return await in_one_trip(conn, ask)
            return await build_question(conn, row, session.planned)

    async def _choose(
        self,
        conn: Connection,
        student: Student,
        history: Sequence[tuple[int, bool | None]],
        session_id: int,
        now: datetime,
        reads: _ChoiceReads,
        prefetched: Prefetched | None = None,
    ) -> tuple[Item, ChoiceReason, int] | None:
        """Ask the policy, on the memory model's predictions, for the next item (and how
        many new items wait, when it is extra practice)."""
        items = await self.items.enrolled(conn, student.id, reads.decks)
        if not items:
            return None
        ids = {i.id for i in items}
        memories = [m for m in reads.memories if m.item_id in ids]
        enrolments = reads.enrolments
        answers, first_seen = reads.today
        exams = {
            e.deck_id: exam_instant(date.fromisoformat(e.exam_date), student.timezone)
            for e in enrolments
            if e.exam_date is not None
        }
        exams = {deck: when for deck, when in exams.items() if when > now}
        last_seen = last_seen_map(memories)
        # Predictions only for the items the choice can use (the seen ones, and new ones of
        # exam decks): for most students a few dozen of the enrolled items.
        scored = items_to_score(items, last_seen, exams)
        predictor = await self.memory.predictor(
            conn, student.id, items, memories, needed=scored, prefetched=prefetched
        )
        settings = StudySettings(
            target_retention=student.target_retention,
            daily_goal_items=student.daily_goal,
            exams=exams,
            new_items_today=self.new_requests.allowed(student.id, _local_day(now, student)),
        )
        session = SessionHistory()
        for item_id, correct in history:
            if correct is not None:
                session = session.record(item_id, correct)
        today = TodayCounts(reviews=answers - first_seen, new=first_seen)
        rng = np.random.default_rng([self.seed, student.id, session_id, len(history)])
        choice = pick_next(predictor, items, last_seen, settings, session, today, now, rng)
        item = next(item for item in items if item.id == choice.item_id)  # no dict of all
        return item, REASONS[choice.reason], choice.new_waiting

    async def more_new(self, student: Student, question_id: int, now: datetime) -> int:
        """Take back an unanswered extra-practice question and allow more new items today
        (see :mod:`tutor.new_items`); returns how many new items today now allows.

        Raises QuestionNotFound (not this student's) or StaleQuestion (answered, taken back
        already, not practice, or its session is over).
        """
        user_id = student.id
        day_start = to_millis(local_day_start(now, student.timezone))
        async with self.db.transaction() as conn:
            row = await quiz_rows.get_question(conn, question_id)
            if row is None or row.user_id != user_id:
                raise QuestionNotFound(str(question_id))
            session = await quiz_rows.get_session(conn, row.session_id) if row.session_id else None
            if (
                session is None
                or session.ended_ms is not None
                or row.reason != ChoiceReason.PRACTICE.value
                or not await quiz_rows.withdraw_question(conn, question_id)
            ):
                raise StaleQuestion(str(question_id))
            _, met_today = await attempt_rows.today_counts(conn, user_id, day_start)
        return self.new_requests.ask(user_id, _local_day(now, student), met_today)

    async def open_question(self, user_id: int) -> Question | None:
        """The question waiting for an answer in the running session, if any."""
        async with self.db.read() as conn:
            row = await quiz_rows.unanswered_question(conn, user_id)
            if row is None or row.session_id is None:
                return None
            session = await quiz_rows.get_session(conn, row.session_id)
            try:
                return await build_question(conn, row, session.planned if session else row.number)
            except StaleQuestion:
                return None

    async def question(self, user_id: int, question_id: int) -> Question:
        """A live question of this student's; raises QuestionNotFound or StaleQuestion."""
        async with self.db.read() as conn:
            row = await quiz_rows.get_question(conn, question_id)
            if row is None or row.user_id != user_id:
                raise QuestionNotFound(str(question_id))
            session = await quiz_rows.get_session(conn, row.session_id) if row.session_id else None
            if session is None or session.ended_ms is not None or row.answered_ms is not None:
                raise StaleQuestion(str(question_id))
            if await content_rows.get_item(conn, row.item_id) is None:
                raise StaleQuestion(str(question_id))
            return await build_question(conn, row, session.planned)

    async def answer(
        self,
        student: Student,
        question_id: int,
        answer: Answer,
        now: datetime,
        update_key: str | None,
    ) -> Feedback:
        """Mark and log an answer exactly once (see ``TutorService.answer``)."""
        now_ms = to_millis(now)
        user_id = student.id
        asked = self.asked.pop(question_id, None)
        ahead = self.memory.observe_query(user_id, asked, now) if asked else given(None)
        # The item's memory row, read with the look-up (used if it is the item answered).
        memory_before = attempt_rows.memory_of_query(user_id, [asked.id]) if asked else given(None)
        async with self.db.transaction() as conn:

            async def look(c: Connection) -> Feedback | _Marked:
                """Find, check, mark and close the question: one trip to the database (one
                round trip: the close goes with the read, and an error rolls it back), with
                the memory model's reads for the item asked (used if it is the one found)."""
                close = quiz_rows.read_and_close_query(question_id, user_id, now_ms, update_key)
                query = joined(lambda *found: found, close, ahead, memory_before)
                target, read, rows = await run_sync(c, query.run)
                row = target.question
                if row is None or row.user_id != user_id:
                    raise QuestionNotFound(str(row.id if row else question_id))
                session = target.session
                total = session.planned if session else row.number
                key = f"q{row.id}"
                if row.answered_ms is not None:
                    return await feedback_again(c, row, total, key)
                if session is None or session.ended_ms is not None:
                    raise StaleQuestion(str(row.id))
                if target.item is None:
                    raise StaleQuestion(str(row.id))
                item = item_from_record(target.item)
                marked = mark(item, row.choices, answer)
                if not target.closed:
                    return await feedback_again(c, row, total, key)
                before = None
                if asked is not None and asked.id == item.id and rows is not None:
                    before = Before(rows[0] if rows else None)
                return _Marked(
                    row, session, total, key, item, marked, target.deck_name, read, before
                )

            found = await in_one_trip(conn, look)
            if isinstance(found, Feedback):
                return found
            row, session, total, key, item, marked, deck_name, read, before = found
            progress = SessionProgress(
                session.answered + 1, session.correct + int(marked.correct), session.planned
            )

            async def finish(c: Connection) -> Question:
                """Count the answer in the session and build the view (the student's last-seen
                time is set with their tally, by ``log_answer``)."""
                await quiz_rows.count_answer(c, session.id, marked.correct)
                if progress.finished:
                    await quiz_rows.end_sessions(c, user_id, now_ms)
                # The item and deck name as read with the question: no second read.
                return await question_view(c, row, item, deck_name, total)

            logged = await log_answer(
                conn,
                self.memory,
                student,
                item,
                marked,
                key=key,
                latency_ms=max(0, now_ms - row.asked_ms),
                now=now,
                finish=finish,
                read=read,
                before=before,
            )
            question, due = logged.extra, logged.due
        return Feedback(
            question=question,
            correct=marked.correct,
            correct_text=item.correct_text,
            explanation=item.explanation,
            next_review_at=due,
            progress=progress,
            given=marked.response,
            grade=marked.grade,
            # The policy asks a missed item again once RELEARN_GAP others were answered.
            again_this_quiz=not marked.correct and progress.total - progress.answered > RELEARN_GAP,
        )

    async def stop(self, user_id: int, now: datetime) -> SessionProgress | None:
        """End the running session; None if there was none."""
        async with self.db.transaction() as conn:
            session = await quiz_rows.open_session(conn, user_id)
            if session is None:
                return None
            await quiz_rows.end_sessions(conn, user_id, to_millis(now), shown=True)
        return SessionProgress(session.answered, session.correct, session.planned)

    async def stalled(self, user_id: int) -> StalledQuiz | None:
        """The student's latest quiz if its next step never reached them: it is running
        and its open question was never shown (or none was chosen after the last answer),
        or its last answer ended it and the summary was never shown."""
        async with self.db.read() as conn:
            session, latest, answered = await run_sync(
                conn, lambda raw: quiz_rows.read_last(raw, user_id)
            )
            if session is None:
                return None
            running = session.ended_ms is None
            if running:
                if (
                    latest is not None
                    and latest.answered_ms is None
                    and latest.message_id is not None
                ):
                    return None  # the open question is on the student's screen
            elif session.summary_ms is not None or latest is None or latest.answered_ms is None:
                return None  # its end was shown, or it ended before its last question's answer
            if answered is None:
                return StalledQuiz(None, running)
            try:
                feedback = await feedback_again(conn, answered, session.planned, f"q{answered.id}")
            except StaleQuestion:  # its item was deleted since: nothing to show again
                return StalledQuiz(None, running) if running else None
            return StalledQuiz(feedback, running)

    async def summary_shown(self, question_id: int, now: datetime) -> None:
        """Note that the summary after ``question_id`` (its session's end) was shown."""
        async with self.db.transaction() as conn:
            await quiz_rows.summary_shown(conn, question_id, to_millis(now))


class _ChoiceReads(NamedTuple):
    """What choosing an item reads besides the position: the enrolled decks (for the item
    cache), the student's memory rows, enrolments, and today's (answers, first answers)."""

    decks: list[tuple[int, int, int]]
    memories: list[MemoryRecord]
    enrolments: list[EnrolmentRecord]
    today: tuple[int, int]


def _choice_query(user_id: int, day_start_ms: int) -> Query[_ChoiceReads]:
    """The reads of a choice, in one round trip."""
    return joined(
        _ChoiceReads,
        content_rows.enrolled_decks_query(user_id),
        attempt_rows.all_memory_query(user_id),
        enrolment_rows.enrolments_query(user_id),
        attempt_rows.today_counts_query(user_id, day_start_ms),
    )


class _Marked(NamedTuple):
    """A question found open and closed with its marked answer."""

    row: QuestionRecord
    session: SessionRecord
    total: int
    key: str
    item: Item
    marked: Marked
    deck_name: str | None
    read: Observed | None
    before: Before | None


def _local_day(now: datetime, student: Student) -> date:
    return now.astimezone(zone(student.timezone)).date()
