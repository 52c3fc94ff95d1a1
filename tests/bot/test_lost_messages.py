"""A message lost after an answer was stored never leaves the student stuck (over real HTTP).

The answer is committed before the bot replies; then its feedback (the pressed question's edit
into it) is lost: the bot process is killed while the edit is on its way (and restarted), or
Telegram answers 502, or the call times out, or the connection drops. The buttons are still
there: each time the student presses the same button again and the question turns into its
feedback, then the next question of the same quiz comes; the answer is stored once. The
bot talks to the HTTP Bot API fake (``bot/fake_telegram/http_server.py``) over a socket, with
the fault injected on the wire or by the fake, as Telegram's would reach it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from telegram.request import HTTPXRequest

from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.http_server import HttpBotApi
from bot.fake_telegram.objects import FakeUser, SentMessage
from bot.i18n import plain
from bot.serving import run_polling
from bot.settings import Settings
from bot.telegram_http import KeepAliveRequest
from storage import Database
from tutor.service import TutorConfig, TutorService

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "5550001:" + "LostFeedback" * 3
ADA = FakeUser(9101, "Ada")
LEI = FakeUser(9102, "Lei")
LOST = plain("en", "quiz.lost_feedback")


def _deck_csv(n: int = 12) -> bytes:
    lines = ["id,type,question,answer,options"]
    for i in range(n):
        lines.append(f"c{i},multiple_choice,Question {i}?,right{i},right{i}|wrong{i}")
    return ("\n".join(lines) + "\n").encode()


async def _seed(db: Database) -> None:
    """Ada, enrolled and onboarded, with quizzes of five questions; Lei, a second student."""
    service = TutorService(db, config=TutorConfig(default_quiz_length=5))
    report = await service.import_file(_deck_csv(), "lost.csv", deck_name="Lost")
    for user in (ADA, LEI):
        await service.register(user.id, user.id, user.first_name, "en")
        await service.enrol(user.id, report.deck.id)
        await service.update_settings(user.id, onboarded=True)


def _fake() -> FakeBotApi:
    fake = FakeBotApi()
    fake.token = TOKEN
    for user in (ADA, LEI):
        fake.register_user(user)
    return fake


async def _until(condition: Callable[[], object], what: str, seconds: float = 30.0) -> None:
    """Wait for ``condition`` (a guard against hanging, not a speed requirement)."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"gave up waiting for {what}")


def _question(fake: FakeBotApi, number: int) -> SentMessage | None:
    """Ada's message showing question ``number`` of 5, if it arrived."""
    for message in fake.messages(ADA.id):
        if f"Question {number}/5" in message.plain and message.buttons:
            return message
    return None


def _right(message: SentMessage) -> str:
    return next(d for row in message.buttons for label, d in row if label.startswith("right"))


def _count(database: Path, sql: str) -> int:
    connection = sqlite3.connect(database)
    try:
        return int(connection.execute(sql).fetchone()[0])
    finally:
        connection.close()


def _attempts(database: Path) -> int:
    return _count(database, f"SELECT COUNT(*) FROM attempts WHERE user_id = {ADA.id}")


def _texts(fake: FakeBotApi) -> list[str]:
    return [m.plain for m in fake.messages(ADA.id)]


@dataclass
class Press:
    """One press and the number of Ada's messages before it."""

    query_id: str
    update_id: int
    before: int


def _press(fake: FakeBotApi, message: SentMessage, data: str) -> Press:
    before = len(fake.messages(ADA.id))
    update = fake.user_callback(ADA, message, data)
    fake.queue_update(update)
    return Press(update["callback_query"]["id"], update["update_id"], before)


def _acknowledged(fake: FakeBotApi, press: Press) -> bool:
    return any(answer.query_id == press.query_id for answer in fake.callback_answers)


async def _press_again_and_carry_on(fake: FakeBotApi, database: Path, first: SentMessage) -> None:
    """The same button again: feedback, then question 2; then question 2 answered."""
    shown = fake.message(ADA.id, first.message_id)
    assert shown is not None and shown.buttons, "the pressed buttons must stay to press again"
    again = _press(fake, shown, _right(first))
    await _until(lambda: _question(fake, 2) is not None, "question 2 after the second press")
    new = _texts(fake)[again.before :]
    assert len(new) == 1 and "Question 2/5" in new[0], new
    told = fake.message(ADA.id, first.message_id)
    assert told is not None and not told.buttons  # the question turned into its feedback
    assert (
        "Question 1/5" in told.plain
        and "Correct!" in told.plain
        and "1/5 · 1 correct" in told.plain
    )
    assert _acknowledged(fake, again)
    assert _attempts(database) == 1  # stored once
    second = _question(fake, 2)
    assert second is not None
    _press(fake, second, _right(second))
    await _until(lambda: _question(fake, 3) is not None, "question 3")
    assert _attempts(database) == 2
    assert _count(database, f"SELECT answered FROM quiz_sessions WHERE user_id = {ADA.id}") == 2


# -- Telegram faults: 502, timeout, dropped connection --------------------------------------


