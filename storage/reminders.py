"""Queries on ``reminders``: plan, claim, settle and recover reminder rows.

A row moves ``pending`` → ``claimed`` (taken by the sending job) → ``sent`` / ``skipped`` /
``failed``. ``attempts`` counts calls to Telegram that were *started* for the row; it is
written before each call, so after a crash a claimed row with ``attempts = 0`` is known
never to have reached Telegram, while one with ``attempts > 0`` may have.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from storage.database import Connection, dialect_of
from storage.dialect import POSTGRESQL
from storage.records import UserRecord
from storage.users import USER_COLUMNS, user_record

PENDING, CLAIMED, SENT, SKIPPED, FAILED = "pending", "claimed", "sent", "skipped", "failed"
_COLUMNS = "id, user_id, kind, slot, due_ms, status, claimed_ms, sent_ms, attempts, detail"

_DUE_BY = "CASE WHEN m.due_ms <= ? THEN 1 ELSE 0 END"
"""1 for a memory row due by the parameter (a sum of comparisons is SQLite's alone)."""


@dataclass(frozen=True, slots=True)
class ReminderRow:
    """A row of ``reminders``."""

    id: int
    user_id: int
    kind: str
    slot: str
    due_ms: int
    status: str
    claimed_ms: int | None
    sent_ms: int | None
    attempts: int
    detail: str


def _row(row: Any) -> ReminderRow:
    return ReminderRow(*row)


async def users_with_daily_time(conn: Connection) -> list[UserRecord]:
    """Active users who chose a daily-quiz time (and started the bot privately)."""
    async with conn.execute(
        f"SELECT {USER_COLUMNS} FROM users WHERE status = 'active'"
        " AND daily_quiz_time IS NOT NULL AND private_chat = 1 ORDER BY id"
    ) as cur:
        return [user_record(row) for row in await cur.fetchall()]


async def active_users(conn: Connection) -> list[UserRecord]:
    """Every active user who started the bot privately (group-only members get nothing)."""
    async with conn.execute(
        f"SELECT {USER_COLUMNS} FROM users WHERE status = 'active' AND private_chat = 1 ORDER BY id"
    ) as cur:
        return [user_record(row) for row in await cur.fetchall()]


async def users_by_id(conn: Connection, user_ids: Iterable[int]) -> dict[int, UserRecord]:
    """Users by id who started the bot privately (missing ids and group-only members, who
    get nothing privately, are left out)."""
    ids = list(dict.fromkeys(user_ids))
    found: dict[int, UserRecord] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        async with conn.execute(
            f"SELECT {USER_COLUMNS} FROM users WHERE id IN ({marks}) AND private_chat = 1", chunk
        ) as cur:
            for row in await cur.fetchall():
                found[row[0]] = user_record(row)
    return found


async def pending_after(conn: Connection, kind: str, since_ms: int) -> dict[tuple[int, str], int]:
    """(user_id, slot) → due_ms of pending rows of ``kind`` due after ``since_ms``."""
    async with conn.execute(
        "SELECT user_id, slot, due_ms FROM reminders"
        " WHERE status = 'pending' AND kind = ? AND due_ms > ?",
        (kind, since_ms),
    ) as cur:
        return {(row[0], row[1]): row[2] for row in await cur.fetchall()}


async def plan(conn: Connection, rows: Sequence[tuple[int, str, str, int]]) -> int:
    """Insert (user_id, kind, slot, due_ms) rows; an existing *pending* row gets the new time.

    Rows already claimed, sent, skipped or failed are left alone: a slot goes out at most
    once. Returns how many rows were inserted or moved.
    """
    if not rows:
        return 0
    before = conn.total_changes
    await conn.executemany(
        "INSERT INTO reminders (user_id, kind, slot, due_ms) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (user_id, kind, slot) DO UPDATE SET due_ms = excluded.due_ms"
        " WHERE reminders.status = 'pending' AND reminders.due_ms != excluded.due_ms",
        rows,
    )
    return conn.total_changes - before


async def claim_due(
    conn: Connection, now_ms: int, limit: int, *, kind: str | None = None, slot: str | None = None
) -> list[ReminderRow]:
    """Mark up to ``limit`` due pending rows claimed (oldest due first) and return them.

    Run inside a write transaction: two jobs can never claim the same row.
    """
    where = "status = 'pending' AND due_ms <= ?"
    params: list[Any] = [now_ms]
    if kind is not None:
        where += " AND kind = ?"
        params.append(kind)
    if slot is not None:
        where += " AND slot = ?"
        params.append(slot)
    async with conn.execute(
        # status again outside: PostgreSQL rechecks it (not the subquery) on a row another
        # connection claimed meanwhile, so that row is left to the other; SKIP LOCKED makes
        # the subquery pass over rows another claim holds and take the next ones instead.
        f"UPDATE reminders SET status = 'claimed', claimed_ms = ? WHERE status = 'pending'"
        f" AND id IN (SELECT id FROM reminders WHERE {where} ORDER BY due_ms, id LIMIT ?"
        f"{_skip_locked(conn)}) RETURNING {_COLUMNS}",
        (now_ms, *params, limit),
    ) as cur:
        rows = [_row(row) for row in await cur.fetchall()]
    return sorted(rows, key=lambda r: (r.due_ms, r.id))


def _skip_locked(conn: Connection) -> str:
    """PostgreSQL's row locks for a claim's subquery (SQLite's one writer needs none)."""
    return " FOR UPDATE SKIP LOCKED" if dialect_of(conn) == POSTGRESQL else ""


async def mark_started(conn: Connection, reminder_id: int) -> bool:
    """Record that a Telegram call for the row is about to start; False if not claimed."""
    cursor = await conn.execute(
        "UPDATE reminders SET attempts = attempts + 1 WHERE id = ? AND status = 'claimed'",
        (reminder_id,),
    )
    return cursor.rowcount == 1


async def settle(
    conn: Connection, reminder_id: int, status: str, now_ms: int, detail: str = ""
) -> None:
    """Finish a claimed row as sent, skipped or failed."""
    if status not in (SENT, SKIPPED, FAILED):
        raise ValueError(f"not a final status: {status!r}")
    await conn.execute(
        "UPDATE reminders SET status = ?, sent_ms = CASE WHEN ? = 'sent' THEN ? END,"
        " detail = ? WHERE id = ?",
        (status, status, now_ms, detail[:200], reminder_id),
    )


async def reschedule(conn: Connection, reminder_id: int, due_ms: int) -> None:
    """Put a claimed row back to pending at a new time."""
    await conn.execute(
        "UPDATE reminders SET status = 'pending', due_ms = ?, claimed_ms = NULL WHERE id = ?",
        (due_ms, reminder_id),
    )


async def has_stale(conn: Connection, claimed_before_ms: int) -> bool:
    """True if some row was claimed before the time and is still not settled."""
    async with conn.execute(
        "SELECT 1 FROM reminders WHERE status = 'claimed' AND claimed_ms < ? LIMIT 1",
        (claimed_before_ms,),
    ) as cur:
        return await cur.fetchone() is not None


async def recover_stale(conn: Connection, claimed_before_ms: int) -> tuple[int, int]:
    """Release rows claimed before a time by a job that is gone (crash, restart).

    Rows never started (``attempts = 0``) go back to pending: nothing was sent, so nothing
    is lost. Rows started but not settled may have reached the student, so they are
    skipped: a slot is never sent twice. Returns (requeued, skipped).
    """
    requeued = await conn.execute(
        "UPDATE reminders SET status = 'pending', claimed_ms = NULL"
        " WHERE status = 'claimed' AND attempts = 0 AND claimed_ms < ?",
        (claimed_before_ms,),
    )
    skipped = await conn.execute(
        "UPDATE reminders SET status = 'skipped', detail = 'outcome unknown after a restart'"
        " WHERE status = 'claimed' AND attempts > 0 AND claimed_ms < ?",
        (claimed_before_ms,),
    )
    return requeued.rowcount, skipped.rowcount


async def study_counts(
    conn: Connection, user_id: int, now_ms: int, soon_ms: int
) -> tuple[int, int, int]:
    """(due now, due by ``soon_ms``, never seen) items across the user's active decks."""
    live = (
        " JOIN items i ON i.id = m.item_id AND i.deleted_ms IS NULL"
        " JOIN enrolments e ON e.deck_id = i.deck_id AND e.user_id = m.user_id AND e.active = 1"
        " JOIN decks d ON d.id = i.deck_id AND d.deleted_ms IS NULL"
    )
    async with conn.execute(
        f"SELECT COALESCE(SUM({_DUE_BY}), 0), COALESCE(SUM({_DUE_BY}), 0)"
        f" FROM memory m{live} WHERE m.user_id = ?",
        (now_ms, soon_ms, user_id),
    ) as cur:
        row = await cur.fetchone()
    due, soon = (int(row[0]), int(row[1])) if row else (0, 0)
    async with conn.execute(
        "SELECT COUNT(*) FROM items i"
        " JOIN enrolments e ON e.deck_id = i.deck_id AND e.user_id = ? AND e.active = 1"
        " JOIN decks d ON d.id = i.deck_id AND d.deleted_ms IS NULL"
        " WHERE i.deleted_ms IS NULL AND NOT EXISTS"
        " (SELECT 1 FROM memory m WHERE m.user_id = ? AND m.item_id = i.id)",
        (user_id, user_id),
    ) as cur:
        row = await cur.fetchone()
    return due, soon, int(row[0]) if row else 0


def _chunks(ids: Iterable[int], size: int = 500) -> Iterable[list[int]]:
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), size):
        yield unique[start : start + size]


