"""The outgoing limiter: per-chat buckets, 429 holds one chat, broadcasts pass straight on."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.outgoing import BROADCAST, Bucket, ChatRateLimiter

SCALE = 50.0  # one limiter second is 20 ms of real time


def _fast_time() -> dict[str, Any]:
    async def sleep(seconds: float) -> None:
        await asyncio.sleep(seconds / SCALE)

    return {"clock": lambda: time.monotonic() * SCALE, "sleep": sleep}


class _Api:
    """Records (limiter time, chat) of each call; raises RetryAfter when told to."""

    def __init__(self, limiter: ChatRateLimiter, flood: dict[int, int] | None = None) -> None:
        self.limiter = limiter
        self.flood = dict(flood or {})
        self.calls: list[tuple[float, int]] = []
        self.started = time.monotonic() * SCALE

    async def _post(self, chat_id: int) -> bool:
        self.calls.append((time.monotonic() * SCALE - self.started, chat_id))
        if self.flood.get(chat_id, 0) > 0:
            self.flood[chat_id] -= 1
            raise RetryAfter(timedelta(seconds=5))
        return True

    async def send(self, chat_id: int, args: str | None = None) -> Any:
        return await self.limiter.process_request(
            self._post, (chat_id,), {}, "sendMessage", {"chat_id": chat_id}, args
        )

    def times(self, chat_id: int) -> list[float]:
        return [at for at, chat in self.calls if chat == chat_id]


def test_a_bucket_lets_its_burst_through_then_spaces_calls() -> None:
    bucket = Bucket(interval=1.0, burst=3)
    assert [bucket.book(0.0) for _ in range(5)] == [0.0, 0.0, 0.0, 1.0, 2.0]
    assert bucket.book(100.0) == 0.0  # refilled after a quiet spell
    bucket.hold(200.0)
    assert bucket.book(150.0) == 50.0


async def test_each_chat_has_its_own_bucket() -> None:
    api = _Api(ChatRateLimiter(chat_rate=1.0, chat_burst=2, **_fast_time()))
    await asyncio.gather(*(api.send(chat) for chat in (1, 1, 1, 1, 2, 2)))
    ones, twos = api.times(1), api.times(2)
    assert ones[1] < 0.9 and ones[2] >= 0.95 and ones[3] >= 1.95  # burst 2, then 1 a second
    assert max(twos) < 0.9  # chat 2 never waits for chat 1


async def test_a_flood_wait_holds_that_chat_only_and_the_reply_is_retried() -> None:
    api = _Api(ChatRateLimiter(chat_rate=0, max_retries=2, **_fast_time()), flood={1: 1})
    first = asyncio.create_task(api.send(1))
    await asyncio.sleep(0.5 / SCALE)
    assert await api.send(2) is True
    assert await first is True
    ones = api.times(1)
    assert len(ones) == 2 and ones[1] - ones[0] >= 5.0  # retried after Telegram's wait
    assert api.times(2)[0] < 2.0  # another chat went meanwhile


async def test_a_reply_flooded_past_its_retries_raises() -> None:
    api = _Api(ChatRateLimiter(max_retries=1, **_fast_time()), flood={1: 5})
    with pytest.raises(RetryAfter):
        await api.send(1)
    assert len(api.times(1)) == 2


async def test_broadcasts_are_neither_held_per_chat_nor_retried() -> None:
    api = _Api(ChatRateLimiter(chat_rate=1.0, chat_burst=1, **_fast_time()), flood={3: 1})
    await asyncio.gather(*(api.send(1, BROADCAST) for _ in range(4)))
    assert max(api.times(1)) < 0.9
    with pytest.raises(RetryAfter):  # the broadcast sender pauses the whole fan-out itself
        await api.send(3, BROADCAST)
    assert len(api.times(3)) == 1


async def test_an_overall_cap_spaces_every_call() -> None:
    api = _Api(ChatRateLimiter(chat_rate=0, overall_rate=2.0, **_fast_time()))
    await asyncio.gather(*(api.send(chat) for chat in range(5)))
    times = sorted(at for at, _ in api.calls)
    assert all(at >= k * 0.5 - 0.05 for k, at in enumerate(times))  # slot k at k/2 s, no earlier


async def test_groups_get_twenty_a_minute() -> None:
    api = _Api(ChatRateLimiter(chat_rate=0, **_fast_time()))
    await asyncio.gather(*(api.send(-100) for _ in range(4)))
    times = api.times(-100)
    assert times[2] < 2.0 and times[3] >= 2.95  # a burst of 3, then one every 3 s
