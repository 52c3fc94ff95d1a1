"""Leases: one holder at a time, renewed lazily, taken over when the holder is gone."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from storage import Database
from storage import leases as lease_rows
from tests.conftest import FakeClock
from tutor.leases import Lease, holder_gone, process_holder


async def test_one_process_holds_and_renews_only_when_half_is_left(
    db: Database, clock: FakeClock
) -> None:
    mine = Lease(db, "fanout", clock=clock, ttl=timedelta(seconds=30))
    other = Lease(db, "fanout", clock=clock, ttl=timedelta(seconds=30))
    assert await mine.hold() and mine.term == 1
    assert not await other.hold() and other.term == 0
    clock.advance(seconds=10)
    assert await mine.hold()  # 20 s left: no trip to the database
    async with db.read() as conn:
        assert await lease_rows.holder_of(conn, "fanout") == (mine.holder, _ms(clock, 20))
    clock.advance(seconds=6)
    assert await mine.hold()  # 14 s left: renewed for 30 s more
    async with db.read() as conn:
        assert await lease_rows.holder_of(conn, "fanout") == (mine.holder, _ms(clock, 30))
    assert mine.term == 1  # the same term throughout
    clock.advance(seconds=29)
    assert not await other.hold()
    clock.advance(seconds=2)  # expired: the other takes it; the first knows it lost it
    assert await other.hold() and other.term == 1
    assert not await mine.hold()
    await other.release()  # a clean stop: the first takes it at once, a new term
    assert await mine.hold() and mine.term == 2


def _ms(clock: FakeClock, seconds: float) -> int:
    return int((clock() + timedelta(seconds=seconds)).timestamp() * 1000)


async def test_a_holder_whose_process_is_gone_is_taken_over_at_once(
    db: Database, clock: FakeClock
) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import os; print(os.getpid())", stdout=asyncio.subprocess.PIPE
    )
    out, _ = await child.communicate()  # the child has exited and is reaped: its pid is free
    pid = int(out)
    dead = process_holder().split("/")[0] + f"/{pid}/0badc0de"
    assert holder_gone(dead)
    assert not holder_gone(process_holder())  # this very process
    assert not holder_gone(f"another-host/{pid}/0badc0de")  # only its expiry tells
    async with db.transaction() as conn:
        now = int(clock().timestamp() * 1000)
        assert await lease_rows.take(conn, "fanout", dead, now, now + 30_000)
    mine = Lease(db, "fanout", clock=clock)
    assert await mine.hold()  # long before the dead holder's lease ran out
    async with db.transaction() as conn:
        now = int(clock().timestamp() * 1000)
        assert await lease_rows.take_from(
            conn, "fanout", mine.holder, "other-host/1/x", now + 30_000
        )
    elsewhere = Lease(db, "fanout", clock=clock)
    assert not await elsewhere.hold()  # a holder on another machine is waited out
