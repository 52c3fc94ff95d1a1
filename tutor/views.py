"""What the service returns to its callers: small, immutable, ready to render."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime

from tutor.content.sound import is_voice
from tutor.items import Deck, Grade, Item, SkippedEntry


class ChoiceReason(enum.StrEnum):
    """Why the tutor asked this item now."""

    REVIEW = "review"
    NEW = "new"
    RELEARN = "relearn"
    EXAM = "exam"
    PRACTICE = "practice"


@dataclass(frozen=True, slots=True)
class MediaFile:
    """A deck's picture or sound as it goes to Telegram: its bytes, and the ``file_id``
    Telegram gave it at its first upload (None until then), to send it by id instead."""

    deck_id: int
    name: str
    data: bytes
    file_id: str | None = None

    @property
    def voice(self) -> bool:
        """True for OGG/Opus sounds, which Telegram shows as voice messages."""
        return is_voice(self.name)


@dataclass(frozen=True, slots=True)
class Question:
    """A question put to a student.

    ``choices`` are the buttons in display order: the shuffled options of a multiple-choice
    item, ``("true", "false")`` for true/false, empty otherwise. ``image`` holds the bytes of
    the item's picture, if any. ``shown`` is False until the message showing it is known to
    have reached the student (its message id is stored). ``new_waiting`` is set on a freshly
    chosen extra-practice question when new items were held back by today's quota (the
    student may ask for them). ``picture``, ``sound`` and ``answer_sound`` are the item's
    media as sent (the picture's bytes again, with its Telegram file id if known).
    """

    id: int
    item: Item
    deck_name: str
    choices: tuple[str, ...]
    number: int
    total: int
    reason: ChoiceReason
    asked_at: datetime
    image: bytes | None = None
    shown: bool = True
    new_waiting: int = 0
    picture: MediaFile | None = None
    sound: MediaFile | None = None
    answer_sound: MediaFile | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """A student's answer: a button index, typed text, or a self-grade."""

    choice: int | None = None
    text: str | None = None
    grade: Grade | None = None


@dataclass(frozen=True, slots=True)
class SessionProgress:
    """Where a quiz session stands."""

    answered: int
    correct: int
    total: int

    @property
    def finished(self) -> bool:
        """True once every planned question was answered."""
        return self.answered >= self.total


@dataclass(frozen=True, slots=True)
class Feedback:
    """The outcome of an answer. ``duplicate`` means it was answered before: nothing logged.

    ``resend`` (only with ``duplicate``): what follows this answer (the next question, or
    the end of the quiz) never reached the student, so this feedback may not have either:
    show it again, then what follows.
    ``given`` is the answer as logged; ``grade`` the self-grade when the student graded
    their own recall (None when the answer was marked, e.g. a cloze answered by typing).
    """

    question: Question
    correct: bool
    correct_text: str
    explanation: str
    next_review_at: datetime | None
    progress: SessionProgress
    duplicate: bool = False
    given: str = ""
    resend: bool = False
    grade: Grade | None = None
    again_this_quiz: bool = False
    """Answered wrong with room left in the quiz: it is asked once more later in it (after
    :data:`tutor.policy.types.RELEARN_GAP` other questions), before its next review."""


@dataclass(frozen=True, slots=True)
class StalledQuiz:
    """A quiz whose next step never reached the student (a lost message, a restart).

    ``feedback`` is the last answer's, to show again before the next question or the
    summary (None when no question was answered yet); ``running`` is False when that answer
    ended the quiz and only its summary is missing.
    """

    feedback: Feedback | None
    running: bool


@dataclass(frozen=True, slots=True)
class DeckInfo:
    """A deck with counts, and this student's enrolment if any."""

    deck: Deck
    n_items: int
    n_students: int
    enrolled: bool = False
    exam_date: date | None = None


@dataclass(frozen=True, slots=True)
class DayCount:
    """Answers on one local day."""

    day: date
    answers: int
    correct: int


@dataclass(frozen=True, slots=True)
class TagRecall:
    """Predicted recall for one tag, over the items of it the student has seen."""

    tag: str
    recall: float
    n_items: int


@dataclass(frozen=True, slots=True)
class ExamForecast:
    """Expected share of a deck recalled on exam day, at the current pace and a higher one."""

    deck_name: str
    exam_date: date
    expected_recall: float
    minutes_per_day: float
    higher_minutes_per_day: float
    higher_expected_recall: float


@dataclass(frozen=True, slots=True)
class StudentStats:
    """Everything /stats shows."""

    answers_today: int
    answers_week: int
    accuracy_week: float | None
    streak_days: int
    items_learned: int
    items_total: int
    per_day: list[DayCount] = field(default_factory=list)
    recall_by_tag: list[TagRecall] = field(default_factory=list)
    due_forecast: list[tuple[date, int]] = field(default_factory=list)
    exams: list[ExamForecast] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """Result of importing one file into one deck.

    ``updated`` counts items the file changed; ``unchanged`` those it left as they were.
    """

    deck: Deck
    added: int
    updated: int
    skipped: list[SkippedEntry]
    media: int = 0
    unchanged: int = 0