async def answer_counts(
    conn: Connection, user_ids: Iterable[int], start_ms: int, end_ms: int
) -> dict[int, tuple[int, int]]:
    """Per user: (answers in [start, end), time of the last of them in ms); users without
    any are left out."""
    found: dict[int, tuple[int, int]] = {}
    for chunk in _chunks(user_ids):
        marks = ",".join("?" * len(chunk))
        async with conn.execute(
            f"SELECT user_id, COUNT(*), MAX(answered_ms) FROM attempts WHERE user_id IN ({marks})"
            " AND answered_ms >= ? AND answered_ms < ? GROUP BY user_id",
            (*chunk, start_ms, end_ms),
        ) as cur:
            found.update({row[0]: (row[1], row[2]) for row in await cur.fetchall()})
    return found


async def sent_counts(
    conn: Connection, user_ids: Iterable[int], start_ms: int, end_ms: int
) -> dict[int, int]:
    """Reminders (not announcements) sent per user in [start, end)."""
    found: dict[int, int] = {}
    for chunk in _chunks(user_ids):
        marks = ",".join("?" * len(chunk))
        async with conn.execute(
            f"SELECT user_id, COUNT(*) FROM reminders WHERE user_id IN ({marks})"
            " AND status = 'sent' AND kind != 'announce' AND sent_ms >= ? AND sent_ms < ?"
            " GROUP BY user_id",
            (*chunk, start_ms, end_ms),
        ) as cur:
            found.update({row[0]: row[1] for row in await cur.fetchall()})
    return found


