"""Every claim a sending job makes, taken by two processes at once: each row goes to one.

Two :class:`Database` objects on one file or URL stand for two bot processes: each has its
own connection (SQLite: its own thread and write lock wait; PostgreSQL: its own session at
READ COMMITTED). Where it matters, one claimer's transaction is held open while the other
claims, which is the moment READ COMMITTED and a plain subquery get wrong.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from storage import Database
from storage import announcements as announcement_rows
from storage import group_quizzes as quiz_rows
from storage import group_slots as slot_rows
from storage import groups as group_rows
from storage import leases as lease_rows
from storage import reminders as reminder_rows
from storage.database import Connection
from tests.storage.test_reminders import _users

T = TypeVar("T")


@pytest.fixture
async def two(database_location: Path | str) -> AsyncIterator[tuple[Database, Database]]:
    """Two processes' connections to one migrated database."""
    first = await Database.open(database_location)
    second = await Database.open(database_location)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def _while_open(
    holder: Database,
    first: Callable[[Connection], Awaitable[T]],
    other: Database,
    second: Callable[[Connection], Awaitable[T]],
) -> tuple[T, T]:
    """``first`` in a transaction of ``holder`` kept open while ``other`` runs ``second`` in
    its own transaction (which may wait for the first to commit); both results."""
    async with holder.transaction() as conn:
        a = await first(conn)

        async def run_second() -> T:
            async with other.transaction() as conn2:
                return await second(conn2)

        waiting = asyncio.create_task(run_second())
        await asyncio.sleep(0.3)  # the other is now inside its statement (or its BEGIN)
    return a, await waiting


async def _groups(db: Database, n: int) -> list[int]:
    ids = []
    async with db.transaction() as conn:
        for k in range(n):
            group, _ = await group_rows.join(conn, -1000 - k, f"G{k}", "en", "UTC", 0)
            ids.append(group.id)
    return ids


async def test_a_reminder_claim_passes_over_rows_another_claim_holds(
    two: tuple[Database, Database],
) -> None:
    first, second = two
    await _users(first, 40)
    async with first.transaction() as conn:
        await reminder_rows.plan(conn, [(u, "daily", "d", 10) for u in range(1, 41)])
    a, b = await _while_open(
        first,
        lambda c: reminder_rows.claim_due(c, 10, 25),
        second,
        lambda c: reminder_rows.claim_due(c, 10, 25),
    )
    # The second takes the 15 the first left, not nothing and not the first's rows again
    # (PostgreSQL: SKIP LOCKED; SQLite: it waits for the first's COMMIT).
    assert len(a) == 25 and len(b) == 15
    assert not {r.id for r in a} & {r.id for r in b}


async def test_an_announcements_rows_are_each_claimed_once_by_two_senders(
    two: tuple[Database, Database],
) -> None:
    first, second = two
    await _users(first, 120)
    async with first.transaction() as conn:
        await reminder_rows.plan(conn, [(u, "announce", "a1", 10) for u in range(1, 121)])
        await reminder_rows.plan(conn, [(u, "daily", "d", 10) for u in range(1, 121)])

    async def send_slot(db: Database) -> list[int]:
        taken: list[int] = []
        while True:
            async with db.transaction() as conn:
                batch = await reminder_rows.claim_due(conn, 10, 9, kind="announce", slot="a1")
            if not batch:
                return taken
            assert {(r.kind, r.slot) for r in batch} == {("announce", "a1")}
            taken += [r.id for r in batch]
            await asyncio.sleep(0)

    a, b = await asyncio.gather(send_slot(first), send_slot(second))
    assert not set(a) & set(b)
    assert len(a) + len(b) == 120


async def test_a_started_row_is_advanced_once_and_a_recovered_one_not_sent(
    two: tuple[Database, Database],
) -> None:
    """mark_started / advance and recovery race: a row is either started by its claimer or
    released by the recovery, never both."""
    first, second = two
    await _users(first, 60)
    async with first.transaction() as conn:
        await reminder_rows.plan(conn, [(u, "daily", "d", 10) for u in range(1, 61)])
        claimed = await reminder_rows.claim_due(conn, 10, 60)

    async def start_all() -> set[int]:
        started = set()
        for row in claimed:
            async with first.transaction() as conn:
                if await reminder_rows.advance(conn, row.id, [], 20):
                    started.add(row.id)
        return started

    async def recover() -> tuple[int, int]:
        await asyncio.sleep(0.01)
        async with second.transaction() as conn:
            return await reminder_rows.recover_stale(conn, 11)

    started, (requeued, skipped) = await asyncio.gather(start_all(), recover())
    async with second.read() as conn:
        rows = await reminder_rows.rows_for_slot(conn, "daily", "d")
    pending = {r.id for r in rows if r.status == "pending"}
    # A row started before the recovery is skipped by it ("maybe sent"); one released first
    # cannot be started by its old claimer: never both started and pending again.
    assert not started & pending
    assert requeued == len(pending)
    assert requeued + len(started) == 60
    assert skipped == len(started) == len({r.id for r in rows if r.status == "skipped"})


