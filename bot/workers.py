"""``metatutor serve --workers N``: the front process and its N supervised worker processes.

The front (:mod:`bot.webhook_front`) listens on the webhook port and registers the webhook
once; each worker runs the whole bot (``serve --worker I``) on an internal port of
127.0.0.1, taking the updates of its share of the students. A worker that dies is started
again (its updates wait at the front meanwhile, or Telegram redelivers them); SIGINT or
SIGTERM to the front stops taking updates, then stops every worker cleanly.

Jobs that must run once (the reminder job, daily group quizzes, the heartbeat, the weekly
refit, the command menus) run in worker 0 only: one scheduler does not race itself, scans
the database once instead of N times, and the health check reads one heartbeat. Every
worker watches for new model weights (each holds its own model), sends the first poll of
the group quizzes it starts (worker 0's job takes the later steps: their state is in the
database) and sends the announcements its admins confirm (claimed row by row, like the
reminder job's).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import secrets
import signal
import socket
import sys
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.settings import Settings
from bot.webhook_front import WebhookFront

log = logging.getLogger("bot.workers")

RESTART_DELAYS = (0.2, 1.0, 2.0, 5.0, 10.0)
"""Seconds before restarting a worker that died, by how often it died just after starting."""
STEADY = 30.0
"""A worker that ran this long before dying counts as steady: restart it at once again."""
STOP_GRACE = 30.0
"""Seconds a worker may take to finish its updates after SIGTERM before it is killed."""
SECRET_ENV = "METATUTOR_WEBHOOK_SECRET"
START_FAILED = 2
"""A worker's exit code for a start-up problem (settings, model weights): stop, not restart."""


def _parent_death_signal() -> Callable[[], None] | None:
    """For the child before exec (Linux): SIGTERM to it when the front dies, even by SIGKILL.

    Resolved here, in the front: after fork only the call itself is safe (an import could
    wait for a lock another thread held at the fork).
    """
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def set_it() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGTERM))

    return set_it


