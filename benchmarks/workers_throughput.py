"""Answers a second with one bot process and with ``serve --workers 2``, SQLite and PostgreSQL.

The real ``metatutor serve`` runs as a child process behind the HTTP Bot API fake, which
delivers every update to its webhook as Telegram does: up to 40 at once
(``max_connections``; ``--connections 1`` for one at a time), one user's in order,
redelivered on failure. Students answer multiple-choice questions as fast as the bot lets
them: each taps an option as soon as its question arrives, and the next tap waits for the
acknowledgement.
After a warm-up, answers acknowledged during a fixed window are counted; the CPU time of
each process (the front, every worker, this process: the fake and the students, and the
PostgreSQL server with its children when it runs here) is read from ``/proc`` over the same
window. The bot's processes log their write transactions at exit (waits for the write lock,
time and CPU holding it: :class:`storage.write_lock.WriteStats`), read back per answer.
Two bounds follow from the CPU per answer: with B the bot's (front included) and F the rest
(fake, students, database server), N workers sharing the machine's cores with the rest
against one process on one core give at most ``cores * B1 / (B2 + F)``; with the load
generator on cores of its own, ``cores * B1 / (B2 + server)``.

One process (``serve``, PTB's own webhook server) is the baseline of each database; two
workers (``serve --workers 2``: the front and two workers) run in the same invocation, on
a fresh copy of the same seeded database. Linux only (``/proc``).

    .venv/bin/python -m benchmarks.workers_throughput
    scripts/postgres sh -c '.venv/bin/python -m benchmarks.workers_throughput \
        --postgres "$METATUTOR_TEST_POSTGRES" --json benchmarks/results/workers_throughput.json'
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import percentile, table, write_json
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.http_server import HttpBotApi
from bot.fake_telegram.objects import FakeUser, SentMessage
from bot.preflight import MODEL_READY
from storage import Database
from tutor.service import TutorConfig, TutorService

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "5550001:" + "WorkersBench" * 3
FIRST_USER = 30_000
ITEMS = 60
_TICKS = os.sysconf("SC_CLK_TCK")


def _deck_csv() -> bytes:
    lines = ["id,type,question,answer,options"]
    for i in range(ITEMS):
        options = "|".join(f"opt{i}_{k}" for k in range(4))
        lines.append(f"b{i},multiple_choice,Question {i}?,opt{i}_1,{options}")
    return ("\n".join(lines) + "\n").encode()


async def seed(database: Path | str, students: int) -> None:
    """Students enrolled in one multiple-choice deck, set up, with long quizzes."""
    db = await Database.open(database)
    try:
        service = TutorService(db, config=TutorConfig(default_quiz_length=50))
        report = await service.import_file(_deck_csv(), "bench.csv", deck_name="Bench")
        for k in range(students):
            user = FIRST_USER + k
            await service.register(user, user, f"S{k}", "en")
            await service.enrol(user, report.deck.id)
            await service.update_settings(user, onboarded=True, quiz_length=50, daily_goal=500)
    finally:
        await db.close()


@dataclass
class Student:
    """What the students' side knows of one student: the open question, acks awaited."""

    user: FakeUser
    question: SentMessage | None = None
    waiting_ack: str | None = None
    answers: int = 0
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class NotifyingBotApi(FakeBotApi):
    """The fake Bot API, telling the students' watcher when the bot made a call (instead of
    the watcher looking every few milliseconds whether it did: less of the shared CPU)."""

    def __init__(self) -> None:
        super().__init__(require_known_chat=False)
        self.called = asyncio.Event()

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        try:
            return await super().do_request(*args, **kwargs)
        finally:
            self.called.set()


