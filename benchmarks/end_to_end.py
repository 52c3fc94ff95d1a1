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

Breakdown, at every level: CPU milliseconds per answer, each slice of the event loop
thread's CPU charged to one region (:mod:`benchmarks.cpu_split`): the bot (PTB, handlers,
rendering, the limiter), the event loop itself, the service (learner model, policy, SQL run
on the loop thread), the fake Bot API, the simulated students (driver); and CPU on other
threads (aiosqlite's connection thread runs SQLite). Then PTB's own cost per update, with
a handler that does nothing and one that sends one reply.

``--ceiling`` measures the same application and traffic with handlers that do no tutor
work (:mod:`benchmarks.bot_ceiling`; no ``--db``), ``--ceiling --http`` the same with the
fake behind HTTP in a child process (:mod:`benchmarks.bot_ceiling_http`).
The database is written to: pass a copy if the file must stay pristine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import peak_rss_mb, table, write_json
from benchmarks.cpu_split import CpuSplit
from benchmarks.simulated_traffic import DistantBotApi, Student, drive, meter_service
from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.objects import FakeUser
from bot.settings import Settings
from storage import Database
from tutor.learner import MemoryModel, ModelMemory
from tutor.rule_memory import RuleMemory
from tutor.service import TutorService


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
    split_cpu: bool = True,
) -> dict[str, Any]:
    """All ``users`` answering at once; returns throughput, latency and the CPU split."""
    meta = json.loads(Path(f"{db_path}.json").read_text())
    start = datetime.fromtimestamp(meta["now_ms"] / 1000, UTC) + timedelta(days=1)
    offset = time.time() - start.timestamp()
    db = await Database.open(db_path)
    service = TutorService(
        db, memory=memory, clock=lambda: datetime.fromtimestamp(time.time() - offset, UTC)
    )
    split = CpuSplit(active=split_cpu)
    meter_service(service, split)
    fake = DistantBotApi(latency, split)
    app = build_application(settings, service, request=fake)
    if not limiter:
        app.bot._rate_limiter = None
    students = [Student(app, fake, service, uid, split) for uid in users]
    before = await _attempts(db, users)
    await app.initialize()
    try:
        measured = await drive(split, students, [s.run(answers, think) for s in students])
    finally:
        await app.shutdown()
    try:
        graded = await _attempts(db, users) - before
    finally:
        await db.close()
    return {
        "students": len(users),
        "limiter": limiter,
        "api_latency_ms": latency * 1000,
        "think_s": think,
        "graded": graded,
        **measured,
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

    from bot.app import rate_limiter
    from bot.update_order import PerUserUpdateProcessor

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
    settings = bench_settings(**({"chat_rate": 1.0} if args.chat_limit else {}))
    if args.ceiling:
        from benchmarks.bot_ceiling import run_ceiling  # it builds on this module

        ceiling = await run_ceiling(
            args.levels,
            args.min_answers,
            args.answers,
            settings,
            both_limiters=args.without_limiter,
            split_cpu=not args.no_split,
            http=args.http,
            pool=args.pool,
        )
        for result in ceiling:
            result["memory"] = "none (ceiling)"
        return {"results": ceiling, "ptb": await ptb_overhead()}
    if args.db is None:
        raise SystemExit("--db is required (except with --ceiling)")
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
    if args.http:  # the tutor and a minimal bot, the Bot API over HTTP
        from benchmarks.end_to_end_http import run_http

        levels = {level: rng.sample(active, level) for level in args.levels}
        clients = ["own", "httpx"] if args.tutor_client == "both" else [args.tutor_client]
        found = await run_http(
            args.db, levels, args.min_answers, args.answers, memory, settings, clients
        )
        return {"results": found, "ptb": await ptb_overhead()}
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
                not args.no_split,
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
    parser.add_argument("--db", type=Path, default=None, help="from benchmarks.generate_db")
    parser.add_argument(
        "--ceiling",
        action="store_true",
        help="the bot layer's ceiling: same application and traffic, no tutor (no --db)",
    )
    parser.add_argument(
        "--http",
        action="store_true",
        help="the fake Bot API in a child process, over HTTP (with --db: next to a minimal bot)",
    )
    parser.add_argument(
        "--pool", type=int, default=None, help="with --http: connections at most (PTB: 256)"
    )
    parser.add_argument(
        "--tutor-client",
        choices=["own", "httpx", "both"],
        default="own",
        help="with --http --db: the tutor's Bot API client: its own (the bot's default),"
        " PTB's HTTPXRequest, or both one after the other (the minimal bot: PTB's, always)",
    )
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
    parser.add_argument(
        "--no-split",
        action="store_true",
        help="no CPU split by region: shows what the split's accounting costs",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args(argv)


def split_table(results: list[dict[str, Any]]) -> str:
    """CPU milliseconds per answer by region, every level (the split is exact at any)."""
    columns = {
        "CPU ms/answer": "process_cpu_ms_per_answer",
        "bot (PTB, handlers)": "bot_cpu_ms_per_answer",
        "event loop": "loop_cpu_ms_per_answer",
        "fake Bot API": "fake_api_cpu_ms_per_answer",
        "service": "service_cpu_ms_per_answer",
        "other threads (SQLite)": "other_threads_cpu_ms_per_answer",
        "driver": "driver_cpu_ms_per_answer",
        "updates/answer": "updates_per_answer",
    }
    return table(
        ["memory", "limiter", "students", *columns],
        [
            [r["memory"], "shipped" if r["limiter"] else "none", r["students"]]
            + [r[key] for key in columns.values()]
            for r in results
        ],
    )


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
                    r.get("graded", "-"),
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
    print(split_table(results))
    if args.http and not args.ceiling:
        from benchmarks.end_to_end_http import http_table

        print()
        print(http_table(results))
    ptb = out["ptb"]
    print(
        f"\nPTB alone per update: {ptb['no_reply_cpu_ms']:.3f} ms CPU (no reply), "
        f"{ptb['one_reply_cpu_ms']:.3f} ms (one reply through the limiter and the fake)"
    )
    write_json(args.json, {"benchmark": "end_to_end", **out})
    return 0


if __name__ == "__main__":
    sys.exit(main())
