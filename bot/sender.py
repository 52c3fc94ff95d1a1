"""A rate-limited fan-out sender: many messages within Telegram's limits, none dropped silently.

* At most ``rate`` messages per second in total (default 29, the settings'
  ``broadcast_rate``: 97 % of Telegram's ~30 for bulk messages, with no 429 in the fan-out
  benchmark) and one per ``per_chat_interval`` seconds to the same chat. Sends are spaced
  evenly, never burst. Through the application's bot they are marked
  :data:`bot.outgoing.BROADCAST`, so its reply limiter neither holds nor retries them.
* ``paid``: sent with ``allow_paid_broadcast`` (Telegram then allows up to 1000 a second and
  charges Stars for those beyond the free limit); the settings allow it only when the
  operator turns on ``METATUTOR_ALLOW_PAID_BROADCAST``.
* ``RetryAfter`` (429): every send pauses for the time Telegram asks, then the message is
  retried (up to ``max_flood_retries`` times, then it fails, logged).
* ``Forbidden`` (403): the user blocked the bot; ``on_blocked`` is told (the tutor marks
  them blocked) and the message fails with detail ``blocked``; no retry.
* ``TimedOut`` / ``NetworkError``: retried with exponential backoff ``max_retries`` times,
  then failed (logged). A read timeout is the one case where Telegram may have delivered the
  message although the bot saw an error, so a retry can duplicate it; Telegram offers no
  idempotency key for ``sendMessage``.
* ``BadRequest`` and other errors: failed at once (logged).

The clock and sleep are injected, so tests run thousands of sends in virtual time.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.outgoing import BROADCAST, retry_seconds

log = logging.getLogger("bot.sender")

Sleep = Callable[[float], Awaitable[None]]
Monotonic = Callable[[], float]


class Outcome(enum.StrEnum):
    """How a send ended."""

    SENT = "sent"
    BLOCKED = "blocked"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to send. ``key`` identifies it to the caller (e.g. a reminder id)."""

    key: Hashable
    chat_id: int
    user_id: int
    text: str
    parse_mode: str | None = ParseMode.HTML
    keyboard: InlineKeyboardMarkup | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """The result of one :class:`Outgoing`."""

    outgoing: Outgoing
    outcome: Outcome
    message_id: int | None = None
    detail: str = ""
    tries: int = 0
    floods: int = 0


@dataclass
class Tally:
    """Counts of a fan-out."""

    sent: int = 0
    blocked: int = 0
    failed: int = 0
    skipped: int = 0
    flood_waits: int = 0
    deliveries: list[Delivery] = field(default_factory=list)

    def add(self, delivery: Delivery) -> None:
        """Count one delivery."""
        self.deliveries.append(delivery)
        self.flood_waits += delivery.floods
        setattr(self, delivery.outcome.value, getattr(self, delivery.outcome.value) + 1)


DEFAULT_RATE = 29.0