async def test_a_group_slot_claim_passes_over_slots_another_claim_holds(
    two: tuple[Database, Database],
) -> None:
    first, second = two
    groups = await _groups(first, 30)
    async with first.transaction() as conn:
        await slot_rows.plan(conn, [(g, "2026-03-02", 10) for g in groups])
    a, b = await _while_open(
        first,
        lambda c: slot_rows.claim_due(c, 10, 20),
        second,
        lambda c: slot_rows.claim_due(c, 10, 20),
    )
    assert len(a) == 20 and len(b) == 10
    assert not {s.id for s in a} & {s.id for s in b}


async def test_group_slots_are_each_claimed_once_by_two_jobs(
    two: tuple[Database, Database],
) -> None:
    first, second = two
    groups = await _groups(first, 90)
    async with first.transaction() as conn:
        await slot_rows.plan(conn, [(g, day, 10) for g in groups for day in ("d1", "d2")])

    async def take(db: Database) -> list[int]:
        taken: list[int] = []
        while True:
            async with db.transaction() as conn:
                batch = await slot_rows.claim_due(conn, 10, 7)
            if not batch:
                return taken
            taken += [s.id for s in batch]
            await asyncio.sleep(0)

    a, b = await asyncio.gather(take(first), take(second))
    assert not set(a) & set(b)
    assert len(a) + len(b) == 180


async def test_a_group_gets_one_running_quiz_when_two_processes_start_one(
    two: tuple[Database, Database],
) -> None:
    """Without the unique index, PostgreSQL's NOT EXISTS did not see the other process's
    uncommitted quiz and both were inserted."""
    first, second = two
    [group] = await _groups(first, 1)
    a, b = await _while_open(
        first,
        lambda c: quiz_rows.start_quiz(c, group, "daily", 5, 10),
        second,
        lambda c: quiz_rows.start_quiz(c, group, "command", 5, 11),
    )
    assert a is not None and b is None
    async with second.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT COUNT(*) FROM group_quizzes WHERE group_id = ? AND status = 'running'",
            (group,),
        )
    assert next(iter(rows))[0] == 1


async def test_each_due_quiz_step_is_claimed_by_one_process(
    two: tuple[Database, Database],
) -> None:
    first, second = two
    groups = await _groups(first, 40)
    async with first.transaction() as conn:
        quizzes = [await quiz_rows.start_quiz(conn, g, "daily", 5, 10) for g in groups]

    async def step_all(db: Database) -> list[int]:
        taken = []
        async with db.read() as conn:
            due = await quiz_rows.due_quizzes(conn, 20, 0, 500)
        for quiz_id in due:
            async with db.transaction() as conn:
                if await quiz_rows.claim_step(conn, quiz_id, 20, 0) is not None:
                    taken.append(quiz_id)
            await asyncio.sleep(0)
        return taken

    a, b = await asyncio.gather(step_all(first), step_all(second))
    assert not set(a) & set(b)
    assert sorted(a + b) == sorted(q for q in quizzes if q is not None)


async def test_an_announcement_is_confirmed_once_from_two_processes(
    two: tuple[Database, Database],
) -> None:
    first, second = two
    await _users(first, 1)
    async with first.transaction() as conn:
        draft = await announcement_rows.create(conn, 1, "Hello", None, 0)
    a, b = await _while_open(
        first,
        lambda c: announcement_rows.confirm(c, draft, 5),
        second,
        lambda c: announcement_rows.confirm(c, draft, 6),
    )
    assert (a, b) == (True, False)


async def test_a_lease_has_one_holder_whoever_asks_at_once(
    two: tuple[Database, Database],
) -> None:
    first, second = two

    async def take(db: Database, holder: str, now_ms: int) -> bool:
        async with db.transaction() as conn:
            return await lease_rows.take(conn, "fanout", holder, now_ms, now_ms + 30)

    for round_ms in range(0, 600, 60):  # each round after the last one's lease expired
        results = await asyncio.gather(
            *(
                take(db, f"{name}{k}", round_ms)
                for k in range(4)
                for db, name in ((first, "a"), (second, "b"))
            )
        )
        assert sum(results) == 1, round_ms
    a, b = await _while_open(
        first,
        lambda c: lease_rows.take(c, "fanout", "a", 1000, 1030),
        second,
        lambda c: lease_rows.take(c, "fanout", "b", 1000, 1030),
    )
    assert (a, b) == (True, False)
    async with second.transaction() as conn:
        assert await lease_rows.take(conn, "fanout", "a", 1010, 1040)  # the holder renews
        assert not await lease_rows.take(conn, "fanout", "b", 1039, 1070)
        assert await lease_rows.take(conn, "fanout", "b", 1040, 1070)  # expired: taken over
        assert await lease_rows.holder_of(conn, "fanout") == ("b", 1070)
        assert not await lease_rows.give_up(conn, "fanout", "a")
        assert await lease_rows.take_from(conn, "fanout", "b", "c", 2000)
        assert not await lease_rows.take_from(conn, "fanout", "b", "d", 2000)
