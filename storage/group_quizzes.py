"""Queries on group quizzes: the quiz rows, their polls, members' answers, and rankings.

A quiz moves step by step (send a poll, close it, send the next ...). A step is taken by
whoever *claims* the quiz row with one conditional UPDATE (:func:`claim_step`), so two jobs
or processes never take the same step; a claim older than the lease is taken over.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from storage.database import Connection, fetch_all, fetch_one

RUNNING, FINISHED, STOPPED = "running", "finished", "stopped"
SENDING, OPEN, CLOSED, LOST = "sending", "open", "closed", "lost"
_QUIZ = (
    "id, group_id, kind, planned, asked, status, next_ms, claimed_ms, started_ms, ended_ms,"
    " topic_id"
)
_POLL = (
    "id, quiz_id, number, item_id, options, correct, reason, status, poll_id, message_id,"
    " created_ms, closes_ms"
)


@dataclass(frozen=True, slots=True)
class QuizRow:
    """A row of ``group_quizzes``."""

    id: int
    group_id: int
    kind: str
    planned: int
    asked: int
    status: str
    next_ms: int
    claimed_ms: int | None
    started_ms: int
    ended_ms: int | None
    topic_id: int | None = None


@dataclass(frozen=True, slots=True)
class PollRow:
    """A row of ``group_polls``; ``options`` in display order, ``correct`` an index of them."""

    id: int
    quiz_id: int
    number: int
    item_id: int
    options: tuple[str, ...]
    correct: int
    reason: str
    status: str
    poll_id: str | None
    message_id: int | None
    created_ms: int
    closes_ms: int | None


def _quiz(row: Any) -> QuizRow:
    return QuizRow(*row)


def _poll(row: Any) -> PollRow:
    return PollRow(
        id=row[0],
        quiz_id=row[1],
        number=row[2],
        item_id=row[3],
        options=tuple(json.loads(row[4])),
        correct=row[5],
        reason=row[6],
        status=row[7],
        poll_id=row[8],
        message_id=row[9],
        created_ms=row[10],
        closes_ms=row[11],
    )


# -- quizzes ----------------------------------------------------------------------------------


async def start_quiz(
    conn: Connection,
    group_id: int,
    kind: str,
    planned: int,
    now_ms: int,
    topic_id: int | None = None,
) -> int | None:
    """A new running quiz in the group (in forum topic ``topic_id``), due now; None if one is
    running there already."""
    # OR IGNORE: a quiz another process started meanwhile is caught by the unique index
    # (group_quizzes_one_running), where NOT EXISTS cannot see it uncommitted.
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO group_quizzes"
        " (group_id, kind, planned, next_ms, started_ms, topic_id)"
        " SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS"
        " (SELECT 1 FROM group_quizzes WHERE group_id = ? AND status = 'running')",
        (group_id, kind, planned, now_ms, now_ms, topic_id, group_id),
    )
    return int(cursor.lastrowid) if cursor.rowcount == 1 and cursor.lastrowid else None


async def clear_topic(conn: Connection, quiz_id: int) -> None:
    """The quiz's topic is gone: its next messages go to the group's main chat."""
    await conn.execute("UPDATE group_quizzes SET topic_id = NULL WHERE id = ?", (quiz_id,))


async def get_quiz(conn: Connection, quiz_id: int) -> QuizRow | None:
    """A quiz by id."""
    row = await fetch_one(conn, f"SELECT {_QUIZ} FROM group_quizzes WHERE id = ?", (quiz_id,))
    return _quiz(row) if row else None


async def running_quiz(conn: Connection, group_id: int) -> QuizRow | None:
    """The group's running quiz, if any."""
    row = await fetch_one(
        conn,
        f"SELECT {_QUIZ} FROM group_quizzes WHERE group_id = ? AND status = 'running'"
        " ORDER BY id DESC LIMIT 1",
        (group_id,),
    )
    return _quiz(row) if row else None


