"""Queries on ``group_slots``: the daily group quizzes, planned, claimed and settled.

A slot row moves ``pending`` → ``started`` (a quiz row was made for it, in the same
transaction as the claim) or ``skipped`` (too late, or the group changed its mind). The claim
is one UPDATE of pending rows, so a slot starts at most one quiz even with several processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage.database import Connection, dialect_of, fetch_all
from storage.dialect import POSTGRESQL

_SLOT = "id, group_id, slot, due_ms, status, settled_ms, quiz_id, detail"


@dataclass(frozen=True, slots=True)
class SlotRow:
    """A row of ``group_slots``."""

    id: int
    group_id: int
    slot: str
    due_ms: int
    status: str
    settled_ms: int | None
    quiz_id: int | None
    detail: str


def _slot(row: Any) -> SlotRow:
    return SlotRow(*row)


async def pending_after(conn: Connection, since_ms: int) -> dict[tuple[int, str], int]:
    """(group id, slot) → due_ms of pending slots due after ``since_ms``."""
    rows = await fetch_all(
        conn,
        "SELECT group_id, slot, due_ms FROM group_slots WHERE status = 'pending' AND due_ms > ?",
        (since_ms,),
    )
    return {(row[0], row[1]): row[2] for row in rows}


async def plan(conn: Connection, rows: Sequence[tuple[int, str, int]]) -> int:
    """Insert (group id, slot, due_ms) rows; a pending row gets the new time, others are left
    alone (a slot starts at most one quiz). Returns rows inserted or moved."""
    if not rows:
        return 0
    before = conn.total_changes
    await conn.executemany(
        "INSERT INTO group_slots (group_id, slot, due_ms) VALUES (?, ?, ?)"
        " ON CONFLICT (group_id, slot) DO UPDATE SET due_ms = excluded.due_ms"
        " WHERE group_slots.status = 'pending' AND group_slots.due_ms != excluded.due_ms",
        rows,
    )
    return conn.total_changes - before


async def claim_due(conn: Connection, now_ms: int, limit: int) -> list[SlotRow]:
    """Take up to ``limit`` due pending slots (oldest first) out of ``pending`` and return
    them; run inside a write transaction with the quizzes they start."""
    locked = " FOR UPDATE SKIP LOCKED" if dialect_of(conn) == POSTGRESQL else ""
    rows = await fetch_all(
        conn,
        "UPDATE group_slots SET status = 'skipped', settled_ms = ?, detail = 'claimed'"
        " WHERE status = 'pending' AND id IN (SELECT id FROM group_slots"
        " WHERE status = 'pending' AND due_ms <= ?"
        # PostgreSQL: pass over slots another claim holds (SQLite has one writer)
        f" ORDER BY due_ms, id LIMIT ?{locked}) RETURNING {_SLOT}",
        (now_ms, now_ms, limit),
    )
    return sorted((_slot(row) for row in rows), key=lambda s: (s.due_ms, s.id))


async def settle(
    conn: Connection, slot_id: int, status: str, detail: str, quiz_id: int | None = None
) -> None:
    """Record what became of a claimed slot: ``started`` (with its quiz) or ``skipped``."""
    await conn.execute(
        "UPDATE group_slots SET status = ?, detail = ?, quiz_id = ? WHERE id = ?",
        (status, detail[:200], quiz_id, slot_id),
    )


async def reschedule(conn: Connection, slot_id: int, due_ms: int) -> None:
    """Put a claimed slot back to pending at a new time."""
    await conn.execute(
        "UPDATE group_slots SET status = 'pending', due_ms = ?, settled_ms = NULL, detail = ''"
        " WHERE id = ?",
        (due_ms, slot_id),
    )


async def drop_pending(conn: Connection, group_id: int) -> int:
    """Forget the group's pending slots (the bot left, or the daily quiz was turned off)."""
    cursor = await conn.execute(
        "DELETE FROM group_slots WHERE group_id = ? AND status = 'pending'", (group_id,)
    )
    return cursor.rowcount


async def slots_of(conn: Connection, group_id: int) -> list[SlotRow]:
    """Every slot of a group, oldest first."""
    rows = await fetch_all(
        conn, f"SELECT {_SLOT} FROM group_slots WHERE group_id = ? ORDER BY due_ms", (group_id,)
    )
    return [_slot(row) for row in rows]
