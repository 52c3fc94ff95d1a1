"""Crash safety with two workers: one worker killed by SIGKILL at random moments loses nothing.

``metatutor serve --workers 2`` runs behind the HTTP Bot API fake's webhook deliveries, the
same students and checks as :mod:`tests.bot.test_crash_safety`: a seeded random worker is
killed at seeded random moments while students answer; the front starts it again, the
other worker keeps serving its students. Afterwards every acknowledged answer is stored
exactly once, counters agree with the attempts log, no reminder went out twice, and every
student carries on.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
from pathlib import Path

import pytest

from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.http_server import HttpBotApi
from bot.fake_telegram.objects import FakeUser
from bot.preflight import MODEL_READY
from tests.backends import BACKENDS
from tests.bot import test_crash_safety as crash
from tests.bot.workers_process import models_loaded, start_front, worker_pids

pytestmark = pytest.mark.slow

KILLS = 3


async def _kill_a_worker(front: asyncio.subprocess.Process, log: Path, rng: random.Random) -> int:
    """SIGKILL one of the front's workers; return once its replacement loaded its model."""
    ready = log.read_text().count(MODEL_READY)
    pids = worker_pids(front)
    assert len(pids) == 2, pids
    victim = rng.choice(pids)
    os.kill(victim, signal.SIGKILL)
    await models_loaded(front, log, ready + 1)
    assert victim not in worker_pids(front)
    return victim


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
async def test_killing_one_of_two_workers_loses_no_acknowledged_answer(
    tmp_path: Path, database_location: Path | str
) -> None:
    users = [FakeUser(9000 + i, f"Student{i}") for i in range(crash.STUDENTS)]
    weights = crash._weights(tmp_path)
    crash.WEIGHTS[:] = [weights] if weights else []
    database = database_location
    await crash._seed(database, users)
    fake = FakeBotApi()
    fake.token = crash.TOKEN
    for user in users:
        fake.register_user(user)
    log = tmp_path / "bot.log"
    rng = random.Random(crash.SEED)
    async with HttpBotApi(fake) as server:
        run = crash.Run(fake)
        front, _port = await start_front(server, database, log, workers=2)
        students = [
            asyncio.create_task(crash._student(run, user, random.Random(crash.SEED + user.id)))
            for user in users
        ]
        try:
            for _ in range(KILLS):
                await asyncio.sleep(rng.uniform(0.3, 1.5))
                await _kill_a_worker(front, log, rng)
            run.final_phase = True
            for _ in range(1500):
                if all(run.final_acks[u.id] >= 3 for u in users):
                    break
                await asyncio.sleep(0.02)
            assert all(run.final_acks[u.id] >= 3 for u in users), crash._stalled(run, users)
            await asyncio.sleep(6)  # the reminder job's first run comes 5 s after a start
        finally:
            run.stop = True
            outcomes = await asyncio.gather(*students, return_exceptions=True)
            front.send_signal(signal.SIGTERM)
            try:
                code = await asyncio.wait_for(front.wait(), 60)
            except TimeoutError:
                front.kill()
                raise
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
        assert code == 0, log.read_text()[-3000:]
    figures = crash._check_database(database, run)
    assert figures["attempts"] >= crash.STUDENTS * 3
    text = log.read_text()
    assert (
        text.count(
            "was killed by SIGKILL (by hand, or the kernel's out-of-memory killer); starting"
        )
        == KILLS
    ), text[-3000:]
    assert len(fake.calls_of("setWebhook")) == 1  # worker restarts leave the webhook alone
    print(f"crash test, two workers: {KILLS} worker kills, {figures}")
