"""The own card a student is writing, kept between their messages.

``/new`` asks for a front, then a back; ✏️ under a card in ``/mycards`` asks for its new text.
What the student sent so far is a :class:`CardDraft` in the database, not in one process's
memory, so the next message finds it after a restart or on another worker.

The draft's photo and sound share the table's ``picture`` column (no migration): a photo
alone is its file id, as before; with a sound it is a small JSON object, which no file id
looks like (Telegram's ids are base64url).
"""

from __future__ import annotations

import json
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


def _pack_media(draft: CardDraft) -> str | None:
    if draft.sound is None:
        return draft.picture
    return json.dumps(
        {
            "picture": draft.picture,
            "sound": draft.sound,
            "sound_type": draft.sound_type,
            "side": draft.sound_side.value,
        },
        sort_keys=True,
    )


def _unpack_media(stored: str | None) -> dict[str, str | None]:
    if stored is None or not stored.startswith("{"):
        return {"picture": stored}
    fields = json.loads(stored)
    return {
        "picture": fields.get("picture"),
        "sound": fields.get("sound"),
        "sound_type": fields.get("sound_type") or "",
        "side": fields.get("side") or SoundSide.QUESTION.value,
    }


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
        media = _unpack_media(row.picture)
        return CardDraft(
            DraftStep(row.step),
            row.front,
            media["picture"],
            row.item_id,
            row.question_id,
            sound=media.get("sound"),
            sound_type=media.get("sound_type") or "",
            sound_side=SoundSide(media.get("side") or SoundSide.QUESTION.value),
        )

    async def put(self, user_id: int, draft: CardDraft) -> None:
        """Keep ``draft`` as the student's draft (in place of any earlier one)."""
        record = draft_rows.CardDraftRecord(
            draft.step.value, draft.front, _pack_media(draft), draft.item_id, draft.question_id
        )
        async with self.db.transaction() as conn:
            await draft_rows.put_draft(conn, user_id, record, to_millis(self.service.now()))

    async def drop(self, user_id: int) -> bool:
        """Forget the student's draft; whether there was one."""
        async with self.db.transaction() as conn:
            return await draft_rows.drop_draft(conn, user_id)
