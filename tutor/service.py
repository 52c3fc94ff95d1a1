"""The tutor service: the one API the bot (and the command line) calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from tutor.clock import Clock, utc_now
from tutor.items import Deck, Item
from tutor.students import QuietHours, Student, StudentStatus
from tutor.views import (
    Answer,
    DeckInfo,
    Feedback,
    ImportReport,
    Question,
    SessionProgress,
    StudentStats,
)


@dataclass(frozen=True, slots=True)
class TutorConfig:
    """Defaults for new students and limits, taken from the settings in ``main()``."""

    default_timezone: str = "UTC"
    default_language: str = "en"
    default_daily_goal: int = 20
    default_quiz_length: int = 10
    max_quiz_length: int = 50
    max_import_bytes: int = 50 * 1024 * 1024


class TutorService:
    """Students, decks, quizzes and stats over one database.

    Every method that changes something commits before it returns, so a reply sent after it
    never acknowledges an answer that could be lost.
    """

    def __init__(self, db: object, *, config: TutorConfig | None = None, clock: Clock = utc_now, seed: int = 0) -> None:
        raise NotImplementedError

    # students -------------------------------------------------------------
    async def register(self, user_id: int, chat_id: int, first_name: str, language_code: str | None) -> Student:
        """Create the student on first contact (language preselected); later calls keep progress and only refresh chat id/name and unblock."""
        raise NotImplementedError

    async def student(self, user_id: int) -> Student | None:
        """The student, or None if they never started the bot."""
        raise NotImplementedError

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
        raise NotImplementedError

    async def set_status(self, user_id: int, status: StudentStatus) -> Student:
        """Pause, resume, or mark blocked."""
        raise NotImplementedError

    # decks ----------------------------------------------------------------
    async def decks(self, user_id: int | None = None) -> list[DeckInfo]:
        """All live decks with counts; with ``user_id``, that student's enrolment too."""
        raise NotImplementedError

    async def find_deck(self, ref: str | int) -> Deck:
        """A deck by id, slug or name (case-insensitive); raises UnknownDeck."""
        raise NotImplementedError

    async def enrol(self, user_id: int, deck_ref: str | int) -> DeckInfo:
        """Enrol in a deck (idempotent; re-enrolling keeps progress)."""
        raise NotImplementedError

    async def leave(self, user_id: int, deck_ref: str | int) -> DeckInfo:
        """Leave a deck (attempts are kept)."""
        raise NotImplementedError

    async def set_exam(self, user_id: int, exam_date: date | None, deck_ref: str | int | None = None) -> list[DeckInfo]:
        """Set (or with None clear) the exam date on one enrolled deck, or all if ``deck_ref`` is None."""
        raise NotImplementedError

    # quizzes --------------------------------------------------------------
    async def start_quiz(self, user_id: int, length: int | None = None) -> Question | None:
        """Start a session and return its first question (None when nothing to study)."""
        raise NotImplementedError

    async def next_question(self, user_id: int) -> Question | None:
        """The next question of the running session, or None when it is finished."""
        raise NotImplementedError

    async def open_question(self, user_id: int) -> Question | None:
        """The question waiting for an answer, if any (for typed answers)."""
        raise NotImplementedError

    async def question(self, user_id: int, question_id: int) -> Question:
        """A question of this student's (for 'Show answer'); raises QuestionNotFound/StaleQuestion."""
        raise NotImplementedError

    async def set_message(self, question_id: int, message_id: int) -> None:
        """Remember which chat message shows the question."""
        raise NotImplementedError

    async def answer(self, user_id: int, question_id: int, answer: Answer) -> Feedback:
        """Grade and log an answer exactly once; a repeat returns ``duplicate=True``."""
        raise NotImplementedError

    async def stop_quiz(self, user_id: int) -> SessionProgress | None:
        """End the running session; None if there was none."""
        raise NotImplementedError

    async def stats(self, user_id: int) -> StudentStats:
        """Numbers for /stats."""
        raise NotImplementedError

    # content --------------------------------------------------------------
    async def import_file(self, data: bytes, filename: str, *, deck_name: str | None = None, actor_id: int | None = None) -> ImportReport:
        """Parse and store a deck file in one transaction; raises ContentRejected."""
        raise NotImplementedError

    async def export_deck(self, deck_ref: str | int, fmt: str = "json") -> tuple[str, bytes]:
        """A file name and the bytes of the deck in CSV or JSON."""
        raise NotImplementedError

    async def item(self, item_id: int) -> Item:
        """One item; raises UnknownItem."""
        raise NotImplementedError

    def now(self) -> datetime:
        """The injected clock."""
        raise NotImplementedError
