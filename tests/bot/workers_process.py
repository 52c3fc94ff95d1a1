"""``metatutor serve --workers N`` as a process behind the HTTP Bot API fake's webhooks.

:func:`start_front` runs the front with its workers against an :class:`HttpBotApi` (which
delivers updates to the front's webhook) and returns once every worker loaded its model;
:func:`worker_pids` reads which processes are the workers now (Linux ``/proc``).
"""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

from bot.fake_telegram.http_server import HttpBotApi
from bot.preflight import MODEL_READY
from tests.bot.test_crash_safety import _environment

WEBHOOK_PATH = "/telegram-hook"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def worker_pids(front: asyncio.subprocess.Process) -> list[int]:
    """The pids of the front's running children (its workers), oldest first."""
    path = Path(f"/proc/{front.pid}/task/{front.pid}/children")
    return sorted(int(pid) for pid in path.read_text().split()) if path.exists() else []


def front_environment(server: HttpBotApi, database: Path | str, port: int) -> dict[str, str]:
    env = _environment(server, database)
    env.update(
        METATUTOR_WEBHOOK_URL=f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
        METATUTOR_WEBHOOK_LISTEN="127.0.0.1",
        METATUTOR_WEBHOOK_PORT=str(port),
    )
    return env


async def start_front(
    server: HttpBotApi, database: Path | str, log: Path, *, workers: int = 2, port: int = 0
) -> tuple[asyncio.subprocess.Process, int]:
    """The front and its workers, serving; returns the process and its webhook port."""
    port = port or free_port()
    ready = log.read_text().count(MODEL_READY) if log.exists() else 0
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "serve",
            "--workers",
            str(workers),
            env=front_environment(server, database, port),
            cwd=log.parent,
            stdout=sink,
            stderr=sink,
        )
    await models_loaded(process, log, ready + workers)
    return process, port


async def models_loaded(process: asyncio.subprocess.Process, log: Path, count: int) -> None:
    """Wait until the log says :data:`MODEL_READY` ``count`` times (up to 90 s)."""
    for _ in range(4500):
        if log.read_text().count(MODEL_READY) >= count:
            return
        if process.returncode is not None:
            break
        await asyncio.sleep(0.02)
    process.kill()
    raise AssertionError(f"the workers did not start:\n{log.read_text()[-3000:]}")
