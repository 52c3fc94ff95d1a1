"""The answer log, per-item tallies, and each student's memory of each item.

Besides answers and right answers, the item and tag tallies hold the sums the learner model's
ability-adjusted difficulty needs: per answer, the residual ``correct - p`` and the variance
``p (1 - p)``, where ``p = (right + 1) / (answers + 2)`` is the answering student's running
accuracy before the answer (``tutor.model.ability.ability``), from the student's own tally in
``users`` (``answers``, ``answers_correct``), which :func:`insert_attempt` keeps.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterable
from typing import Any

from storage.batch import Query, defer, in_chunks, read_all, write_later
from storage.database import Connection, fetch_all, fetch_one, run_sync
from storage.records import AttemptRecord, MemoryRecord

_MEMORY = (
    "user_id, item_id, n_correct, n_wrong, last_ms, last_correct, due_ms, interval_days,"
    " previous_ms"
)
MEMORY_COLUMNS = _MEMORY
"""The columns :func:`memory_record` reads, in order."""
SCAN_OVER = 64
"""Beyond this many items, a student's memory rows are read whole and filtered."""


def memory_record(row: Any) -> MemoryRecord:
    """A memory row selected as :data:`MEMORY_COLUMNS` (from its first column on)."""
    return MemoryRecord(
        user_id=row[0],
        item_id=row[1],
        n_correct=row[2],
        n_wrong=row[3],
        last_ms=row[4],
        last_correct=bool(row[5]),
        due_ms=row[6],
        interval_days=row[7],
        previous_ms=row[8],
    )


_INSERT_ATTEMPT = (
    "INSERT INTO attempts (user_id, item_id, answered_ms, response, correct, grade,"
    " latency_ms, idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
)


async def insert_attempt(conn: Connection, attempt: AttemptRecord) -> bool:
    """Append an attempt; False (and nothing written) if its idempotency key was seen."""
    return await run_sync(conn, lambda raw: log_attempt(raw, attempt, read_memory=False)[0])


def log_attempt(
    raw: sqlite3.Connection,
    attempt: AttemptRecord,
    *,
    read_memory: bool = True,
    seen_ms: int | None = None,
    tags: Iterable[str] = (),
) -> tuple[bool, MemoryRecord | None]:
    """:func:`insert_attempt`, and (with ``read_memory``) the student's memory row of the
    item as it was before, in one round trip (inside ``run_sync``, in a write transaction):
    (whether the attempt was logged, the memory row or None). ``seen_ms``: also the
    student's last-seen time, set with their tally (one statement for both); ``tags``: the
    item's tags, whose tallies count it too (:func:`count_tag_answers`)."""
    values = (
        attempt.user_id,
        attempt.item_id,
        attempt.answered_ms,
        attempt.response,
        int(attempt.correct),
        attempt.grade,
        attempt.latency_ms,
        attempt.idempotency_key,
    )
    statements: list[tuple[str, tuple[Any, ...]]] = [(_INSERT_ATTEMPT, values)]
    if read_memory:
        statements.append(
            (
                f"SELECT {_MEMORY} FROM memory WHERE user_id = ? AND item_id = ?",
                (attempt.user_id, attempt.item_id),
            )
        )
    found = read_all(raw, statements)
    memory = memory_record(found[1][0]) if read_memory and found[1] else None
    if not found[0]:
        return False, memory
    correct = int(attempt.correct)
    # p from the student's tally before this answer (it counts the answer only just below);
    # the tallies' writes go out with the transaction's next statement (one round trip)
    defer(
        raw,
        _count_answer("item_stats", "item_id", 1),
        (attempt.item_id, 0, 0, attempt.user_id, correct, correct),
    )
    if seen_ms is None:
        defer(raw, _COUNT_STUDENT.format(""), (correct, attempt.user_id))
    else:
        defer(raw, _COUNT_STUDENT.format(", last_seen_ms = ?"), (correct, seen_ms, attempt.user_id))
    _count_tags(raw, tags, attempt.correct, attempt.user_id)
    return True, memory


_COUNT_STUDENT = (
    "UPDATE users SET answers = answers + 1, answers_correct = answers_correct + ?{} WHERE id = ?"
)


