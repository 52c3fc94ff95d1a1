"""Queries of a learner-state rebuild: the log read in answer order, the sums written back."""

from __future__ import annotations

from storage import Database
from storage import attempts as attempt_rows
from storage import replay as replay_rows
from storage.database import run_sync
from storage.records import AttemptRecord
from tests.storage.test_tallies import TAGS, _seed


async def test_the_log_is_read_in_answer_order_page_by_page(db: Database) -> None:
    await _seed(db)
    # Logged out of time order (a late commit), two answers in the same millisecond.
    answers = [(42, 1, 3000), (7, 2, 1000), (42, 2, 2000), (7, 1, 2000)]
    for k, (user, item, at) in enumerate(answers):
        async with db.transaction() as conn:
            record = AttemptRecord(user, item, at, "", k % 2 == 0, None, 900, f"k{k}")
            assert await attempt_rows.insert_attempt(conn, record)
    seen: list[tuple[int, int, int]] = []
    after = (0, 0)
    async with db.read() as conn:
        while page := await replay_rows.attempts_after(conn, after, 3):
            assert len(page) <= 3
            seen += [(row[0], row[2], row[3]) for row in page]
            after = page[-1][:2]
    assert seen == [(1000, 7, 2), (2000, 42, 2), (2000, 7, 1), (3000, 42, 1)]


async def test_rebuilt_sums_replace_the_old_and_the_unreached_start_at_zero(db: Database) -> None:
    await _seed(db)
    async with db.transaction() as conn:
        for k, item in enumerate((1, 2)):
            record = AttemptRecord(42, item, 1000 + k, "", True, None, None, f"s{k}")
            assert await attempt_rows.insert_attempt(conn, record)
            await attempt_rows.count_tag_answers(conn, TAGS[item], True, 42)
    async with db.transaction() as conn:
        await replay_rows.write_tallies(conn, [(0.5, 0.25, 1)], [(0.75, 0.5, "a")], [(5, 4, 7)])
    async with db.read() as conn:
        items = await run_sync(conn, lambda raw: attempt_rows.read_item_stats(raw, [1, 2]))
        tags = await run_sync(conn, lambda raw: attempt_rows.read_tag_stats(raw, ["a", "b"]))
        users = await conn.execute_fetchall("SELECT id, answers, answers_correct FROM users")
    assert list(items[1])[2:] == [0.5, 0.25]
    assert list(items[2])[2:] == [0.0, 0.0]  # not in the rebuild: no sums
    assert list(items[2])[:2] == [1, 1]  # but its answer counts stay
    assert list(tags["a"])[2:] == [0.75, 0.5] and list(tags["b"])[2:] == [0.0, 0.0]
    assert sorted(tuple(row) for row in users) == [(7, 5, 4), (42, 0, 0)]