class Pacer:
    """Spaces sends: a global minimum gap, a per-chat minimum gap, and flood pauses."""

    def __init__(
        self, rate: float, per_chat_interval: float, clock: Monotonic, sleep: Sleep
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.gap = 1.0 / rate
        self.per_chat_interval = per_chat_interval
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")
        self._paused_until = float("-inf")
        self._chat_next: dict[int, float] = {}
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """Hold every send for ``seconds`` from now (Telegram said RetryAfter)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def turn(self, chat_id: int) -> None:
        """Wait until a message to ``chat_id`` may start, and book that moment.

        Only private chats (positive ids) are spaced here: a group's limit (twenty a minute)
        is the application limiter's per-group bucket, which waits outside this lock, so a
        group quiz's result line and next poll never hold up everyone else's sends.
        """
        async with self._lock:
            while True:
                now = self._clock()
                at = max(self._next, self._paused_until, self._chat_next.get(chat_id, now))
                if at <= now:
                    break
                await self._sleep(at - now)
            self._next = now + self.gap
            if chat_id > 0:
                self._chat_next[chat_id] = now + self.per_chat_interval
            if len(self._chat_next) > 4096:  # forget chats whose gap has passed
                self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}


class Sender:
    """Sends messages through a :class:`telegram.Bot` within the flood limits.

    Args:
        bot: The bot to send with.
        rate: Messages per second in total.
        per_chat_interval: Seconds between two messages to the same chat.
        max_in_flight: Requests running at once (1 = strictly one after another).
        max_retries: Retries after a timeout or network error.
        max_flood_retries: Retries after RetryAfter before giving up (logged).
        backoff: First retry delay after a network error (doubles each time).
        on_blocked: Called with the user id when Telegram answers 403.
        paid: Send with ``allow_paid_broadcast`` (rates above the free limit).
        clock: Monotonic seconds.
        sleep: Coroutine that waits the given seconds.
    """

    def __init__(
        self,
        bot: Bot,
        *,
        rate: float = DEFAULT_RATE,
        per_chat_interval: float = 1.0,
        max_in_flight: int = 8,
        max_retries: int = 3,
        max_flood_retries: int = 10,
        backoff: float = 1.0,
        on_blocked: Callable[[int], Awaitable[None]] | None = None,
        clock: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        paid: bool = False,
    ) -> None:
        self.bot = bot
        self.paid = paid
        self.pacer = Pacer(rate, per_chat_interval, clock, sleep)
        self.max_in_flight = max(1, max_in_flight)
        self.max_retries = max_retries
        self.max_flood_retries = max_flood_retries
        self.backoff = backoff
        self.on_blocked = on_blocked
        self._sleep = sleep

    async def send(
        self, outgoing: Outgoing, before: Callable[[], Awaitable[bool]] | None = None
    ) -> Delivery:
        """Send one message, honouring the limits; never raises for Telegram errors.

        ``before`` runs right before every call to Telegram (after the wait for a turn);
        returning False skips the message (e.g. it is no longer claimed).
        """
        tries = floods = 0
        while True:
            await self.pacer.turn(outgoing.chat_id)
            if before is not None and not await before():
                return Delivery(
                    outgoing, Outcome.SKIPPED, detail="not claimed", tries=tries, floods=floods
                )
            tries += 1
            try:
                message = await self.bot.send_message(
                    outgoing.chat_id,
                    outgoing.text,
                    parse_mode=outgoing.parse_mode,
                    reply_markup=outgoing.keyboard,
                    disable_web_page_preview=True,
                    **broadcast_options(self.bot, paid=self.paid),
                )
            except RetryAfter as error:
                floods += 1
                wait = retry_seconds(error)
                self.pacer.pause(wait)
                log.warning("flood limit: waiting %.1f s (chat %s)", wait, outgoing.chat_id)
                if floods > self.max_flood_retries:
                    log.error("chat %s: gave up after %d flood waits", outgoing.chat_id, floods)
                    return Delivery(
                        outgoing, Outcome.FAILED, detail="flood", tries=tries, floods=floods
                    )
                continue
            except Forbidden as error:
                log.info("chat %s refused the message: %s", outgoing.chat_id, error.message)
                if self.on_blocked is not None:
                    try:
                        await self.on_blocked(outgoing.user_id)
                    except Exception:
                        log.exception("could not mark user %s blocked", outgoing.user_id)
                return Delivery(
                    outgoing, Outcome.BLOCKED, detail="blocked", tries=tries, floods=floods
                )
            except BadRequest as error:
                log.error("chat %s: message refused: %s", outgoing.chat_id, error.message)
                return Delivery(outgoing, Outcome.FAILED, detail=error.message[:200], tries=tries)
            except NetworkError as error:  # TimedOut is a NetworkError
                if tries > self.max_retries:
                    log.error("chat %s: failed after %d tries: %s", outgoing.chat_id, tries, error)
                    return Delivery(
                        outgoing,
                        Outcome.FAILED,
                        detail=f"network: {error.message}"[:200],
                        tries=tries,
                    )
                await self._sleep(self.backoff * 2 ** (tries - 1))
                continue
            except TelegramError as error:
                log.error("chat %s: failed: %s", outgoing.chat_id, error.message)
                return Delivery(outgoing, Outcome.FAILED, detail=error.message[:200], tries=tries)
            return Delivery(
                outgoing, Outcome.SENT, message_id=message.message_id, tries=tries, floods=floods
            )

    async def send_all(
        self,
        outgoing: Iterable[Outgoing],
        *,
        before: Callable[[Outgoing], Awaitable[bool]] | None = None,
        after: Callable[[Delivery], Awaitable[None]] | None = None,
    ) -> Tally:
        """Send many messages, up to ``max_in_flight`` at once, each through :meth:`send`.

        ``before(outgoing)`` runs just before each Telegram call (False skips it);
        ``after(delivery)`` runs as soon as each one is settled.
        """
        tally = Tally()
        limit = asyncio.Semaphore(self.max_in_flight)

        async def one(item: Outgoing) -> None:
            try:
                hook = (lambda: before(item)) if before is not None else None
                delivery = await self.send(item, hook)
                if after is not None:
                    await after(delivery)
                tally.add(delivery)
            finally:
                limit.release()

        tasks: list[asyncio.Task[None]] = []
        try:
            for item in outgoing:
                await limit.acquire()
                if self.max_in_flight == 1:
                    await one(item)
                else:
                    tasks.append(asyncio.create_task(one(item)))
            if tasks:
                await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            raise
        return tally


def broadcast_options(bot: Bot, *, paid: bool = False) -> dict[str, Any]:
    """Options of a fan-out's message: marked for the application's limiter (which paces
    replies, not these), and ``allow_paid_broadcast`` when the operator allowed it."""
    options: dict[str, Any] = {"allow_paid_broadcast": True} if paid else {}
    if isinstance(bot, ExtBot) and bot.rate_limiter is not None:
        options["rate_limit_args"] = BROADCAST
    return options