@functools.lru_cache(maxsize=64)
def _count_answer(table: str, key: str, n_keys: int) -> str:
    """SQL adding one answer to the tallies of ``n_keys`` keys of ``table``, its residual sums
    with ``p`` read from the student's tally in ``users``. Parameters: the keys, then the
    (right, answers) of this answer the student's tally already counts (0, 0 or y, 1), the
    student's id, and ``correct`` twice."""
    return (
        f"WITH k (key) AS (VALUES {', '.join(['(?)'] * n_keys)}),"
        # In doubles on both databases (PostgreSQL would take 1.0 for an exact decimal).
        " a (p) AS (SELECT COALESCE((SELECT CAST(answers_correct - ? + 1 AS DOUBLE PRECISION)"
        " / CAST(answers - ? + 2 AS DOUBLE PRECISION) FROM users WHERE id = ?), 0.5))"
        f" INSERT INTO {table} ({key}, attempts, correct, resid_sum, var_sum)"
        " SELECT key, 1, ?, ? - p, p * (1.0 - p) FROM k, a WHERE true"
        # The old values named by table: PostgreSQL finds a bare name ambiguous here.
        f" ON CONFLICT ({key}) DO UPDATE SET attempts = {table}.attempts + 1,"
        f" correct = {table}.correct + excluded.correct,"
        f" resid_sum = {table}.resid_sum + excluded.resid_sum,"
        f" var_sum = {table}.var_sum + excluded.var_sum"
    )


Tally = tuple[int, int, float, float]
"""(answers, correct, summed residual, summed variance) of an item or tag, all students'."""


def student_tally_query(user_id: int) -> Query[tuple[int, int] | None]:
    """A student's (answers, right answers), None for no such student: what the residual
    sums of :func:`_count_answer` take ``p`` from."""

    def parse(results: list[list[Any]]) -> tuple[int, int] | None:
        rows = results[0]
        return (int(rows[0][0]), int(rows[0][1])) if rows else None

    return Query([("SELECT answers, answers_correct FROM users WHERE id = ?", (user_id,))], parse)


def counted(tally: Tally | None, correct: bool, student: tuple[int, int] | None) -> Tally:
    """``tally`` (None: none yet) after one more answer of a student whose (answers, right
    answers) before it were ``student``: what :func:`_count_answer` writes, computed the
    same way in doubles (so equal to what a read after the write would give, as long as no
    other transaction counted an answer in between)."""
    y = int(correct)
    p = 0.5 if student is None else float(student[1] + 1) / float(student[0] + 2)
    if tally is None:  # the row inserted
        return (1, y, y - p, p * (1.0 - p))
    n, c, r, v = tally
    return (n + 1, c + y, r + (y - p), v + p * (1.0 - p))


def item_stats_query(item_ids: Iterable[int]) -> Query[dict[int, Tally]]:
    """The tallies of items (missing = never answered), as a :class:`storage.batch.Query`."""
    chunks = list(in_chunks(item_ids))
    statements = [
        (
            "SELECT item_id, attempts, correct, resid_sum, var_sum FROM item_stats"
            f" WHERE item_id IN ({marks})",
            tuple(chunk),
        )
        for chunk, marks in chunks
    ]

    def parse(results: list[list[Any]]) -> dict[int, Tally]:
        return {row[0]: (row[1], row[2], row[3], row[4]) for rows in results for row in rows}

    return Query(statements, parse)


def read_item_stats(raw: sqlite3.Connection, item_ids: Iterable[int]) -> dict[int, Tally]:
    """The tallies of items (missing = never answered), on the raw connection (inside
    :func:`storage.database.run_sync`)."""
    return item_stats_query(item_ids).run(raw)


def answer_totals_query() -> Query[tuple[int, int]]:
    """(answers, correct) over all students: the deployment's base rate of right answers, from
    the students' tallies in ``users`` (a :class:`storage.batch.Query`)."""

    def parse(results: list[list[Any]]) -> tuple[int, int]:
        row = next(iter(results[0]), None)
        return (0, 0) if row is None else (int(row[0]), int(row[1]))

    sql = "SELECT COALESCE(SUM(answers), 0), COALESCE(SUM(answers_correct), 0) FROM users"
    return Query([(sql, ())], parse)


