"""An update's claim, recorded by the first write transaction in its context: nothing of a
transaction that finds the update handled is kept, whatever it sent with the claim."""

from __future__ import annotations

import pytest

from storage import Database
from storage.batch import write_later
from storage.update_claims import CLAIM, Claim, UpdateHandled


def _claim(db: Database, update_id: int, holder: str = "me") -> Claim:
    return Claim(
        database=db,
        update_id=update_id,
        digest="d",
        holder=holder,
        now_ms=1_000,
        gone=lambda holder: False,
        finished=[],
    )


async def _count(db: Database, sql: str) -> int:
    async with db.read() as conn:
        rows = await conn.execute_fetchall(sql)
    return int(next(iter(rows))[0])


async def test_a_refused_claim_rolls_back_writes_that_would_go_out_with_it(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute("CREATE TABLE IF NOT EXISTS side_effect (x INTEGER)")
    first = _claim(db, 7)
    token = CLAIM.set(first)
    try:
        async with db.transaction() as conn:
            await write_later(conn, "INSERT INTO side_effect (x) VALUES (1)")
    finally:
        CLAIM.reset(token)
    assert first.state == "claimed"
    again = _claim(db, 7, holder="other")  # the same update, at another running process
    token = CLAIM.set(again)
    try:
        with pytest.raises(UpdateHandled):
            # On PostgreSQL this deferred write and the claim would go out with the COMMIT;
            # the claim is checked before anything beside it commits.
            async with db.transaction() as conn:
                await write_later(conn, "INSERT INTO side_effect (x) VALUES (2)")
    finally:
        CLAIM.reset(token)
    assert again.state == "refused"
    assert await _count(db, "SELECT count(*) FROM side_effect") == 1
    assert await _count(db, "SELECT count(*) FROM processed_updates") == 1


async def test_a_claim_is_recorded_by_its_own_database_only_and_again_after_a_rollback(
    db: Database,
) -> None:
    claim = _claim(db, 8)
    token = CLAIM.set(claim)
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction():
                raise RuntimeError("the handler's transaction failed")
        assert claim.state == "pending"  # rolled back with it: the next one records it
        async with db.transaction():
            pass
    finally:
        CLAIM.reset(token)
    assert claim.state == "claimed"
    assert await _count(db, "SELECT count(*) FROM processed_updates") == 1
