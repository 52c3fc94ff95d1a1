"""The own card a student is writing, kept between their messages.

``/new`` asks for a front, then a back; ✏️ under a card in ``/mycards`` asks for its new text.
What the student sent so far is a :class:`CardDraft` in the database, not in one process's
memory, so the next message finds it after a restart or on another worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from storage import card_drafts as draft_rows
from tutor.card_sounds import SoundSide
from tutor.clock import to_millis

if TYPE_CHECKING:
    from tutor.service import TutorService


DRAFT_LIFETIME = timedelta(hours=6)
"""A draft left longer is dropped: a student's text days after ``/new`` is not a card's back."""


class DraftStep(StrEnum):
    """What the draft waits for next."""

    FRONT = "front"
    BACK = "back"
    EDIT = "edit"  # the new ``front | back`` of card ``item_id``


@dataclass(frozen=True, slots=True)
class CardDraft:
    """A card being written: its step, the front once typed, and the photo sent for it."""

    step: DraftStep
    front: str = ""
    picture: str | None = None
    """Telegram's file id of the photo (fetched only when the card is saved)."""
    item_id: int | None = None
    question_id: int | None = None
    """The typed question open when the draft began: a typed question asked later wins."""
    sound: str | None = None
    """Telegram's file id of the voice note or audio file sent for the card."""
    sound_type: str = ""
    """The sound's file type (``ogg``, ``mp3``, ``m4a``)."""
    sound_side: SoundSide = SoundSide.QUESTION


class CardDrafts:
    """Each student's draft: read, replaced, dropped."""

    def __init__(self, service: TutorService) -> None:
        self.service = service
        self.db = service.db

    async def get(self, user_id: int) -> CardDraft | None:
        """The student's draft, if any was written in the last :data:`DRAFT_LIFETIME`."""
        since = to_millis(self.service.now() - DRAFT_LIFETIME)
        async with self.db.read() as conn:
            row = await draft_rows.get_draft(conn, user_id, since)
        if row is None:
            return None
        return CardDraft(
            DraftStep(row.step),
            row.front,
            row.picture,
            row.item_id,
            row.question_id,
            sound=row.sound,
            sound_type=row.sound_type,
            sound_side=SoundSide(row.sound_side),
        )

    async def put(self, user_id: int, draft: CardDraft) -> None:
        """Keep ``draft`` as the student's draft (in place of any earlier one)."""
        record = draft_rows.CardDraftRecord(
            draft.step.value,
            draft.front,
            draft.picture,
            draft.item_id,
            draft.question_id,
            draft.sound,
            draft.sound_type,
            draft.sound_side.value,
        )
        async with self.db.transaction() as conn:
            await draft_rows.put_draft(conn, user_id, record, to_millis(self.service.now()))

    async def drop(self, user_id: int) -> bool:
        """Forget the student's draft; whether there was one."""
        async with self.db.transaction() as conn:
            return await draft_rows.drop_draft(conn, user_id)
