"""The lock file that queues writers across processes (and connections) of one SQLite file."""

from __future__ import annotations

import asyncio
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage import Database
from storage.write_lock import WriteLock, lock_path

pytestmark = pytest.mark.sqlite_only

INSERT_DECK = "INSERT INTO decks (slug, name, created_ms, updated_ms) VALUES (?, ?, 0, 0)"


async def _decks(db: Database) -> list[str]:
    async with db.read() as conn:
        return [row[0] for row in await conn.execute_fetchall("SELECT slug FROM decks")]


def test_the_lock_file_is_private_and_one_holder_at_a_time(db_path: Path) -> None:
    first, second = WriteLock(db_path), WriteLock(db_path)
    try:
        assert first.path == lock_path(db_path) == db_path.with_name(db_path.name + "-writer")
        assert stat.S_IMODE(first.path.stat().st_mode) == 0o600
        first.acquire()
        assert not second.try_acquire()
        first.release()
        assert second.try_acquire()
        assert not first.try_acquire()
    finally:
        first.close()
        second.close()


def test_a_waiting_process_goes_on_the_moment_the_holder_lets_go(db_path: Path) -> None:
    holder = WriteLock(db_path)
    holder.acquire()
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from storage.write_lock import WriteLock\n"
        "lock = WriteLock(Path(sys.argv[1]))\n"
        "print('waiting', flush=True)\n"
        "lock.acquire()\n"
        "print(time.time(), flush=True)\n"
    )
    waiter = subprocess.Popen(
        [sys.executable, "-c", code, str(db_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert waiter.stdout is not None and waiter.stdout.readline().strip() == "waiting"
        time.sleep(0.3)  # it is blocked in flock by now
        assert waiter.poll() is None
        released = time.time()
        holder.release()
        woke = float(waiter.stdout.readline())
        # SQLite's busy handler would poll in sleeps of up to 100 ms; the kernel wakes it.
        assert woke - released < 0.05
    finally:
        holder.close()
        waiter.wait(10)


def test_a_process_that_dies_holding_the_lock_releases_it(db_path: Path) -> None:
    code = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from storage.write_lock import WriteLock\n"
        "WriteLock(Path(sys.argv[1])).acquire()\n"
        "os._exit(9)\n"
    )
    assert subprocess.run([sys.executable, "-c", code, str(db_path)], check=False).returncode == 9
    lock = WriteLock(db_path)
    try:
        assert lock.try_acquire()
    finally:
        lock.close()


async def test_a_second_connection_writes_right_after_the_first_commits(
    db: Database, db_path: Path
) -> None:
    other = await Database.open(db_path)
    try:
        entered = asyncio.Event()
        release = asyncio.Event()

        async def hold() -> None:
            async with db.transaction() as conn:
                await conn.execute(INSERT_DECK, ("first", "First"))
                entered.set()
                await release.wait()

        holding = asyncio.create_task(hold())
        await entered.wait()

        async def write() -> None:
            async with other.transaction() as conn:
                await conn.execute(INSERT_DECK, ("second", "Second"))

        writing = asyncio.create_task(write())
        await asyncio.sleep(0.2)
        assert not writing.done()  # waiting for the lock file, not failing
        release.set()
        await asyncio.wait_for(asyncio.gather(holding, writing), 5)
        assert other.write_stats.transactions == 1
        assert 0.15 < other.write_stats.waited_s < 1.0
        assert db.write_stats.held_s >= 0.15
        assert sorted(await _decks(db)) == ["first", "second"]
    finally:
        await other.close()


async def test_a_writer_cancelled_while_waiting_leaves_the_lock_free(
    db: Database, db_path: Path
) -> None:
    other = await Database.open(db_path)
    try:
        entered = asyncio.Event()
        release = asyncio.Event()

        async def hold() -> None:
            async with db.transaction() as conn:
                await conn.execute(INSERT_DECK, ("first", "First"))
                entered.set()
                await release.wait()

        holding = asyncio.create_task(hold())
        await entered.wait()

        async def write() -> None:
            async with other.transaction() as conn:
                await conn.execute(INSERT_DECK, ("never", "Never"))

        writing = asyncio.create_task(write())
        await asyncio.sleep(0.1)
        writing.cancel()  # its thread still waits in flock, and will take the lock
        release.set()
        await asyncio.wait_for(holding, 5)
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(writing, 5)
        # Both connections write again at once: the cancelled BEGIN was rolled back and
        # its lock released (else the next writer would wait for ever).
        async with asyncio.timeout(5):
            async with other.transaction() as conn:
                await conn.execute(INSERT_DECK, ("second", "Second"))
            async with db.transaction() as conn:
                await conn.execute(INSERT_DECK, ("third", "Third"))
        assert sorted(await _decks(db)) == ["first", "second", "third"]
    finally:
        await other.close()
