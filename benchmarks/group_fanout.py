"""Daily group quizzes: many groups whose quiz falls in the same minute, on a virtual clock.

    .venv/bin/python -m benchmarks.group_fanout --groups 1000 --json out.json

A fresh database gets a deck of multiple-choice items and ``--groups`` groups, each with
``--members`` members and a daily quiz of ``--questions`` questions at 18:00 UTC. From
17:59 on, the application's own group quiz job (``bot.group_quizzes``, as shipped: slots
claimed by one row update, quiz steps claimed the same way, polls paced by the reminders'
pacer at the broadcast rate and by the application's per-group limiter) runs every 5 s of
virtual time against ``FakeBotApi`` enforcing Telegram's limits (``--limit`` messages a
second overall, 20 a minute per group; 429 with ``retry_after`` beyond them). Every member
answers every poll while it is open (through the service, as the poll-answer handler does).
Time is virtual: the job's clock and sleeps, the fake API's clock (which closes polls) and
the service's clock read one simulated clock; real seconds are reported beside.

Each configuration runs on its own fresh database; the baseline is the same job taking one
quiz step at a time (``in_flight`` 1) instead of the shipped concurrency, in the same run.
Reported: groups whose quiz started, groups with two quizzes or a poll sent twice (must be
0), 429s received, virtual seconds until every group had its first poll and until every
quiz ended, the share of the allowed rate reached while the first polls went out, messages
per group, answers logged, real seconds and peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import peak_rss_mb, table, write_json
from benchmarks.virtual_time import VirtualTime
from bot.app import build_application, rate_limiter
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.objects import FakeChat, FakeUser
from bot.group_quizzes import IN_FLIGHT, RUNNER_KEY, build_group_runner
from bot.reminders import SENDER_KEY
from bot.settings import Settings
from storage import Database
from tutor.learner import MemoryModel, ModelMemory
from tutor.rule_memory import RuleMemory
from tutor.service import TutorService
from tutor.students import parse_hhmm

DAY = datetime(2026, 3, 2, 17, 59, tzinfo=UTC)
TICK = 5.0


def deck(n_items: int) -> bytes:
    """A deck of ``n_items`` multiple-choice items in a few tags."""
    items = [
        {
            "id": f"q{k}",
            "type": "multiple_choice",
            "question": f"Question {k}: which is right?",
            "options": [f"right {k}", f"wrong {k}a", f"wrong {k}b", f"wrong {k}c"],
            "answer": f"right {k}",
            "tags": [f"t{k % 5}"],
        }
        for k in range(n_items)
    ]
    return json.dumps(
        {"metatutor": 1, "deck": {"slug": "bench", "name": "Bench"}, "items": items}
    ).encode()


async def setup(db: Database, groups: int, members: int, questions: int) -> TutorService:
    """The deck, the groups with their daily quiz at 18:00 UTC, nothing else."""
    service = TutorService(db)
    report = await service.import_file(deck(40), "bench.json")
    for g in range(groups):
        chat_id = -(10_000_000 + g)
        await service.groups.joined(chat_id, f"Group {g}", "en")
        await service.groups.add_deck(chat_id, report.deck.id)
        await service.groups.update(
            chat_id, daily_quiz_time=parse_hhmm("18:00"), daily_length=questions
        )
    return service


async def run(
    groups: int, members: int, questions: int, in_flight: int, limit: float, model: bool
) -> dict[str, Any]:
    """One configuration on a fresh database; returns timings and checks."""
    folder = Path(tempfile.mkdtemp(prefix="mt-group-fanout-"))
    db = await Database.open(folder / "bench.sqlite3")
    await setup(db, groups, members, questions)
    vt = VirtualTime(DAY.timestamp())
    memory: MemoryModel = ModelMemory() if model else RuleMemory()
    service = TutorService(db, clock=vt.wall, memory=memory)
    fake = FakeBotApi(clock=vt.monotonic, require_known_chat=False)
    fake.rate_limit(max_per_second=limit, per_chat_per_second=None, per_group_per_minute=20)
    settings = Settings(_env_file=None, telegram_bot_token=None, timezone="UTC", flood_burst=0)  # type: ignore[call-arg]
    app = build_application(
        settings,
        service,
        request=fake,
        limiter=rate_limiter(settings, clock=vt.monotonic, sleep=vt.sleep),
    )
    # this run's runner and pacer on the virtual clock
    app.bot_data.pop(RUNNER_KEY, None)
    app.bot_data.pop(SENDER_KEY, None)
    await app.initialize()
    runner = build_group_runner(app, settings, clock=vt.monotonic, sleep=vt.sleep)
    runner.in_flight = in_flight
    admin = FakeUser(1, "Admin")
    for g in range(groups):
        fake.set_member(FakeChat(-(10_000_000 + g), f"Group {g}"), admin, "creator")
    sent_at: dict[tuple[int, str], float] = {}  # (chat, "n/total") -> virtual send time
    answering: list[asyncio.Task[None]] = []
    answers = 0
    send = fake.do_request

    async def answer_poll(poll_id: str, chat_id: int, right: int) -> None:
        """Every member answers while the poll is open (right but for every third)."""
        nonlocal answers
        group = -chat_id - 10_000_000
        for m in range(members):
            option = right if m % 3 else (right + 1) % 4
            user = 1_000_000 + group * 100 + m
            await service.group_quizzes.answer(poll_id, user, f"M{m}", "en", [option])
            answers += 1

    async def observed(url: str, method: str, request_data: Any = None, **kw: Any) -> Any:
        answer = await send(url, method, request_data, **kw)
        call = fake.calls[-1]
        if call.method == "sendPoll" and call.ok and call.message and call.message.poll:
            number = str(call.params.get("question", "")).split(" ·")[0]
            sent_at[(call.message.chat_id, number)] = vt.t
            poll = call.message.poll
            answering.append(
                asyncio.create_task(
                    answer_poll(poll.id, call.message.chat_id, poll.correct_option_ids[0])
                )
            )
        return answer

    fake.do_request = observed  # type: ignore[method-assign,assignment]
    began_real = time.perf_counter()
    start = DAY.replace(hour=18, minute=0).timestamp()
    finished: float | None = None
    try:
        while vt.t < start + 3 * 3600:
            await runner.tick()
            await asyncio.gather(*answering)
            async with (
                db.read() as conn,
                conn.execute("SELECT COUNT(*) FROM group_quizzes WHERE status = 'running'") as cur,
            ):
                row = await cur.fetchone()
            if sent_at and row is not None and row[0] == 0:
                finished = vt.t
                break
            await vt.sleep(TICK)
    finally:
        await app.shutdown()
    real_s = time.perf_counter() - began_real
    polls = [c for c in fake.calls if c.method == "sendPoll" and c.ok]
    texts = [c for c in fake.calls if c.method == "sendMessage" and c.ok]
    rejected = sum(1 for c in fake.calls if not c.ok and c.error and "Too Many" in c.error)
    first_times = sorted(t for (_, number), t in sent_at.items() if number.startswith("1/"))
    per_poll = Counter((c.chat_id, str(c.params.get("question", "")).split(" ·")[0]) for c in polls)
    async with (
        db.read() as conn,
        conn.execute("SELECT group_id, COUNT(*) FROM group_quizzes GROUP BY group_id") as cur,
    ):
        quizzes = Counter({row[0]: row[1] for row in await cur.fetchall()})
    await db.close()
    for leftover in folder.iterdir():
        leftover.unlink()
    folder.rmdir()
    span = max(first_times[-1] - start if first_times else 0.0, 1e-9)
    return {
        "groups": groups,
        "members": members,
        "questions": questions,
        "in_flight": in_flight,
        "memory": memory.name,
        "allowed_rate": limit,
        "groups_started": len(first_times),
        "groups_with_two_quizzes": sum(1 for n in quizzes.values() if n > 1),
        "polls_sent_twice": sum(n - 1 for n in per_poll.values() if n > 1),
        "polls": len(polls),
        "result_messages": len(texts),
        "messages_per_group": (len(polls) + len(texts)) / max(groups, 1),
        "answers_logged": answers,
        "rejected_429": rejected,
        "first_polls_s": span,
        "first_polls_at_allowed_rate_s": groups / limit,
        "first_poll_rate": len(first_times) / span,
        "share_of_allowed": len(first_times) / span / limit,
        "all_done_s": (finished - start) if finished is not None else None,
        "real_s": real_s,
        "peak_rss_mb": peak_rss_mb(),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.group_fanout",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--questions", type=int, default=3)
    parser.add_argument(
        "--in-flight",
        type=int,
        nargs="+",
        default=[1, IN_FLIGHT],
        help="steps at once: the baseline (1) and the shipped value",
    )
    parser.add_argument("--limit", type=float, default=30.0, help="the fake API's messages/s")
    parser.add_argument("--model", action="store_true", help="the learner model, not the rules")
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run each configuration on a fresh database and print a table."""
    args = parse_args(argv)
    results = [
        asyncio.run(run(args.groups, args.members, args.questions, n, args.limit, args.model))
        for n in args.in_flight
    ]
    rows = [
        [
            r["groups"],
            r["in_flight"],
            r["groups_started"],
            r["groups_with_two_quizzes"],
            r["polls_sent_twice"],
            r["rejected_429"],
            r["first_polls_s"],
            r["first_polls_at_allowed_rate_s"],
            f"{100 * r['share_of_allowed']:.1f} %",
            r["all_done_s"],
            r["messages_per_group"],
            r["answers_logged"],
            r["real_s"],
        ]
        for r in results
    ]
    print(
        table(
            [
                "groups",
                "in flight",
                "started",
                "two quizzes",
                "polls twice",
                "429s",
                "all first polls (virtual s)",
                "at the allowed rate (s)",
                "share of allowed",
                "all done (virtual s)",
                "messages/group",
                "answers",
                "real s",
            ],
            rows,
        )
    )
    if args.json:
        write_json(args.json, {"benchmark": "group_fanout", "args": vars(args), "results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
