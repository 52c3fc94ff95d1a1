"""A simulated clock for the fan-out benchmarks: sleeping advances it instead of waiting, so
an hour of paced sending runs in the seconds its CPU takes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime


class VirtualTime:
    """A simulated clock: sleeping advances it instead of waiting."""

    def __init__(self, start: float) -> None:
        self.t = start

    def monotonic(self) -> float:
        """Seconds, as ``time.monotonic`` would give them."""
        return self.t

    def wall(self) -> datetime:
        """The same moment as an aware UTC datetime."""
        return datetime.fromtimestamp(self.t, UTC)

    async def sleep(self, seconds: float) -> None:
        """Move the clock on by ``seconds``, and let other tasks run."""
        self.t += max(0.0, seconds)
        await asyncio.sleep(0)
