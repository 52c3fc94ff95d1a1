"""Conversions between storage rows and domain types."""

from __future__ import annotations

from datetime import time

from storage.records import DeckRecord, ItemRecord, UserRecord
from tutor.clock import from_millis
from tutor.items import Deck, Item
from tutor.students import QuietHours, Student, StudentStatus, parse_hhmm


def item_from_record(record: ItemRecord) -> Item:
    """A stored item as a domain item."""
    return Item.from_payload(
        kind=record.kind,
        payload=record.payload,
        external_id=record.external_id,
        tags=record.tags,
        image=record.image,
        id=record.id,
        deck_id=record.deck_id,
        audio=record.audio,
        answer_audio=record.answer_audio,
    )


def item_to_record(item: Item, deck_id: int) -> ItemRecord:
    """A domain item ready to store in a deck."""
    return ItemRecord(
        id=item.id,
        deck_id=deck_id,
        external_id=item.external_id,
        kind=item.kind.value,
        payload=item.to_payload(),
        tags=item.tags,
        image=item.image,
        position=0,
        audio=item.audio,
        answer_audio=item.answer_audio,
    )


def deck_from_record(record: DeckRecord) -> Deck:
    """A stored deck as a domain deck."""
    return Deck(
        slug=record.slug,
        name=record.name,
        description=record.description,
        language=record.language,
        id=record.id,
        bundled=record.bundled,
    )


def _time_or_none(text: str | None) -> time | None:
    return parse_hhmm(text) if text else None


def student_from_record(record: UserRecord) -> Student:
    """A stored user as a student."""
    return Student(
        id=record.id,
        chat_id=record.chat_id,
        first_name=record.first_name,
        language=record.language,
        timezone=record.timezone,
        daily_quiz_time=_time_or_none(record.daily_quiz_time),
        quiet_hours=QuietHours.parse(record.quiet_hours) if record.quiet_hours else None,
        daily_goal=record.daily_goal,
        quiz_length=record.quiz_length,
        target_retention=record.target_retention,
        status=StudentStatus(record.status),
        onboarded=record.onboarded,
        created_at=from_millis(record.created_ms),
    )