async def due_quizzes(conn: Connection, now_ms: int, stale_ms: int, limit: int) -> list[int]:
    """Running quizzes whose next step is due and not claimed (or claimed before
    ``stale_ms``: the claimer is gone), oldest due first."""
    rows = await fetch_all(
        conn,
        "SELECT id FROM group_quizzes WHERE status = 'running' AND next_ms <= ?"
        " AND (claimed_ms IS NULL OR claimed_ms < ?) ORDER BY next_ms, id LIMIT ?",
        (now_ms, stale_ms, limit),
    )
    return [row[0] for row in rows]


async def claim_step(conn: Connection, quiz_id: int, now_ms: int, stale_ms: int) -> QuizRow | None:
    """Claim the quiz's due step (one row update: at most one claimer wins); None if the
    step is not due, already claimed, or the quiz is over."""
    row = await fetch_one(
        conn,
        "UPDATE group_quizzes SET claimed_ms = ? WHERE id = ? AND status = 'running'"
        " AND next_ms <= ? AND (claimed_ms IS NULL OR claimed_ms < ?)"
        f" RETURNING {_QUIZ}",
        (now_ms, quiz_id, now_ms, stale_ms),
    )
    return _quiz(row) if row else None


async def release(conn: Connection, quiz_id: int, next_ms: int) -> None:
    """The step is done: the next one is due at ``next_ms``."""
    await conn.execute(
        "UPDATE group_quizzes SET claimed_ms = NULL, next_ms = ? WHERE id = ?", (next_ms, quiz_id)
    )


async def end_quiz(conn: Connection, quiz_id: int, status: str, now_ms: int) -> bool:
    """Finish or stop a running quiz; False if it was not running."""
    cursor = await conn.execute(
        "UPDATE group_quizzes SET status = ?, ended_ms = ?, claimed_ms = NULL"
        " WHERE id = ? AND status = 'running'",
        (status, now_ms, quiz_id),
    )
    return cursor.rowcount == 1


async def stop_group(conn: Connection, group_id: int, now_ms: int) -> int:
    """Stop the group's running quizzes; returns how many."""
    cursor = await conn.execute(
        "UPDATE group_quizzes SET status = 'stopped', ended_ms = ?, claimed_ms = NULL"
        " WHERE group_id = ? AND status = 'running'",
        (now_ms, group_id),
    )
    return cursor.rowcount


# -- polls ------------------------------------------------------------------------------------


async def add_poll(
    conn: Connection,
    quiz_id: int,
    item_id: int,
    options: tuple[str, ...],
    correct: int,
    reason: str,
    now_ms: int,
) -> PollRow:
    """Write the quiz's next poll before it is sent (status 'sending') and count it asked."""
    row = await fetch_one(
        conn,
        "UPDATE group_quizzes SET asked = asked + 1 WHERE id = ? RETURNING asked",
        (quiz_id,),
    )
    number = int(row[0]) if row else 1
    found = await fetch_one(
        conn,
        "INSERT INTO group_polls (quiz_id, number, item_id, options, correct, reason, created_ms)"
        f" VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {_POLL}",
        (quiz_id, number, item_id, json.dumps(list(options)), correct, reason, now_ms),
    )
    assert found is not None
    return _poll(found)


async def poll_sent(
    conn: Connection, poll_row: int, poll_id: str, message_id: int, sent_ms: int, closes_ms: int
) -> None:
    """Telegram has the poll: it is open until ``closes_ms``."""
    await conn.execute(
        "UPDATE group_polls SET status = 'open', poll_id = ?, message_id = ?, created_ms = ?,"
        " closes_ms = ? WHERE id = ?",
        (poll_id, message_id, sent_ms, closes_ms, poll_row),
    )


async def set_poll_status(conn: Connection, poll_row: int, status: str) -> None:
    """Close a poll, or mark it lost (its send failed or its outcome is unknown)."""
    await conn.execute("UPDATE group_polls SET status = ? WHERE id = ?", (status, poll_row))


async def last_poll(conn: Connection, quiz_id: int) -> PollRow | None:
    """The quiz's latest poll, if any."""
    row = await fetch_one(
        conn,
        f"SELECT {_POLL} FROM group_polls WHERE quiz_id = ? ORDER BY number DESC LIMIT 1",
        (quiz_id,),
    )
    return _poll(row) if row else None


