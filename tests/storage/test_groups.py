"""Group rows: members known only from groups get nothing privately, and /forget erases
their group rows with everything else."""

from __future__ import annotations

from storage import Database
from storage import announcements as announcement_rows
from storage import group_quizzes as quiz_rows
from storage import groups as group_rows
from storage import privacy as privacy_rows
from storage import reminders as reminder_rows
from storage import users as user_rows
from tests.storage.test_privacy import _user


async def _one_group_answer(db: Database, user_id: int) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO decks (id, slug, name, created_ms, updated_ms) VALUES (1, 'd', 'D', 0, 0)"
        )
        await conn.execute(
            "INSERT INTO items (id, deck_id, external_id, kind, payload, created_ms, updated_ms)"
            " VALUES (1, 1, 'x', 'true_false', '{\"prompt\": \"?\"}', 0, 0)"
        )
        group, _ = await group_rows.join(conn, -5, "Class", "en", "UTC", 0)
        quiz = await quiz_rows.start_quiz(conn, group.id, "command", 1, 0)
        assert quiz is not None
        poll = await quiz_rows.add_poll(conn, quiz, 1, ("true", "false"), 0, "", 0)
        await group_rows.ensure_user(conn, user_id, "Bo", "en", "UTC", 0)
        assert await quiz_rows.add_answer(conn, poll.id, user_id, 0, True, 5)
        assert not await quiz_rows.add_answer(conn, poll.id, user_id, 1, False, 6)
        await group_rows.touch_member(conn, group.id, user_id, 5)


async def test_members_known_only_from_groups_get_no_reminders_nudges_or_announcements(
    db: Database,
) -> None:
    async with db.transaction() as conn:
        await user_rows.insert_user(conn, _user(1))  # started the bot privately
        await group_rows.ensure_user(conn, 2, "Bo", "en", "UTC", 0)
        # even with a daily time (say, set by hand), a group-only member gets nothing
        await conn.execute("UPDATE users SET daily_quiz_time = '08:00' WHERE id IN (1, 2)")
    async with db.read() as conn:
        assert [u.id for u in await reminder_rows.users_with_daily_time(conn)] == [1]
        assert [u.id for u in await reminder_rows.active_users(conn)] == [1]
        assert list(await reminder_rows.users_by_id(conn, [1, 2])) == [1]
        assert await announcement_rows.recipients(conn, None) == [1]
    # once they /start (private_chat set), they are like everyone else
    async with db.transaction() as conn:
        await user_rows.update_user(conn, 2, private_chat=True)
    async with db.read() as conn:
        assert [u.id for u in await reminder_rows.active_users(conn)] == [1, 2]


async def test_forget_erases_a_members_group_rows(db: Database) -> None:
    await _one_group_answer(db, 7)
    async with db.read() as conn:
        tables = {table for table, _ in await privacy_rows.tables_referencing_users(conn)}
    assert {"group_answers", "group_members"} <= tables
    async with db.transaction() as conn:
        deleted = await privacy_rows.erase_user(conn, 7)
    assert deleted["group_answers"] == 1 and deleted["group_members"] == 1
    async with db.read() as conn, conn.execute("SELECT COUNT(*) FROM group_answers") as cur:
        row = await cur.fetchone()
    assert row is not None and row[0] == 0


async def test_ensure_user_never_touches_a_student_who_started_the_bot(db: Database) -> None:
    async with db.transaction() as conn:
        await user_rows.insert_user(conn, _user(1))
        assert not await group_rows.ensure_user(conn, 1, "Other", "zh", "Asia/Tokyo", 9)
        assert await group_rows.ensure_user(conn, 3, "Cy", "zh", "Asia/Tokyo", 9)
        kept = await user_rows.get_user(conn, 1)
    assert kept is not None and (kept.first_name, kept.language) == ("N", "en")
