"""The front of ``serve --workers N`` as an operator meets it: start-up problems, stopping."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.http_server import HttpBotApi
from bot.settings import Settings
from bot.workers import exit_text, worker_settings
from tests.bot import test_crash_safety as crash
from tests.bot.workers_process import free_port, front_environment, start_front, worker_pids

pytestmark = pytest.mark.slow


def test_how_a_worker_ended_is_said_in_words() -> None:
    # It used to be "exited with -9": the signal's number, negated by asyncio.
    assert exit_text(-9) == "was killed by SIGKILL (by hand, or the kernel's out-of-memory killer)"
    assert exit_text(-15) == "was killed by SIGTERM"
    assert exit_text(1).startswith("exited with status 1 (")


def test_each_worker_sends_its_share_of_the_overall_cap() -> None:
    settings = Settings(send_rate=30.0)
    assert worker_settings(settings, 3).send_rate == pytest.approx(10.0)
    assert worker_settings(Settings(), 2).send_rate == 0.0  # no cap stays no cap


async def test_weights_that_do_not_load_stop_the_front_instead_of_restarting_forever(
    tmp_path: Path,
) -> None:
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not weights")
    database = tmp_path / "tutor.sqlite3"
    fake = FakeBotApi()
    fake.token = crash.TOKEN
    log = tmp_path / "bot.log"
    async with HttpBotApi(fake) as server:
        env = front_environment(server, database, free_port()) | {"METATUTOR_MODEL": str(broken)}
        with log.open("ab") as sink:
            front = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "serve",
                "--workers",
                "2",
                env=env,
                cwd=tmp_path,
                stdout=sink,
                stderr=sink,
            )
        try:
            code = await asyncio.wait_for(front.wait(), 120)
        finally:
            if front.returncode is None:
                front.kill()
    text = log.read_text()
    assert code == 2, text[-3000:]
    assert "cannot start; stopping every worker" in text
    assert f"metatutor: {broken}" in text or str(broken) in text  # the worker's own line
    assert text.count("starting it again") == 0  # no restart loop


async def test_workers_stop_when_the_front_is_killed(tmp_path: Path) -> None:
    database = tmp_path / "tutor.sqlite3"
    await crash._seed(database, [])
    fake = FakeBotApi()
    fake.token = crash.TOKEN
    log = tmp_path / "bot.log"
    async with HttpBotApi(fake) as server:
        front, _port = await start_front(server, database, log, workers=2)
        workers = worker_pids(front)
        assert len(workers) == 2
        front.send_signal(signal.SIGKILL)  # no chance to stop them itself
        await front.wait()
        for _ in range(1500):
            if not any(Path(f"/proc/{pid}").exists() for pid in workers):
                break
            await asyncio.sleep(0.02)
    # Orphaned workers would keep the database and run reminders beside a new front's.
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
