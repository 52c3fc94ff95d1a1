"""One writer at a time across processes, with waiters woken at once: a lock file (``flock``).

SQLite lets one connection write at a time; a second one's ``BEGIN IMMEDIATE`` goes to the
busy handler, which sleeps and retries in steps of 1, 2, 5, 10, 15, 20, 25, 50 and 100 ms.
With two bot processes writing an answer each every few milliseconds, a writer that missed
the lock by a fraction of a millisecond sleeps 5-25 ms, and meanwhile its whole process waits
for the database. An exclusive ``flock`` on a file next to the database, taken before
``BEGIN IMMEDIATE`` and dropped after ``COMMIT`` or ``ROLLBACK``, queues the writers in the
kernel instead: the waiter wakes the moment the holder drops it. The kernel drops it too when
a process dies, so a crash never leaves it taken.

SQLite's own lock still decides: a connection that does not take this lock (another program,
``sqlite3`` on the command line) is waited for by the busy handler as before. So is another
connection of the same process that holds it: it may be waiting for this one (a test, a
command that opens the database twice), and the busy handler gives up after its timeout
where ``flock`` would wait for ever.
"""

from __future__ import annotations

import fcntl
import os
import threading
from dataclasses import dataclass
from pathlib import Path

SUFFIX = "-writer"
"""The lock file is the database's name with this suffix (like SQLite's ``-wal``)."""


def lock_path(database: Path) -> Path:
    """The lock file of the database file ``database``."""
    return database.with_name(database.name + SUFFIX)


_HELD_HERE: dict[str, int] = {}
"""Lock files this process holds (by any of its connections), by path."""
_GUARD = threading.Lock()


class WriteLock:
    """The exclusive lock of one database file, held by one connection of this process."""

    def __init__(self, database: Path) -> None:
        self.path = lock_path(database)
        self._key = str(self.path.resolve())
        # Owner-only like the database; never inherited by child processes (O_CLOEXEC).
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self.held = False

    def acquire(self) -> bool:
        """Wait (blocking the calling thread) until no other process holds the lock, and take
        it; False at once, not taken, if another connection of this process holds it."""
        assert self._fd is not None, "closed"
        with _GUARD:
            if _HELD_HERE.get(self._key):
                return False
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self._taken()
        return True

    def try_acquire(self) -> bool:
        """Take the lock if no other connection holds it, without waiting."""
        assert self._fd is not None, "closed"
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self._taken()
        return True

    def _taken(self) -> None:
        self.held = True
        with _GUARD:
            _HELD_HERE[self._key] = _HELD_HERE.get(self._key, 0) + 1

    def release(self) -> None:
        """Let the next writer in (nothing if not held)."""
        if self.held and self._fd is not None:
            self.held = False
            with _GUARD:
                _HELD_HERE[self._key] -= 1
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Release and close the file (the lock file stays, empty, for the next run)."""
        self.release()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


__all__ = ["SUFFIX", "WriteLock", "lock_path"]


@dataclass
class WriteStats:
    """How this connection's write transactions used the database's one write lock."""

    transactions: int = 0
    waited_s: float = 0.0
    """Seconds inside BEGIN IMMEDIATE: waiting for another process's write lock."""
    waits: int = 0
    """Transactions whose BEGIN waited more than a millisecond."""
    held_s: float = 0.0
    """Seconds from BEGIN to the end of COMMIT (or ROLLBACK): the lock held."""
    held_cpu_s: float = 0.0
    """CPU seconds of the event loop's thread meanwhile."""
    locked: bool = True
    """False on PostgreSQL: no write lock to wait for (rows are locked, not the database)."""

    def summary(self) -> str:
        """One line for the log."""
        n = max(self.transactions, 1)
        if not self.locked:
            return (
                f"{self.transactions} write transactions: {1000 * self.held_s:.0f} ms from BEGIN"
                f" to COMMIT ({1000 * self.held_s / n:.2f} ms each,"
                f" {1000 * self.held_cpu_s:.0f} ms of CPU)"
            )
        return (
            f"{self.transactions} write transactions: waited for the write lock"
            f" {1000 * self.waited_s:.0f} ms ({self.waits} waits over 1 ms,"
            f" {1000 * self.waited_s / n:.2f} ms each on average), held it"
            f" {1000 * self.held_s:.0f} ms ({1000 * self.held_s / n:.2f} ms each,"
            f" {1000 * self.held_cpu_s:.0f} ms of CPU)"
        )
