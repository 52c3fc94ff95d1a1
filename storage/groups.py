"""Queries on groups: the groups the bot is in, their settings and decks, and their members."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from storage.batch import write_later
from storage.database import Connection, fetch_all, fetch_one

_GROUP = (
    "id, chat_id, title, language, timezone, daily_quiz_time, daily_length, exam_date,"
    " members_start, question_seconds, active, joined_ms, left_ms, topic_id"
)
_UPDATABLE = frozenset(
    {
        "title",
        "language",
        "timezone",
        "daily_quiz_time",
        "daily_length",
        "exam_date",
        "members_start",
        "question_seconds",
        "topic_id",
    }
)


@dataclass(frozen=True, slots=True)
class GroupRecord:
    """A row of ``groups``."""

    id: int
    chat_id: int
    title: str
    language: str
    timezone: str
    daily_quiz_time: str | None
    daily_length: int
    exam_date: str | None
    members_start: bool
    question_seconds: int
    active: bool
    joined_ms: int
    left_ms: int | None
    topic_id: int | None = None


def _group(row: Any) -> GroupRecord:
    return GroupRecord(
        id=row[0],
        chat_id=row[1],
        title=row[2],
        language=row[3],
        timezone=row[4],
        daily_quiz_time=row[5],
        daily_length=row[6],
        exam_date=row[7],
        members_start=bool(row[8]),
        question_seconds=row[9],
        active=bool(row[10]),
        joined_ms=row[11],
        left_ms=row[12],
        topic_id=row[13],
    )


async def get_group(conn: Connection, group_id: int) -> GroupRecord | None:
    """A group by its own id."""
    row = await fetch_one(conn, f"SELECT {_GROUP} FROM groups WHERE id = ?", (group_id,))
    return _group(row) if row else None


async def group_by_chat(conn: Connection, chat_id: int) -> GroupRecord | None:
    """The group with this Telegram chat id (active or not)."""
    row = await fetch_one(conn, f"SELECT {_GROUP} FROM groups WHERE chat_id = ?", (chat_id,))
    return _group(row) if row else None


async def join(
    conn: Connection, chat_id: int, title: str, language: str, timezone: str, now_ms: int
) -> tuple[GroupRecord, bool]:
    """Record that the bot is in the group: a new row, or the old one active again (its
    settings and history kept). Returns the row and whether it was new."""
    existing = await group_by_chat(conn, chat_id)
    if existing is None:
        await conn.execute(
            "INSERT INTO groups (chat_id, title, language, timezone, joined_ms)"
            " VALUES (?, ?, ?, ?, ?)",
            (chat_id, title[:128], language, timezone, now_ms),
        )
    else:
        await conn.execute(
            "UPDATE groups SET active = 1, left_ms = NULL, title = ? WHERE id = ?",
            (title[:128] or existing.title, existing.id),
        )
    found = await group_by_chat(conn, chat_id)
    assert found is not None
    return found, existing is None


async def leave(conn: Connection, group_id: int, now_ms: int) -> None:
    """The bot was removed: the group is inactive (rows are kept for its return)."""
    await conn.execute("UPDATE groups SET active = 0, left_ms = ? WHERE id = ?", (now_ms, group_id))


async def move_chat(conn: Connection, old_chat_id: int, new_chat_id: int) -> GroupRecord | None:
    """Telegram upgraded the group to a supergroup with a new chat id: the group's row (and so
    its settings, history and schedule) moves to the new id. A row already made for the new
    id without any quiz (the bot saw the supergroup first) is dropped in favour of the old.
    Returns the moved group (None if the old id is unknown)."""
    old = await group_by_chat(conn, old_chat_id)
    if old is None:
        return await group_by_chat(conn, new_chat_id)
    newer = await group_by_chat(conn, new_chat_id)
    if newer is not None and newer.id != old.id:
        used = await fetch_one(
            conn, "SELECT 1 FROM group_quizzes WHERE group_id = ? LIMIT 1", (newer.id,)
        )
        if used is not None:
            return newer  # both have history: keep the supergroup's, leave the old alone
        for table in ("group_decks", "group_slots", "group_members"):
            await conn.execute(f"DELETE FROM {table} WHERE group_id = ?", (newer.id,))
        await conn.execute("DELETE FROM groups WHERE id = ?", (newer.id,))
    await conn.execute(
        "UPDATE groups SET chat_id = ?, active = 1, left_ms = NULL WHERE id = ?",
        (new_chat_id, old.id),
    )
    return await get_group(conn, old.id)


async def update_group(conn: Connection, group_id: int, **changes: Any) -> None:
    """Set the given settings columns (only known, updatable ones)."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    if not changes:
        return
    assignments = ", ".join(f"{column} = ?" for column in changes)
    values = [int(v) if isinstance(v, bool) else v for v in changes.values()]
    await conn.execute(f"UPDATE groups SET {assignments} WHERE id = ?", (*values, group_id))


