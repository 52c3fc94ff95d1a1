"""WAL checkpoints in the background, so no student's answer waits for one.

By default SQLite checkpoints inside the COMMIT that fills the WAL past 1,000 pages: about
one answer in fifty then copies the WAL into the database file, and its reply waits tens
of milliseconds (the answer's p99). The bot's connection turns that off
(``wal_autocheckpoint = 0``) and this checkpointer runs a PASSIVE checkpoint from its own
connection on a worker thread every ``every`` commits; PASSIVE waits for nobody, and
writers go on meanwhile. Closing the database checkpoints what is left.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)

CHECKPOINT_EVERY = 100
"""Commits between checkpoints (about 2,000 WAL pages, 8 MB, at ~20 pages per answer)."""


class Checkpointer:
    """Runs ``PRAGMA wal_checkpoint(PASSIVE)`` off the event loop every ``every`` commits."""

    def __init__(self, path: Path, busy_timeout_ms: int, every: int = CHECKPOINT_EVERY) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._every = every
        self._commits = 0
        self._task: asyncio.Task[None] | None = None
        self._conn: sqlite3.Connection | None = None
        self.runs = 0
        """Checkpoints completed (for tests and diagnostics)."""

    def committed(self) -> None:
        """Count one commit; start a checkpoint when enough have accumulated."""
        self._commits += 1
        if self._commits >= self._every and (self._task is None or self._task.done()):
            self._commits = 0
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            await asyncio.to_thread(self._checkpoint)
        except sqlite3.Error as error:  # the next one will try again
            log.warning("background WAL checkpoint failed: %s", error)

    def _checkpoint(self) -> None:
        if self._conn is None:
            # Its own connection: the bot's one stays free for the students' requests.
            self._conn = sqlite3.connect(
                str(self._path), isolation_level=None, check_same_thread=False
            )
            self._conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self.runs += 1

    async def wait(self) -> None:
        """Wait for a running checkpoint to finish."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def close(self) -> None:
        """Wait for a running checkpoint and close this checkpointer's connection."""
        await self.wait()
        if self._conn is not None:
            self._conn.close()
            self._conn = None
