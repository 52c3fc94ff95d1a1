"""Rows as the storage layer returns them: plain values, times in Unix milliseconds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A row of ``users``."""

    id: int
    chat_id: int
    first_name: str
    language: str
    timezone: str
    daily_quiz_time: str | None
    quiet_hours: str | None
    daily_goal: int
    quiz_length: int
    target_retention: float
    status: str
    onboarded: bool
    created_ms: int
    last_seen_ms: int


@dataclass(frozen=True, slots=True)
class DeckRecord:
    """A row of ``decks`` with item and student counts."""

    id: int
    slug: str
    name: str
    description: str
    language: str
    bundled: bool
    n_items: int = 0
    n_students: int = 0


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """A row of ``items``; ``payload`` is the decoded JSON of the kind-specific fields."""

    id: int
    deck_id: int
    external_id: str
    kind: str
    payload: dict[str, Any]
    tags: tuple[str, ...]
    image: str | None
    position: int
    audio: str | None = None
    answer_audio: str | None = None


@dataclass(frozen=True, slots=True)
class EnrolmentRecord:
    """A student's membership in a deck."""

    user_id: int
    deck_id: int
    exam_date: str | None
    active: bool


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A row of ``quiz_sessions``; ``summary_ms``: when its end was shown to the student."""

    id: int
    user_id: int
    planned: int
    answered: int
    correct: int
    started_ms: int
    ended_ms: int | None
    summary_ms: int | None = None


@dataclass(frozen=True, slots=True)
class QuestionRecord:
    """A row of ``questions``; ``choices`` are option indices in display order."""

    id: int
    user_id: int
    session_id: int | None
    item_id: int
    choices: tuple[int, ...]
    reason: str
    number: int
    asked_ms: int
    message_id: int | None
    answered_ms: int | None


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One logged answer."""

    user_id: int
    item_id: int
    answered_ms: int
    response: str
    correct: bool
    grade: int | None
    latency_ms: int | None
    idempotency_key: str
    id: int = 0


@dataclass(frozen=True, slots=True)
class MemoryRecord:
    """What a student has shown of one item so far."""

    user_id: int
    item_id: int
    n_correct: int
    n_wrong: int
    last_ms: int
    last_correct: bool
    due_ms: int
    interval_days: float
    previous_ms: int | None = None  # the answer before the last one, if any


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """An admin action."""

    at_ms: int
    actor_id: int | None
    action: str
    target: str
    detail: str


@dataclass(frozen=True, slots=True)
class DeckRow:
    """A row of ``decks`` as an import sees it: live or deleted, without counts."""

    id: int
    slug: str
    name: str
    description: str
    language: str
    bundled: bool
    deleted: bool
    source_digest: str | None


@dataclass(frozen=True, slots=True)
class ItemValues:
    """An item in its stored form (``payload`` as JSON text), without the database's ids."""

    external_id: str
    kind: str
    payload: str
    tags: str
    image: str | None
    position: int
    audio: str | None = None
    answer_audio: str | None = None


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item row as an import compares it: its id, values and whether it is deleted."""

    id: int
    values: ItemValues
    deleted: bool