def read_answer_totals(raw: sqlite3.Connection) -> tuple[int, int]:
    """:func:`answer_totals_query` on the raw connection (inside ``run_sync``)."""
    return answer_totals_query().run(raw)


async def item_stats(conn: Connection, item_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """(attempts, correct) from all students, per item id (missing = never answered)."""
    ids = list(item_ids)
    found = await run_sync(conn, lambda raw: read_item_stats(raw, ids))
    return {item_id: (t[0], t[1]) for item_id, t in found.items()}


async def put_memory(conn: Connection, memory: MemoryRecord) -> None:
    """Store a student's memory of one item (see :func:`storage.database.write_later`)."""
    await write_later(
        conn,
        f"INSERT INTO memory ({_MEMORY}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (user_id, item_id) DO UPDATE SET n_correct = excluded.n_correct,"
        " n_wrong = excluded.n_wrong, last_ms = excluded.last_ms,"
        " last_correct = excluded.last_correct, due_ms = excluded.due_ms,"
        " interval_days = excluded.interval_days, previous_ms = excluded.previous_ms",
        (
            memory.user_id,
            memory.item_id,
            memory.n_correct,
            memory.n_wrong,
            memory.last_ms,
            int(memory.last_correct),
            memory.due_ms,
            memory.interval_days,
            memory.previous_ms,
        ),
    )


async def get_memory(conn: Connection, user_id: int, item_id: int) -> MemoryRecord | None:
    """A student's memory of one item."""
    row = await fetch_one(
        conn, f"SELECT {_MEMORY} FROM memory WHERE user_id = ? AND item_id = ?", (user_id, item_id)
    )
    return memory_record(row) if row else None


async def enrolled_memory(conn: Connection, user_id: int) -> list[MemoryRecord]:
    """The student's memory of every live item in their active decks that they have seen."""
    rows = await fetch_all(
        conn,
        f"SELECT {', '.join('m.' + c.strip() for c in _MEMORY.split(','))} FROM memory m"
        " JOIN items i ON i.id = m.item_id AND i.deleted_ms IS NULL"
        " JOIN enrolments e ON e.deck_id = i.deck_id AND e.user_id = m.user_id AND e.active = 1"
        " JOIN decks d ON d.id = i.deck_id AND d.deleted_ms IS NULL"
        " WHERE m.user_id = ?",
        (user_id,),
    )
    return [memory_record(row) for row in rows]


async def due_items(conn: Connection, user_id: int, now_ms: int, limit: int) -> list[int]:
    """Seen items of active decks that are due, most overdue first."""
    rows = await fetch_all(
        conn,
        "SELECT m.item_id FROM memory m"
        " JOIN items i ON i.id = m.item_id AND i.deleted_ms IS NULL"
        " JOIN enrolments e ON e.deck_id = i.deck_id AND e.user_id = m.user_id AND e.active = 1"
        " JOIN decks d ON d.id = i.deck_id AND d.deleted_ms IS NULL"
        " WHERE m.user_id = ? AND m.due_ms <= ? ORDER BY m.due_ms LIMIT ?",
        (user_id, now_ms, limit),
    )
    return [row[0] for row in rows]


async def new_items(conn: Connection, user_id: int, limit: int) -> list[int]:
    """Never-seen items of the student's active decks, in deck order."""
    rows = await fetch_all(
        conn,
        "SELECT i.id FROM items i"
        " JOIN enrolments e ON e.deck_id = i.deck_id AND e.user_id = ? AND e.active = 1"
        " JOIN decks d ON d.id = i.deck_id AND d.deleted_ms IS NULL"
        " WHERE i.deleted_ms IS NULL AND NOT EXISTS"
        " (SELECT 1 FROM memory m WHERE m.user_id = ? AND m.item_id = i.id)"
        " ORDER BY e.enrolled_ms, i.position, i.id LIMIT ?",
        (user_id, user_id, limit),
    )
    return [row[0] for row in rows]


async def count_enrolled_items(conn: Connection, user_id: int) -> int:
    """Live items across the student's active decks."""
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) FROM items i"
        " JOIN enrolments e ON e.deck_id = i.deck_id AND e.user_id = ? AND e.active = 1"
        " JOIN decks d ON d.id = i.deck_id AND d.deleted_ms IS NULL"
        " WHERE i.deleted_ms IS NULL",
        (user_id,),
    )
    return int(row[0]) if row else 0