async def deck_ids(conn: Connection, group_id: int) -> list[int]:
    """The group's live decks, by id."""
    rows = await fetch_all(
        conn,
        "SELECT g.deck_id FROM group_decks g JOIN decks d ON d.id = g.deck_id"
        " WHERE g.group_id = ? AND d.deleted_ms IS NULL ORDER BY g.deck_id",
        (group_id,),
    )
    return [row[0] for row in rows]


async def toggle_deck(conn: Connection, group_id: int, deck_id: int) -> bool:
    """Add the deck to the group's decks, or take it out; True if it is now in."""
    cursor = await conn.execute(
        "DELETE FROM group_decks WHERE group_id = ? AND deck_id = ?", (group_id, deck_id)
    )
    if cursor.rowcount:
        return False
    await conn.execute(
        "INSERT INTO group_decks (group_id, deck_id) VALUES (?, ?)", (group_id, deck_id)
    )
    return True


async def add_deck(conn: Connection, group_id: int, deck_id: int) -> None:
    """Make sure the deck is among the group's decks."""
    await conn.execute(
        "INSERT INTO group_decks (group_id, deck_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (group_id, deck_id),
    )


# -- members --------------------------------------------------------------------------------


async def ensure_user(
    conn: Connection, user_id: int, first_name: str, language: str, timezone: str, now_ms: int
) -> bool:
    """A user row for a group member who never started the bot privately (``private_chat``
    0: nothing is sent to them privately until they /start); True if one was made."""
    if await fetch_one(conn, "SELECT 1 FROM users WHERE id = ?", (user_id,)) is not None:
        return False
    await conn.execute(
        "INSERT INTO users (id, chat_id, first_name, language, timezone, created_ms,"
        " last_seen_ms, private_chat) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
        (user_id, user_id, first_name[:64], language, timezone, now_ms, now_ms),
    )
    return True


async def touch_member(conn: Connection, group_id: int, user_id: int, now_ms: int) -> None:
    """Note a member's answer in the group (see :func:`storage.batch.write_later`)."""
    await write_later(
        conn,
        "INSERT INTO group_members (group_id, user_id, first_ms, last_ms) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (group_id, user_id) DO UPDATE SET"
        " last_ms = MAX(group_members.last_ms, excluded.last_ms)",
        (group_id, user_id, now_ms, now_ms),
    )


async def recent_members(
    conn: Connection, group_id: int, since_ms: int, limit: int
) -> list[tuple[int, int]]:
    """(user id, answers in the group since ``since_ms``) of the members who answered since
    then, most answers first."""
    rows = await fetch_all(
        conn,
        "SELECT a.user_id, COUNT(*) FROM group_answers a"
        " JOIN group_polls p ON p.id = a.poll_id"
        " JOIN group_quizzes q ON q.id = p.quiz_id"
        " WHERE q.group_id = ? AND a.answered_ms >= ?"
        " GROUP BY a.user_id ORDER BY COUNT(*) DESC, MAX(a.answered_ms) DESC LIMIT ?",
        (group_id, since_ms, limit),
    )
    return [(row[0], row[1]) for row in rows]


async def groups_of_user(conn: Connection, user_id: int) -> list[int]:
    """The groups a user answered in."""
    rows = await fetch_all(
        conn, "SELECT group_id FROM group_members WHERE user_id = ? ORDER BY group_id", (user_id,)
    )
    return [row[0] for row in rows]


async def active_groups(conn: Connection, ids: Iterable[int] | None = None) -> list[GroupRecord]:
    """Groups the bot is in (optionally only those of ``ids``)."""
    rows = await fetch_all(conn, f"SELECT {_GROUP} FROM groups WHERE active = 1 ORDER BY id")
    wanted = set(ids) if ids is not None else None
    return [_group(row) for row in rows if wanted is None or row[0] in wanted]


async def groups_with_daily_time(conn: Connection) -> list[GroupRecord]:
    """Active groups with a daily quiz time."""
    rows = await fetch_all(
        conn,
        f"SELECT {_GROUP} FROM groups WHERE active = 1 AND daily_quiz_time IS NOT NULL ORDER BY id",
    )
    return [_group(row) for row in rows]


async def all_groups(conn: Connection) -> list[GroupRecord]:
    """Every group the bot was ever in."""
    rows = await fetch_all(conn, f"SELECT {_GROUP} FROM groups ORDER BY id")
    return [_group(row) for row in rows]