@dataclass
class WorkerProcess:
    """One worker: its index, internal port, and the running process (if any)."""

    index: int
    port: int
    process: asyncio.subprocess.Process | None = None
    starts: int = 0
    quick_deaths: int = 0
    pids: list[int] = field(default_factory=list)


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1 (kept for the workers' restarts)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def worker_settings(settings: Settings, workers: int) -> Settings:
    """A worker's settings: its share of the bot's overall send rate (0 stays no cap)."""
    return settings.model_copy(update={"send_rate": settings.send_rate / workers})


def tag_logs(index: int) -> None:
    """Every log line of this worker process carries ``worker=I``."""

    def tag(record: logging.LogRecord) -> bool:
        record.worker = index
        return True

    for handler in logging.getLogger().handlers:
        handler.addFilter(tag)


class Supervisor:
    """Starts the workers, restarts those that die, and stops them all."""

    def __init__(
        self, workers: int, secret: str, ports: list[int], on_fatal: Callable[[], object]
    ) -> None:
        self.workers = [WorkerProcess(i, port) for i, port in enumerate(ports)]
        self.count = workers
        self.fatal = False
        self._on_fatal = on_fatal
        self._secret = secret
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    def _command(self, worker: WorkerProcess) -> list[str]:
        return [
            sys.executable,
            "-m",
            "bot.cli",
            "serve",
            "--workers",
            str(self.count),
            "--worker",
            str(worker.index),
            "--worker-port",
            str(worker.port),
        ]

    async def _spawn(self, worker: WorkerProcess) -> None:
        env = dict(os.environ)  # the workers read the same settings, and the secret
        env[SECRET_ENV] = self._secret
        # Its own process group: Ctrl-C in a terminal reaches the front only, which stops the
        # workers in order (no take-over by a restart meanwhile).
        worker.process = await asyncio.create_subprocess_exec(
            *self._command(worker),
            env=env,
            process_group=0,
            preexec_fn=_parent_death_signal(),
        )
        worker.starts += 1
        worker.pids.append(worker.process.pid)
        log.info("worker %d started (pid %d)", worker.index, worker.process.pid)

    async def _keep(self, worker: WorkerProcess) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            began = loop.time()
            await self._spawn(worker)
            assert worker.process is not None
            code = await worker.process.wait()
            if self._stopping:
                return
            if code == START_FAILED:  # its own line said why; a restart cannot change it
                log.error("worker %d cannot start; stopping every worker", worker.index)
                self.fatal = True
                self._on_fatal()
                return
            steady = loop.time() - began > STEADY
            worker.quick_deaths = 0 if steady else worker.quick_deaths + 1
            delay = RESTART_DELAYS[min(worker.quick_deaths, len(RESTART_DELAYS) - 1)]
            log.error(
                "worker %d (pid %d) %s; starting it again in %g s",
                worker.index,
                worker.process.pid,
                exit_text(code),
                delay,
            )
            await asyncio.sleep(delay)

    def start(self) -> None:
        """Start every worker and keep it running."""
        self._tasks = [
            asyncio.create_task(self._keep(worker), name=f"worker-{worker.index}")
            for worker in self.workers
        ]

    def stopping(self) -> None:
        """From now on, a worker that exits is not started again."""
        self._stopping = True

    async def stop(self) -> list[int | None]:
        """SIGTERM to every worker, SIGKILL after :data:`STOP_GRACE`; their exit codes."""
        self._stopping = True
        running = [w.process for w in self.workers if w.process and w.process.returncode is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        for process in running:
            try:
                await asyncio.wait_for(process.wait(), STOP_GRACE)
            except TimeoutError:
                log.error("worker pid %d did not stop in %g s; killing it", process.pid, STOP_GRACE)
                process.kill()
                await process.wait()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        return [w.process.returncode if w.process else None for w in self.workers]


def exit_text(code: int) -> str:
    """How a worker ended, for the operator: a signal by its name, else the status."""
    if code >= 0:
        return f"exited with status {code} (its own lines just above say why)"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    if -code == signal.SIGKILL:
        return f"was killed by {name} (by hand, or the kernel's out-of-memory killer)"
    return f"was killed by {name}"


async def _workers_listening(front: WebhookFront, stop: asyncio.Event, seconds: float) -> None:
    """Wait until every worker's port accepts connections (or ``seconds``, or a stop)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    waiting = list(front.links)
    while waiting and loop.time() < deadline and not stop.is_set():
        link = waiting[0]
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", link.port)
            writer.close()
            waiting.pop(0)
        except OSError:
            await asyncio.sleep(0.1)


async def serve_workers(
    settings: Settings,
    workers: int,
    *,
    stop: asyncio.Event | None = None,
    on_started: Callable[[Supervisor], object] | None = None,
) -> int:
    """Run the front and ``workers`` worker processes until SIGINT/SIGTERM (or ``stop``)."""
    from telegram import Bot

    from bot.app import ALLOWED_UPDATES
    from bot.serving import stop_event, until_telegram_answers

    assert settings.webhook_url and settings.token
    event, installed = stop_event(stop)
    secret = (
        settings.webhook_secret.get_secret_value()
        if settings.webhook_secret
        else secrets.token_urlsafe(32)
    )
    front = WebhookFront(
        listen=settings.webhook_listen,
        port=settings.webhook_port,
        path=urllib.parse.urlsplit(settings.webhook_url).path,
        secret=secret,
        worker_ports=free_ports(workers),
    )
    supervisor = Supervisor(workers, secret, [link.port for link in front.links], event.set)
    bot = Bot(
        settings.token,
        base_url=settings.telegram_api_base_url,
        base_file_url=settings.telegram_api_file_base_url,
    )
    try:
        await front.start()
        supervisor.start()
        await _workers_listening(front, event, 120.0)
        url = settings.webhook_url

        async def register() -> object:
            return await bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)

        if (
            not event.is_set()
            and await until_telegram_answers(bot.initialize, "getMe", event)
            and await until_telegram_answers(register, "setWebhook", event)
        ):
            log.info("front serving %d workers; stop with SIGINT or SIGTERM", workers)
            if on_started is not None:
                on_started(supervisor)
            await event.wait()
        log.info("stopping")
    finally:
        supervisor.stopping()
        await front.stop()
        with contextlib.suppress(Exception):
            await bot.shutdown()
        codes = await supervisor.stop()
        loop = asyncio.get_running_loop()
        for sig in installed:
            loop.remove_signal_handler(sig)
    if any(code not in (0, None) for code in codes):
        log.error("workers stopped with exit codes %s", codes)
    return START_FAILED if supervisor.fatal else 0


__all__ = [
    "START_FAILED",
    "Supervisor",
    "WorkerProcess",
    "exit_text",
    "free_ports",
    "serve_workers",
    "tag_logs",
    "worker_settings",
]
