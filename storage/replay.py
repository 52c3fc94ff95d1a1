"""Queries of a learner-state rebuild (``model replay``): the attempt log in answer order,
and the tallies and review times rebuilt from it, written back in one transaction."""

from __future__ import annotations

from collections.abc import Sequence

from storage.database import Connection, fetch_all

AttemptRow = tuple[int, int, int, int, int, int | None, int | None]
"""(answered_ms, id, user_id, item_id, correct, grade, latency_ms)."""


async def attempts_after(conn: Connection, after: tuple[int, int], limit: int) -> list[AttemptRow]:
    """Up to ``limit`` attempts after ``after`` (answered_ms, id), in that order."""
    rows = await fetch_all(
        conn,
        "SELECT answered_ms, id, user_id, item_id, correct, grade, latency_ms"
        " FROM attempts WHERE (answered_ms, id) > (?, ?) ORDER BY answered_ms, id LIMIT ?",
        (*after, limit),
    )
    return [tuple(row) for row in rows]


async def set_previous_seen(conn: Connection, rows: Sequence[tuple[int, int, int]]) -> None:
    """Each (previous_ms, user_id, item_id): when the student saw the item before its last."""
    await conn.executemany(
        "UPDATE memory SET previous_ms = ? WHERE user_id = ? AND item_id = ?", list(rows)
    )


async def write_tallies(
    conn: Connection,
    item_sums: Sequence[tuple[float, float, int]],
    tag_sums: Sequence[tuple[float, float, str]],
    students: Sequence[tuple[int, int, int]],
) -> None:
    """Replace the residual sums of items (resid, var, item_id) and tags (resid, var, tag)
    and the students' tallies (answers, right, user_id); rows not given get zero sums and
    tallies (items and tags the log no longer reaches keep their answer counts)."""
    await conn.execute("UPDATE item_stats SET resid_sum = 0, var_sum = 0")
    await conn.execute("UPDATE tag_stats SET resid_sum = 0, var_sum = 0")
    await conn.execute("UPDATE users SET answers = 0, answers_correct = 0")
    await conn.executemany(
        "UPDATE item_stats SET resid_sum = ?, var_sum = ? WHERE item_id = ?", list(item_sums)
    )
    await conn.executemany(
        "UPDATE tag_stats SET resid_sum = ?, var_sum = ? WHERE tag = ?", list(tag_sums)
    )
    await conn.executemany(
        "UPDATE users SET answers = ?, answers_correct = ? WHERE id = ?", list(students)
    )
