"""Four students quiz themselves while the bot runs as two worker processes behind one webhook.

``metatutor serve --workers 2`` serves the HTTP Bot API fake's webhook: the front registers
the webhook once, Telegram (the fake) posts every update to it, and the front hands each
student's updates to the same worker. Each student answers quiz questions, tapping some
answers twice as impatient people do. Every answer is stored once, in the order the student
gave it, each tap gets its toast, the command menus and the webhook were set up once, and
SIGTERM to the front stops everything cleanly. Telegram failing the front's setWebhook
once is waited out.
"""

from __future__ import annotations

import asyncio
import random
import signal
import sqlite3
from pathlib import Path

import pytest

from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.http_server import HttpBotApi
from bot.fake_telegram.objects import FakeUser, SentMessage
from tests.bot import test_crash_safety as crash
from tests.bot.workers_process import start_front, worker_pids

pytestmark = [pytest.mark.slow, pytest.mark.sqlite_only]

TOKEN = crash.TOKEN
STUDENTS = [FakeUser(9100 + i, f"Student{i}") for i in range(4)]
ANSWERS = 6


async def _question(fake: FakeBotApi, user: FakeUser, seen: set[int]) -> SentMessage:
    for _ in range(500):
        for message in reversed(fake.messages(user.id)):
            buttons = [d for row in message.buttons for _, d in row]
            if message.message_id not in seen and any(d.startswith("a:") for d in buttons):
                return message
        await asyncio.sleep(0.02)
    raise AssertionError(f"no question came for {user.first_name}")


async def _toast(fake: FakeBotApi, query_id: str) -> str:
    for _ in range(500):
        for answer in fake.callback_answers:
            if answer.query_id == query_id:
                return answer.text or ""
        await asyncio.sleep(0.02)
    raise AssertionError(f"the tap {query_id} got no answer")


async def _study(fake: FakeBotApi, user: FakeUser, rng: random.Random) -> list[int]:
    """The student's quiz: the question ids they answered, in order."""
    fake.queue_update(fake.user_command(user, "/quiz"))
    seen: set[int] = set()
    answered = []
    for _ in range(ANSWERS):
        message = await _question(fake, user, seen)
        seen.add(message.message_id)
        data = rng.choice([d for row in message.buttons for _, d in row if d.startswith("a:")])
        taps = [fake.user_callback(user, message, data)]
        if rng.random() < 0.5:  # an impatient second tap on the same button
            taps.append(fake.user_callback(user, message, data))
        for tap in taps:
            fake.queue_update(tap)
        toasts = [await _toast(fake, tap["callback_query"]["id"]) for tap in taps]
        assert toasts[0] == "", toasts
        assert all(t.startswith(crash.ALREADY) for t in toasts[1:]), toasts
        answered.append(int(data.split(":")[1]))
        await asyncio.sleep(rng.uniform(1.0, 1.3))  # a person's pace: under the flood limit
    return answered


async def test_two_workers_keep_each_students_answers_once_and_in_order(tmp_path: Path) -> None:
    weights = crash._weights(tmp_path)
    crash.WEIGHTS[:] = [weights] if weights else []
    database = tmp_path / "tutor.sqlite3"
    await crash._seed(database, STUDENTS)
    fake = FakeBotApi()
    fake.token = TOKEN
    for user in STUDENTS:
        fake.register_user(user)
    log = tmp_path / "bot.log"
    fake.fail_next("setWebhook", 502)  # Telegram down as the front starts: it waits that out
    async with HttpBotApi(fake) as server:
        front, port = await start_front(server, database, log, workers=2)
        try:
            assert len(worker_pids(front)) == 2
            studies = [_study(fake, user, random.Random(crash.SEED + user.id)) for user in STUDENTS]
            answered = await asyncio.gather(*studies)
        finally:
            front.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(front.wait(), 60)
    assert code == 0, log.read_text()[-3000:]
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]
    assert "worker=0" in text and "worker=1" in text  # each worker's lines say which it is
    # Set up once, by the front and worker 0: one webhook, one set of command menus.
    assert "start-up: setWebhook failed" in text
    assert [call.ok for call in fake.calls_of("setWebhook")] == [False, True]
    assert fake.webhook_url == f"http://127.0.0.1:{port}/telegram-hook"
    menus = [repr(sorted(c.params.items())) for c in fake.calls_of("setMyCommands")]
    assert menus and len(menus) == len(set(menus))
    assert not fake.calls_of("getUpdates")  # no process polled
    with sqlite3.connect(database) as connection:
        for user, questions in zip(STUDENTS, answered, strict=True):
            stored = [
                int(key[1:])
                for (key,) in connection.execute(
                    "SELECT idempotency_key FROM attempts WHERE user_id = ? ORDER BY id",
                    (user.id,),
                )
            ]
            assert stored == questions, user.first_name  # each once, in the order given
