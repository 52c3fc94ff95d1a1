"""The outgoing rate limit of the application: per chat for replies, none for the whole bot.

Telegram's limits are about one message a second to one chat (short bursts tolerated),
twenty a minute to one group, and about thirty a second for bulk notifications to many
users. Replies to students in different chats are not bulk: capping them all together (as
a bot-wide bucket would) makes every student wait for everyone else. So:

* each private chat may have its own bucket (``chat_burst`` at once, then ``chat_rate`` a
  second; the application's default is none: an answer costs three messages, so one a
  second would hold a quick student to an answer every three seconds, while Telegram
  tolerates short bursts and a 429 holds only that chat), each group one of twenty a
  minute;
* an optional bot-wide cap (``overall_rate``, off by default) for operators who want one;
* reminders and announcements are paced by their own :class:`bot.sender.Sender` at the
  broadcast rate; they pass ``rate_limit_args=BROADCAST`` and are not held or retried here
  (the sender pauses the whole fan-out on a 429 itself);
* a 429 (``RetryAfter``) on a reply holds that chat (or, for a call without a chat, every
  call) for the time Telegram asks, then retries, up to ``max_retries`` times;
* a 429 on acknowledging a button press (``answerCallbackQuery``, only the spinner, which
  the client stops by itself) is neither waited out nor retried, and holds nothing: the
  feedback and the next question the student waits for go at once.

Buckets are GCRA (a virtual scheduling clock per bucket): booking a slot is one comparison,
so concurrent callers are served in arrival order without locks. Clock and sleep are
injected so tests and benchmarks can run on virtual time.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from tutor.deliveries import settle

log = logging.getLogger("bot.outgoing")

COSMETIC = frozenset({"answerCallbackQuery"})
"""Calls whose failure the user cannot see: a 429 on them is raised at once, never waited."""

BROADCAST = "broadcast"
"""``rate_limit_args`` of a message the broadcast sender paces itself."""

GROUP_PER_MINUTE = 20
GROUP_BURST = 3
_MAX_BUCKETS = 4096

Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
Result = bool | dict[str, Any] | list[dict[str, Any]]


class Bucket:
    """``burst`` calls at once, then one every ``interval`` seconds (GCRA)."""

    __slots__ = ("interval", "tat", "tolerance")

    def __init__(self, interval: float, burst: int) -> None:
        self.interval = interval
        self.tolerance = interval * (max(1, burst) - 1)
        self.tat = float("-inf")  # theoretical arrival time of the next call

    def book(self, now: float) -> float:
        """Reserve the next slot; returns how long to wait for it (0: go now)."""
        tat = max(self.tat, now)
        start = max(now, tat - self.tolerance)
        self.tat = tat + self.interval
        return start - now

    def hold(self, until: float) -> None:
        """No slot before ``until`` (Telegram asked to wait)."""
        self.tat = max(self.tat, until + self.tolerance)

    def idle(self, now: float) -> bool:
        """True when the bucket is back to its full burst (it can be forgotten)."""
        return self.tat <= now


class ChatRateLimiter(BaseRateLimiter[str]):
    """Per-chat buckets for replies, an optional overall cap, and retries after 429.

    Args:
        chat_rate: Messages a second to one private chat (0: no per-chat limit).
        chat_burst: Messages to one private chat that may go at once.
        overall_rate: Messages a second for the whole bot (0: no overall cap).
        max_retries: Retries of a reply after RetryAfter before the error is raised.
        clock: Monotonic seconds.
        sleep: Coroutine that waits the given seconds.
    """

    def __init__(
        self,
        *,
        chat_rate: float = 0.0,
        chat_burst: int = 10,
        overall_rate: float = 0.0,
        max_retries: int = 2,
        clock: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.chat_rate = chat_rate
        self.chat_burst = chat_burst
        self.max_retries = max_retries
        self._clock = clock
        self._sleep = sleep
        self._overall = Bucket(1.0 / overall_rate, 1) if overall_rate > 0 else None
        self._chats: dict[int | str, Bucket] = {}
        self._paused_until = float("-inf")

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def _bucket(self, chat_id: int | str) -> Bucket:
        bucket = self._chats.get(chat_id)
        if bucket is not None:
            return bucket
        group = isinstance(chat_id, str) or chat_id < 0
        if group:
            bucket = Bucket(60.0 / GROUP_PER_MINUTE, GROUP_BURST)
        elif self.chat_rate > 0:
            bucket = Bucket(1.0 / self.chat_rate, self.chat_burst)
        else:  # no limit, but a flood wait can still hold the chat
            bucket = Bucket(0.0, 1)
        if len(self._chats) >= _MAX_BUCKETS:
            now = self._clock()
            self._chats = {key: b for key, b in self._chats.items() if not b.idle(now)}
        self._chats[chat_id] = bucket
        return bucket

    async def _turn(self, chat_id: int | str | None) -> None:
        """Wait for a global pause, then for the chat's and the overall slot."""
        while (wait := self._paused_until - self._clock()) > 0:
            await self._sleep(wait)
        now = self._clock()
        wait = 0.0
        if chat_id is not None:
            wait = self._bucket(chat_id).book(now)
        if self._overall is not None:
            wait += self._overall.book(now + wait)
        if wait > 0:
            await self._sleep(wait)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> Result:
        """Send when the chat's bucket allows; retry a reply after RetryAfter."""
        await settle()  # an update's record is written before the update calls Telegram
        if rate_limit_args == BROADCAST:
            if self._overall is not None:
                await self._turn(None)
            return await callback(*args, **kwargs)
        chat_id = _chat_of(data)
        for attempt in range(self.max_retries + 1):
            await self._turn(chat_id)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if endpoint in COSMETIC:
                    log.debug("%s: flood limit, not retried", endpoint)
                    raise
                if attempt == self.max_retries:
                    raise
                wait = retry_seconds(error)
                until = self._clock() + wait
                if chat_id is not None:
                    self._bucket(chat_id).hold(until)
                else:
                    self._paused_until = max(self._paused_until, until)
                log.info("%s: flood limit, retrying in %.1f s", endpoint, wait)
        raise AssertionError("unreachable")  # pragma: no cover


def _chat_of(data: dict[str, Any]) -> int | str | None:
    """The chat a call writes to (None for calls without one, like answerCallbackQuery)."""
    chat_id = data.get("chat_id")
    if chat_id is None:
        return None
    try:
        return int(chat_id)
    except (TypeError, ValueError):
        return str(chat_id)  # @channelusername


def retry_seconds(error: RetryAfter) -> float:
    """The wait Telegram asked for, in seconds."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB warns that the int form is deprecated
        value = error.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)