async def study_counts_many(
    conn: Connection, user_ids: Iterable[int], now_ms: int, soon_ms: int
) -> dict[int, tuple[int, int, int]]:
    """:func:`study_counts` for many users: user → (due now, due by ``soon_ms``, new)."""
    found: dict[int, list[int]] = {}
    for chunk in _chunks(user_ids):
        marks = ",".join("?" * len(chunk))
        async with conn.execute(
            f"SELECT m.user_id, SUM({_DUE_BY}), SUM({_DUE_BY}) FROM memory m"
            " JOIN items i ON i.id = m.item_id AND i.deleted_ms IS NULL"
            " JOIN enrolments e ON e.deck_id = i.deck_id AND e.user_id = m.user_id"
            " AND e.active = 1"
            " JOIN decks d ON d.id = i.deck_id AND d.deleted_ms IS NULL"
            f" WHERE m.user_id IN ({marks}) GROUP BY m.user_id",
            (now_ms, soon_ms, *chunk),
        ) as cur:
            for row in await cur.fetchall():
                found.setdefault(row[0], [0, 0, 0])[:2] = [int(row[1]), int(row[2])]
        async with conn.execute(
            "SELECT e.user_id, COUNT(*) FROM items i"
            " JOIN enrolments e ON e.deck_id = i.deck_id AND e.active = 1"
            " JOIN decks d ON d.id = i.deck_id AND d.deleted_ms IS NULL"
            f" WHERE e.user_id IN ({marks}) AND i.deleted_ms IS NULL AND NOT EXISTS"
            " (SELECT 1 FROM memory m WHERE m.user_id = e.user_id AND m.item_id = i.id)"
            " GROUP BY e.user_id",
            chunk,
        ) as cur:
            for row in await cur.fetchall():
                found.setdefault(row[0], [0, 0, 0])[2] = int(row[1])
    return {user: (v[0], v[1], v[2]) for user, v in found.items()}


