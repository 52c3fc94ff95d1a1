"""Faults and flood limits of the offline Bot API: what :class:`FakeBotApi` fails, and when.

Tests fail the next calls of a method (:meth:`Faults.fail_next`: an HTTP status, a timeout or
a network error, for one chat or any), block a chat as a user who blocked the bot, and turn
on Telegram's flood limits (:meth:`Faults.rate_limit`, leaky buckets on the fake's clock).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from telegram.error import NetworkError, TimedOut

from bot.fake_telegram.objects import ApiCall, ApiError

FaultKind = int | str  # an HTTP status (400, 403, 429, 5xx) or "timeout" / "network"

DOWNLOAD = "download"
"""The name :meth:`Faults.fail_next` knows a file download by (``GET /file/bot<token>/...``)."""
# Methods that put a message into a chat; they count against flood limits.
SEND_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "sendAudio", "sendVoice", "sendPoll"}
)
EDIT_METHODS = frozenset(
    {"editMessageText", "editMessageReplyMarkup", "editMessageCaption", "stopPoll"}
)
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    403: "Forbidden: bot was blocked by the user",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass
class Fault:
    """A failure waiting for the next matching calls."""

    method: str
    kind: FaultKind
    description: str | None
    retry_after: int
    chat_id: int | None
    remaining: int
    after: int = 0


@dataclass
class RateLimit:
    """Flood limits in force (None: no such limit)."""

    max_per_second: float | None
    per_chat_per_second: float | None
    per_group_per_minute: float | None


def _status(fault: Fault) -> int:
    """The HTTP status of ``fault``; a timeout or a network fault raises as PTB's would."""
    if fault.kind == "timeout":
        raise TimedOut("Timed out (injected)")
    if fault.kind == "network":
        raise NetworkError("httpx.ConnectError: connection reset (injected)")
    return int(fault.kind)


def _description(fault: Fault, code: int) -> str:
    return fault.description or _DEFAULT_DESCRIPTIONS.get(code, f"Error {code}")


class Faults:
    """Fault injection and flood limits; state lives in the class this is mixed into."""

    _faults: list[Fault]
    _rate: RateLimit | None
    _buckets: dict[Any, tuple[float, float]]  # key -> (level, last update)
    blocked_chats: set[int]

    def now(self) -> float:
        """The clock as Unix seconds (implemented by the fake)."""
        raise NotImplementedError

    def fail_next(
        self,
        method: str,
        error: FaultKind,
        *,
        description: str | None = None,
        retry_after: int = 3,
        times: int = 1,
        chat_id: int | None = None,
        after: int = 0,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (to ``chat_id``, if given) fail.

        Args:
            method: Bot API method name, e.g. ``"sendMessage"``; ``"*"`` matches any;
                :data:`DOWNLOAD` fails the next file download (4xx/5xx status, "timeout",
                "network").
            error: 429 (flood, surfaces as ``RetryAfter``), 403 (``Forbidden``), 400
                (``BadRequest``), 5xx (``NetworkError``), ``"timeout"`` (``TimedOut``) or
                ``"network"`` (``NetworkError``).
            description: Telegram's error text; a typical one is used by default.
            retry_after: Seconds reported with a 429.
            times: How many matching calls fail.
            chat_id: Only calls to this chat fail.
            after: Let this many matching calls through first (e.g. 1: the second fails).
        """
        if not (isinstance(error, int) or error in ("timeout", "network")):
            raise ValueError(f"unknown fault {error!r}")
        self._faults.append(Fault(method, error, description, retry_after, chat_id, times, after))

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: every later message to them fails with 403."""
        self.blocked_chats.add(chat_id)

    def rate_limit(
        self,
        *,
        max_per_second: float | None = 30,
        per_chat_per_second: float | None = None,
        per_group_per_minute: float | None = 20,
    ) -> None:
        """Answer 429 with ``retry_after`` beyond these rates, measured on :attr:`clock`.

        Each limit is a leaky bucket, the model of PTB's ``AIORateLimiter`` (aiolimiter): a
        burst of up to N messages, then N per period. Messages sent and edited count.
        Telegram's published limits are about 30 messages per second overall, 20 per minute
        in a group and about one per second in a private chat (short bursts tolerated),
        hence no private per-chat limit by default.
        """
        self._rate = RateLimit(max_per_second, per_chat_per_second, per_group_per_minute)
        self._buckets.clear()

    def _take_fault(self, method: str, chat_id: int | None) -> Fault | None:
        for fault in self._faults:
            if fault.method not in ("*", method):
                continue
            if fault.chat_id is not None and fault.chat_id != chat_id:
                continue
            if fault.after > 0:
                fault.after -= 1
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            return fault
        return None

    def _download_failure(self) -> tuple[int, str] | None:
        """The status and text of an injected download failure, if one is due (a timeout or a
        network fault raises)."""
        fault = self._take_fault(DOWNLOAD, None)
        if fault is None:
            return None
        code = _status(fault)
        return code, _description(fault, code)

    def _inject_fault(self, call: ApiCall) -> None:
        fault = self._take_fault(call.method, call.chat_id)
        if fault is not None:
            code = _status(fault)
            if code == 429:
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {fault.retry_after}",
                    fault.retry_after,
                )
            raise ApiError(code, _description(fault, code))
        if call.method in SEND_METHODS and call.chat_id in self.blocked_chats:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    def _check_limits(self, call: ApiCall) -> None:
        rate = self._rate
        if rate is None or (call.method not in SEND_METHODS and call.method not in EDIT_METHODS):
            return
        now = self.now()
        chat_id = call.chat_id
        is_group = chat_id is not None and chat_id < 0
        checks: list[tuple[Any, float, float]] = []  # (bucket key, capacity, period in s)
        if rate.max_per_second is not None:
            checks.append(("all", rate.max_per_second, 1.0))
        if chat_id is not None and is_group and rate.per_group_per_minute is not None:
            checks.append((("group", chat_id), rate.per_group_per_minute, 60.0))
        elif chat_id is not None and not is_group and rate.per_chat_per_second is not None:
            checks.append((("chat", chat_id), rate.per_chat_per_second, 1.0))
        levels: list[float] = []
        for key, capacity, period in checks:
            level, last = self._buckets.get(key, (0.0, now))
            leak_per_second = capacity / period
            level = max(0.0, level - (now - last) * leak_per_second)
            if level + 1 > capacity + 1e-4:  # tolerance for float timestamps
                wait = max(1, math.ceil((level + 1 - capacity) / leak_per_second))
                raise ApiError(429, f"Too Many Requests: retry after {wait}", wait)
            levels.append(level)
        for (key, _, _), level in zip(checks, levels, strict=True):
            self._buckets[key] = (level + 1, now)