async def attempts_since(
    conn: Connection, user_id: int, since_ms: int
) -> list[tuple[int, bool, int]]:
    """(answered_ms, correct, item_id) of a student's attempts since a time, oldest first."""
    rows = await fetch_all(
        conn,
        "SELECT answered_ms, correct, item_id FROM attempts"
        " WHERE user_id = ? AND answered_ms >= ? ORDER BY answered_ms",
        (user_id, since_ms),
    )
    return [(row[0], bool(row[1]), row[2]) for row in rows]


async def user_attempts(conn: Connection, user_id: int) -> list[AttemptRecord]:
    """All of a student's attempts, oldest first."""
    rows = await fetch_all(
        conn,
        "SELECT user_id, item_id, answered_ms, response, correct, grade, latency_ms,"
        " idempotency_key, id FROM attempts WHERE user_id = ? ORDER BY answered_ms, id",
        (user_id,),
    )
    return [
        AttemptRecord(row[0], row[1], row[2], row[3], bool(row[4]), row[5], row[6], row[7], row[8])
        for row in rows
    ]


async def count_attempts(conn: Connection) -> int:
    """All attempts in the log."""
    row = await fetch_one(conn, "SELECT COUNT(*) FROM attempts")
    return int(row[0]) if row else 0


async def least_recent_items(conn: Connection, user_id: int, limit: int) -> list[int]:
    """Seen items of active decks, longest since last seen first (for extra practice)."""
    rows = await fetch_all(
        conn,
        "SELECT m.item_id FROM memory m"
        " JOIN items i ON i.id = m.item_id AND i.deleted_ms IS NULL"
        " JOIN enrolments e ON e.deck_id = i.deck_id AND e.user_id = m.user_id AND e.active = 1"
        " JOIN decks d ON d.id = i.deck_id AND d.deleted_ms IS NULL"
        " WHERE m.user_id = ? ORDER BY m.last_ms LIMIT ?",
        (user_id, limit),
    )
    return [row[0] for row in rows]


async def attempt_for_key(conn: Connection, key: str) -> AttemptRecord | None:
    """The attempt logged under an idempotency key."""
    row = await fetch_one(
        conn,
        "SELECT user_id, item_id, answered_ms, response, correct, grade, latency_ms,"
        " idempotency_key, id FROM attempts WHERE idempotency_key = ?",
        (key,),
    )
    if row is None:
        return None
    return AttemptRecord(
        row[0], row[1], row[2], row[3], bool(row[4]), row[5], row[6], row[7], row[8]
    )


async def count_tag_answers(
    conn: Connection, tags: Iterable[str], correct: bool, user_id: int
) -> None:
    """Add one answer of student ``user_id`` to each tag's tally: the answer
    :func:`insert_attempt` has just logged (call it right after, in the same transaction, so
    the student's tally already counts it). One statement."""
    await run_sync(conn, lambda raw: _count_tags(raw, tags, correct, user_id))


def _count_tags(raw: sqlite3.Connection, tags: Iterable[str], correct: bool, user_id: int) -> None:
    """:func:`count_tag_answers` on the raw connection (sent with what follows)."""
    names = sorted(set(tags))
    if not names:
        return
    y = int(correct)
    # the student's tally already counts this answer: p is from the answers before it
    defer(raw, _count_answer("tag_stats", "tag", len(names)), (*names, y, 1, user_id, y, y))


def tag_stats_query(tags: Iterable[str]) -> Query[dict[str, Tally]]:
    """The tallies of tags (missing = never answered), as a :class:`storage.batch.Query`."""
    statements = [
        (
            "SELECT tag, attempts, correct, resid_sum, var_sum FROM tag_stats"
            f" WHERE tag IN ({marks})",
            tuple(chunk),
        )
        for chunk, marks in in_chunks(set(tags))
    ]

    def parse(results: list[list[Any]]) -> dict[str, Tally]:
        return {row[0]: (row[1], row[2], row[3], row[4]) for rows in results for row in rows}

    return Query(statements, parse)


