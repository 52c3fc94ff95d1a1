"""The tutor service: the one API the bot (and the command line) calls."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from storage import Connection, Database
from storage import attempts as attempt_rows
from storage import content as content_rows
from storage import enrolments as enrolment_rows
from storage import quiz as quiz_rows
from storage import users as user_rows
from storage.records import AttemptRecord, MemoryRecord, QuestionRecord, UserRecord
from tutor import library, selection
from tutor.clock import (
    Clock,
    from_millis,
    is_valid_zone,
    require_utc,
    to_millis,
    utc_now,
    zone,
)
from tutor.convert import deck_from_record, item_from_record, student_from_record
from tutor.errors import (
    InvalidSetting,
    NotEnrolled,
    QuestionNotFound,
    StaleQuestion,
    UnknownDeck,
    UnknownItem,
    UnknownStudent,
)
from tutor.grading import choice_labels, choice_order, mark
from tutor.intervals import ItemMemory, next_interval
from tutor.items import Deck, Item
from tutor.stats import compute_stats
from tutor.students import LANGUAGES, QuietHours, Student, StudentStatus, format_hhmm
from tutor.views import (
    Answer,
    ChoiceReason,
    DeckInfo,
    Feedback,
    ImportReport,
    Question,
    SessionProgress,
    StudentStats,
)

_DECK_ID = re.compile(r"^(?:deck_)?(\d+)$")


@dataclass(frozen=True, slots=True)
class TutorConfig:
    """Defaults for new students and limits, taken from the settings in ``main()``."""

    default_timezone: str = "UTC"
    default_language: str = "en"
    default_daily_goal: int = 20
    default_quiz_length: int = 10
    max_quiz_length: int = 50
    max_import_bytes: int = 50 * 1024 * 1024


def language_for(language_code: str | None, default: str) -> str:
    """The catalog language for Telegram's ``language_code`` (zh-hans, zh-TW, en-GB...)."""
    if language_code:
        base = language_code.lower().split("-")[0]
        if base in LANGUAGES:
            return base
    return default


