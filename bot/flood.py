"""A per-user flood limit: a student who sends 50 messages a second is slowed down alone.

Each user has a token bucket (``burst`` updates at once, refilled at ``per_second``). An
update over the limit is dropped before any other handler sees it: a button press gets a
short notice on the button (so the spinner stops and the student can press again), a message
gets one "slow down" reply per ``notice_every`` seconds, and nothing reaches the service or
the database. Other users have their own buckets and are not affected.

:func:`register_flood_guard` adds the check as a ``TypeHandler`` in a group that runs after
the redelivery filter and before the admin and student handlers.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.i18n import language_for, plain, t

log = logging.getLogger("bot.flood")

FLOOD_GROUP = -75  # after DEDUPE_GROUP (-100), before the admin handlers (-50) and group 0
FLOOD_KEY = "flood_guard"
FLOOD_HANDLER_KEY = "flood_guard_handler"
DEFAULT_BURST = 8
DEFAULT_PER_SECOND = 1.5


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    """One token bucket per key, on an injected monotonic clock."""

    def __init__(
        self, burst: int, per_second: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if burst < 1 or per_second <= 0:
            raise ValueError("burst must be >= 1 and per_second > 0")
        self.burst = float(burst)
        self.per_second = per_second
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}

    def allow(self, key: int) -> bool:
        """Take a token for ``key``; False when its bucket is empty."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.per_second)
            bucket.at = now
        if len(self._buckets) > 10_000:
            self._forget_full(now)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        return False

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled completely (they hold no information)."""
        full = [
            key
            for key, b in self._buckets.items()
            if b.tokens + (now - b.at) * self.per_second >= self.burst
        ]
        for key in full:
            del self._buckets[key]


class FloodGuard:
    """The handler callback: drops a user's updates beyond the limit."""

    def __init__(
        self,
        *,
        burst: int = DEFAULT_BURST,
        per_second: float = DEFAULT_PER_SECOND,
        notice_every: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.buckets = TokenBuckets(burst, per_second, clock)
        self.notice_every = notice_every
        self._clock = clock
        self._noticed: dict[int, float] = {}
        self.dropped: dict[int, int] = {}

    async def __call__(self, update: object, context: Any) -> None:
        """Let the update through, or answer briefly and stop all further handling."""
        if not isinstance(update, Update) or update.effective_user is None:
            return
        if update.poll_answer is not None:
            return  # one per poll and member, by Telegram's rules: an answer is never dropped
        user_id = update.effective_user.id
        if self.buckets.allow(user_id):
            return
        self.dropped[user_id] = self.dropped.get(user_id, 0) + 1
        if self.dropped[user_id] in (1, 10, 100, 1000):
            log.warning(
                "flood limit: dropped %d updates of user %s", self.dropped[user_id], user_id
            )
        # Telegram's language, not the student's choice: the guard never touches the database.
        lang = language_for(update.effective_user.language_code)
        with contextlib.suppress(TelegramError):
            if update.callback_query is not None:
                await update.callback_query.answer(plain(lang, "flood.toast"))
            elif update.effective_chat is not None and self._should_notice(user_id):
                await update.effective_chat.send_message(
                    t(lang, "flood.notice"), parse_mode=ParseMode.HTML
                )
        raise ApplicationHandlerStop

    def _should_notice(self, user_id: int) -> bool:
        now = self._clock()
        last = self._noticed.get(user_id)
        if last is not None and now - last < self.notice_every:
            return False
        self._noticed[user_id] = now
        if len(self._noticed) > 10_000:
            self._noticed = {k: v for k, v in self._noticed.items() if now - v < self.notice_every}
        return True


def register_flood_guard(
    application: Any, *, group: int = FLOOD_GROUP, **options: Any
) -> FloodGuard:
    """Add the per-user flood limit to ``application``; options go to :class:`FloodGuard`."""
    guard = FloodGuard(**options)
    # Registering again replaces the guard (e.g. a deployment or test with other limits).
    previous = application.bot_data.get(FLOOD_HANDLER_KEY)
    if previous is not None:
        application.remove_handler(*previous)
    handler = TypeHandler(Update, guard)
    application.add_handler(handler, group=group)
    application.bot_data[FLOOD_KEY] = guard
    application.bot_data[FLOOD_HANDLER_KEY] = (handler, group)
    return guard


__all__ = ["FLOOD_GROUP", "FloodGuard", "TokenBuckets", "register_flood_guard"]
