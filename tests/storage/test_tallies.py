"""Item, tag and student tallies kept with each logged answer (schema version 8's sums)."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest

from storage import Database
from storage import attempts as attempt_rows
from storage.database import run_sync
from storage.migrations import apply_migrations
from storage.records import AttemptRecord

TAGS = {1: ("a", "b"), 2: ("b",)}


async def _seed(db: Database) -> None:
    async with db.transaction() as conn:
        for user in (7, 42):
            await conn.execute(
                "INSERT INTO users (id, chat_id, created_ms, last_seen_ms) VALUES (?, ?, 1, 1)",
                (user, user),
            )
        await conn.execute(
            "INSERT INTO decks (id, slug, name, created_ms, updated_ms) VALUES (1, 'd', 'D', 1, 1)"
        )
        for item, tags in TAGS.items():
            await conn.execute(
                "INSERT INTO items (id, deck_id, external_id, kind, payload, tags, created_ms,"
                " updated_ms) VALUES (?, 1, ?, 'typed', '{}', ?, 1, 1)",
                (item, f"e{item}", " ".join(tags)),
            )


def _expected(
    answers: list[tuple[int, int, int]],
) -> tuple[dict[int, list[float]], dict[str, list[float]], dict[int, list[int]]]:
    """The tallies by definition: p = (right + 1) / (answers + 2) of the student before."""
    items: dict[int, list[float]] = {}
    tags: dict[str, list[float]] = {}
    students: dict[int, list[int]] = {}
    for user, item, y in answers:
        right, total = students.setdefault(user, [0, 0])
        p = (right + 1) / (total + 2)
        rows = [items.setdefault(item, [0, 0, 0.0, 0.0])]
        rows += [tags.setdefault(t, [0, 0, 0.0, 0.0]) for t in TAGS[item]]
        for row in rows:
            row[0] += 1
            row[1] += y
            row[2] += y - p
            row[3] += p * (1 - p)
        students[user] = [right + y, total + 1]
    return items, tags, students


async def test_each_answer_adds_its_residual_from_the_students_tally(db: Database) -> None:
    await _seed(db)
    answers = [(42, 1, 1), (42, 2, 0), (7, 1, 1), (42, 1, 1), (7, 2, 0), (42, 2, 1)]
    for k, (user, item, y) in enumerate(answers):
        attempt = AttemptRecord(user, item, 1000 + k, "", bool(y), None, None, f"q{k}")
        async with db.transaction() as conn:
            assert await attempt_rows.insert_attempt(conn, attempt)
            await attempt_rows.count_tag_answers(conn, TAGS[item], bool(y), user)
    # a repeated key is not counted again, in any tally
    async with db.transaction() as conn:
        again = AttemptRecord(42, 1, 9999, "", True, None, None, "q0")
        assert not await attempt_rows.insert_attempt(conn, again)
    items, tags, students = _expected(answers)
    async with db.read() as conn:
        got_items = await run_sync(conn, lambda raw: attempt_rows.read_item_stats(raw, [1, 2, 3]))
        got_tags = await run_sync(conn, lambda raw: attempt_rows.read_tag_stats(raw, ["a", "b"]))
        rows = await conn.execute_fetchall("SELECT id, answers_correct, answers FROM users")
        assert await attempt_rows.item_stats(conn, [1]) == {1: (3, 3)}  # the plain counts
    assert got_items.keys() == items.keys() and got_tags.keys() == tags.keys()
    for got, want in [
        *((got_items[k], items[k]) for k in items),
        *((got_tags[k], tags[k]) for k in tags),
    ]:
        assert list(got) == pytest.approx(want)
    assert {row[0]: [row[1], row[2]] for row in rows} == students
    assert got_items[2][2] < 0 < got_items[1][2]  # item 2 mostly failed, item 1 passed


async def test_upgrade_counts_each_students_answers_and_starts_the_sums_at_zero(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v7.sqlite3"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await apply_migrations(conn, target=7)
        await conn.executescript(
            """
            INSERT INTO users (id, chat_id, created_ms, last_seen_ms)
                VALUES (1, 1, 1, 1), (2, 2, 1, 1);
            INSERT INTO decks (id, slug, name, created_ms, updated_ms) VALUES (1, 'd', 'D', 1, 1);
            INSERT INTO items (id, deck_id, external_id, kind, payload, created_ms, updated_ms)
                VALUES (1, 1, 'x', 'typed', '{}', 1, 1);
            INSERT INTO attempts (user_id, item_id, answered_ms, correct, idempotency_key)
                VALUES (1, 1, 5, 1, 'a'), (1, 1, 6, 0, 'b'), (1, 1, 7, 1, 'c');
            INSERT INTO item_stats (item_id, attempts, correct) VALUES (1, 3, 2);
            """
        )
    db = await Database.open(path)
    try:
        async with db.read() as conn:
            rows = await conn.execute_fetchall("SELECT id, answers, answers_correct FROM users")
            stats = await run_sync(conn, lambda raw: attempt_rows.read_item_stats(raw, [1]))
        assert [tuple(r) for r in rows] == [(1, 3, 2), (2, 0, 0)]
        assert stats == {1: (3, 2, 0.0, 0.0)}
    finally:
        await db.close()
