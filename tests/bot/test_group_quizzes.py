"""The group quiz job's sends: polls under the per-group limit, a 429 holding one group only."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from telegram.ext import ExtBot

from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.objects import FakeChat, FakeUser
from bot.group_quizzes import GroupQuizRunner
from bot.outgoing import ChatRateLimiter
from bot.sender import Pacer
from tests.bot.stories.test_groups import CAPITALS
from tests.conftest import FakeClock
from tutor.service import TutorService

ADMIN = FakeUser(1, "Lee")


def virtual(clock: FakeClock) -> dict[str, Any]:
    async def sleep(delay: float) -> None:
        if delay > 0:
            clock.advance(seconds=delay)
        await asyncio.sleep(0)

    return {"clock": lambda: clock().timestamp(), "sleep": sleep}


async def test_polls_to_one_group_keep_to_twenty_a_minute(clock: FakeClock) -> None:
    fake = FakeBotApi(clock=clock)
    fake.rate_limit(max_per_second=30, per_group_per_minute=20)
    group = FakeChat(-77, "Class")
    fake.set_member(group, ADMIN, "creator")
    limiter = ChatRateLimiter(**virtual(clock))
    start = clock().timestamp()
    async with ExtBot(fake.token, request=fake, rate_limiter=limiter) as bot:
        for k in range(25):
            await bot.send_poll(group.id, f"Q{k}?", ["a", "b"], type="quiz", correct_option_ids=[0])
    sent = [c for c in fake.calls if c.method == "sendPoll"]
    assert len(sent) == 25 and all(c.ok for c in sent)  # no 429 from Telegram
    # the application's limiter spaced them: a burst of three, then one every three seconds
    assert clock().timestamp() - start >= (25 - 3) * 3.0 - 0.01


SCALE = 20.0  # one limiter second is 50 ms of real time


class _TimedFake(FakeBotApi):
    """Notes when (in limiter seconds) each successful sendPoll reached Telegram, per chat."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.poll_times: dict[int, float] = {}

    async def do_request(self, url: str, method: str, request_data: Any = None, **kw: Any) -> Any:
        answer = await super().do_request(url, method, request_data, **kw)
        call = self.calls[-1] if self.calls else None
        if call is not None and call.method == "sendPoll" and call.ok and call.chat_id:
            self.poll_times[call.chat_id] = time.monotonic() * SCALE
        return answer


async def test_a_429_on_one_groups_poll_holds_that_group_only(
    service_factory: Any, clock: FakeClock
) -> None:
    service: TutorService = await service_factory()
    report = await service.import_file(json.dumps(CAPITALS).encode(), "capitals.json")
    fake = _TimedFake(clock=clock)
    groups = [FakeChat(-501, "A"), FakeChat(-502, "B")]
    for group in groups:
        fake.set_member(group, ADMIN, "creator")
        await service.groups.joined(group.id, group.title, "en")
        await service.groups.add_deck(group.id, report.deck.id)

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(seconds / SCALE)

    def scaled() -> float:
        return time.monotonic() * SCALE

    limiter = ChatRateLimiter(clock=scaled, sleep=sleep)
    async with ExtBot(fake.token, request=fake, rate_limiter=limiter) as bot:
        runner = GroupQuizRunner(service, bot, Pacer(29, 1.0, scaled, sleep))
        fake.fail_next("sendPoll", 429, retry_after=30, chat_id=groups[0].id)
        for group in groups:
            await service.group_quizzes.start(group.id, 2)
        start = scaled()
        await runner.tick()
    held, other = (fake.poll_times[g.id] - start for g in groups)
    assert held >= 30 and other < 10  # only the group Telegram held had to wait


async def test_the_shared_pacer_spaces_private_chats_but_leaves_groups_to_their_bucket(
    clock: FakeClock,
) -> None:
    timing = virtual(clock)
    pacer = Pacer(10.0, 1.0, timing["clock"], timing["sleep"])
    start = clock().timestamp()
    await pacer.turn(-5)
    await pacer.turn(-5)  # a group's result line, then its next poll: only the global gap
    assert clock().timestamp() - start < 0.2
    await pacer.turn(5)
    await pacer.turn(5)  # a private chat: one a second
    assert clock().timestamp() - start >= 1.0


async def test_a_group_quiz_asks_for_paid_broadcasts_only_when_allowed(
    service_factory: Any, clock: FakeClock
) -> None:
    service: TutorService = await service_factory()
    report = await service.import_file(json.dumps(CAPITALS).encode(), "capitals.json")
    fake = FakeBotApi(clock=clock)
    groups = [FakeChat(-601, "Paid"), FakeChat(-602, "Free")]
    for group in groups:
        fake.set_member(group, ADMIN, "creator")
        await service.groups.joined(group.id, group.title, "en")
        await service.groups.add_deck(group.id, report.deck.id)
    timing = virtual(clock)
    async with ExtBot(fake.token, request=fake) as bot:
        pacer = Pacer(29, 1.0, timing["clock"], timing["sleep"])
        for group, paid in zip(groups, (True, False), strict=True):
            quiz = await service.group_quizzes.start(group.id, 2)
            assert quiz is not None
            await GroupQuizRunner(service, bot, pacer, paid=paid).run_step(quiz.quiz_id)
    asked = {
        call.chat_id: call.params.get("allow_paid_broadcast") for call in fake.calls_of("sendPoll")
    }
    assert asked == {-601: True, -602: None}
