"""Card drafts in storage: one per student, replaced in place, dropped, erased with them."""

from __future__ import annotations

from storage import Database
from storage import card_drafts as draft_rows
from storage import privacy as privacy_rows
from storage import users as user_rows
from storage.card_drafts import CardDraftRecord
from storage.records import UserRecord

# Telegram user ids pass 2**31: the columns must hold them on PostgreSQL too.
ADA = 7_123_456_789


def _user(user_id: int) -> UserRecord:
    return UserRecord(
        user_id, user_id, "N", "en", "UTC", None, None, 20, 10, 0.9, "active", True, 0, 0
    )


async def test_a_draft_is_kept_replaced_and_dropped(db: Database) -> None:
    async with db.transaction() as conn:
        await user_rows.insert_user(conn, _user(ADA))
        assert await draft_rows.get_draft(conn, ADA) is None
        front = CardDraftRecord("front", "", "AgAC-photo", None, 12_345_678_901)
        await draft_rows.put_draft(conn, ADA, front, 1)
        back = CardDraftRecord("back", "Mitochondria", "AgAC-photo", None, 12_345_678_901)
        await draft_rows.put_draft(conn, ADA, back, 2)
    async with db.read() as conn:
        assert await draft_rows.get_draft(conn, ADA) == back
    async with db.transaction() as conn:
        assert await draft_rows.drop_draft(conn, ADA)
        assert not await draft_rows.drop_draft(conn, ADA)
        assert await draft_rows.get_draft(conn, ADA) is None


async def test_forgetting_a_student_erases_their_draft(db: Database) -> None:
    async with db.transaction() as conn:
        await user_rows.insert_user(conn, _user(ADA))
        await draft_rows.put_draft(conn, ADA, CardDraftRecord("edit", "", None, 5, None), 1)
        deleted = await privacy_rows.erase_user(conn, ADA)
    assert deleted["own_card_drafts"] == 1
    async with db.read() as conn:
        assert await draft_rows.get_draft(conn, ADA) is None
