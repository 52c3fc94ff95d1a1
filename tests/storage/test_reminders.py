"""Reminder rows: idempotent planning, exclusive claims, crash recovery."""

from __future__ import annotations

import asyncio
from pathlib import Path

from storage import Database
from storage import reminders as rows
from storage import users as user_rows
from storage.records import UserRecord


async def _users(db: Database, n: int) -> None:
    async with db.transaction() as conn:
        for user_id in range(1, n + 1):
            await user_rows.insert_user(
                conn,
                UserRecord(
                    user_id,
                    user_id,
                    "S",
                    "en",
                    "UTC",
                    "09:00",
                    None,
                    20,
                    10,
                    0.9,
                    "active",
                    True,
                    0,
                    0,
                ),
            )


async def test_planning_twice_keeps_one_row_per_slot_and_moves_only_pending(db: Database) -> None:
    await _users(db, 2)
    async with db.transaction() as conn:
        assert (
            await rows.plan(
                conn, [(1, "daily", "2026-03-02", 100), (2, "daily", "2026-03-02", 100)]
            )
            == 2
        )
        assert await rows.plan(conn, [(1, "daily", "2026-03-02", 100)]) == 0
        [claimed] = await rows.claim_due(conn, 100, 1)
        await rows.settle(conn, claimed.id, rows.SENT, 150)
        # A new time moves the pending row only; the sent one stays sent, once.
        assert (
            await rows.plan(
                conn, [(1, "daily", "2026-03-02", 200), (2, "daily", "2026-03-02", 200)]
            )
            == 1
        )
        found = await rows.rows_for_slot(conn, "daily", "2026-03-02")
    assert sorted((r.user_id, r.status, r.due_ms) for r in found) == [
        (1, "sent", 100),
        (2, "pending", 200),
    ]


async def test_two_processes_never_claim_the_same_row(database_location: Path | str) -> None:
    first = await Database.open(database_location)
    second = await Database.open(database_location)
    try:
        await _users(first, 300)
        async with first.transaction() as conn:
            await rows.plan(conn, [(u, "daily", "d", 10) for u in range(1, 301)])

        async def take(db: Database) -> list[int]:
            taken: list[int] = []
            while True:
                async with db.transaction() as conn:
                    batch = await rows.claim_due(conn, 10, 7)
                if not batch:
                    return taken
                taken += [row.id for row in batch]
                await asyncio.sleep(0)

        a, b = await asyncio.gather(take(first), take(second))
        assert not set(a) & set(b)
        assert len(a) + len(b) == 300
    finally:
        await first.close()
        await second.close()


async def test_recovery_requeues_unstarted_claims_and_skips_started_ones(db: Database) -> None:
    await _users(db, 3)
    async with db.transaction() as conn:
        await rows.plan(conn, [(u, "daily", "d", 10) for u in (1, 2, 3)])
        one, two, three = await rows.claim_due(conn, 10, 10)
        assert await rows.advance(conn, one.id, [], 20)  # started, then the process died
        assert await rows.advance(conn, two.id, [], 20)
        assert await rows.advance(conn, None, [two.id], 30)  # two is known to be sent
        assert await rows.recover_stale(conn, claimed_before_ms=11) == (1, 1)
        after = {
            r.user_id: (r.status, r.attempts) for r in await rows.rows_for_slot(conn, "daily", "d")
        }
    assert after == {1: ("skipped", 1), 2: ("sent", 1), 3: ("pending", 0)}
    assert three.user_id == 3