@pytest.fixture(params=[KeepAliveRequest, HTTPXRequest], ids=["keep-alive", "httpx"])
async def served(
    tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[HttpBotApi, Path]]:
    """The bot (its real application, in this process) polling the HTTP fake, through its
    own Bot API client (what it runs with) or PTB's (what it runs with behind a proxy)."""
    client = request.param
    database = tmp_path / "bot.sqlite3"
    db = await Database.open(database)
    await _seed(db)
    async with HttpBotApi(_fake()) as server:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            telegram_bot_token=SecretStr(TOKEN),
            telegram_api_base_url=server.base_url,
            telegram_api_file_base_url=server.file_base_url,
            database=database,
            flood_burst=0,
        )
        application = build_application(
            settings,
            TutorService(db),
            request=client(read_timeout=1.0, connect_timeout=2.0),
            get_updates_request=client(connection_pool_size=1),
        )
        stop = asyncio.Event()
        started = asyncio.Event()
        serving = asyncio.create_task(run_polling(application, stop=stop, on_started=started.set))
        try:
            await asyncio.wait_for(started.wait(), 30)
            yield server, database
        finally:
            stop.set()
            await asyncio.wait_for(serving, 30)
            await db.close()


def _inject(server: HttpBotApi, fault: str) -> None:
    """The feedback's call fails: the edit of the pressed question into it."""
    if fault == "502":
        server.fake.fail_next("editMessageText", 502)
    elif fault == "timeout":
        server.hang_next("editMessageText", 3600)  # read timeout 1 s: the bot gives up first
    else:
        server.drop_next("editMessageText")


@pytest.mark.parametrize("fault", ["502", "timeout", "dropped"])
async def test_a_lost_feedback_comes_again_when_the_answer_is_pressed_again(
    served: tuple[HttpBotApi, Path], fault: str
) -> None:
    server, database = served
    fake = server.fake
    fake.queue_update(fake.user_command(ADA, "/quiz"))
    await _until(lambda: _question(fake, 1) is not None, "question 1")
    first = _question(fake, 1)
    assert first is not None
    _inject(server, fault)
    press = _press(fake, first, _right(first))
    await _until(lambda: LOST in _texts(fake), "the notice about the lost feedback")
    # Right then: the press was acknowledged and the answer stored; the student is told,
    # once, what happened and what to do; no question came after the lost feedback.
    assert _acknowledged(fake, press)
    assert _attempts(database) == 1
    assert _texts(fake)[press.before :] == [LOST]
    await _press_again_and_carry_on(fake, database, first)
    assert _texts(fake).count(LOST) == 1


# -- a restart: the process killed while the feedback is on its way ----------------------------


def _environment(server: HttpBotApi, database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "METATUTOR_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=server.base_url,
        TELEGRAM_API_FILE_BASE_URL=server.file_base_url,
        METATUTOR_DATABASE=str(database),
        METATUTOR_FLOOD_BURST="0",
        PYTHONPATH=str(ROOT),
    )
    return env


async def _start_bot(server: HttpBotApi, database: Path, log: Path) -> asyncio.subprocess.Process:
    """``metatutor serve`` as a process; returns once it polls for updates."""
    polls = len(server.arrivals)
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "serve",
            env=_environment(server, database),
            cwd=database.parent,
            stdout=sink,
            stderr=sink,
        )

    def polling() -> bool:
        return any(method == "getUpdates" for _, method in server.arrivals[polls:])

    try:
        await _until(lambda: polling() or process.returncode is not None, "the bot to poll", 60)
    except AssertionError:
        process.kill()
        raise
    assert process.returncode is None, log.read_text()[-3000:]
    return process


@pytest.mark.slow
async def test_after_a_restart_pressing_the_answer_again_shows_its_feedback_and_goes_on(
    tmp_path: Path,
) -> None:
    database = tmp_path / "metatutor.sqlite3"
    db = await Database.open(database)
    try:
        await _seed(db)
    finally:
        await db.close()
    log = tmp_path / "bot.log"
    async with HttpBotApi(_fake()) as server:
        fake = server.fake
        process = await _start_bot(server, database, log)
        try:
            fake.queue_update(fake.user_command(ADA, "/quiz"))
            await _until(lambda: _question(fake, 1) is not None, "question 1")
            first = _question(fake, 1)
            assert first is not None
            # The feedback's edit reaches the server and hangs there; the answer is
            # committed by then (the bot replies only after the commit).
            sent_before = sum(method == "editMessageText" for _, method in server.arrivals)
            server.hang_next("editMessageText", 3600)
            press = _press(fake, first, _right(first))
            await _until(
                lambda: sum(m == "editMessageText" for _, m in server.arrivals) > sent_before,
                "the feedback to be on its way",
            )
            assert _attempts(database) == 1
            # Another student's message ends the pending long poll, so the press is
            # confirmed to Telegram (it will not be delivered again after the restart).
            fake.queue_update(fake.user_command(LEI, "/help"))
            await _until(lambda: fake.messages(LEI.id), "Lei's reply")
            await _until(
                lambda: any(
                    int(call.params.get("offset") or 0) > press.update_id
                    for call in fake.calls_of("getUpdates")
                ),
                "the press to be confirmed",
            )
            process.send_signal(signal.SIGKILL)
            assert await process.wait() == -signal.SIGKILL
            assert _texts(fake)[press.before :] == []  # nothing reached Ada
            process = await _start_bot(server, database, log)
            await _press_again_and_carry_on(fake, database, first)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    code = await asyncio.wait_for(process.wait(), 30)
                except TimeoutError:
                    process.kill()
                    raise
                assert code == 0, log.read_text()[-3000:]
