"""An update Telegram delivers again (after a 503 from a killed worker, or to a polling
process that restarted before confirming it) is acted on once, by whichever process gets it.

Each "process" is what ``metatutor serve`` builds: its own :class:`Database` connection and
service, and an application with the database's record of handled updates
(:class:`tutor.deliveries.UpdateLog`); both talk to one fake Bot API. On SQLite and on
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Update

from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver, Turn
from bot.once import update_digest
from storage import Database
from tests.backends import on_each_backend
from tests.bot.stories.conftest import ADA, TEST_DECK, onboard, story_settings
from tests.conftest import FakeClock
from tutor.deliveries import UpdateLog
from tutor.service import TutorService


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """On SQLite and on PostgreSQL (tests/backends.py)."""
    on_each_backend(metafunc)


class Process:
    """One bot process on the test's database: its connection, record and running bot."""

    def __init__(self, db: Database, updates: UpdateLog, chat: ChatDriver) -> None:
        self.db = db
        self.updates = updates
        self.chat = chat


async def start(location: Path | str, fake: FakeBotApi, clock: FakeClock) -> Process:
    db = await Database.open(location)
    updates = UpdateLog(db, clock=clock)
    service = TutorService(db, clock=clock)
    application = build_application(story_settings(), service, request=fake, updates=updates)
    chat = ChatDriver(application)
    await chat.__aenter__()
    return Process(db, updates, chat)


async def stop(process: Process) -> None:
    await process.chat.__aexit__(None, None, None)
    await process.db.close()


class Deployment:
    """One database and one Telegram; bot processes started on them are stopped at the end."""

    def __init__(self, location: Path | str, fake: FakeBotApi, clock: FakeClock) -> None:
        self.location = location
        self.fake = fake
        self.clock = clock
        self.running: list[Process] = []

    async def start(self) -> Process:
        process = await start(self.location, self.fake, self.clock)
        self.running.append(process)
        return process

    async def stop(self, process: Process) -> None:
        self.running.remove(process)
        await stop(process)


@pytest.fixture
async def deployment(database_location: Path | str, clock: FakeClock) -> AsyncIterator[Deployment]:
    db = await Database.open(database_location)
    await TutorService(db, clock=clock).import_file(json.dumps(TEST_DECK).encode(), "deck.json")
    await db.close()
    found = Deployment(database_location, FakeBotApi(clock=clock), clock)
    try:
        yield found
    finally:
        for process in list(found.running):
            await found.stop(process)


def texts(turn: Turn) -> list[str]:
    """The texts of the messages the bot sent in a turn."""
    return [message.text for message in turn.new]


async def test_a_quiz_delivered_again_to_the_other_worker_starts_once(
    deployment: Deployment,
) -> None:
    first, second = await deployment.start(), await deployment.start()
    await onboard(first.chat, ADA)
    quiz = deployment.fake.user_message(ADA, "/quiz")
    assert "Question 1" in texts(await first.chat.feed(quiz))[0]
    # acknowledged, nothing sent (before: "Your quiz is still running ..." and the question)
    assert (await second.chat.redeliver(quiz)).calls == []
    assert (await first.chat.redeliver(quiz)).calls == []


async def test_an_update_delivered_to_two_workers_at_once_is_handled_by_one(
    deployment: Deployment,
) -> None:
    first, second = await deployment.start(), await deployment.start()
    await onboard(first.chat, ADA)
    quiz = deployment.fake.user_message(ADA, "/quiz")
    before = len(first.chat.messages(ADA))
    await asyncio.gather(first.chat.feed(quiz), second.chat.redeliver(quiz))
    sent = [message.text for message in first.chat.messages(ADA)[before:]]
    assert len(sent) == 1 and "Question 1" in sent[0]


async def test_after_a_restart_a_handled_update_delivered_again_is_skipped(
    deployment: Deployment,
) -> None:
    first = await deployment.start()
    await onboard(first.chat, ADA)
    quiz = deployment.fake.user_message(ADA, "/quiz")
    await first.chat.feed(quiz)
    await deployment.stop(first)
    restarted = await deployment.start()
    assert (await restarted.chat.redeliver(quiz)).calls == []
    assert "Question 1" not in texts(await restarted.chat.send(ADA, "/help"))[0]


def dead_holder() -> str:
    """The holder name of a process on this machine that has exited."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return f"{socket.gethostname()}/{int(child.stdout)}/00000000"


async def test_an_update_a_killed_worker_began_is_handled_again_once(
    deployment: Deployment,
) -> None:
    first, second = await deployment.start(), await deployment.start()
    await onboard(first.chat, ADA)
    quiz = deployment.fake.user_message(ADA, "/quiz")
    update = Update.de_json(quiz, first.chat.application.bot)
    killed = UpdateLog(first.db, clock=deployment.clock, holder=dead_holder())
    assert await killed.begin(update.update_id, update_digest(update))  # then killed
    assert "Question 1" in texts(await second.chat.redeliver(quiz))[0]  # not lost
    assert (await first.chat.redeliver(quiz)).calls == []


async def test_a_new_update_that_reuses_a_handled_updates_id_is_handled(
    deployment: Deployment,
) -> None:
    first = await deployment.start()
    await onboard(first.chat, ADA)
    old = deployment.fake.user_message(ADA, "/help")
    await first.chat.feed(old)
    await deployment.stop(first)
    restarted = await deployment.start()
    new = deployment.fake.user_message(ADA, "/help")
    new["update_id"] = old["update_id"]  # Telegram chose ids afresh after a week of silence
    assert texts(await restarted.chat.feed(new))  # its own message: not taken for a redelivery
    assert (await restarted.chat.redeliver(new)).calls == []