class Students:
    """Students tapping as fast as the bot answers; one watcher reads the fake's new calls."""

    def __init__(self, fake: NotifyingBotApi, count: int) -> None:
        self.fake = fake
        self.students = {
            FIRST_USER + k: Student(FakeUser(FIRST_USER + k, f"S{k}")) for k in range(count)
        }
        self.counting = False
        self.counted = 0
        self.stop = False
        self._seen_sent = 0
        self._seen_acks = 0
        self._acks: dict[str, int] = {}

    def watch(self) -> None:
        """Take the fake's new messages and callback answers since the last look."""
        fake = self.fake
        for message in fake.sent[self._seen_sent :]:
            student = self.students.get(message.chat_id)
            buttons = [d for row in message.buttons for _, d in row]
            if student is not None and any(d.startswith("a:") for d in buttons):
                student.question = message
                student.wake.set()
        self._seen_sent = len(fake.sent)
        for answer in fake.callback_answers[self._seen_acks :]:
            user = self._acks.pop(answer.query_id, None)
            if user is not None:
                student = self.students[user]
                student.waiting_ack = None
                student.answers += 1
                self.counted += self.counting
                student.wake.set()
        self._seen_acks = len(fake.callback_answers)

    async def watcher(self) -> None:
        called = self.fake.called
        while not self.stop:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.1):
                    await called.wait()
            called.clear()
            self.watch()

    async def run(self, student: Student) -> None:
        fake = self.fake
        fake.queue_update(fake.user_command(student.user, "/quiz"))
        while not self.stop:
            student.wake.clear()
            if student.waiting_ack is None and student.question is not None:
                question, student.question = student.question, None
                data = next(d for row in question.buttons for _, d in row if d.startswith("a:"))
                update = fake.user_callback(student.user, question, data)
                student.waiting_ack = update["callback_query"]["id"]
                self._acks[student.waiting_ack] = student.user.id
                fake.queue_update(update)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(student.wake.wait(), 5.0)
                continue
            if student.waiting_ack is None and student.question is None:
                fake.queue_update(fake.user_command(student.user, "/quiz"))  # the quiz ended


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return sorted(int(p) for p in path.read_text().split()) if path.exists() else []


def _tree_cpu_seconds(pid: int) -> float:
    """CPU of ``pid``, of its children that ended (reaped) and of those still running."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        own = sum(int(f) for f in fields[11:15]) / _TICKS  # utime stime cutime cstime
        return own + sum(_tree_cpu_seconds(child) for child in _children(pid))
    except (OSError, ValueError):
        return 0.0  # it ended meanwhile


def _postgres_server_pid(url: str) -> int | None:
    """The PostgreSQL server's main process (the parent of a backend), if on this machine."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
    if row is None:
        return None
    try:
        status = Path(f"/proc/{int(row[0])}/status").read_text()
    except OSError:
        return None  # a server elsewhere
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid"))


_WRITE_STATS = re.compile(
    r"(\d+) write transactions: waited for the write lock (\d+) ms \((\d+) waits over 1 ms.*?"
    r"held it (\d+) ms \([^,]*, (\d+) ms of CPU"
)


def write_lock_figures(log_text: str) -> dict[str, int]:
    """The write transactions, lock waits and lock holding each bot process logged at exit
    (:class:`storage.write_lock.WriteStats`), summed."""
    total = {"transactions": 0, "waited_ms": 0, "waits": 0, "held_ms": 0, "held_cpu_ms": 0}
    for found in _WRITE_STATS.finditer(log_text):
        for key, value in zip(total, found.groups(), strict=True):
            total[key] += int(value)
    return total


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(server: HttpBotApi, database: Path | str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "METATUTOR_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=server.base_url,
        TELEGRAM_API_FILE_BASE_URL=server.file_base_url,
        METATUTOR_DATABASE=str(database),
        METATUTOR_LOG_LEVEL="WARNING",
        METATUTOR_FLOOD_BURST="0",  # students tapping at machine speed are the point here
        METATUTOR_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
        METATUTOR_WEBHOOK_LISTEN="127.0.0.1",
        METATUTOR_WEBHOOK_PORT=str(port),
        PYTHONPATH=str(ROOT),
    )
    return env