async def poll_by_telegram_id(conn: Connection, poll_id: str) -> tuple[PollRow, int] | None:
    """The poll Telegram knows as ``poll_id``, with its group's id."""
    row = await fetch_one(
        conn,
        f"SELECT {', '.join('p.' + c.strip() for c in _POLL.split(','))}, q.group_id"
        " FROM group_polls p JOIN group_quizzes q ON q.id = p.quiz_id WHERE p.poll_id = ?",
        (poll_id,),
    )
    return (_poll(row), int(row[12])) if row else None


async def asked_items_since(conn: Connection, group_id: int, since_ms: int) -> list[int]:
    """Items the group was asked since a time (latest first)."""
    rows = await fetch_all(
        conn,
        "SELECT p.item_id FROM group_polls p JOIN group_quizzes q ON q.id = p.quiz_id"
        " WHERE q.group_id = ? AND p.created_ms >= ? ORDER BY p.id DESC",
        (group_id, since_ms),
    )
    return [row[0] for row in rows]


async def polls_since(conn: Connection, group_id: int, since_ms: int) -> int:
    """Polls the group was sent since a time."""
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) FROM group_polls p JOIN group_quizzes q ON q.id = p.quiz_id"
        " WHERE q.group_id = ? AND p.created_ms >= ? AND p.status IN ('open', 'closed')",
        (group_id, since_ms),
    )
    return int(row[0]) if row else 0


# -- answers ----------------------------------------------------------------------------------


async def add_answer(
    conn: Connection, poll_row: int, user_id: int, option: int, correct: bool, now_ms: int
) -> bool:
    """Record a member's answer to a poll; False if they had answered it already."""
    cursor = await conn.execute(
        "INSERT INTO group_answers (poll_id, user_id, option, correct, answered_ms)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (poll_id, user_id) DO NOTHING",
        (poll_row, user_id, option, int(correct), now_ms),
    )
    return cursor.rowcount == 1


async def poll_tally(conn: Connection, poll_row: int) -> tuple[int, int]:
    """(answers, right answers) to one poll."""
    row = await fetch_one(
        conn,
        "SELECT COUNT(*), COALESCE(SUM(correct), 0) FROM group_answers WHERE poll_id = ?",
        (poll_row,),
    )
    return (int(row[0]), int(row[1])) if row else (0, 0)


async def quiz_scores(conn: Connection, quiz_id: int) -> list[tuple[str, int, int]]:
    """(first name, right answers, answers) per member in one quiz, best first."""
    rows = await fetch_all(
        conn,
        "SELECT u.first_name, SUM(a.correct), COUNT(*) FROM group_answers a"
        " JOIN group_polls p ON p.id = a.poll_id JOIN users u ON u.id = a.user_id"
        " WHERE p.quiz_id = ? GROUP BY a.user_id, u.first_name"
        " ORDER BY SUM(a.correct) DESC, COUNT(*), MIN(a.answered_ms)",
        (quiz_id,),
    )
    return [(row[0], int(row[1]), int(row[2])) for row in rows]


async def group_scores(
    conn: Connection, group_id: int, since_ms: int, limit: int
) -> list[tuple[int, str, int, int]]:
    """(user id, first name, right answers, answers) per member since a time, best first."""
    rows = await fetch_all(
        conn,
        "SELECT a.user_id, u.first_name, SUM(a.correct), COUNT(*) FROM group_answers a"
        " JOIN group_polls p ON p.id = a.poll_id JOIN group_quizzes q ON q.id = p.quiz_id"
        " JOIN users u ON u.id = a.user_id"
        " WHERE q.group_id = ? AND a.answered_ms >= ? GROUP BY a.user_id, u.first_name"
        " ORDER BY SUM(a.correct) DESC, COUNT(*), MIN(a.answered_ms) LIMIT ?",
        (group_id, since_ms, limit),
    )
    return [(row[0], row[1], int(row[2]), int(row[3])) for row in rows]


