"""The Question view of a stored question: its item, deck name, choices and media files."""

from __future__ import annotations

from storage import Connection
from storage import content as content_rows
from storage.database import run_sync
from storage.records import QuestionRecord
from tutor.clock import from_millis
from tutor.convert import item_from_record
from tutor.errors import StaleQuestion
from tutor.grading import choice_labels
from tutor.items import Item
from tutor.views import ChoiceReason, MediaFile, Question


async def build_question(conn: Connection, row: QuestionRecord, total: int) -> Question:
    """The Question view of a stored question."""
    record, deck_name = await run_sync(
        conn, lambda raw: content_rows.read_item_and_deck_name(raw, row.item_id)
    )
    if record is None:
        raise StaleQuestion("item gone")
    return await question_view(conn, row, item_from_record(record), deck_name, total)


async def question_view(
    conn: Connection, row: QuestionRecord, item: Item, deck_name: str | None, total: int
) -> Question:
    """The Question view of a stored question whose item and deck name are known (only its
    media files are read)."""
    picture = await _media_file(conn, item.deck_id, item.image)
    return Question(
        id=row.id,
        item=item,
        deck_name=deck_name or "",
        choices=choice_labels(item, row.choices),
        number=row.number,
        total=total,
        reason=ChoiceReason(row.reason),
        asked_at=from_millis(row.asked_ms),
        image=picture.data if picture else None,
        shown=row.message_id is not None,
        picture=picture,
        sound=await _media_file(conn, item.deck_id, item.audio),
        answer_sound=await _media_file(conn, item.deck_id, item.answer_audio),
    )


async def _media_file(conn: Connection, deck_id: int, name: str | None) -> MediaFile | None:
    """A deck's media file as sent to Telegram (None: no name, or the deck lacks the file)."""
    if not name:
        return None
    found = await content_rows.get_media_file(conn, deck_id, name)
    return MediaFile(deck_id, name, found[0], found[1]) if found else None
