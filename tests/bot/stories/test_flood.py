"""The per-user flood limit: a flooding student is slowed down, everyone else is not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.app import build_application, rate_limiter
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver
from bot.flood import FloodGuard, TokenBuckets, register_flood_guard
from bot.i18n import plain
from tests.bot.stories.conftest import ADA, EVE, LEI, onboard, story_settings
from tests.conftest import FakeClock, virtual_time
from tutor.service import TutorService


class Monotonic:
    """A monotonic clock the test moves; with ``step`` set, each reading moves it on."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.step = 0.0

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.fixture
def monotonic() -> Monotonic:
    return Monotonic()


@pytest.fixture
async def guarded(
    tutor: TutorService, fake: FakeBotApi, monotonic: Monotonic
) -> AsyncIterator[tuple[ChatDriver, FloodGuard]]:
    application = build_application(story_settings(), tutor, request=fake)
    guard = register_flood_guard(application, burst=5, per_second=1.0, clock=monotonic)
    async with ChatDriver(application) as driver:
        yield driver, guard


def test_token_bucket_refills_at_the_rate(monotonic: Monotonic) -> None:
    buckets = TokenBuckets(burst=3, per_second=2.0, clock=monotonic)
    assert [buckets.allow(1) for _ in range(4)] == [True, True, True, False]
    assert buckets.allow(2)  # someone else has a full bucket
    monotonic.now += 0.5  # one token back
    assert [buckets.allow(1) for _ in range(2)] == [True, False]
    monotonic.now += 100
    assert [buckets.allow(1) for _ in range(4)] == [True, True, True, False]  # capped at burst


async def test_fifty_messages_at_once_are_cut_to_the_burst_others_unaffected(
    guarded: tuple[ChatDriver, FloodGuard], monotonic: Monotonic
) -> None:
    chat, guard = guarded
    monotonic.step = 1.0  # onboarding at a human pace
    await onboard(chat, ADA)
    await onboard(chat, EVE)
    monotonic.step = 0.0  # then everything at one instant
    monotonic.now += 60
    help_text = plain("en", "commands.help")
    flood = [chat.fake.user_message(EVE, "/help") for _ in range(50)]
    ada = chat.fake.user_message(ADA, "/help")
    before = {user.id: len(chat.messages(user)) for user in (ADA, EVE)}
    await chat.feed(*flood[:25], ada, *flood[25:], concurrently=True)
    eve_new = chat.messages(EVE)[before[EVE.id] :]
    ada_new = chat.messages(ADA)[before[ADA.id] :]
    notices = [m for m in eve_new if "very fast" in m.plain]
    assert len(notices) == 1  # one notice, not one per message
    assert len(eve_new) - len(notices) == 5  # the burst got through
    assert len(ada_new) == 1 and ada_new[0].plain  # Ada was served
    assert guard.dropped == {EVE.id: 45}
    assert help_text  # the catalog has the command
    # A few seconds later Eve is served again.
    monotonic.now += 3
    turn = await chat.send(EVE, "/help")
    assert len(turn.new) == 1 and "very fast" not in turn.new[0].plain


async def test_flooded_button_presses_get_a_notice_and_record_nothing(
    guarded: tuple[ChatDriver, FloodGuard], tutor: TutorService, monotonic: Monotonic
) -> None:
    chat, _ = guarded
    monotonic.step = 1.0
    await onboard(chat, ADA)
    monotonic.step = 0.0
    monotonic.now += 60
    await chat.send(ADA, "/quiz 3")
    question = chat.last(ADA)
    for _ in range(10):  # empty the bucket with junk presses
        await chat.press_data(ADA, question, "zz")
    async with tutor.db.read() as conn, conn.execute("SELECT COUNT(*) FROM attempts") as cur:
        before = (await cur.fetchone())[0]  # type: ignore[index]
    data = next((d for row in question.buttons for _, d in row), "r:1")
    turn = await chat.press_data(ADA, question, data)
    assert turn.answer is not None and turn.answer.text == "Too fast: press again in a moment."
    assert chat.fake.unanswered_callbacks() == []
    async with tutor.db.read() as conn, conn.execute("SELECT COUNT(*) FROM attempts") as cur:
        assert (await cur.fetchone())[0] == before  # type: ignore[index]


async def test_flood_notice_speaks_telegrams_language(
    guarded: tuple[ChatDriver, FloodGuard], monotonic: Monotonic
) -> None:
    chat, guard = guarded
    monotonic.step = 0.0  # all at one instant: no onboarding, the guard needs no student
    flood = [chat.fake.user_message(LEI, "/help") for _ in range(8)]
    await chat.feed(*flood, concurrently=True)
    notices = [m for m in chat.messages(LEI) if m.plain == plain("zh", "flood.notice")]
    assert len(notices) == 1
    assert guard.dropped == {LEI.id: 3}


async def test_a_flooded_acknowledgement_does_not_hold_the_feedback_or_next_question(
    tutor: TutorService, clock: FakeClock
) -> None:
    """Telegram answers the press's acknowledgement (only the spinner) with 429 "retry after
    3": the feedback and the next question come at once, not 3 s later, and the
    acknowledgement is not tried again."""
    fake = FakeBotApi(clock=clock)
    monotonic, sleep = virtual_time(clock)
    settings = story_settings()
    limiter = rate_limiter(settings, clock=monotonic, sleep=sleep)
    application = build_application(settings, tutor, request=fake, limiter=limiter)
    async with ChatDriver(application) as chat:
        await onboard(chat, ADA)
        await chat.send(ADA, "/quiz 8")
        for _ in range(8):  # answer until a question with answer buttons comes
            question = chat.last(ADA)
            data = [d for row in question.buttons for _, d in row if d.startswith("a:")]
            if data:
                break
            if question.buttons:
                await chat.press(ADA, "Show answer", message=question)
                await chat.press(ADA, "Good", message=question)
            else:
                await chat.send(ADA, "Paris")
        else:
            raise AssertionError("no question with answer buttons came up")
        acks = len(fake.calls_of("answerCallbackQuery"))
        fake.fail_next("answerCallbackQuery", 429, retry_after=3)
        before = clock()
        await chat.press_data(ADA, question, data[0])
        assert clock() - before < timedelta(seconds=1)  # nothing waited out the 3 s
        assert "Correct" in question.plain or "Not quite" in question.plain
        assert question.buttons == []
        assert "Question " in chat.last(ADA).plain and chat.last(ADA) is not question
        assert len(fake.calls_of("answerCallbackQuery")) == acks + 1  # not retried
