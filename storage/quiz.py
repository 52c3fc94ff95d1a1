"""Queries on quiz sessions and the questions put to students."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from storage.database import Connection, fetch_all, fetch_one
from storage.records import QuestionRecord, SessionRecord

_SESSION = "id, user_id, planned, answered, correct, started_ms, ended_ms, summary_ms"
_QUESTION = (
    "id, user_id, session_id, item_id, choices, reason, number, asked_ms, message_id, answered_ms"
)

_OPEN_SESSION = (
    f"SELECT {_SESSION} FROM quiz_sessions WHERE user_id = ? AND ended_ms IS NULL"
    " ORDER BY id DESC LIMIT 1"
)
_UNANSWERED = (
    f"SELECT {', '.join('q.' + c.strip() for c in _QUESTION.split(','))} FROM questions q"
    " JOIN quiz_sessions s ON s.id = q.session_id AND s.ended_ms IS NULL"
    " WHERE q.user_id = ? AND q.answered_ms IS NULL ORDER BY q.id DESC LIMIT 1"
)
_SESSION_ITEMS = (
    "SELECT q.item_id, a.correct FROM questions q"
    " LEFT JOIN attempts a ON a.idempotency_key = 'q' || q.id"
    " WHERE q.session_id = ? ORDER BY q.id"
)


def _session(row: Any) -> SessionRecord:
    return SessionRecord(*row)


def _question(row: Any) -> QuestionRecord:
    return QuestionRecord(
        id=row[0],
        user_id=row[1],
        session_id=row[2],
        item_id=row[3],
        choices=tuple(json.loads(row[4])),
        reason=row[5],
        number=row[6],
        asked_ms=row[7],
        message_id=row[8],
        answered_ms=row[9],
    )


def read_position(
    raw: sqlite3.Connection, user_id: int
) -> tuple[SessionRecord | None, QuestionRecord | None, list[tuple[int, bool | None]]]:
    """Where the student's quiz stands, in one trip (inside ``run_sync``): the running
    session, the question waiting for an answer, and, when none waits, the session's items
    (see :func:`session_items`)."""
    row = raw.execute(_OPEN_SESSION, (user_id,)).fetchone()
    if row is None:
        return None, None, []
    session = _session(row)
    waiting = raw.execute(_UNANSWERED, (user_id,)).fetchone()
    if waiting is not None:
        return session, _question(waiting), []
    history = raw.execute(_SESSION_ITEMS, (session.id,)).fetchall()
    return session, None, [(r[0], None if r[1] is None else bool(r[1])) for r in history]


def read_after(
    raw: sqlite3.Connection, question: QuestionRecord
) -> tuple[QuestionRecord | None, bool]:
    """What came after ``question`` (inside ``run_sync``): the next question of its session,
    if one was chosen, and whether the student started a later session."""
    after = raw.execute(
        f"SELECT {_QUESTION} FROM questions WHERE session_id = ? AND id > ? ORDER BY id LIMIT 1",
        (question.session_id, question.id),
    ).fetchone()
    newer = raw.execute(
        "SELECT 1 FROM quiz_sessions WHERE user_id = ? AND id > ? LIMIT 1",
        (question.user_id, question.session_id),
    ).fetchone()
    return (_question(after) if after else None), newer is not None


def read_last(
    raw: sqlite3.Connection, user_id: int
) -> tuple[SessionRecord | None, QuestionRecord | None, QuestionRecord | None]:
    """The student's latest session, running or not, with its latest question and its last
    answered one (inside ``run_sync``)."""
    row = raw.execute(
        f"SELECT {_SESSION} FROM quiz_sessions WHERE user_id = ? ORDER BY id DESC LIMIT 1",
        (user_id,),
    ).fetchone()
    if row is None:
        return None, None, None
    session = _session(row)
    latest = raw.execute(
        f"SELECT {_QUESTION} FROM questions WHERE session_id = ? ORDER BY id DESC LIMIT 1",
        (session.id,),
    ).fetchone()
    if latest is None or latest[9] is not None:  # answered_ms
        answered = latest
    else:
        answered = raw.execute(
            f"SELECT {_QUESTION} FROM questions WHERE session_id = ? AND answered_ms IS NOT NULL"
            " ORDER BY id DESC LIMIT 1",
            (session.id,),
        ).fetchone()
    return (
        session,
        _question(latest) if latest else None,
        _question(answered) if answered else None,
    )


async def open_session(conn: Connection, user_id: int) -> SessionRecord | None:
    """The student's running session, if any."""
    row = await fetch_one(conn, _OPEN_SESSION, (user_id,))
    return _session(row) if row else None