class TutorService:
    """Students, decks, quizzes and stats over one database.

    Every method that changes something commits before it returns, so a reply sent after it
    never acknowledges an answer that could be lost.
    """

    def __init__(
        self,
        db: Database,
        *,
        config: TutorConfig | None = None,
        clock: Clock = utc_now,
        seed: int = 0,
    ) -> None:
        self.db = db
        self.config = config or TutorConfig()
        self._clock = clock
        self._seed = seed

    def now(self) -> datetime:
        """The injected clock, checked to be aware UTC."""
        return require_utc(self._clock())

    def _now_ms(self) -> int:
        return to_millis(self.now())

    # students -------------------------------------------------------------
    async def register(
        self, user_id: int, chat_id: int, first_name: str, language_code: str | None
    ) -> Student:
        """Create the student on first contact; later calls keep progress.

        A returning student gets their chat id and name refreshed, and is unblocked: writing
        to the bot again means they want messages.
        """
        now_ms = self._now_ms()
        async with self.db.transaction() as conn:
            existing = await user_rows.get_user(conn, user_id)
            if existing is None:
                await user_rows.insert_user(
                    conn,
                    UserRecord(
                        id=user_id,
                        chat_id=chat_id,
                        first_name=first_name[:64],
                        language=language_for(language_code, self.config.default_language),
                        timezone=self.config.default_timezone,
                        daily_quiz_time=None,
                        quiet_hours=None,
                        daily_goal=self.config.default_daily_goal,
                        quiz_length=self.config.default_quiz_length,
                        target_retention=0.9,
                        status=StudentStatus.ACTIVE.value,
                        onboarded=False,
                        created_ms=now_ms,
                        last_seen_ms=now_ms,
                    ),
                )
            else:
                changes: dict[str, object] = {
                    "chat_id": chat_id,
                    "first_name": first_name[:64],
                    "last_seen_ms": now_ms,
                }
                if existing.status == StudentStatus.BLOCKED.value:
                    changes["status"] = StudentStatus.ACTIVE.value
                await user_rows.update_user(conn, user_id, **changes)
            record = await user_rows.get_user(conn, user_id)
        assert record is not None
        return student_from_record(record)

    async def student(self, user_id: int) -> Student | None:
        """The student, or None if they never started the bot."""
        async with self.db.read() as conn:
            record = await user_rows.get_user(conn, user_id)
        return student_from_record(record) if record else None

    async def _require_student(self, user_id: int) -> Student:
        found = await self.student(user_id)
        if found is None:
            raise UnknownStudent(str(user_id))
        return found

    async def update_settings(
        self,
        user_id: int,
        *,
        language: str | None = None,
        timezone: str | None = None,
        daily_quiz_time: time | None = None,
        clear_daily_quiz_time: bool = False,
        quiet_hours: QuietHours | None = None,
        clear_quiet_hours: bool = False,
        daily_goal: int | None = None,
        quiz_length: int | None = None,
        target_retention: float | None = None,
        onboarded: bool | None = None,
    ) -> Student:
        """Change settings; raises InvalidSetting naming the setting on a bad value."""
        changes: dict[str, object] = {}
        if language is not None:
            if language not in LANGUAGES:
                raise InvalidSetting(language, setting="language")
            changes["language"] = language
        if timezone is not None:
            if not is_valid_zone(timezone):
                raise InvalidSetting(timezone, setting="timezone")
            changes["timezone"] = timezone
        if clear_daily_quiz_time:
            changes["daily_quiz_time"] = None
        elif daily_quiz_time is not None:
            changes["daily_quiz_time"] = format_hhmm(daily_quiz_time)
        if clear_quiet_hours:
            changes["quiet_hours"] = None
        elif quiet_hours is not None:
            if quiet_hours.start == quiet_hours.end:
                raise InvalidSetting("empty window", setting="quiet_hours")
            changes["quiet_hours"] = quiet_hours.serialise()
        if daily_goal is not None:
            if not 1 <= daily_goal <= 500:
                raise InvalidSetting(str(daily_goal), setting="daily_goal")
            changes["daily_goal"] = daily_goal
        if quiz_length is not None:
            if not 1 <= quiz_length <= self.config.max_quiz_length:
                raise InvalidSetting(str(quiz_length), setting="quiz_length")
            changes["quiz_length"] = quiz_length
        if target_retention is not None:
            if not 0.7 <= target_retention <= 0.97:
                raise InvalidSetting(str(target_retention), setting="target_retention")
            changes["target_retention"] = target_retention
        if onboarded is not None:
            changes["onboarded"] = onboarded
        await self._require_student(user_id)
        async with self.db.transaction() as conn:
            await user_rows.update_user(conn, user_id, **changes)
        return await self._require_student(user_id)

    async def set_status(self, user_id: int, status: StudentStatus) -> Student:
        """Pause, resume, or mark blocked."""
        await self._require_student(user_id)
        async with self.db.transaction() as conn:
            await user_rows.update_user(conn, user_id, status=status.value)
        return await self._require_student(user_id)

    # decks ----------------------------------------------------------------
    async def decks(self, user_id: int | None = None) -> list[DeckInfo]:
        """All live decks with counts; with ``user_id``, that student's enrolment too."""
        async with self.db.read() as conn:
            records = await content_rows.list_decks(conn)
            mine = (
                {e.deck_id: e for e in await enrolment_rows.enrolments(conn, user_id)}
                if user_id is not None
                else {}
            )
        infos = []
        for record in records:
            enrolment = mine.get(record.id)
            infos.append(
                DeckInfo(
                    deck=deck_from_record(record),
                    n_items=record.n_items,
                    n_students=record.n_students,
                    enrolled=enrolment is not None,
                    exam_date=date.fromisoformat(enrolment.exam_date)
                    if enrolment and enrolment.exam_date
                    else None,
                )
            )
        return infos

    async def find_deck(self, ref: str | int) -> Deck:
        """A deck by id, ``deck_<id>``, slug or name (case-insensitive); raises UnknownDeck."""
        text = str(ref).strip()
        async with self.db.read() as conn:
            match = _DECK_ID.match(text)
            record = await content_rows.get_deck(conn, int(match.group(1))) if match else None
            if record is None:
                record = await content_rows.find_deck(conn, text)
        if record is None:
            raise UnknownDeck(text[:64], deck=text[:64])
        return deck_from_record(record)

    async def _deck_info(self, user_id: int, deck_id: int) -> DeckInfo:
        for info in await self.decks(user_id):
            if info.deck.id == deck_id:
                return info
        raise UnknownDeck(str(deck_id))

    async def enrol(self, user_id: int, deck_ref: str | int) -> DeckInfo:
        """Enrol in a deck (idempotent; re-enrolling keeps progress)."""
        await self._require_student(user_id)
        deck = await self.find_deck(deck_ref)
        async with self.db.transaction() as conn:
            await enrolment_rows.enrol(conn, user_id, deck.id, self._now_ms())
        return await self._deck_info(user_id, deck.id)

    async def leave(self, user_id: int, deck_ref: str | int) -> DeckInfo:
        """Leave a deck (attempts are kept)."""
        deck = await self.find_deck(deck_ref)
        async with self.db.transaction() as conn:
            await enrolment_rows.leave(conn, user_id, deck.id)
        return await self._deck_info(user_id, deck.id)

    async def set_exam(
        self, user_id: int, exam_date: date | None, deck_ref: str | int | None = None
    ) -> list[DeckInfo]:
        """Set (or with None clear) the exam date of one enrolled deck, or of all of them."""
        student = await self._require_student(user_id)
        if exam_date is not None:
            today = self.now().astimezone(zone(student.timezone)).date()
            if exam_date <= today:
                raise InvalidSetting(exam_date.isoformat(), setting="exam_date")
        mine = [info for info in await self.decks(user_id) if info.enrolled]
        if deck_ref is not None:
            deck = await self.find_deck(deck_ref)
            mine = [info for info in mine if info.deck.id == deck.id]
        if not mine:
            raise NotEnrolled()
        async with self.db.transaction() as conn:
            for info in mine:
                await enrolment_rows.set_exam_date(
                    conn, user_id, info.deck.id, exam_date.isoformat() if exam_date else None
                )
        changed = {info.deck.id for info in mine}
        return [info for info in await self.decks(user_id) if info.deck.id in changed]

    # quizzes --------------------------------------------------------------
    async def start_quiz(self, user_id: int, length: int | None = None) -> Question | None:
        """Start a session and return its first question (None when nothing to study)."""
        student = await self._require_student(user_id)
        planned = length if length is not None else student.quiz_length
        planned = max(1, min(planned, self.config.max_quiz_length))
        async with self.db.read() as conn:
            if not await enrolment_rows.enrolments(conn, user_id):
                raise NotEnrolled()
        async with self.db.transaction() as conn:
            await quiz_rows.start_session(conn, user_id, planned, self._now_ms())
        return await self.next_question(user_id)

    async def next_question(self, user_id: int) -> Question | None:
        """The next question of the running session, or None when it is finished."""
        now_ms = self._now_ms()
        async with self.db.transaction() as conn:
            session = await quiz_rows.open_session(conn, user_id)
            if session is None:
                return None
            question_row = await quiz_rows.unanswered_question(conn, user_id)
            if question_row is None:
                if session.answered >= session.planned:
                    await quiz_rows.end_sessions(conn, user_id, now_ms)
                    return None
                history = await quiz_rows.session_items(conn, session.id)
                choice = selection.choose(
                    selection.Candidates(
                        session_history=history,
                        due=await attempt_rows.due_items(conn, user_id, now_ms, 20),
                        new=await attempt_rows.new_items(conn, user_id, 20),
                        least_recent=await attempt_rows.least_recent_items(conn, user_id, 20),
                    )
                )
                if choice is None:
                    await quiz_rows.end_sessions(conn, user_id, now_ms)
                    return None
                item_id, reason = choice
                record = await content_rows.get_item(conn, item_id)
                assert record is not None
                item = item_from_record(record)
                number = len(history) + 1
                rng = random.Random(f"{self._seed}:{user_id}:{session.id}:{number}")
                order = choice_order(item, rng)
                question_id = await quiz_rows.add_question(
                    conn,
                    user_id=user_id,
                    session_id=session.id,
                    item_id=item_id,
                    choices=order,
                    reason=reason.value,
                    number=number,
                    now_ms=now_ms,
                )
                question_row = await quiz_rows.get_question(conn, question_id)
                assert question_row is not None
            return await self._question(conn, question_row, session.planned)

    async def _question(self, conn: Connection, row: QuestionRecord, total: int) -> Question:
        """Build the Question view of a stored question (inside a read or transaction)."""
        record = await content_rows.get_item(conn, row.item_id, live_only=False)
        if record is None:
            raise StaleQuestion("item gone")
        item = item_from_record(record)
        deck = await content_rows.get_deck(conn, item.deck_id)
        image = await content_rows.get_media(conn, item.deck_id, item.image) if item.image else None
        return Question(
            id=row.id,
            item=item,
            deck_name=deck.name if deck else "",
            choices=choice_labels(item, row.choices),
            number=row.number,
            total=total,
            reason=ChoiceReason(row.reason),
            asked_at=from_millis(row.asked_ms),
            image=image,
        )

    async def open_question(self, user_id: int) -> Question | None:
        """The question waiting for an answer in the running session, if any."""
        async with self.db.read() as conn:
            row = await quiz_rows.unanswered_question(conn, user_id)
            if row is None or row.session_id is None:
                return None
            session = await quiz_rows.get_session(conn, row.session_id)
            try:
                return await self._question(conn, row, session.planned if session else row.number)
            except StaleQuestion:
                return None

    async def question(self, user_id: int, question_id: int) -> Question:
        """A question of this student's; raises QuestionNotFound or StaleQuestion."""
        async with self.db.read() as conn:
            row = await quiz_rows.get_question(conn, question_id)
            if row is None or row.user_id != user_id:
                raise QuestionNotFound(str(question_id))
            session = await quiz_rows.get_session(conn, row.session_id) if row.session_id else None
            if session is None or session.ended_ms is not None or row.answered_ms is not None:
                raise StaleQuestion(str(question_id))
            if await content_rows.get_item(conn, row.item_id) is None:
                raise StaleQuestion(str(question_id))
            return await self._question(conn, row, session.planned)

    async def set_message(self, question_id: int, message_id: int) -> None:
        """Remember which chat message shows the question."""
        async with self.db.transaction() as conn:
            await quiz_rows.set_message(conn, question_id, message_id)

    async def answer(
        self, user_id: int, question_id: int, answer: Answer, *, update_key: str | None = None
    ) -> Feedback:
        """Mark and log an answer exactly once; a repeat returns ``duplicate=True``.

        ``update_key`` names the Telegram update that carried the answer: if that update
        already answered a question (a redelivery, perhaps after a restart), the answer is
        not marked again, whatever question is open now.

        Raises QuestionNotFound for someone else's or a made-up question, StaleQuestion for
        a question of a stopped session or of a deleted item, InvalidAnswer for an answer
        that does not fit the question.
        """
        now_ms = self._now_ms()
        async with self.db.transaction() as conn:
            if update_key is not None:
                answered = await quiz_rows.question_answered_by(conn, update_key)
                if answered is not None:
                    question_id = answered
            row = await quiz_rows.get_question(conn, question_id)
            if row is None or row.user_id != user_id:
                raise QuestionNotFound(str(question_id))
            session = await quiz_rows.get_session(conn, row.session_id) if row.session_id else None
            total = session.planned if session else row.number
            key = f"q{question_id}"
            if row.answered_ms is not None:
                return await self._duplicate(conn, row, total, key)
            if session is None or session.ended_ms is not None:
                raise StaleQuestion(str(question_id))
            record = await content_rows.get_item(conn, row.item_id)
            if record is None:
                raise StaleQuestion(str(question_id))
            item = item_from_record(record)
            marked = mark(item, row.choices, answer)
            if not await quiz_rows.close_question(conn, question_id, now_ms, update_key):
                return await self._duplicate(conn, row, total, key)
            await attempt_rows.insert_attempt(
                conn,
                AttemptRecord(
                    user_id=user_id,
                    item_id=item.id,
                    answered_ms=now_ms,
                    response=marked.response,
                    correct=marked.correct,
                    grade=int(marked.grade) if marked.grade else None,
                    latency_ms=max(0, now_ms - row.asked_ms),
                    idempotency_key=key,
                ),
            )
            previous = await attempt_rows.get_memory(conn, user_id, item.id)
            memory = ItemMemory(
                n_correct=previous.n_correct if previous else 0,
                n_wrong=previous.n_wrong if previous else 0,
                last_correct=previous.last_correct if previous else False,
                interval_days=previous.interval_days if previous else 0.0,
            )
            interval = next_interval(memory, marked.correct, marked.grade)
            due_ms = now_ms + int(interval * 86_400_000)
            await attempt_rows.put_memory(
                conn,
                MemoryRecord(
                    user_id=user_id,
                    item_id=item.id,
                    n_correct=memory.n_correct + int(marked.correct),
                    n_wrong=memory.n_wrong + int(not marked.correct),
                    last_ms=now_ms,
                    last_correct=marked.correct,
                    due_ms=due_ms,
                    interval_days=interval,
                ),
            )
            await quiz_rows.count_answer(conn, session.id, marked.correct)
            progress = SessionProgress(
                session.answered + 1, session.correct + int(marked.correct), session.planned
            )
            if progress.finished:
                await quiz_rows.end_sessions(conn, user_id, now_ms)
            question = await self._question(conn, row, total)
            await user_rows.update_user(conn, user_id, last_seen_ms=now_ms)
        return Feedback(
            question=question,
            correct=marked.correct,
            correct_text=item.correct_text,
            explanation=item.explanation,
            next_review_at=from_millis(due_ms),
            progress=progress,
            given=marked.response,
        )

    async def _duplicate(
        self, conn: Connection, row: QuestionRecord, total: int, key: str
    ) -> Feedback:
        """Feedback for a question answered before; nothing is written."""
        previous = await attempt_rows.attempt_for_key(conn, key)
        memory = await attempt_rows.get_memory(conn, row.user_id, row.item_id)
        session = await quiz_rows.get_session(conn, row.session_id) if row.session_id else None
        question = await self._question(conn, row, total)
        return Feedback(
            question=question,
            correct=bool(previous and previous.correct),
            correct_text=question.item.correct_text,
            explanation=question.item.explanation,
            next_review_at=from_millis(memory.due_ms) if memory else None,
            progress=SessionProgress(
                session.answered if session else 0, session.correct if session else 0, total
            ),
            duplicate=True,
            given=previous.response if previous else "",
        )

    async def stop_quiz(self, user_id: int) -> SessionProgress | None:
        """End the running session; None if there was none."""
        async with self.db.transaction() as conn:
            session = await quiz_rows.open_session(conn, user_id)
            if session is None:
                return None
            await quiz_rows.end_sessions(conn, user_id, self._now_ms())
        return SessionProgress(session.answered, session.correct, session.planned)

    async def stats(self, user_id: int) -> StudentStats:
        """Numbers for /stats."""
        student = await self._require_student(user_id)
        now = self.now()
        async with self.db.read() as conn:
            since = to_millis(now - timedelta(days=400))
            history = await attempt_rows.attempts_since(conn, user_id, since)
            memories = await attempt_rows.enrolled_memory(conn, user_id)
            total = await attempt_rows.count_enrolled_items(conn, user_id)
            items = await content_rows.get_items(conn, [m.item_id for m in memories])
        decks = [info for info in await self.decks(user_id) if info.enrolled]
        return compute_stats(
            student=student,
            now=now,
            history=history,
            memories=memories,
            items={item_id: item_from_record(rec) for item_id, rec in items.items()},
            items_total=total,
            decks=decks,
        )

    # content --------------------------------------------------------------
    async def import_file(
        self,
        data: bytes,
        filename: str,
        *,
        deck_name: str | None = None,
        actor_id: int | None = None,
    ) -> ImportReport:
        """Parse and store a deck file in one transaction; raises ContentRejected."""
        parsed = library.parse_upload(data, filename, deck_name, self.config.max_import_bytes)
        into = None
        if deck_name:
            try:
                existing = await self.find_deck(deck_name)
            except UnknownDeck:
                existing = None
            if existing is not None:
                into = existing
        return await library.store_parsed(
            self.db,
            parsed,
            now_ms=self._now_ms(),
            actor_id=actor_id,
            into=into,
            source=filename[:200],
        )

    async def install_bundled_decks(self) -> list[ImportReport]:
        """Import or refresh the decks shipped with the package."""
        return await library.install_bundled(self.db, self._now_ms())

    async def export_deck(self, deck_ref: str | int, fmt: str = "json") -> tuple[str, bytes]:
        """A file name and the bytes of the deck in CSV or JSON."""
        deck = await self.find_deck(deck_ref)
        return await library.export(self.db, deck.id, fmt)

    async def item(self, item_id: int) -> Item:
        """One live item; raises UnknownItem."""
        async with self.db.read() as conn:
            record = await content_rows.get_item(conn, item_id)
        if record is None:
            raise UnknownItem(str(item_id))
        return item_from_record(record)