async def measure(
    database: Path | str,
    workers: int,
    students: int,
    warmup: float,
    window: float,
    log: Path,
    connections: int = 40,
) -> dict[str, Any]:
    """One run: the bot with ``workers`` processes, students answering; figures of the window."""
    fake = NotifyingBotApi()
    fake.token = TOKEN
    crowd = Students(fake, students)
    async with HttpBotApi(fake) as server:
        server.webhooks.connections = connections
        args = ["--workers", str(workers)] if workers > 1 else []
        with log.open("ab") as sink:
            bot = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "serve",
                *args,
                env=_environment(server, database, _free_port()) | {"METATUTOR_LOG_LEVEL": "INFO"},
                stdout=sink,
                stderr=sink,
            )
        try:
            for _ in range(6000):  # up to 120 s for every process to load its model
                if log.read_text().count(MODEL_READY) >= workers or bot.returncode is not None:
                    break
                await asyncio.sleep(0.02)
            if log.read_text().count(MODEL_READY) < workers:
                raise RuntimeError(f"the bot did not start:\n{log.read_text()[-2000:]}")
            watcher = asyncio.create_task(crowd.watcher())
            tasks = [asyncio.create_task(crowd.run(s)) for s in crowd.students.values()]
            await asyncio.sleep(warmup)
            pids = {"front" if workers > 1 else "bot": bot.pid} | {
                f"worker {i}": pid for i, pid in enumerate(_children(bot.pid))
            }
            pids["fake+students"] = os.getpid()
            postmaster = _postgres_server_pid(str(database)) if isinstance(database, str) else None
            if postmaster is not None:
                pids["database server"] = postmaster
            reading = {
                name: _tree_cpu_seconds if name == "database server" else _cpu_seconds
                for name in pids
            }
            before = {name: reading[name](pid) for name, pid in pids.items()}
            deliveries = len(server.webhooks.attempts)
            crowd.counting = True
            began = time.perf_counter()
            await asyncio.sleep(window)
            crowd.counting = False
            elapsed = time.perf_counter() - began
            cpu = {name: reading[name](pid) - before[name] for name, pid in pids.items()}
            attempts = server.webhooks.attempts[deliveries:]
            updates = sum(a.ok for a in attempts)
            delivery_ms = [1000 * a.seconds for a in attempts]
            crowd.stop = True
            await asyncio.gather(watcher, *tasks, return_exceptions=True)
        finally:
            if bot.returncode is None:
                bot.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(bot.wait(), 60)
                except TimeoutError:
                    bot.kill()
    answers = crowd.counted
    ms = {name: 1000 * seconds / max(answers, 1) for name, seconds in cpu.items()}
    bot_side = sum(v for k, v in ms.items() if k.startswith(("bot", "front", "worker")))
    # The processes log their write transactions at exit: figures over the whole run.
    locks = write_lock_figures(log.read_text())
    all_answers = max(sum(s.answers for s in crowd.students.values()), 1)
    return {
        "workers": workers,
        "students": students,
        "connections": connections,
        "answers": answers,
        "seconds": elapsed,
        "answers_per_s": answers / elapsed,
        "updates": updates,
        "cpu_ms_per_answer": ms,
        "bot_cpu_ms_per_answer": bot_side,
        "other_cpu_ms_per_answer": sum(ms.values()) - bot_side,
        "cores_busy": sum(cpu.values()) / elapsed,
        "write_lock": locks
        | {
            "answers": all_answers,
            "waited_ms_per_answer": locks["waited_ms"] / all_answers,
            "held_ms_per_answer": locks["held_ms"] / all_answers,
            "held_cpu_ms_per_answer": locks["held_cpu_ms"] / all_answers,
        },
        "front_cpu_ms_per_update": (
            1000 * cpu["front"] / max(updates, 1) if "front" in cpu else None
        ),
        "delivery_ms_p50": percentile(delivery_ms, 0.5),
        "delivery_ms_p99": percentile(delivery_ms, 0.99),
        "busy_delivering": sum(delivery_ms) / 1000 / elapsed,
        "load_average": os.getloadavg(),
    }


