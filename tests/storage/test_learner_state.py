"""A student's learner state and recall calibration, stored and read back."""

from __future__ import annotations

from storage import Database
from storage import learner_state as state_rows
from storage import users as user_rows
from storage.learner_state import StoredState
from storage.records import UserRecord


async def _add_user(db: Database, user_id: int) -> None:
    record = UserRecord(
        user_id, user_id, "N", "en", "UTC", None, None, 20, 10, 0.9, "active", True, 0, 0
    )
    async with db.transaction() as conn:
        await user_rows.insert_user(conn, record)


async def test_state_and_calibration_round_trip(db: Database) -> None:
    await _add_user(db, 1)
    stored = StoredState("weights-a", b"\x00\x01state", '{"mean": [0, 1, 0, 0, 0]}')
    async with db.transaction() as conn:
        await state_rows.put_state(conn, 1, stored, 1_000)
    async with db.read() as conn:
        assert await state_rows.get_state(conn, 1) == stored
        assert await state_rows.get_state(conn, 2) is None


async def test_a_new_state_replaces_the_old_one_calibration_included(db: Database) -> None:
    await _add_user(db, 1)
    async with db.transaction() as conn:
        await state_rows.put_state(conn, 1, StoredState("a", b"old", "{}"), 1_000)
        await state_rows.put_state(conn, 1, StoredState("b", b"new"), 2_000)
    async with db.read() as conn:
        assert await state_rows.get_state(conn, 1) == StoredState("b", b"new", None)


async def test_a_state_of_a_newer_weights_version_is_never_overwritten_by_an_older(
    db: Database,
) -> None:
    await _add_user(db, 1)
    rebuilt = StoredState("new", b"rebuilt", None, 2)
    async with db.transaction() as conn:
        assert await state_rows.put_state(conn, 1, rebuilt, 1_000)
        # a process still on version 1 (its read came before the rebuild's commit)
        assert not await state_rows.put_state(conn, 1, StoredState("old", b"x", None, 1), 2_000)
        assert await state_rows.put_state(conn, 1, StoredState("new", b"next", None, 2), 3_000)
    async with db.read() as conn:
        assert await state_rows.get_state(conn, 1) == StoredState("new", b"next", None, 2)


async def test_a_state_written_later_says_when_a_newer_weights_version_refused_it(
    db: Database,
) -> None:
    await _add_user(db, 1)
    refused: list[str] = []
    async with db.transaction() as conn:
        await state_rows.put_state(conn, 1, StoredState("new", b"rebuilt", None, 2), 1_000)
        old = StoredState("old", b"x", None, 1)
        await state_rows.put_state_later(conn, 1, old, 2_000, lambda: refused.append("old"))
        newer = StoredState("new", b"next", None, 2)
        await state_rows.put_state_later(conn, 1, newer, 3_000, lambda: refused.append("new"))
        # known once sent: with the next statement on PostgreSQL, at once on SQLite
        assert await state_rows.get_state(conn, 1) == newer
    assert refused == ["old"]
    async with db.read() as conn:
        assert await state_rows.get_state(conn, 1) == StoredState("new", b"next", None, 2)
