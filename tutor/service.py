"""The tutor service: the one API the bot (and the command line) calls."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import date, datetime, time

from storage import Database
from storage import content as content_rows
from storage import enrolments as enrolment_rows
from storage import quiz as quiz_rows
from storage import users as user_rows
from storage.records import UserRecord
from tutor import library
from tutor.clock import (
    Clock,
    require_utc,
    to_millis,
    utc_now,
    zone,
)
from tutor.convert import deck_from_record, item_from_record, student_from_record
from tutor.errors import (
    InvalidSetting,
    NotEnrolled,
    UnknownDeck,
    UnknownItem,
    UnknownStudent,
)
from tutor.group_quiz import GroupQuizzes
from tutor.group_schedule import GroupSchedule
from tutor.groups import GroupStudy
from tutor.import_worker import ImportJob, import_in_worker
from tutor.items import Deck, Item
from tutor.learner import MemoryModel
from tutor.quiz import Quizzes
from tutor.rule_memory import RuleMemory
from tutor.stats_report import read_stats
from tutor.students import (
    LANGUAGES,
    QuietHours,
    Student,
    StudentStatus,
    common_setting_changes,
)
from tutor.views import (
    Answer,
    DeckInfo,
    Feedback,
    ImportReport,
    MediaFile,
    Question,
    SessionProgress,
    StalledQuiz,
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
    worker_import_bytes: int = 256 * 1024
    """Files at least this large are imported by a worker process (tutor.import_worker)."""
    max_own_cards: int = 500
    """How many live cards a student's personal deck may hold (tutor.own_cards)."""
    max_card_picture_bytes: int = 1024 * 1024
    """The largest picture a student may put on a card of their own."""


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
        memory: MemoryModel | None = None,
    ) -> None:
        self.db = db
        self.config = config or TutorConfig()
        self.memory: MemoryModel = memory or RuleMemory()
        self._clock = clock
        self._quizzes = Quizzes(db, self.memory, seed)
        # Group study (tutor/groups.py, group_quiz.py, group_schedule.py): the bot calls these.
        zone_name = self.config.default_timezone
        self.groups = GroupStudy(db, clock=clock, default_timezone=zone_name)
        self.group_quizzes = GroupQuizzes(
            db, self.memory, clock=clock, seed=seed, default_timezone=zone_name
        )
        self.group_schedule = GroupSchedule(db, clock=clock)

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
        to the bot again means they want messages. A member known only from group quizzes
        keeps their answers and from now on gets private messages too.
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
                    "private_chat": True,  # a member known only from groups: now messages may come
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

    async def _student_of(self, who: int | Student) -> Student:
        """``who`` as a student: given (a handler read it for this update), or read now."""
        return who if isinstance(who, Student) else await self._require_student(who)

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
        changes = common_setting_changes(
            language=language,
            timezone=timezone,
            daily_quiz_time=daily_quiz_time,
            clear_daily_quiz_time=clear_daily_quiz_time,
        )
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
    async def start_quiz(
        self, user_id: int | Student, length: int | None = None
    ) -> Question | None:
        """Start a session and return its first question (None when nothing to study).

        Here and in :meth:`next_question` and :meth:`answer`, a handler that already read
        the student for this update passes the :class:`Student` (one read per press)."""
        student = await self._student_of(user_id)
        planned = length if length is not None else student.quiz_length
        await self._quizzes.start(
            student, max(1, min(planned, self.config.max_quiz_length)), self.now()
        )
        return await self.next_question(student)

    async def next_question(self, user_id: int | Student) -> Question | None:
        """The next question of the running session, or None when it is finished."""
        student = await self._student_of(user_id)
        return await self._quizzes.next_question(student, self.now())

    async def open_question(self, user_id: int) -> Question | None:
        """The question waiting for an answer in the running session, if any."""
        return await self._quizzes.open_question(user_id)

    async def question(self, user_id: int, question_id: int) -> Question:
        """A question of this student's; raises QuestionNotFound or StaleQuestion."""
        return await self._quizzes.question(user_id, question_id)

    async def remember_file_id(self, media: MediaFile, file_id: str) -> None:
        """Store the file id Telegram gave a deck's picture or sound, to send it by id."""
        async with self.db.transaction() as conn:
            await content_rows.set_media_file_id(conn, media.deck_id, media.name, file_id)

    async def set_message(self, question_id: int, message_id: int) -> None:
        """Remember which chat message shows the question."""
        async with self.db.transaction() as conn:
            await quiz_rows.set_message(conn, question_id, message_id)

    async def answer(
        self,
        user_id: int | Student,
        question_id: int,
        answer: Answer,
        *,
        update_key: str | None = None,
    ) -> Feedback:
        """Mark and log an answer exactly once; a repeat returns ``duplicate=True``.

        ``update_key`` names the Telegram update that carried the answer: if that update
        already answered a question (a redelivery, perhaps after a restart), the answer is
        not marked again, whatever question is open now. A repeat whose next question (or
        summary) never reached the student also has ``resend=True``: show it all again.

        Raises QuestionNotFound for someone else's or a made-up question, StaleQuestion for
        a question of a stopped session or of a deleted item, InvalidAnswer for an answer
        that does not fit the question.
        """
        student = await self._student_of(user_id)
        return await self._quizzes.answer(student, question_id, answer, self.now(), update_key)

    async def stalled_quiz(self, user_id: int) -> StalledQuiz | None:
        """The student's quiz if its next step never reached them (see ``Quizzes.stalled``):
        show its ``feedback`` again, then :meth:`next_question` (or the summary)."""
        return await self._quizzes.stalled(user_id)

    async def summary_shown(self, question_id: int) -> None:
        """Note that the summary after the answer to ``question_id`` reached the student."""
        await self._quizzes.summary_shown(question_id, self.now())

    async def more_new_items(self, user_id: int, question_id: int) -> int:
        """Replace an unanswered extra-practice question by more new items today; returns
        how many new items today now allows (see :mod:`tutor.new_items`). Ask
        :meth:`next_question` for the question that replaces it.

        Raises QuestionNotFound or StaleQuestion (answered, or replaced already).
        """
        student = await self._require_student(user_id)
        return await self._quizzes.more_new(student, question_id, self.now())

    async def stop_quiz(self, user_id: int) -> SessionProgress | None:
        """End the running session; None if there was none."""
        return await self._quizzes.stop(user_id, self.now())

    async def stats(self, user_id: int) -> StudentStats:
        """Numbers for /stats, with the memory model's recall predictions."""
        student = await self._require_student(user_id)
        return await read_stats(self.db, self._quizzes.items, self.memory, student, self.now())

    # content --------------------------------------------------------------
    async def import_file(
        self,
        data: bytes,
        filename: str,
        *,
        deck_name: str | None = None,
        actor_id: int | None = None,
    ) -> ImportReport:
        """Parse a deck file and store it into its deck; raises ContentRejected or UnknownDeck.

        ``deck_name`` picks the deck (see ``library.resolve_target``). Storing goes in short
        steps (``tutor.deck_store``): students keep being served, and see all of the file's
        changes at once or, if the import fails, none. A file of ``worker_import_bytes`` or
        more is parsed and stored by a worker process (``tutor.import_worker``; its rows are
        stamped by the system clock, not this service's).
        """
        if self.db.path is not None and len(data) >= self.config.worker_import_bytes:
            # Seconds of CPU: in a process of its own, so no student waits for the GIL.
            job = ImportJob(
                str(self.db.path),
                data,
                filename,
                deck_name,
                actor_id,
                self.config.max_import_bytes,
            )
            return await import_in_worker(job)
        # Parsing a large file takes seconds: off the event loop, so students keep being served.
        parsed = await asyncio.to_thread(
            library.parse_upload, data, filename, deck_name, self.config.max_import_bytes
        )
        return await library.import_parsed(
            self.db,
            parsed,
            deck_ref=deck_name,
            now_ms=self._now_ms,
            actor_id=actor_id,
            source=filename[:200],
        )

    async def install_bundled_decks(self) -> list[ImportReport]:
        """Import the decks shipped with the package, or refresh those that changed."""
        return await library.install_bundled(self.db, self._now_ms)

    async def export_deck(self, deck_ref: str | int, fmt: str = "json") -> tuple[str, bytes]:
        """A file name and the bytes of the deck in CSV, TSV, JSON or an Anki package (apkg).

        Raises UnknownDeck, or ContentRejected for an unknown format or an item the format
        cannot carry unchanged.
        """
        deck = await self.find_deck(deck_ref)
        return await library.export(self.db, deck.id, fmt)

    async def item(self, item_id: int) -> Item:
        """One live item; raises UnknownItem."""
        async with self.db.read() as conn:
            record = await content_rows.get_item(conn, item_id)
        if record is None:
            raise UnknownItem(str(item_id))
        return item_from_record(record)
