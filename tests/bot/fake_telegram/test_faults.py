"""The fake Bot API's faults and flood limits surface as PTB's errors, as Telegram's would."""

from __future__ import annotations

import datetime as dtm
import warnings

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.objects import FakeChat, FakeUser
from tests.conftest import FakeClock


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB warns that the type becomes timedelta in v23
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def test_injected_429_surfaces_as_retry_after(
    bot: Bot, fake_api: FakeBotApi, alice: FakeUser
) -> None:
    fake_api.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(alice.id, "hi")
    assert retry_seconds(caught.value) == 7
    await bot.send_message(alice.id, "hi")  # only the next call failed
    assert [c.ok for c in fake_api.calls_of("sendMessage")] == [False, True]
    assert [m.text for m in fake_api.messages(alice.id)] == ["hi"]


@pytest.mark.parametrize(
    ("error", "exception", "match"),
    [
        (403, Forbidden, "Forbidden: bot was blocked by the user"),
        (400, BadRequest, "Injected failure"),
        (502, NetworkError, "Bad Gateway"),
        (500, NetworkError, "Internal Server Error"),
        ("timeout", TimedOut, "Timed out"),
        ("network", NetworkError, "connection reset"),
    ],
)
async def test_injected_faults_surface_as_ptb_errors(
    bot: Bot,
    fake_api: FakeBotApi,
    alice: FakeUser,
    error: int | str,
    exception: type[Exception],
    match: str,
) -> None:
    fake_api.fail_next("sendMessage", error)
    with pytest.raises(exception, match=match):
        await bot.send_message(alice.id, "hi")
    assert fake_api.messages(alice.id) == []
    await bot.send_message(alice.id, "hi")
    assert len(fake_api.messages(alice.id)) == 1


async def test_faults_can_target_one_chat_and_repeat(
    bot: Bot, fake_api: FakeBotApi, alice: FakeUser
) -> None:
    bob = FakeUser(202, "Bob")
    fake_api.register_user(bob)
    fake_api.fail_next("sendMessage", 403, chat_id=bob.id, times=2)
    await bot.send_message(alice.id, "fine")
    for _ in range(2):
        with pytest.raises(Forbidden):
            await bot.send_message(bob.id, "nope")
    await bot.send_message(bob.id, "now it works")
    fake_api.block(alice.id)
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(alice.id, "reminder")


async def test_a_fault_can_let_calls_through_first(
    bot: Bot, fake_api: FakeBotApi, alice: FakeUser
) -> None:
    fake_api.fail_next("sendMessage", 502, after=1)
    await bot.send_message(alice.id, "first goes through")
    with pytest.raises(NetworkError):
        await bot.send_message(alice.id, "second fails")
    await bot.send_message(alice.id, "third goes through")
    assert [m.text for m in fake_api.messages(alice.id)] == [
        "first goes through",
        "third goes through",
    ]


# -- flood limits -------------------------------------------------------------------------


async def test_rate_limit_overall_answers_429_until_the_clock_moves(
    bot: Bot, fake_api: FakeBotApi, clock: FakeClock
) -> None:
    fake_api.rate_limit(max_per_second=30, per_chat_per_second=None)
    users = [FakeUser(1000 + i, f"U{i}") for i in range(31)]
    for user in users:
        fake_api.register_user(user)
    for user in users[:30]:
        await bot.send_message(user.id, "daily quiz")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(users[30].id, "daily quiz")
    assert retry_seconds(caught.value) == 1
    clock.advance(seconds=1)
    await bot.send_message(users[30].id, "daily quiz")
    assert len(fake_api.sent) == 31


async def test_rate_limit_per_private_chat_and_per_group(
    bot: Bot, fake_api: FakeBotApi, alice: FakeUser, group: FakeChat, clock: FakeClock
) -> None:
    fake_api.rate_limit(max_per_second=None, per_chat_per_second=1, per_group_per_minute=20)
    await bot.send_message(alice.id, "one")
    with pytest.raises(RetryAfter):
        await bot.send_message(alice.id, "two")
    clock.advance(seconds=1)
    await bot.send_message(alice.id, "two")

    fake_api.user_message(alice, "/start", chat=group)  # the group becomes known
    for i in range(20):
        await bot.send_message(group.id, f"g{i}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(group.id, "g20")
    assert retry_seconds(caught.value) == 3  # 20 per minute drain one every 3 s
    clock.advance(seconds=3)
    await bot.send_message(group.id, "g20")


async def test_rate_limit_lets_a_steady_stream_through_after_a_burst(
    bot: Bot, fake_api: FakeBotApi, alice: FakeUser, clock: FakeClock
) -> None:
    fake_api.rate_limit(max_per_second=10)
    for _ in range(10):
        await bot.send_message(alice.id, "burst")
    for _ in range(20):  # then one every 0.1 s is fine, as with AIORateLimiter
        clock.advance(seconds=0.1)
        await bot.send_message(alice.id, "steady")
    with pytest.raises(RetryAfter):
        await bot.send_message(alice.id, "one too many")
