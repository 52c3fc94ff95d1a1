"""Inputs and outputs of the study policy: settings, candidates, session history, the choice."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

SECONDS_PER_DAY = 86_400.0
#: Answer time assumed when nothing better is known (median of the real Anki logs is 9-18 s).
DEFAULT_ANSWER_SECONDS = 12.0


RELEARN_GAP = 3
"""A wrong item comes back after this many other answers in the same session."""


class Reason(enum.StrEnum):
    """Why an item was chosen (shown to the student and logged with the attempt)."""

    DUE_REVIEW = "due_review"
    NEW_ITEM = "new_item"
    RELEARN = "relearn_after_wrong"
    EXAM_PRIORITY = "exam_priority"
    EXTRA_PRACTICE = "extra_practice"

    @property
    def counts_toward_goal(self) -> bool:
        """Extra practice is ahead-of-time work: it never uses up the day's quota."""
        return self is not Reason.EXTRA_PRACTICE


def require_aware(when: datetime, name: str = "time") -> datetime:
    """Return ``when`` if it is timezone-aware, else raise (naive datetimes are ambiguous)."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {when!r}")
    return when


def to_seconds(when: datetime) -> float:
    """Unix seconds of an aware datetime."""
    return require_aware(when).timestamp()


@dataclass(frozen=True, slots=True)
class StudySettings:
    """A student's study preferences.

    ``target_retention`` trades workload for memory: at 0.9 an item comes back when the model
    gives it a 10% chance of being forgotten; a higher target means more reviews for a little
    more recall (steeply more as it nears 1), a lower one fewer reviews and more forgetting.
    ``daily_goal_items`` or ``daily_goal_minutes`` sets the pace (minutes win when both are
    given). ``exams`` maps a deck id to its exam date.
    """

    target_retention: float = 0.9
    daily_goal_items: int = 30
    daily_goal_minutes: float | None = None
    exams: dict[int, datetime] = field(default_factory=dict)
    #: New items stop this many days before an exam: seen once, they would not be learned.
    exam_new_cutoff_days: float = 1.0
    #: Share of the daily goal that new items may take (the rest is for reviews).
    new_share: float = 0.25
    #: A wrong item comes back after this many other answers in the same session.
    relearn_gap: int = RELEARN_GAP
    #: New items the student asked for today ("more new questions"): while fewer were
    #: introduced today, new items come even past the quota and the daily goal.
    new_items_today: int | None = None

    def __post_init__(self) -> None:
        if not 0.5 <= self.target_retention < 1.0:
            raise ValueError("target_retention must be in [0.5, 1)")
        for deck, when in self.exams.items():
            require_aware(when, f"exam date of deck {deck}")

    def goal_items(self, seconds_per_answer: float = DEFAULT_ANSWER_SECONDS) -> int:
        """The daily goal expressed in answers."""
        if self.daily_goal_minutes is not None:
            return max(1, math.floor(self.daily_goal_minutes * 60.0 / seconds_per_answer))
        return max(1, self.daily_goal_items)

    def new_quota(self, seconds_per_answer: float = DEFAULT_ANSWER_SECONDS) -> int:
        """How many new items a day fit the goal (each costs about two answers on its first day)."""
        return max(1, math.floor(self.goal_items(seconds_per_answer) * self.new_share))


@dataclass(frozen=True, slots=True)
class Candidates:
    """The student's enrolled items, columnar.

    ``p_recall`` is the model's current P(recall) (ignored where ``is_new``); ``last_seen`` is
    Unix seconds (NaN when never seen); ``tag`` is a small integer per item's main tag (-1 for
    none); ``deck`` the deck id. ``p_exam_now`` / ``p_exam_reviewed`` are optional exam-day
    forecasts without / with a review now (see :func:`tutor.policy.exam.exam_forecast`).
    """

    item_id: IntArray
    p_recall: FloatArray
    is_new: BoolArray
    last_seen: FloatArray
    tag: IntArray
    deck: IntArray
    answer_seconds: FloatArray | None = None
    p_exam_now: FloatArray | None = None
    p_exam_reviewed: FloatArray | None = None

    def __post_init__(self) -> None:
        n = self.item_id.shape[0]
        for name in ("p_recall", "is_new", "last_seen", "tag", "deck"):
            if getattr(self, name).shape[0] != n:
                raise ValueError(f"{name} has a different length than item_id")

    def __len__(self) -> int:
        return int(self.item_id.shape[0])

    @classmethod
    def build(
        cls,
        item_id: list[int] | IntArray,
        p_recall: list[float] | FloatArray,
        *,
        is_new: list[bool] | BoolArray | None = None,
        last_seen: list[float] | FloatArray | None = None,
        tag: list[int] | IntArray | None = None,
        deck: list[int] | IntArray | None = None,
        answer_seconds: list[float] | FloatArray | None = None,
    ) -> Candidates:
        """Convenience constructor from lists (missing columns get neutral defaults)."""
        ids = np.asarray(item_id, dtype=np.int64)
        n = ids.shape[0]
        p = np.asarray(p_recall, dtype=np.float64)
        new = np.zeros(n, bool) if is_new is None else np.asarray(is_new, dtype=bool)
        seen = np.full(n, np.nan) if last_seen is None else np.asarray(last_seen, np.float64)
        tags = np.full(n, -1, np.int64) if tag is None else np.asarray(tag, np.int64)
        decks = np.zeros(n, np.int64) if deck is None else np.asarray(deck, np.int64)
        secs = None if answer_seconds is None else np.asarray(answer_seconds, np.float64)
        return cls(ids, p, new, seen, tags, decks, secs)


@dataclass(frozen=True, slots=True)
class SessionHistory:
    """What happened in the current session: answered items in order, and which were wrong."""

    answered: tuple[int, ...] = ()
    wrong: tuple[int, ...] = ()

    def record(self, item_id: int, correct: bool) -> SessionHistory:
        """The history after one more answer (a right answer clears an earlier wrong one)."""
        wrong = tuple(i for i in self.wrong if i != item_id)
        if not correct:
            wrong = (*wrong, item_id)
        return SessionHistory((*self.answered, item_id), wrong)

    @property
    def last(self) -> int | None:
        """The item answered last, if any."""
        return self.answered[-1] if self.answered else None


@dataclass(frozen=True, slots=True)
class TodayCounts:
    """Today's work so far (extra practice excluded)."""

    reviews: int = 0
    new: int = 0
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Choice:
    """The policy's answer: which item, and why.

    ``new_waiting`` counts the new items held back by today's quota when the choice is
    extra practice of a seen item: the student could be offered those instead.
    """

    item_id: int
    reason: Reason
    new_waiting: int = 0