async def advance(conn: Connection, started: int | None, sent: Sequence[int], now_ms: int) -> bool:
    """Mark claimed rows ``sent`` as sent and the claimed row ``started`` as started.

    One statement, so it is atomic on its own (also outside an explicit transaction).
    Returns False if ``started`` is given but no longer claimed.
    """
    ids = [started] if started is not None else []
    ids += [reminder_id for reminder_id in sent if reminder_id != started]
    if not ids:
        return True
    marks = ",".join("?" * len(ids))
    start = -1 if started is None else started
    # execute_fetchall: one trip to the database thread (this runs once per message).
    found = await conn.execute_fetchall(
        "UPDATE reminders SET"
        " status = CASE WHEN id = ? THEN status ELSE 'sent' END,"
        " sent_ms = CASE WHEN id = ? THEN sent_ms ELSE ? END,"
        " attempts = attempts + CASE WHEN id = ? THEN 1 ELSE 0 END"
        f" WHERE status = 'claimed' AND id IN ({marks}) RETURNING id",
        (start, start, now_ms, start, *ids),
    )
    updated = {row[0] for row in found}
    return started is None or started in updated


async def rows_for_slot(conn: Connection, kind: str, slot: str) -> list[ReminderRow]:
    """Every row of one slot (e.g. one announcement's deliveries)."""
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM reminders WHERE kind = ? AND slot = ? ORDER BY id", (kind, slot)
    ) as cur:
        return [_row(row) for row in await cur.fetchall()]


async def status_counts(conn: Connection, kind: str, slot: str) -> dict[tuple[str, str], int]:
    """(status, detail) → rows, for one slot."""
    async with conn.execute(
        "SELECT status, detail, COUNT(*) FROM reminders WHERE kind = ? AND slot = ?"
        " GROUP BY status, detail",
        (kind, slot),
    ) as cur:
        return {(row[0], row[1]): row[2] for row in await cur.fetchall()}


async def due_between(conn: Connection, start_ms: int, end_ms: int) -> list[ReminderRow]:
    """Pending rows due in [start, end), oldest first (for a dry run)."""
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM reminders WHERE status = 'pending'"
        " AND due_ms >= ? AND due_ms < ? ORDER BY due_ms, id",
        (start_ms, end_ms),
    ) as cur:
        return [_row(row) for row in await cur.fetchall()]
