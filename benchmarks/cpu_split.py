"""Exclusive CPU accounting of the event loop's thread, by region (bot, service, fake, ...).

Timing a coroutine with ``time.thread_time()`` before and after an ``await`` also counts
whatever other tasks ran while it was suspended: after an answer the bot sends the
feedback while the service chooses the next question, so each would be charged part of the
other's work. :class:`CpuSplit` instead charges every slice of the thread's CPU to exactly
one region: a task factory wraps each task's coroutine so that every step (``send`` or
``throw``) is charged to the region current in that task's context (:data:`REGION`), and a
region entered or left inside a step (:meth:`CpuSplit.region`) switches the meter on the
spot. Time outside any task step (the event loop itself, plain callbacks) goes to
``"loop"``. Other threads (aiosqlite's connection thread) are not seen here: compare
``time.process_time()`` with :meth:`CpuSplit.total` for them.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Coroutine, Generator, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

LOOP = "loop"
"""The event loop's own work: anything outside a task's step."""
BOT = "bot"
"""The default region."""
REGION: ContextVar[str] = ContextVar("cpu_region", default=BOT)
"""The region a task's code is charged to; child tasks inherit it with the context."""


class CpuSplit:
    """Thread CPU seconds per region, each slice charged once.

    Args:
        active: With False nothing is wrapped or counted (regions still nest), so that a run
            can show what the accounting itself costs.
    """

    def __init__(self, active: bool = True) -> None:
        self.active = active
        self.totals: defaultdict[str, float] = defaultdict(float)
        self._current = LOOP
        self._last = time.thread_time()

    def switch(self, region: str) -> None:
        """Charge the CPU since the last switch to the current region, then enter ``region``."""
        if not self.active:
            return
        now = time.thread_time()
        self.totals[self._current] += now - self._last
        self._last, self._current = now, region

    def reset(self) -> None:
        """Forget what was counted so far (keeps counting from now)."""
        self.switch(self._current)
        self.totals.clear()

    def snapshot(self) -> dict[str, float]:
        """Seconds per region up to now."""
        self.switch(self._current)
        return dict(self.totals)

    def total(self) -> float:
        """Seconds of all regions up to now."""
        return sum(self.snapshot().values())

    @contextmanager
    def region(self, name: str) -> Iterator[None]:
        """Charge the code inside (and the tasks it creates) to ``name``."""
        token = REGION.set(name)
        self.switch(name)
        try:
            yield
        finally:
            REGION.reset(token)
            self.switch(REGION.get())

    def install(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Wrap every task created on ``loop`` (default: the running one) from now on."""
        if self.active:
            (loop or asyncio.get_running_loop()).set_task_factory(self._task)

    def _task(self, loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        return asyncio.Task(_Stepped(coro, self), loop=loop, **kwargs)


class _Stepped(Coroutine[Any, Any, Any]):
    """A coroutine whose every step is charged to its context's region."""

    def __init__(self, coro: Coroutine[Any, Any, Any], split: CpuSplit) -> None:
        self._coro = coro
        self._split = split

    def send(self, value: Any) -> Any:
        """One step: run the wrapped coroutine until it next suspends."""
        self._split.switch(REGION.get())
        try:
            return self._coro.send(value)
        finally:
            self._split.switch(LOOP)

    def throw(self, exc: Any, *args: Any) -> Any:
        """One step that starts by raising ``exc`` in the wrapped coroutine."""
        self._split.switch(REGION.get())
        try:
            return self._coro.throw(exc, *args)
        finally:
            self._split.switch(LOOP)

    def close(self) -> None:
        """Close the wrapped coroutine."""
        self._coro.close()

    def __await__(self) -> Generator[Any, None, Any]:
        return self._coro.__await__()

    def __repr__(self) -> str:
        return repr(self._coro)