async def answer_times(
    conn: Connection, group_id: int, user_ids: list[int], since_ms: int
) -> dict[int, list[int]]:
    """Times (ms) of the members' answers in the group since a time, per member."""
    if not user_ids:
        return {}
    marks = ",".join("?" * len(user_ids))
    rows = await fetch_all(
        conn,
        "SELECT a.user_id, a.answered_ms FROM group_answers a"
        " JOIN group_polls p ON p.id = a.poll_id JOIN group_quizzes q ON q.id = p.quiz_id"
        f" WHERE q.group_id = ? AND a.answered_ms >= ? AND a.user_id IN ({marks})",
        (group_id, since_ms, *user_ids),
    )
    found: dict[int, list[int]] = {}
    for user_id, at in rows:
        found.setdefault(user_id, []).append(at)
    return found


# -- the bot's admins' overview -----------------------------------------------------------------


async def overview(conn: Connection, since_ms: int) -> list[tuple[Any, ...]]:
    """Per group: (id, title, active, members who answered since, quizzes since, answers
    since, right answers since, quizzes ever)."""
    return await fetch_all(
        conn,
        "SELECT g.id, g.title, g.active,"
        " (SELECT COUNT(DISTINCT a.user_id) FROM group_answers a"
        "  JOIN group_polls p ON p.id = a.poll_id JOIN group_quizzes q ON q.id = p.quiz_id"
        "  WHERE q.group_id = g.id AND a.answered_ms >= ?),"
        " (SELECT COUNT(*) FROM group_quizzes q WHERE q.group_id = g.id AND q.started_ms >= ?),"
        " (SELECT COUNT(*) FROM group_answers a JOIN group_polls p ON p.id = a.poll_id"
        "  JOIN group_quizzes q ON q.id = p.quiz_id"
        "  WHERE q.group_id = g.id AND a.answered_ms >= ?),"
        " (SELECT COALESCE(SUM(a.correct), 0) FROM group_answers a"
        "  JOIN group_polls p ON p.id = a.poll_id JOIN group_quizzes q ON q.id = p.quiz_id"
        "  WHERE q.group_id = g.id AND a.answered_ms >= ?),"
        " (SELECT COUNT(*) FROM group_quizzes q WHERE q.group_id = g.id)"
        " FROM groups g ORDER BY g.active DESC, g.id",
        (since_ms, since_ms, since_ms, since_ms),
    )


async def attendance(
    conn: Connection, group_id: int, quizzes: int
) -> tuple[list[int], dict[int, set[int]]]:
    """The group's latest ``quizzes`` quizzes that asked something (oldest first), and per
    member the ones of them they answered at least once."""
    rows = await fetch_all(
        conn,
        "SELECT id FROM group_quizzes WHERE group_id = ? AND asked > 0 ORDER BY id DESC LIMIT ?",
        (group_id, quizzes),
    )
    ids = sorted(row[0] for row in rows)
    if not ids:
        return [], {}
    marks = ",".join("?" * len(ids))
    found: dict[int, set[int]] = {}
    for user_id, quiz_id in await fetch_all(
        conn,
        "SELECT DISTINCT a.user_id, p.quiz_id FROM group_answers a"
        f" JOIN group_polls p ON p.id = a.poll_id WHERE p.quiz_id IN ({marks})",
        ids,
    ):
        found.setdefault(user_id, set()).add(quiz_id)
    return ids, found


async def quiz_items(conn: Connection, quiz_id: int) -> list[int]:
    """The items a quiz has asked (or tried to), in order."""
    rows = await fetch_all(
        conn, "SELECT item_id FROM group_polls WHERE quiz_id = ? ORDER BY number", (quiz_id,)
    )
    return [row[0] for row in rows]


async def shown_polls(conn: Connection, quiz_id: int) -> int:
    """Polls of a quiz that reached the group."""
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) FROM group_polls WHERE quiz_id = ? AND status IN ('open', 'closed')",
        (quiz_id,),
    )
    return int(row[0]) if row else 0


async def quiz_of_poll(conn: Connection, poll_row: int) -> int | None:
    """The quiz a poll row belongs to."""
    row = await fetch_one(conn, "SELECT quiz_id FROM group_polls WHERE id = ?", (poll_row,))
    return int(row[0]) if row else None
