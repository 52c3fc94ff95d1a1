"""Queries on students' card drafts: the own card each student is writing, one at most."""

from __future__ import annotations

from dataclasses import dataclass

from storage.database import Connection, fetch_one


@dataclass(frozen=True, slots=True)
class CardDraftRecord:
    """A row of ``own_card_drafts``."""

    step: str
    front: str
    picture: str | None
    item_id: int | None
    question_id: int | None
    sound: str | None = None
    sound_type: str = ""
    sound_side: str = "question"


async def get_draft(
    conn: Connection, user_id: int, since_ms: int | None = None
) -> CardDraftRecord | None:
    """The student's draft, if any (with ``since_ms``: only one written since then)."""
    row = await fetch_one(
        conn,
        "SELECT step, front, picture, item_id, question_id, sound, sound_type, sound_side"
        " FROM own_card_drafts"
        " WHERE user_id = ? AND updated_ms >= ?",
        (user_id, -1 if since_ms is None else since_ms),
    )
    if row is None:
        return None
    return CardDraftRecord(*row[:8])


async def put_draft(conn: Connection, user_id: int, draft: CardDraftRecord, now_ms: int) -> None:
    """Store the student's draft in place of any earlier one."""
    await conn.execute(
        "INSERT INTO own_card_drafts"
        " (user_id, step, front, picture, item_id, question_id, sound, sound_type, sound_side,"
        " updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET step = excluded.step, front = excluded.front,"
        " picture = excluded.picture, item_id = excluded.item_id,"
        " question_id = excluded.question_id, sound = excluded.sound,"
        " sound_type = excluded.sound_type, sound_side = excluded.sound_side,"
        " updated_ms = excluded.updated_ms",
        (
            user_id,
            draft.step,
            draft.front,
            draft.picture,
            draft.item_id,
            draft.question_id,
            draft.sound,
            draft.sound_type,
            draft.sound_side,
            now_ms,
        ),
    )


async def drop_draft(conn: Connection, user_id: int) -> bool:
    """Delete the student's draft; whether there was one."""
    cursor = await conn.execute("DELETE FROM own_card_drafts WHERE user_id = ?", (user_id,))
    return cursor.rowcount > 0