@contextlib.contextmanager
def _postgres_database(server: str) -> Iterator[str]:
    import psycopg

    name = f"metatutor_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"'.encode())
    try:
        yield f"{server.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    backends = ["sqlite"] + (["postgresql"] if args.postgres else [])
    with tempfile.TemporaryDirectory(prefix="workers-bench-") as folder:
        for backend in backends:
            for workers in args.workers:
                log = Path(folder) / f"{backend}-{workers}.log"
                with contextlib.ExitStack() as stack:
                    database: Path | str
                    if backend == "sqlite":
                        database = Path(folder) / f"{backend}-{workers}.sqlite3"
                    else:
                        database = stack.enter_context(_postgres_database(args.postgres))
                    await seed(database, args.students)
                    run = await measure(
                        database,
                        workers,
                        args.students,
                        args.warmup,
                        args.window,
                        log,
                        args.connections,
                    )
                run["backend"] = backend
                results.append(run)
                print(
                    f"{backend}, {workers} worker(s): {run['answers_per_s']:.1f} answers/s",
                    file=sys.stderr,
                )
    one = {r["backend"]: r for r in results if r["workers"] == 1}
    for run in results:
        base = one.get(run["backend"])
        run["speedup"] = run["answers_per_s"] / base["answers_per_s"] if base else None
        # What the bot's own CPU allows with a core per worker and Telegram elsewhere: N
        # cores' worth of answers at this run's CPU per answer (front included), against
        # one core at the single process's.
        run["cpu_bound_speedup"] = (
            run["workers"] * base["bot_cpu_ms_per_answer"] / run["bot_cpu_ms_per_answer"]
            if base
            else None
        )
        # On this machine's cores, with Telegram's side, the students and the database server
        # on them too: the single process can use at most one core (answers a second at most
        # 1000 / B), N workers share every core with the rest (at most cores * 1000 / (B + F)).
        cores = os.cpu_count() or 1
        other = run["other_cpu_ms_per_answer"]
        run["shared_cores_bound"] = (
            min(run["workers"], cores)
            * base["bot_cpu_ms_per_answer"]
            / (run["bot_cpu_ms_per_answer"] + other)
            if base and run["workers"] > 1
            else None
        )
        # The same with the load generator (fake Telegram and students) on cores of its own.
        server = run["cpu_ms_per_answer"].get("database server", 0.0)
        run["own_cores_bound"] = (
            min(run["workers"], cores)
            * base["bot_cpu_ms_per_answer"]
            / (run["bot_cpu_ms_per_answer"] + server)
            if base and run["workers"] > 1
            else None
        )
    return {"runs": results}


def _times(value: float | None) -> str:
    return f"{value:.2f}x" if value else "-"


def _rows(results: list[dict[str, Any]]) -> list[list[object]]:
    rows: list[list[object]] = []
    for run in results:
        ms = run["cpu_ms_per_answer"]
        workers = " + ".join(f"{v:.1f}" for k, v in ms.items() if k.startswith("worker"))
        lock = run["write_lock"]
        rows.append(
            [
                run["backend"],
                run["workers"],
                run["answers"],
                run["answers_per_s"],
                _times(run["speedup"]),
                ms.get("bot", 0.0) or workers,
                run["bot_cpu_ms_per_answer"],
                run["front_cpu_ms_per_update"] if run["front_cpu_ms_per_update"] else "-",
                ms["fake+students"],
                ms.get("database server", "-"),
                run["cores_busy"],
                f"{lock['waited_ms_per_answer']:.2f} / {lock['held_ms_per_answer']:.2f}"
                f" ({lock['held_cpu_ms_per_answer']:.2f})",
                _times(run["cpu_bound_speedup"]),
                _times(run["shared_cores_bound"]),
                _times(run["own_cores_bound"]),
                f"{run['delivery_ms_p50']:.1f} / {run['delivery_ms_p99']:.1f}",
                " / ".join(f"{x:.1f}" for x in run["load_average"]),
            ]
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--students", type=int, default=24)
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds before counting")
    parser.add_argument("--window", type=float, default=30.0, help="seconds counted")
    parser.add_argument(
        "--connections",
        type=int,
        default=40,
        help="webhook deliveries at once (Telegram's max_connections, 40 by default; 1: one"
        " update at a time)",
    )
    parser.add_argument("--postgres", help="a PostgreSQL server URL to make databases on")
    parser.add_argument("--json", type=Path, help="write the results (and the machine) here")
    args = parser.parse_args(argv)
    payload = asyncio.run(main_async(args))
    headers = [
        "database",
        "workers",
        "answers",
        "answers/s",
        "× one",
        "CPU ms/answer per bot process",
        "bot total B (front incl.)",
        "front CPU ms/update",
        "fake+students ms/answer",
        "DB server ms/answer",
        "cores busy",
        "write lock ms/answer: waited / held (CPU)",
        "× one, CPU-bound",
        "bound, 2 shared cores",
        "bound, load elsewhere",
        "delivery ms p50 / p99",
        "load 1/5/15",
    ]
    print(table(headers, _rows(payload["runs"])))
    write_json(args.json, {"arguments": vars(args) | {"json": str(args.json)}} | payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