async def get_session(conn: Connection, session_id: int) -> SessionRecord | None:
    """A session by id."""
    row = await fetch_one(conn, f"SELECT {_SESSION} FROM quiz_sessions WHERE id = ?", (session_id,))
    return _session(row) if row else None


async def start_session(conn: Connection, user_id: int, planned: int, now_ms: int) -> int:
    """End any running session and start a new one; returns its id."""
    await end_sessions(conn, user_id, now_ms)
    cursor = await conn.execute(
        "INSERT INTO quiz_sessions (user_id, planned, started_ms) VALUES (?, ?, ?)",
        (user_id, planned, now_ms),
    )
    return int(cursor.lastrowid or 0)


async def end_sessions(conn: Connection, user_id: int, now_ms: int, *, shown: bool = False) -> None:
    """End the student's running sessions; ``shown``: the student is told so now (/stop)."""
    await conn.execute(
        "UPDATE quiz_sessions SET ended_ms = ?, summary_ms = ?"
        " WHERE user_id = ? AND ended_ms IS NULL",
        (now_ms, now_ms if shown else None, user_id),
    )


async def summary_shown(conn: Connection, question_id: int, now_ms: int) -> None:
    """Note that the end of the session of ``question_id`` (its summary) reached the student."""
    await conn.execute(
        "UPDATE quiz_sessions SET summary_ms = ?"
        " WHERE id = (SELECT session_id FROM questions WHERE id = ?) AND summary_ms IS NULL",
        (now_ms, question_id),
    )


async def count_answer(conn: Connection, session_id: int, correct: bool) -> None:
    """Add one answer to a session's tally."""
    await conn.execute(
        "UPDATE quiz_sessions SET answered = answered + 1, correct = correct + ? WHERE id = ?",
        (int(correct), session_id),
    )


async def add_question(
    conn: Connection,
    *,
    user_id: int,
    session_id: int | None,
    item_id: int,
    choices: tuple[int, ...],
    reason: str,
    number: int,
    now_ms: int,
) -> int:
    """Record a question put to a student; returns its id."""
    cursor = await conn.execute(
        "INSERT INTO questions (user_id, session_id, item_id, choices, reason, number, asked_ms)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (user_id, session_id, item_id, json.dumps(list(choices)), reason, number, now_ms),
    )
    return int(cursor.lastrowid or 0)


async def get_question(conn: Connection, question_id: int) -> QuestionRecord | None:
    """A question by id."""
    row = await fetch_one(conn, f"SELECT {_QUESTION} FROM questions WHERE id = ?", (question_id,))
    return _question(row) if row else None


async def unanswered_question(conn: Connection, user_id: int) -> QuestionRecord | None:
    """The student's latest question in a running session still waiting for an answer."""
    row = await fetch_one(conn, _UNANSWERED, (user_id,))
    return _question(row) if row else None


async def set_message(conn: Connection, question_id: int, message_id: int) -> None:
    """Remember the chat message that shows a question."""
    await conn.execute(
        "UPDATE questions SET message_id = ? WHERE id = ?", (message_id, question_id)
    )


async def close_question(
    conn: Connection, question_id: int, now_ms: int, answer_key: str | None = None
) -> bool:
    """Mark a question answered; False if it already was (so the caller logs nothing)."""
    cursor = await conn.execute(
        "UPDATE questions SET answered_ms = ?, answer_key = ? WHERE id = ? AND answered_ms IS NULL",
        (now_ms, answer_key, question_id),
    )
    return cursor.rowcount == 1


async def question_answered_by(conn: Connection, answer_key: str) -> int | None:
    """The question a given update already answered, if any."""
    row = await fetch_one(conn, "SELECT id FROM questions WHERE answer_key = ?", (answer_key,))
    return int(row[0]) if row else None


async def session_items(conn: Connection, session_id: int) -> list[tuple[int, bool | None]]:
    """(item id, correct or None if unanswered) of a session's questions, in order."""
    rows = await fetch_all(conn, _SESSION_ITEMS, (session_id,))
    return [(row[0], None if row[1] is None else bool(row[1])) for row in rows]


async def withdraw_question(conn: Connection, question_id: int) -> bool:
    """Take back a question nobody answered (the student chose something else instead);
    False if it was answered or is gone. The session then asks its next one."""
    cursor = await conn.execute(
        "DELETE FROM questions WHERE id = ? AND answered_ms IS NULL", (question_id,)
    )
    return cursor.rowcount == 1
