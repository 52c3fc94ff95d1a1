"""Crash safety: the real bot process killed with SIGKILL at random moments loses nothing.

``metatutor serve`` runs as a separate process against the HTTP Bot API fake (via
``TELEGRAM_API_BASE_URL``). Students answer quiz questions concurrently while the bot is
killed at seeded random moments and restarted. Afterwards:

* every answer the bot acknowledged is in the database exactly once, and nothing else is;
* each student's memory counts and session counters agree with the attempts log (one
  transaction per answer);
* no reminder went out twice;
* ``PRAGMA integrity_check`` is ok;
* after the last restart every student continues and answers more questions.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.http_server import HttpBotApi
from bot.fake_telegram.objects import FakeUser, SentMessage
from bot.preflight import MODEL_READY
from storage import Database
from storage import reminders as reminder_rows
from tests.backends import BACKENDS
from tutor.service import TutorConfig, TutorService

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "5550001:" + "CrashTest" * 4
STUDENTS = 8
KILLS = 3
FINAL_ACKS_WITHIN = 90.0
"""Seconds every student gets, after the last kill, to have three more answers acknowledged."""
PACE = 0.75  # seconds between one student's updates: a person's pace, under the flood limit
SEED = 20261127
ALREADY = "Already answered"  # the toast's start, whether or not a question is waiting


def _acknowledged(toast: str | None) -> bool:
    """A plain ack, or "Already answered…" (the answer was stored before)."""
    return toast is not None and (toast == "" or toast.startswith(ALREADY))


def _deck_csv(n: int = 40) -> bytes:
    lines = ["id,type,question,answer,options"]
    for i in range(n):
        options = "|".join(f"opt{i}_{k}" for k in range(4))
        lines.append(f"c{i},multiple_choice,Question {i}?,opt{i}_1,{options}")
    return ("\n".join(lines) + "\n").encode()


async def _seed(database: Path | str, users: list[FakeUser]) -> int:
    """Students enrolled in a multiple-choice deck, and one due reminder each."""
    db = await Database.open(database)
    try:
        service = TutorService(db, config=TutorConfig(default_quiz_length=50))
        report = await service.import_file(_deck_csv(), "crash.csv", deck_name="Crash")
        for user in users:
            await service.register(user.id, user.id, user.first_name, "en")
            await service.enrol(user.id, report.deck.id)
            await service.update_settings(user.id, onboarded=True, quiz_length=50)
        async with db.transaction() as conn:
            due = int(time.time() * 1000)
            await reminder_rows.plan(conn, [(u.id, "nudge", "crash-test", due) for u in users])
        return report.deck.id
    finally:
        await db.close()


@dataclass
class Press:
    user: int
    question_id: int
    query_id: str


@dataclass
class Run:
    fake: FakeBotApi
    presses: list[Press] = field(default_factory=list)
    stop: bool = False
    final_acks: Counter[int] = field(default_factory=Counter)
    final_phase: bool = False

    def ack(self, query_id: str) -> str | None:
        """The callback answer text ('' for a plain ack), or None if unanswered."""
        for answer in self.fake.callback_answers:
            if answer.query_id == query_id:
                return answer.text or ""
        return None


def _fresh_question(fake: FakeBotApi, user: FakeUser, pressed: set[int]) -> SentMessage | None:
    for message in reversed(fake.messages(user.id)):
        if message.message_id in pressed:
            continue
        if any(data.startswith("a:") for row in message.buttons for _, data in row):
            return message
    return None


def _carry_on_prompt(fake: FakeBotApi, user: FakeUser, pressed: set[int]) -> SentMessage | None:
    """The latest message, when it offers to carry on with the running quiz (not yet tapped)."""
    messages = fake.messages(user.id)
    if not messages or messages[-1].message_id in pressed:
        return None
    buttons = [data for row in messages[-1].buttons for _, data in row]
    return messages[-1] if "q:on" in buttons else None


async def _student(run: Run, user: FakeUser, rng: random.Random) -> None:
    fake = run.fake
    pressed: set[int] = set()
    loop = asyncio.get_running_loop()
    last = loop.time() - PACE

    async def send(build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        # Built only when sent: Telegram numbers updates in the order they arrive.
        nonlocal last
        await asyncio.sleep(max(0.0, last + PACE - loop.time()))
        last = loop.time()
        update = build()
        fake.queue_update(update)
        return update

    await send(lambda: fake.user_command(user, "/quiz"))
    while not run.stop:
        message = None
        for _ in range(150):  # up to 3 s for the next question
            message = _fresh_question(fake, user, pressed)
            if message is not None or run.stop:
                break
            await asyncio.sleep(0.02)
        if run.stop:
            return
        if message is None:  # lost in a crash (or the quiz ended): ask again
            prompt = _carry_on_prompt(fake, user, pressed)
            if prompt is None:
                await send(lambda: fake.user_command(user, "/quiz"))
            else:
                # The press on the open question died with the process (fetched, never
                # handled): "You are in the middle of a quiz", and a person taps Carry on.
                pressed.add(prompt.message_id)
                await send(partial(fake.user_callback, user, prompt, "q:on"))
            continue
        pressed.add(message.message_id)
        data = rng.choice([d for row in message.buttons for _, d in row if d.startswith("a:")])
        update = await send(partial(fake.user_callback, user, message, data))
        query_id = update["callback_query"]["id"]
        run.presses.append(Press(user.id, int(data.split(":")[1]), query_id))
        for _ in range(150):
            if run.ack(query_id) is not None:
                if run.final_phase and run.ack(query_id) == "":
                    run.final_acks[user.id] += 1
                break
            await asyncio.sleep(0.02)


def _stalled(run: Run, users: list[FakeUser]) -> str:
    """Why students fell short in the final phase: their last presses and what came back."""
    lines = [f"final-phase acks: {dict(run.final_acks)}"]
    for user in users:
        if run.final_acks[user.id] >= 3:
            continue
        presses = [p for p in run.presses if p.user == user.id][-8:]
        acks = [(p.question_id, run.ack(p.query_id)) for p in presses]
        texts = [(m.text or "")[:60] for m in run.fake.messages(user.id)[-6:]]
        lines.append(f"{user.id}: last presses {acks}; last messages {texts}")
    return "\n".join(lines)


def _weights(folder: Path) -> Path | None:
    """The shipped weights if there are any, else tiny ones trained here (a few seconds)."""
    from tutor.model.weights import DEFAULT_WEIGHTS

    if DEFAULT_WEIGHTS.exists():
        return None
    import torch

    from tests.tutor.model.conftest import synthetic_logs
    from tutor.model.train import TrainConfig, train

    torch.set_num_threads(1)
    config = TrainConfig(
        epochs=1, batch_size=4, chunk=10, lr=1e-2, state_size=4, hidden=8, val_fraction=0.25
    )
    path = folder / "tiny-weights.pt"
    train([("synthetic", synthetic_logs(4, 12, seed=1))], config, seed=0, progress=False).save(path)
    return path


def _environment(server: HttpBotApi, database: Path | str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "METATUTOR_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=server.base_url,
        TELEGRAM_API_FILE_BASE_URL=server.file_base_url,
        METATUTOR_DATABASE=str(database),
        METATUTOR_LOG_LEVEL="INFO",
        PYTHONPATH=str(ROOT),
    )
    if WEIGHTS:
        env["METATUTOR_MODEL"] = str(WEIGHTS[0])
    return env


PHASES: list[tuple[str, float]] = []
WEIGHTS: list[Path] = []  # set by the test when the package ships no weights
RUN_STARTED: list[float] = []


def _polling_since(fake: FakeBotApi, starts: int) -> bool:
    """True once the bot that made start number ``starts + 1`` polls for updates."""
    seen = 0
    for call in fake.calls:
        if call.method == "deleteWebhook":
            seen += 1
        elif call.method == "getUpdates" and seen > starts:
            return True
    return False  # seconds from spawn to the first poll, per start


async def _start_bot(
    server: HttpBotApi, database: Path | str, log: Path
) -> asyncio.subprocess.Process:
    starts = len(server.fake.calls_of("deleteWebhook"))  # once per start, before polling
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "serve",
            env=_environment(server, database),
            cwd=log.parent,
            stdout=sink,
            stderr=sink,
        )
    started = asyncio.get_running_loop().time()
    ready = log.read_text().count(MODEL_READY)
    polling = False
    for _ in range(3000):  # up to 60 s: the bot polls once it is up, then loads the model
        if not polling and _polling_since(server.fake, starts):
            RUN_STARTED.append(asyncio.get_running_loop().time() - started)
            polling = True
        # Kills should land among answers, not while every answer waits for the model.
        if polling and log.read_text().count(MODEL_READY) > ready:
            return process
        if process.returncode is not None:
            break
        await asyncio.sleep(0.02)
    process.kill()
    raise AssertionError(f"the bot did not start:\n{log.read_text()[-3000:]}")


def _check_database(database: Path | str, run: Run) -> dict[str, object]:
    connection: Any
    if isinstance(database, str):
        import psycopg

        connection = psycopg.connect(database)
    else:
        connection = sqlite3.connect(database)
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    try:
        attempts = connection.execute(
            "SELECT a.idempotency_key, a.user_id, a.item_id, q.session_id"
            " FROM attempts a JOIN questions q ON 'q' || q.id = a.idempotency_key"
        ).fetchall()
        total = connection.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
        assert total == len(attempts), "an attempt without its question"
        by_key = Counter(key for key, *_ in attempts)
        owner = {key: user for key, user, *_ in attempts}

        pressed = {(p.user, f"q{p.question_id}") for p in run.presses}
        acknowledged = {
            (p.user, f"q{p.question_id}") for p in run.presses if _acknowledged(run.ack(p.query_id))
        }
        assert acknowledged, "no answer was acknowledged at all"
        for user, key in acknowledged:
            assert by_key[key] == 1, f"acknowledged answer {key} stored {by_key[key]} times"
            assert owner[key] == user
        for key, user in owner.items():
            assert (user, key) in pressed, f"{key} was stored but never pressed"

        per_item = Counter((user, item) for _, user, item, _ in attempts)
        for user, item, n_correct, n_wrong in connection.execute(
            "SELECT user_id, item_id, n_correct, n_wrong FROM memory"
        ):
            assert n_correct + n_wrong == per_item.pop((user, item)), (user, item)
        assert not per_item, f"attempts without memory: {per_item}"
        per_session = Counter(session for *_, session in attempts)
        for session, answered in connection.execute("SELECT id, answered FROM quiz_sessions"):
            assert answered == per_session[session], f"session {session}"

        reminders = connection.execute(
            "SELECT user_id, status FROM reminders WHERE slot = 'crash-test'"
        ).fetchall()
    finally:
        connection.close()
    nudges = Counter(
        m.chat_id
        for m in run.fake.sent
        if any(data == "q:go" for row in m.buttons for _, data in row)
    )
    for user, status in reminders:
        assert nudges[user] <= 1, f"user {user} got the reminder {nudges[user]} times"
        if status == "sent":
            assert nudges[user] == 1
    return {
        "attempts": total,
        "acknowledged": len(acknowledged),
        "presses": len(run.presses),
        "reminders_sent": sum(nudges.values()),
        "reminder_rows": dict(Counter(status for _, status in reminders)),
    }


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
async def test_sigkill_at_random_moments_loses_no_acknowledged_answer(
    tmp_path: Path, database_location: Path | str
) -> None:
    users = [FakeUser(9000 + i, f"Student{i}") for i in range(STUDENTS)]
    PHASES.append(("begin", asyncio.get_running_loop().time()))
    weights = _weights(tmp_path)
    PHASES.append(("weights", asyncio.get_running_loop().time()))
    WEIGHTS[:] = [weights] if weights else []
    database = database_location  # the SQLite file, or a fresh PostgreSQL database
    await _seed(database, users)
    fake = FakeBotApi()
    fake.token = TOKEN
    for user in users:
        fake.register_user(user)
    log = tmp_path / "bot.log"
    rng = random.Random(SEED)
    async with HttpBotApi(fake) as server:
        run = Run(fake)
        process = await _start_bot(server, database, log)
        students = [
            asyncio.create_task(_student(run, user, random.Random(SEED + user.id)))
            for user in users
        ]
        try:
            kills = 0
            while kills < KILLS:
                await asyncio.sleep(rng.uniform(0.3, 1.5))
                process.send_signal(signal.SIGKILL)
                assert await process.wait() == -signal.SIGKILL
                kills += 1
                process = await _start_bot(server, database, log)
            # No more kills: everyone must be able to carry on.
            PHASES.append(("kills done", asyncio.get_running_loop().time()))
            run.final_phase = True
            # Generous: on a loaded CI machine a restart with the model takes many seconds.
            deadline = asyncio.get_running_loop().time() + FINAL_ACKS_WITHIN
            while asyncio.get_running_loop().time() < deadline:
                if all(run.final_acks[u.id] >= 3 for u in users):
                    break
                await asyncio.sleep(0.02)
            assert all(run.final_acks[u.id] >= 3 for u in users), _stalled(run, users)
            PHASES.append(("final acks", asyncio.get_running_loop().time()))
            await asyncio.sleep(6)  # the reminder job's first run comes 5 s after a start
        finally:
            run.stop = True
            outcomes = await asyncio.gather(*students, return_exceptions=True)
            code = process.returncode
            if code is None:  # stop the bot even when a student failed: leave no process
                process.send_signal(signal.SIGTERM)
                try:
                    code = await asyncio.wait_for(process.wait(), 20)
                except TimeoutError:
                    process.kill()
                    raise
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
        assert code == 0, log.read_text()[-3000:]
    figures = _check_database(database, run)
    assert figures["attempts"] >= STUDENTS * 3
    starts = ", ".join(f"{s:.1f}" for s in RUN_STARTED[-KILLS - 1 :])
    print(f"crash test: {KILLS} kills, {figures}, start-up seconds: {starts}")
    print([(name, round(at - PHASES[0][1], 1)) for name, at in PHASES])
    assert "Traceback" not in log.read_text() or "KeyboardInterrupt" in log.read_text()
