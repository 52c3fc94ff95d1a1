"""Updates of different users run concurrently; one user's run strictly in arrival order.

Answers must be graded in the order they were given, so each user has a FIFO lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.once import once
from tutor.deliveries import UpdateLog


class _UserQueue:
    """One user's FIFO lock and how many of their updates hold or wait for it."""

    __slots__ = ("lock", "updates")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.updates = 0


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Concurrency across users, strict order within one user (by a FIFO lock per user)."""

    def __init__(self, max_concurrent_updates: int, updates: UpdateLog | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, _UserQueue] = {}
        self.updates = updates
        """With several processes (``serve``): each update acted on once (:mod:`bot.once`)."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update once no earlier update of the same user is still running."""
        if self.updates is not None:
            coroutine = once(self.updates, update, coroutine)
        user = update.effective_user if isinstance(update, Update) else None
        if user is None:
            await coroutine
            return
        queue = self._locks.setdefault(user.id, _UserQueue())
        queue.updates += 1
        try:
            async with queue.lock:
                await coroutine
        finally:
            # Counted, not read from the lock: right after a release the lock looks free
            # while the next update, woken but not yet running, still needs it.
            queue.updates -= 1
            if queue.updates == 0:
                del self._locks[user.id]  # nobody waits: don't keep one lock per user forever

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Write the record's last done marks (the database is still open)."""
        if self.updates is not None:
            await self.updates.flush()


__all__ = ["PerUserUpdateProcessor"]
