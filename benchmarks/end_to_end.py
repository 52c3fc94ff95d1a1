"""Answers per second through the real Application: fake Bot API, SQLite file, model, policy.

    .venv/bin/python -m benchmarks.generate_db --scale 10k --out /tmp/mt-10k.sqlite
    .venv/bin/python -m benchmarks.end_to_end --db /tmp/mt-10k.sqlite --json out.json

Simulated students (generated ones: registered, onboarded, enrolled) each send ``/quiz``
and answer what they are asked: a choice button, "show answer" then a self-grade, or a
typed answer, for ``--answers`` answers each, all students at once. Every update goes
through PTB's update processor and handlers as in production (``FakeBotApi`` as the
transport, in-process); latency is from handing the update to the application until its
handling (and so its reply) is done.

Two configurations run in the same process: ``as built`` keeps the application's outgoing
rate limiter (25 messages a second for the whole bot, under Telegram's bulk limit), which
caps answers per second by design; ``unthrottled`` removes it, to measure what the bot can
process. The database is written to: pass a copy if the file must stay pristine.
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

from benchmarks.common import peak_rss_mb, percentile, table, write_json
from bot.app import build_application
from bot.fake_api import FakeBotApi
from bot.fake_types import FakeUser
from bot.settings import Settings
from storage import Database
from tutor.learner import MemoryModel, ModelMemory, RuleMemory
from tutor.service import TutorService


class Student:
    """One simulated student answering through the bot."""

    def __init__(self, app: Any, fake: FakeBotApi, service: TutorService, user_id: int) -> None:
        self.app, self.fake, self.service = app, fake, service
        self.user = FakeUser(id=user_id, first_name="Student")
        self.rng = random.Random(user_id)
        self.latencies: list[float] = []
        self.answers = 0

    async def _feed(self, update: dict[str, Any]) -> None:
        from telegram import Update

        parsed = Update.de_json(update, self.app.bot)
        started = time.perf_counter()
        await self.app.update_processor.process_update(parsed, self.app.process_update(parsed))
        self.latencies.append((time.perf_counter() - started) * 1000)

    async def run(self, answers: int) -> None:
        """Answer ``answers`` questions, starting quizzes as needed."""
        while self.answers < answers:
            question = await self.service.open_question(self.user.id)
            if question is None:
                await self._feed(self.fake.user_message(self.user, "/quiz"))
                if await self.service.open_question(self.user.id) is None:
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
            else:
                text = self.rng.choice([question.item.correct_text, "not sure"])
                await self._feed(self.fake.user_message(self.user, text))
                self.answers += 1


async def run_level(
    db_path: Path, users: list[int], answers: int, memory: MemoryModel, throttled: bool
) -> dict[str, Any]:
    """All ``users`` answering at once; returns throughput and latency."""
    meta = json.loads(Path(f"{db_path}.json").read_text())
    start = datetime.fromtimestamp(meta["now_ms"] / 1000, UTC) + timedelta(days=1)
    offset = time.time() - start.timestamp()
    db = await Database.open(db_path)
    service = TutorService(
        db, memory=memory, clock=lambda: datetime.fromtimestamp(time.time() - offset, UTC)
    )
    fake = FakeBotApi(require_known_chat=False)
    settings = Settings(_env_file=None, telegram_bot_token=None, timezone="UTC", flood_burst=0)  # type: ignore[call-arg]
    app = build_application(settings, service, request=fake)
    if not throttled:
        app.bot._rate_limiter = None
    students = [Student(app, fake, service, uid) for uid in users]
    await app.initialize()
    try:
        began = time.perf_counter()
        await asyncio.gather(*(s.run(answers) for s in students))
        wall = time.perf_counter() - began
    finally:
        await app.shutdown()
        await db.close()
    latencies = [x for s in students for x in s.latencies]
    total = sum(s.answers for s in students)
    return {
        "students": len(users),
        "throttled": throttled,
        "answers": total,
        "updates": len(latencies),
        "wall_s": wall,
        "answers_per_s": total / wall,
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
        "peak_rss_mb": peak_rss_mb(),
    }


async def run_all(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every concurrency level, throttled and not."""
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
    results = []
    for throttled in (False, True) if args.with_limiter else (False,):
        for level in args.levels:
            users = rng.sample(active, level)
            answers = max(args.min_answers // level, args.answers)
            result = await run_level(args.db, users, answers, memory, throttled)
            result["memory"] = memory.name
            results.append(result)
    return results


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
    parser.add_argument("--with-limiter", action="store_true", help="also run rate-limited")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Measure and print a table."""
    args = parse_args(argv)
    results = asyncio.run(run_all(args))
    rows = [
        [
            r["memory"],
            "as built" if r["throttled"] else "unthrottled",
            r["students"],
            r["answers"],
            r["answers_per_s"],
            r["p50_ms"],
            r["p99_ms"],
            r["peak_rss_mb"],
        ]
        for r in results
    ]
    print(
        table(
            [
                "memory",
                "sending",
                "students",
                "answers",
                "answers/s",
                "p50 ms",
                "p99 ms",
                "peak RSS MB",
            ],
            rows,
        )
    )
    write_json(args.json, {"benchmark": "end_to_end", "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
