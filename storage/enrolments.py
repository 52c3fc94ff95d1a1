"""Queries on ``enrolments``: which decks a student studies, and exam dates."""

from __future__ import annotations

import sqlite3
from typing import Any

from storage.batch import Query
from storage.database import Connection, run_sync
from storage.records import EnrolmentRecord


async def enrol(conn: Connection, user_id: int, deck_id: int, now_ms: int) -> None:
    """Enrol (or re-activate, keeping the exam date)."""
    await conn.execute(
        "INSERT INTO enrolments (user_id, deck_id, enrolled_ms, active) VALUES (?, ?, ?, 1)"
        " ON CONFLICT (user_id, deck_id) DO UPDATE SET active = 1",
        (user_id, deck_id, now_ms),
    )


async def leave(conn: Connection, user_id: int, deck_id: int) -> None:
    """Deactivate an enrolment (the history stays)."""
    await conn.execute(
        "UPDATE enrolments SET active = 0 WHERE user_id = ? AND deck_id = ?", (user_id, deck_id)
    )


async def set_exam_date(conn: Connection, user_id: int, deck_id: int, exam: str | None) -> None:
    """Set or clear (None) the exam date of an enrolment."""
    await conn.execute(
        "UPDATE enrolments SET exam_date = ? WHERE user_id = ? AND deck_id = ?",
        (exam, user_id, deck_id),
    )


_ENROLMENTS = (
    "SELECT e.user_id, e.deck_id, e.exam_date, e.active FROM enrolments e"
    " JOIN decks d ON d.id = e.deck_id"
    " WHERE e.user_id = ? AND e.active = 1 AND d.deleted_ms IS NULL ORDER BY e.enrolled_ms"
)


def enrolments_query(user_id: int) -> Query[list[EnrolmentRecord]]:
    """:func:`enrolments` as a :class:`storage.batch.Query`."""

    def parse(results: list[list[Any]]) -> list[EnrolmentRecord]:
        return [EnrolmentRecord(row[0], row[1], row[2], bool(row[3])) for row in results[0]]

    return Query([(_ENROLMENTS, (user_id,))], parse)


def read_enrolments(raw: sqlite3.Connection, user_id: int) -> list[EnrolmentRecord]:
    """:func:`enrolments` on the raw connection (inside ``run_sync``)."""
    return enrolments_query(user_id).run(raw)


async def enrolments(conn: Connection, user_id: int) -> list[EnrolmentRecord]:
    """The student's active enrolments in live decks."""
    return await run_sync(conn, lambda raw: read_enrolments(raw, user_id))
