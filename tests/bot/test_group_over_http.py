"""A group quiz with the real bot process over HTTP, killed (SIGKILL) in the middle.

``metatutor serve`` runs as its own process against the HTTP Bot API fake on the real
clock: the teacher adds the bot and sets the group up by commands, a member starts
``/quiz 2``, members answer the first poll, the process is killed and started again, and
the quiz goes on: the result line, the second poll, the ranking. Every answer is in the
database once, as the member's own attempt, and nothing went to anyone's private chat.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.http_server import HttpBotApi
from bot.fake_telegram.objects import FakeChat, FakeUser, SentMessage
from storage import Database
from tests.bot.stories.test_groups import CAPITALS
from tests.bot.test_crash_safety import TOKEN, _start_bot
from tutor.service import TutorService

pytestmark = pytest.mark.slow

TEACHER = FakeUser(7100, "Ms Lee")
ADA = FakeUser(7101, "Ada")
BO = FakeUser(7102, "Bo")
CLASS = FakeChat(-7100, "History 9B")
POLL_SECONDS = 30


async def _seed(database: Path) -> None:
    db = await Database.open(database)
    try:
        await TutorService(db).import_file(json.dumps(CAPITALS).encode(), "capitals.json")
    finally:
        await db.close()


async def _until(what: Callable[[], bool], seconds: float, why: str, log: Path) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not what():
        if loop.time() > deadline:
            raise AssertionError(f"{why}: not within {seconds} s\n{log.read_text()[-3000:]}")
        await asyncio.sleep(0.05)


def _group_messages(fake: FakeBotApi) -> list[SentMessage]:
    return fake.messages(CLASS.id)


def _polls(fake: FakeBotApi) -> list[SentMessage]:
    return [m for m in _group_messages(fake) if m.poll is not None]


def _answers(database: Path) -> int:
    """Group answers stored so far (read while the bot writes: WAL readers never wait)."""
    connection = sqlite3.connect(database)
    try:
        return int(connection.execute("SELECT COUNT(*) FROM group_answers").fetchone()[0])
    finally:
        connection.close()


def _answer(fake: FakeBotApi, user: FakeUser, poll: SentMessage, right: bool) -> None:
    assert poll.poll is not None
    option = poll.poll.correct_option_ids[0]
    fake.queue_update(fake.user_poll_answer(user, poll, option if right else (option + 1) % 2))


async def test_a_group_quiz_goes_on_after_the_bot_is_killed(tmp_path: Path) -> None:
    database = tmp_path / "metatutor.sqlite3"
    await _seed(database)
    fake = FakeBotApi()
    fake.token = TOKEN
    fake.set_member(CLASS, TEACHER, "creator")
    for user in (ADA, BO):
        fake.set_member(CLASS, user)
    log = tmp_path / "bot.log"
    async with HttpBotApi(fake) as server:
        process = await _start_bot(server, database, log)
        try:
            fake.queue_update(fake.bot_added(CLASS, TEACHER))
            await _until(lambda: bool(_group_messages(fake)), 20, "hello", log)
            assert "Hello, History 9B!" in _group_messages(fake)[0].plain
            # Polls stay open 30 s of real time: a test starved of CPU (a loaded machine, the
            # restarted bot loading its model) must still answer the second one in time.
            for command in ("deck Capitals", f"seconds {POLL_SECONDS}"):
                fake.queue_update(
                    fake.user_command(TEACHER, f"/group_settings {command}", chat=CLASS)
                )
            await _until(lambda: len(_group_messages(fake)) >= 3, 30, "settings", log)
            assert f"{POLL_SECONDS} s each" in _group_messages(fake)[-1].plain
            fake.queue_update(fake.user_command(ADA, "/quiz 2", chat=CLASS))
            await _until(lambda: len(_polls(fake)) == 1, 30, "the first poll", log)
            first = _polls(fake)[0]
            _answer(fake, ADA, first, right=True)
            _answer(fake, BO, first, right=False)
            await _until(lambda: _answers(database) == 2, 20, "both answers stored", log)
            process.send_signal(signal.SIGKILL)
            assert await process.wait() == -signal.SIGKILL
            process = await _start_bot(server, database, log)
            await _until(
                lambda: len(_polls(fake)) == 2,
                40 + POLL_SECONDS,
                "the second poll after restart",
                log,
            )
            result = _group_messages(fake)[-2]
            assert result.plain.startswith("Question 1/2: 1 of 2 right.")
            second = _polls(fake)[1]
            _answer(fake, ADA, second, right=True)
            await _until(
                lambda: "Quiz over" in _group_messages(fake)[-1].plain,
                40 + POLL_SECONDS,
                "the ranking",
                log,
            )
            assert _group_messages(fake)[-1].plain.splitlines()[-2:] == [
                "🥇 Ada: 2/2",
                "🥈 Bo: 0/1",
            ]
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), 20)
                except TimeoutError:
                    process.kill()
                    raise
    connection = sqlite3.connect(database)
    try:
        attempts = connection.execute(
            "SELECT user_id, idempotency_key, correct FROM attempts ORDER BY id"
        ).fetchall()
        polls = connection.execute("SELECT status FROM group_polls ORDER BY number").fetchall()
        private = connection.execute("SELECT id, private_chat FROM users ORDER BY id").fetchall()
    finally:
        connection.close()
    assert sorted((user, correct) for user, _, correct in attempts) == [
        (ADA.id, 1),
        (ADA.id, 1),
        (BO.id, 0),
    ]
    assert len({key for _, key, _ in attempts}) == 3
    assert [row[0] for row in polls] == ["closed", "closed"]
    assert private == [(ADA.id, 0), (BO.id, 0)]
    for user in (TEACHER, ADA, BO):
        assert fake.messages(user.id) == []
