"""What the record of handled updates (``processed_updates``) costs each update.

One database, three bot applications on the in-process Bot API fake, built as ``serve``
builds them: one with the record (:class:`tutor.deliveries.UpdateLog`: the update's row goes
in its first write transaction, or just before its first Bot API call), one with the record
written as before, in a transaction of its own before the handlers run (a first handler
that records it at once), and one without (the baseline). All in the same run. Students
alternately send ``/help`` (the cheapest handler, which writes nothing: the record's share
is largest) and answer a quiz question; each update's wall time, CPU time (the whole
process: the event loop and the database's thread) and, on PostgreSQL, round trips are
measured, rounds interleaved.

    .venv/bin/python -m benchmarks.update_record
    scripts/postgres sh -c '.venv/bin/python -m benchmarks.update_record \
        --postgres "$METATUTOR_TEST_POSTGRES" --json benchmarks/results/update_record.json'
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import TypeHandler

from benchmarks.common import percentile, table, write_json
from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver
from bot.fake_telegram.objects import FakeUser
from bot.settings import Settings
from storage import Database
from tutor.deliveries import UpdateLog, settle
from tutor.service import TutorService

ITEMS = 40


def _deck_csv() -> bytes:
    lines = ["id,type,question,answer,options"]
    for i in range(ITEMS):
        options = "|".join(f"o{i}_{k}" for k in range(4))
        lines.append(f"b{i},multiple_choice,Question {i}?,o{i}_1,{options}")
    return ("\n".join(lines) + "\n").encode()


async def _record_at_once(update: object, context: object) -> None:
    """The record as it was before: written before any handler, in a transaction of its own."""
    await settle()


Samples = dict[str, dict[str, list[float]]]


async def _measure(location: Path | str, rounds: int) -> tuple[Samples, Samples, Samples]:
    db = await Database.open(location)
    service = TutorService(db)
    await service.import_file(_deck_csv(), "bench.csv")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, telegram_bot_token=None, timezone="UTC", flood_burst=0, chat_rate=0
    )
    fake = FakeBotApi()
    chats: dict[str, ChatDriver] = {}
    bots = (
        ("without", None),
        ("record first, own transaction", UpdateLog(db)),
        ("with the record", UpdateLog(db)),
    )
    for name, updates in bots:
        application = build_application(settings, service, request=fake, updates=updates)
        if name.startswith("record first"):
            application.add_handler(TypeHandler(Update, _record_at_once), group=-1000)
        chats[name] = await ChatDriver(application).__aenter__()
    times: Samples = {n: {"/help": [], "answer": []} for n in chats}
    cpu: Samples = {n: {"/help": [], "answer": []} for n in chats}
    trips: Samples = {n: {"/help": [], "answer": []} for n in chats}

    def sample(name: str, kind: str, began: tuple[float, float, int]) -> None:
        times[name][kind].append((time.perf_counter() - began[0]) * 1000)
        cpu[name][kind].append((time.process_time() - began[1]) * 1000)
        trips[name][kind].append(_round_trips(db) - began[2])

    users = {name: FakeUser(100 + k, f"S{k}") for k, name in enumerate(chats)}
    for name, user in users.items():
        await service.register(user.id, user.id, user.first_name, "en")
        await service.enrol(user.id, "bench")
        await chats[name].send(user, "/quiz 20")
    try:
        for _ in range(rounds):
            for name, chat in chats.items():
                user = users[name]
                began = (time.perf_counter(), time.process_time(), _round_trips(db))
                await chat.send(user, "/help")
                sample(name, "/help", began)
                right = [label for label in chat.buttons(user) if label.endswith("_1")]
                if not right:  # the quiz ended: the next one (not timed)
                    await chat.send(user, "/quiz 20")
                    right = [label for label in chat.buttons(user) if label.endswith("_1")]
                question = chat.message_with_button(user, right[0])
                option = right[0]
                began = (time.perf_counter(), time.process_time(), _round_trips(db))
                await chat.press(user, option, message=question)
                sample(name, "answer", began)
    finally:
        for chat in chats.values():
            await chat.__aexit__(None, None, None)
        await db.close()
    return times, cpu, trips


def _round_trips(db: Database) -> int:
    traffic = db.traffic
    return traffic.round_trips if traffic else 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--postgres", help="a PostgreSQL URL (else a fresh SQLite file)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        location: Path | str = args.postgres or Path(folder) / "bench.sqlite3"
        times, cpu, trips = asyncio.run(_measure(location, args.rounds))
    rows: list[list[Any]] = []
    for kind in ("/help", "answer"):
        base = times["without"][kind]
        base_cpu = cpu["without"][kind]
        for name, samples in times.items():
            mean_cpu = sum(cpu[name][kind]) / len(cpu[name][kind])
            rows.append(
                [
                    kind,
                    name,
                    percentile(samples[kind], 0.5),
                    percentile(samples[kind], 0.99),
                    percentile(samples[kind], 0.5) - percentile(base, 0.5),
                    mean_cpu,
                    mean_cpu - sum(base_cpu) / len(base_cpu),
                    sum(trips[name][kind]) / len(trips[name][kind]),
                ]
            )
    print(f"{'PostgreSQL' if args.postgres else 'SQLite'}, {args.rounds} rounds")
    headers = [
        "update",
        "bot",
        "p50 ms",
        "p99 ms",
        "p50 over baseline ms",
        "CPU ms (mean)",
        "CPU over baseline ms",
        "round trips",
    ]
    print(table(headers, rows))
    write_json(args.json, {"database": "postgresql" if args.postgres else "sqlite", "rows": rows})


if __name__ == "__main__":
    main()