def read_tag_stats(raw: sqlite3.Connection, tags: Iterable[str]) -> dict[str, Tally]:
    """The tallies of tags (missing = never answered), on the raw connection (inside
    :func:`storage.database.run_sync`)."""
    return tag_stats_query(tags).run(raw)


def memory_of_query(user_id: int, item_ids: Iterable[int]) -> Query[list[MemoryRecord]]:
    """:func:`memory_of` as a :class:`storage.batch.Query`."""
    ids = list(item_ids)
    if len(ids) > SCAN_OVER:
        # Many items (a whole enrolment): one range read of the student's rows beats a
        # probe per item; a student has rows only for items they answered.
        wanted = set(ids)

        def parse_all(results: list[list[Any]]) -> list[MemoryRecord]:
            return [memory_record(row) for row in results[0] if row[1] in wanted]

        return Query([(f"SELECT {_MEMORY} FROM memory WHERE user_id = ?", (user_id,))], parse_all)
    statements = [
        (
            f"SELECT {_MEMORY} FROM memory WHERE user_id = ? AND item_id IN ({marks})",
            (user_id, *chunk),
        )
        for chunk, marks in in_chunks(ids)
    ]

    def parse(results: list[list[Any]]) -> list[MemoryRecord]:
        return [memory_record(row) for rows in results for row in rows]

    return Query(statements, parse)


def all_memory_query(user_id: int) -> Query[list[MemoryRecord]]:
    """All of a student's memory rows (one range read), as a :class:`storage.batch.Query`."""
    return Query(
        [(f"SELECT {_MEMORY} FROM memory WHERE user_id = ?", (user_id,))],
        lambda results: [memory_record(row) for row in results[0]],
    )


def read_memory_of(
    raw: sqlite3.Connection, user_id: int, item_ids: Iterable[int]
) -> list[MemoryRecord]:
    """:func:`memory_of` on the raw connection (inside ``run_sync``)."""
    return memory_of_query(user_id, item_ids).run(raw)


async def memory_of(conn: Connection, user_id: int, item_ids: Iterable[int]) -> list[MemoryRecord]:
    """A student's memory of the given items (those seen)."""
    ids = list(item_ids)
    return await run_sync(conn, lambda raw: read_memory_of(raw, user_id, ids))


_TODAY = (
    "SELECT COUNT(*), COUNT(DISTINCT CASE WHEN NOT EXISTS (SELECT 1 FROM attempts b"
    " WHERE b.user_id = a.user_id AND b.item_id = a.item_id AND b.answered_ms < ?)"
    " THEN a.item_id END) FROM attempts a WHERE a.user_id = ? AND a.answered_ms >= ?"
)


def today_counts_query(user_id: int, since_ms: int) -> Query[tuple[int, int]]:
    """:func:`today_counts` as a :class:`storage.batch.Query`."""

    def parse(results: list[list[Any]]) -> tuple[int, int]:
        row = next(iter(results[0]), None)
        return (int(row[0]), int(row[1])) if row else (0, 0)

    return Query([(_TODAY, (since_ms, user_id, since_ms))], parse)


def read_today_counts(raw: sqlite3.Connection, user_id: int, since_ms: int) -> tuple[int, int]:
    """:func:`today_counts` on the raw connection (inside ``run_sync``)."""
    return today_counts_query(user_id, since_ms).run(raw)


async def today_counts(conn: Connection, user_id: int, since_ms: int) -> tuple[int, int]:
    """(answers, first-ever answers to an item) of a student since a time."""
    return await run_sync(conn, lambda raw: read_today_counts(raw, user_id, since_ms))


async def recent_latencies(conn: Connection, user_id: int, limit: int = 200) -> list[int]:
    """Response times (ms) of a student's latest answers."""
    rows = await fetch_all(
        conn,
        "SELECT latency_ms FROM attempts WHERE user_id = ? AND latency_ms IS NOT NULL"
        " ORDER BY answered_ms DESC LIMIT ?",
        (user_id, limit),
    )
    return [int(row[0]) for row in rows]
