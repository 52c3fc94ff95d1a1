"""Answers per second through the real Application: fake Bot API, SQLite file, model, policy.

    .venv/bin/python -m benchmarks.generate_db --scale 10k --out /tmp/mt-10k.sqlite
    .venv/bin/python -m benchmarks.end_to_end --db /tmp/mt-10k.sqlite --json out.json

Simulated students (generated ones: registered, onboarded, enrolled) each send ``/quiz``
and answer what they are asked: a choice button, "show answer" then a self-grade, or a
typed answer, for ``--answers`` answers each, all students at once (at once after each
reply, a saturation test, unless ``--think-s`` gives them a reading time). Every update goes
through PTB's update processor and handlers as in production, with the application's
outgoing limiter as shipped (:mod:`bot.outgoing`: per chat, no bot-wide cap) and
``FakeBotApi`` as the transport, in process (``--api-latency-ms`` adds a round trip to
every call); latency is from handing the update to the application until its handling
(and so its reply) is done.

Breakdown (one student, so nothing overlaps): CPU milliseconds per answer on the event
loop's thread, split into time inside ``TutorService`` calls (service: learner model,
policy, SQL preparation) and the rest (bot layer: PTB, handlers, rendering, the fake
transport), and CPU on other threads (aiosqlite's connection thread runs SQLite). Then
PTB's own cost per update, with a handler that does nothing and one that sends one reply.
The database is written to: pass a copy if the file must stay pristine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import functools
import inspect
import json
import random
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import peak_rss_mb, percentile, table, write_json
from bot.app import build_application
from bot.fake_api import FakeBotApi
from bot.fake_types import FakeUser
from bot.settings import Settings
from storage import Database
from tutor.items import ItemKind
from tutor.learner import MemoryModel, ModelMemory, RuleMemory
from tutor.service import TutorService


@dataclass
class CpuMeter:
    """CPU seconds of this thread, of the process, and of this thread inside service calls."""

    thread: float = 0.0
    process: float = 0.0
    service: float = 0.0
    service_calls: int = 0
    updates: int = 0


_IN_SERVICE: contextvars.ContextVar[bool] = contextvars.ContextVar("in_service", default=False)


def meter_service(service: TutorService, meter: CpuMeter) -> None:
    """Count the event-loop thread's CPU spent inside the service's public coroutines.

    Only the outermost call counts (a service method calling another is not counted twice);
    with one student nothing else runs on the loop meanwhile, so the difference of
    ``thread_time`` across the call is the service's own CPU (waits for SQLite excluded).
    """
    for name, method in inspect.getmembers(service, inspect.iscoroutinefunction):
        if name.startswith("_"):
            continue
        setattr(service, name, _metered(method, meter))


def _metered(method: Callable[..., Awaitable[Any]], meter: CpuMeter) -> Callable[..., Any]:
    @functools.wraps(method)
    async def timed(*args: Any, **kwargs: Any) -> Any:
        if _IN_SERVICE.get():
            return await method(*args, **kwargs)
        token = _IN_SERVICE.set(True)
        began = time.thread_time()
        try:
            return await method(*args, **kwargs)
        finally:
            meter.service += time.thread_time() - began
            meter.service_calls += 1
            _IN_SERVICE.reset(token)

    return timed


class Student:
    """One simulated student answering through the bot."""

    def __init__(
        self, app: Any, fake: FakeBotApi, service: TutorService, user_id: int, meter: CpuMeter
    ) -> None:
        self.app, self.fake, self.service, self.meter = app, fake, service, meter
        self.user = FakeUser(id=user_id, first_name="Student")
        # Message ids go on from earlier runs on the same file, as Telegram's would: a typed
        # answer whose message id repeats is taken for a redelivery and not graded again.
        fake.register_user(self.user)
        fake._chats[user_id].next_message_id = int(time.time() * 1000) % 2_000_000_000
        self.rng = random.Random(user_id)
        self.latencies: list[float] = []
        self.answers = 0

    async def _feed(self, update: dict[str, Any]) -> None:
        from telegram import Update

        thread, process = time.thread_time(), time.process_time()
        parsed = Update.de_json(update, self.app.bot)
        started = time.perf_counter()
        await self.app.update_processor.process_update(parsed, self.app.process_update(parsed))
        self.latencies.append((time.perf_counter() - started) * 1000)
        self.meter.thread += time.thread_time() - thread
        self.meter.process += time.process_time() - process
        self.meter.updates += 1

    async def _open_question(self) -> Any:
        token = _IN_SERVICE.set(True)  # the driver's own look-ups are not the bot's work
        try:
            return await self.service.open_question(self.user.id)
        finally:
            _IN_SERVICE.reset(token)

    async def run(self, answers: int, think: float = 0.0) -> None:
        """Answer ``answers`` questions, in quizzes of its own (started with /quiz).

        With ``think``, the student reads each question for a random time (exponential,
        ``think`` seconds on average) before answering, as people do; without, at once.
        """
        if think > 0:  # people do not all arrive in the same instant
            await asyncio.sleep(self.rng.uniform(0, think))
        await self._feed(self.fake.user_message(self.user, "/quiz"))
        while self.answers < answers:
            if think > 0:
                await asyncio.sleep(self.rng.expovariate(1 / think))
            question = await self._open_question()
            if question is None:
                await self._feed(self.fake.user_message(self.user, "/quiz"))
                if await self._open_question() is None:
                    return  # nothing to study
                continue
            message = self.fake.last_with_buttons(self.user.id)
            data = [d for row in (message.buttons if message else []) for _, d in row]
            picks = [d for d in data if d.startswith(("a:", "g:"))]
            reveal = [d for d in data if d.startswith("r:")]
            if picks and message is not None:
                await self._feed(
                    self.fake.user_callback(self.user, message, self.rng.choice(picks))
                )
                self.answers += 1
            elif reveal and message is not None:
                await self._feed(self.fake.user_callback(self.user, message, reveal[0]))
            elif question.item.kind in (ItemKind.TYPED, ItemKind.CLOZE):
                text = self.rng.choice([question.item.correct_text, "not sure"])
                await self._feed(self.fake.user_message(self.user, text))
                self.answers += 1
            else:  # a question this chat never showed (it has no buttons here): start anew
                await self._feed(self.fake.user_message(self.user, "/quiz"))


class DistantBotApi(FakeBotApi):
    """The fake Bot API a round trip away: every call waits ``latency`` seconds first."""

    def __init__(self, latency: float) -> None:
        super().__init__(require_known_chat=False)
        self.latency = latency
        self.cpu = 0.0  # thread CPU seconds spent answering (the fake, not the bot)

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        """Wait out the round trip, then answer."""
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        began = time.thread_time()
        try:
            return await super().do_request(*args, **kwargs)
        finally:
            self.cpu += time.thread_time() - began


def bench_settings(**values: Any) -> Settings:
    """The shipped settings without a token, with the incoming flood guard off.

    Simulated students answer the moment a question arrives, faster than any person: the
    flood guard would drop them. The shipped outgoing limit has no per-chat cap;
    ``--chat-limit`` sets one of a message a second after a burst of ten (Telegram's
    guideline), which binds once a student answers more than ~0.3 questions a second.
    """
    fields: dict[str, Any] = {"flood_burst": 0} | values
    return Settings(_env_file=None, telegram_bot_token=None, timezone="UTC", **fields)  # type: ignore[call-arg]


async def run_level(
    db_path: Path,
    users: list[int],
    answers: int,
    memory: MemoryModel,
    limiter: bool,
    settings: Settings,
    latency: float = 0.0,
    think: float = 0.0,
) -> dict[str, Any]:
    """All ``users`` answering at once; returns throughput, latency and the CPU split."""
    meta = json.loads(Path(f"{db_path}.json").read_text())
    start = datetime.fromtimestamp(meta["now_ms"] / 1000, UTC) + timedelta(days=1)
    offset = time.time() - start.timestamp()
    db = await Database.open(db_path)
    service = TutorService(
        db, memory=memory, clock=lambda: datetime.fromtimestamp(time.time() - offset, UTC)
    )
    meter = CpuMeter()
    meter_service(service, meter)
    fake = DistantBotApi(latency)
    app = build_application(settings, service, request=fake)
    if not limiter:
        app.bot._rate_limiter = None
    students = [Student(app, fake, service, uid, meter) for uid in users]
    before = await _attempts(db, users)
    await app.initialize()
    try:
        began = time.perf_counter()
        cpu = time.process_time()
        await asyncio.gather(*(s.run(answers, think) for s in students))
        wall = time.perf_counter() - began
        cpu = time.process_time() - cpu
    finally:
        await app.shutdown()
    try:
        graded = await _attempts(db, users) - before
    finally:
        await db.close()
    latencies = [x for s in students for x in s.latencies]
    total = sum(s.answers for s in students)
    per = 1000 / max(total, 1)
    return {
        "students": len(users),
        "limiter": limiter,
        "api_latency_ms": latency * 1000,
        "think_s": think,
        "answers": total,
        "graded": graded,
        "updates": len(latencies),
        "wall_s": wall,
        "answers_per_s": total / wall,
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
        "process_cpu_ms_per_answer": cpu * per,
        # Meaningful with one student (nothing overlaps); reported at every level anyway.
        "loop_cpu_ms_per_answer": meter.thread * per,
        "service_cpu_ms_per_answer": meter.service * per,
        "bot_cpu_ms_per_answer": (meter.thread - meter.service - fake.cpu) * per,
        "fake_api_cpu_ms_per_answer": fake.cpu * per,
        "other_threads_cpu_ms_per_answer": (meter.process - meter.thread) * per,
        "updates_per_answer": meter.updates / max(total, 1),
        "peak_rss_mb": peak_rss_mb(),
    }


async def _attempts(db: Database, users: list[int]) -> int:
    """Attempts logged for ``users`` (every counted answer must add one)."""
    marks = ",".join("?" * len(users))
    async with (
        db.read() as conn,
        conn.execute(f"SELECT COUNT(*) FROM attempts WHERE user_id IN ({marks})", users) as cur,
    ):
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def ptb_overhead(updates: int = 2000) -> dict[str, float]:
    """CPU ms per update of PTB alone: a handler that does nothing, and one that replies."""
    from telegram import Update
    from telegram.ext import MessageHandler, filters

    from bot.app import PerUserUpdateProcessor, rate_limiter

    results: dict[str, float] = {}
    for name, reply in (("no_reply", False), ("one_reply", True)):
        fake = FakeBotApi(require_known_chat=False)
        app = (
            fake.application_builder()
            .rate_limiter(rate_limiter(bench_settings()))
            .concurrent_updates(PerUserUpdateProcessor(32))
            .build()
        )

        async def handle(update: Update, _context: Any, reply: bool = reply) -> None:
            if reply and update.effective_chat is not None:
                await update.effective_chat.send_message("ok")

        app.add_handler(MessageHandler(filters.ALL, handle))
        user = FakeUser(id=5, first_name="P")
        raw = [fake.user_message(user, f"m{k}") for k in range(updates)]
        async with app:
            began = time.process_time()
            for data in raw:
                parsed = Update.de_json(data, app.bot)
                await app.update_processor.process_update(parsed, app.process_update(parsed))
            results[f"{name}_cpu_ms"] = (time.process_time() - began) * 1000 / updates
    return results


async def run_all(args: argparse.Namespace) -> dict[str, Any]:
    """Every concurrency level, then PTB's own overhead."""
    memory: MemoryModel = ModelMemory(args.weights) if args.memory == "model" else RuleMemory()
    if isinstance(memory, ModelMemory):
        memory.load()
    db = await Database.open(args.db)
    async with (
        db.read() as conn,
        conn.execute("SELECT id FROM users WHERE last_seen_ms > created_ms ORDER BY id") as cur,
    ):
        active = [row[0] for row in await cur.fetchall()]
    await db.close()
    rng = random.Random(args.seed)
    settings = bench_settings(**({"chat_rate": 1.0} if args.chat_limit else {}))
    results = []
    for limiter in (True, False) if args.without_limiter else (True,):
        for level in args.levels:
            users = rng.sample(active, level)
            answers = max(args.min_answers // level, args.answers)
            result = await run_level(
                args.db,
                users,
                answers,
                memory,
                limiter,
                settings,
                args.api_latency_ms / 1000,
                args.think_s,
            )
            result["memory"] = memory.name
            results.append(result)
    return {"results": results, "ptb": await ptb_overhead()}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.end_to_end",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", type=Path, required=True, help="from benchmarks.generate_db")
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--answers", type=int, default=3, help="answers per student (at least)")
    parser.add_argument("--min-answers", type=int, default=300, help="answers per level")
    parser.add_argument("--memory", choices=["rules", "model"], default="model")
    parser.add_argument("--weights", type=Path, default=None)
    parser.add_argument(
        "--without-limiter", action="store_true", help="also run with no outgoing limiter"
    )
    parser.add_argument(
        "--chat-limit", action="store_true", help="limit each chat to 1 msg/s after a burst"
    )
    parser.add_argument(
        "--api-latency-ms", type=float, default=0.0, help="round trip of every Bot API call"
    )
    parser.add_argument(
        "--think-s",
        type=float,
        default=0.0,
        help="mean seconds a student reads a question before answering (default: none)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Measure and print tables."""
    args = parse_args(argv)
    out = asyncio.run(run_all(args))
    results = out["results"]
    print(
        table(
            [
                "memory",
                "limiter",
                "students",
                "answers",
                "graded",
                "answers/s",
                "p50 ms",
                "p99 ms",
                "RSS MB",
            ],
            [
                [
                    r["memory"],
                    "shipped" if r["limiter"] else "none",
                    r["students"],
                    r["answers"],
                    r["graded"],
                    r["answers_per_s"],
                    r["p50_ms"],
                    r["p99_ms"],
                    r["peak_rss_mb"],
                ]
                for r in results
            ],
        )
    )
    print()
    print(
        table(
            [
                "students",
                "CPU ms/answer",
                "bot layer (PTB, handlers)",
                "fake Bot API",
                "service",
                "other threads (SQLite)",
            ],
            [
                [
                    r["students"],
                    r["process_cpu_ms_per_answer"],
                    r["bot_cpu_ms_per_answer"],
                    r["fake_api_cpu_ms_per_answer"],
                    r["service_cpu_ms_per_answer"],
                    r["other_threads_cpu_ms_per_answer"],
                ]
                for r in results
                if r["limiter"] and r["students"] == 1  # with more, the meters overlap
            ],
        )
    )
    ptb = out["ptb"]
    print(
        f"\nPTB alone per update: {ptb['no_reply_cpu_ms']:.3f} ms CPU (no reply), "
        f"{ptb['one_reply_cpu_ms']:.3f} ms (one reply through the limiter and the fake)"
    )
    write_json(args.json, {"benchmark": "end_to_end", **out})
    return 0


if __name__ == "__main__":
    sys.exit(main())
