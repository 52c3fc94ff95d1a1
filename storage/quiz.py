"""Queries on quiz sessions and the questions put to students."""

from __future__ import annotations

import json
import sqlite3
from typing import Any, NamedTuple

from storage.batch import Query, read_all, write_later
from storage.content import ITEM_COLUMNS, item_from_row
from storage.database import Connection, fetch_all, fetch_one
from storage.records import ItemRecord, QuestionRecord, SessionRecord

_SESSION = "id, user_id, planned, answered, correct, started_ms, ended_ms, summary_ms"
_QUESTION = (
    "id, user_id, session_id, item_id, choices, reason, number, asked_ms, message_id, answered_ms"
)

_QUESTION_Q = ", ".join("q." + column.strip() for column in _QUESTION.split(","))
_SESSION_S = ", ".join("s." + column.strip() for column in _SESSION.split(","))
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
_OPEN_SESSION_ITEMS = _SESSION_ITEMS.replace(
    "q.session_id = ?",
    "q.session_id = (SELECT id FROM quiz_sessions WHERE user_id = ? AND ended_ms IS NULL"
    " ORDER BY id DESC LIMIT 1)",
)
_ITEM = ", ".join("i." + column.strip() for column in ITEM_COLUMNS.split(","))
_LIVE_DECK_NAME = "CASE WHEN d.owner_id IS NULL THEN d.name ELSE '' END"
_ITEM_AND_DECK_NAME = (
    f"SELECT {_ITEM}, {_LIVE_DECK_NAME} FROM items i"
    " LEFT JOIN decks d ON d.id = i.deck_id AND d.deleted_ms IS NULL WHERE i.id = ?"
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
    """Where the student's quiz stands (inside ``run_sync``): see :func:`position_query`."""
    return position_query(user_id).run(raw)


def position_query(
    user_id: int,
) -> Query[tuple[SessionRecord | None, QuestionRecord | None, list[tuple[int, bool | None]]]]:
    """Where the student's quiz stands, in one round trip: the running session, the
    question waiting for an answer, and, when none waits, the session's items (see
    :func:`session_items`)."""

    def parse(
        results: list[list[Any]],
    ) -> tuple[SessionRecord | None, QuestionRecord | None, list[tuple[int, bool | None]]]:
        sessions, waiting, history = results
        if not sessions:
            return None, None, []
        session = _session(sessions[0])
        if waiting:
            return session, _question(waiting[0]), []
        return session, None, [(r[0], None if r[1] is None else bool(r[1])) for r in history]

    return Query(
        [(_OPEN_SESSION, (user_id,)), (_UNANSWERED, (user_id,)), (_OPEN_SESSION_ITEMS, (user_id,))],
        parse,
    )


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
    await write_later(
        conn,
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
    await write_later(
        conn,
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


def ask(
    raw: sqlite3.Connection,
    *,
    user_id: int,
    session_id: int | None,
    item_id: int,
    choices: tuple[int, ...],
    reason: str,
    number: int,
    now_ms: int,
    last: bool = False,
) -> tuple[int, ItemRecord | None, str | None]:
    """:func:`add_question` (only while its item is live), and the item (live or not) with
    its deck's name if the deck is live (see :func:`storage.content.read_item_and_deck_name`), in
    one round trip (inside ``run_sync``): (question id or 0, item or None, deck name).
    ``last``: the transaction ends with this (see :func:`storage.batch.read_all`)."""
    added, found = read_all(
        raw,
        [
            (
                "INSERT INTO questions (user_id, session_id, item_id, choices, reason, number,"
                " asked_ms) SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS"
                " (SELECT 1 FROM items WHERE id = ? AND deleted_ms IS NULL) RETURNING id",
                (
                    user_id,
                    session_id,
                    item_id,
                    json.dumps(list(choices)),
                    reason,
                    number,
                    now_ms,
                    item_id,
                ),
            ),
            (_ITEM_AND_DECK_NAME, (item_id,)),
        ],
        commit=last,
    )
    if not added or not found:
        return 0, None, None
    row = found[0]
    return int(added[0][0]), item_from_row(row[:-1]), row[-1]


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


class AnswerTarget(NamedTuple):
    """A question being answered and what marking it needs, read in one round trip with the
    write that closes it (:func:`read_and_close`)."""

    question: QuestionRecord | None
    """The question (None: no such question); that of ``answer_key`` if that key answered one."""
    session: SessionRecord | None
    item: ItemRecord | None
    """Its item, None when the item or its deck is deleted."""
    deck_name: str | None
    closed: bool
    """The question was open, in a running session, of a live item, and is now closed."""


def read_and_close(
    raw: sqlite3.Connection, question_id: int, user_id: int, now_ms: int, answer_key: str | None
) -> AnswerTarget:
    """Find an answered question's row, session and item, and close it if it is ``user_id``'s,
    still open, in a running session and of a live item (inside ``run_sync``, in a write
    transaction), in one round trip. ``answer_key`` names the update that carries the answer:
    if it answered a question already, that question is the one found (and not closed again).

    The caller raises (and so rolls back the close) when the answer turns out not to fit;
    ``closed`` False with an open question means another answer closed it meanwhile."""
    return read_and_close_query(question_id, user_id, now_ms, answer_key).run(raw)


def read_and_close_query(
    question_id: int, user_id: int, now_ms: int, answer_key: str | None
) -> Query[AnswerTarget]:
    """:func:`read_and_close` as a :class:`storage.batch.Query` (in a write transaction: it
    closes the question), to go with other reads."""
    given: tuple[Any, ...] = (question_id,)
    target = "?"
    if answer_key is not None:
        target = "COALESCE((SELECT id FROM questions WHERE answer_key = ?), ?)"
        given = (answer_key, question_id)
    statements: list[tuple[str, tuple[Any, ...]]] = [
        (
            f"SELECT {_QUESTION_Q}, {_SESSION_S}, {_ITEM}, {_LIVE_DECK_NAME}, d.id"
            " FROM questions q LEFT JOIN quiz_sessions s ON s.id = q.session_id"
            " LEFT JOIN items i ON i.id = q.item_id AND i.deleted_ms IS NULL"
            " LEFT JOIN decks d ON d.id = i.deck_id AND d.deleted_ms IS NULL"
            f" WHERE q.id = {target}",
            given,
        ),
        (
            "UPDATE questions SET answered_ms = ?, answer_key = ?"
            f" WHERE id = {target} AND user_id = ? AND answered_ms IS NULL"
            " AND EXISTS (SELECT 1 FROM quiz_sessions s"
            " WHERE s.id = questions.session_id AND s.ended_ms IS NULL)"
            " AND EXISTS (SELECT 1 FROM items i"
            " JOIN decks d ON d.id = i.deck_id AND d.deleted_ms IS NULL"
            " WHERE i.id = questions.item_id AND i.deleted_ms IS NULL) RETURNING id",
            (now_ms, answer_key, *given, user_id),
        ),
    ]
    return Query(statements, _answer_target)


def _answer_target(results: list[list[Any]]) -> AnswerTarget:
    found, closed = results
    if not found:
        return AnswerTarget(None, None, None, None, False)
    row = found[0]
    n_question, n_session, n_item = 10, 8, len(ITEM_COLUMNS.split(","))
    session = row[n_question : n_question + n_session]
    item = row[n_question + n_session : n_question + n_session + n_item]
    live = row[-1] is not None
    return AnswerTarget(
        question=_question(row[:n_question]),
        session=_session(session) if session[0] is not None else None,
        item=item_from_row(tuple(item)) if live else None,
        deck_name=row[-2] if live else None,
        closed=bool(closed),
    )


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
