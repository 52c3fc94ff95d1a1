"""Reminder fan-out: many students due in the same minute against a rate-limited fake Bot API.

    .venv/bin/python -m benchmarks.generate_db --students 100000 --attempts 200000 \\
        --out /tmp/mt-fanout.sqlite
    .venv/bin/python -m benchmarks.fanout --db /tmp/mt-fanout.sqlite --json out.json

Every student of the database gets a daily reminder due within the same minute, written
straight into ``reminders``. The application's own reminder runner (``bot.reminders``:
claim in batches, mark each row before sending, settle after) then sends them through the
shared ``Sender`` to ``FakeBotApi`` enforcing ``--limit`` messages a second (429 with
``retry_after`` beyond it). Time is virtual: the sender's clock and sleeps, the fake API's
clock and the service's clock all read one simulated clock, so 100,000 messages take
minutes of real time, not an hour. The application's own outgoing limiter
(:mod:`bot.outgoing`, as shipped) stays in place on the same virtual clock; reminders pass
through it marked as broadcasts. Without ``--rates`` the shipped broadcast rate is used
(``METATUTOR_BROADCAST_RATE``'s default).

Reported per sender rate: virtual seconds until all were sent, the share of the allowed rate
used, 429s received, and from the fake's log and the table: students never messaged (lost)
and messaged twice (duplicates), and how many rows the queue recorded as sent (every
message delivered must be; the next day's planned rows stay pending). The database is
written to: pass a copy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.common import peak_rss_mb, table, write_json
from benchmarks.virtual_time import VirtualTime
from bot.app import build_application, rate_limiter
from bot.fake_telegram.api import FakeBotApi
from bot.reminders import build_runner
from bot.settings import Settings
from storage import Database
from tutor.service import TutorService


async def run(db_path: Path, rate: float, limit: float) -> dict[str, Any]:
    """Send one reminder to every student; returns timings and checks."""
    meta = json.loads(Path(f"{db_path}.json").read_text())
    start = meta["now_ms"] / 1000 + 8 * 3600  # 08:00 UTC on the day after the history
    vt = VirtualTime(start)
    db = await Database.open(db_path)
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM reminders")
        await conn.execute(
            "UPDATE users SET status = 'active', quiet_hours = NULL, timezone = 'UTC',"
            " daily_quiz_time = '08:00'"
        )
        await conn.execute(
            "INSERT INTO reminders (user_id, kind, slot, due_ms) SELECT id, 'daily', ?, ?"
            " FROM users",
            (vt.wall().date().isoformat(), int(start * 1000)),
        )
        async with conn.execute("SELECT COUNT(*) FROM reminders") as cur:
            row = await cur.fetchone()
    due = int(row[0]) if row else 0
    service = TutorService(db, clock=vt.wall)
    fake = FakeBotApi(clock=vt.monotonic, require_known_chat=False)
    fake.rate_limit(max_per_second=limit, per_chat_per_second=None, per_group_per_minute=None)
    settings = Settings(_env_file=None, telegram_bot_token=None, timezone="UTC", flood_burst=0)  # type: ignore[call-arg]
    app = build_application(settings, service, request=fake)
    app.bot._rate_limiter = rate_limiter(settings, clock=vt.monotonic, sleep=vt.sleep)
    await app.initialize()
    runner = build_runner(
        app, settings, clock=vt.wall, monotonic=vt.monotonic, sleep=vt.sleep, rate=rate
    )
    began_real = time.perf_counter()
    first = vt.t
    try:
        report = await runner.tick()
        end = vt.t
        while True:  # rows released for a retry come back on later ticks
            await vt.sleep(30)
            again = await runner.tick()
            if not again.claimed:
                break
            end = vt.t
    finally:
        await app.shutdown()
    real_s = time.perf_counter() - began_real
    sends = [c for c in fake.calls if c.method == "sendMessage" and c.ok]
    per_chat = Counter(c.chat_id for c in sends)
    rejected = sum(1 for c in fake.calls if c.method == "sendMessage" and not c.ok)
    async with (
        db.read() as conn,
        conn.execute("SELECT status, COUNT(*) FROM reminders GROUP BY status") as cur,
    ):
        statuses = {row[0]: row[1] for row in await cur.fetchall()}
    await db.close()
    span = max(end - first, 1e-9)
    return {
        "students_due": due,
        "sender_rate": rate,
        "allowed_rate": limit,
        "sent": len(sends),
        "virtual_s": span,
        "achieved_rate": len(sends) / span,
        "share_of_allowed": len(sends) / span / limit,
        "rejected_429": rejected,
        "lost": due - len(per_chat),
        "duplicates": sum(n - 1 for n in per_chat.values() if n > 1),
        "statuses": statuses,
        "claimed": report.claimed,
        "real_s": real_s,
        "peak_rss_mb": peak_rss_mb(),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.fanout",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", type=Path, required=True, help="from benchmarks.generate_db")
    parser.add_argument(
        "--rates",
        type=float,
        nargs="+",
        default=[Settings.model_fields["broadcast_rate"].default],
        help="sender rates to try (default: the shipped broadcast rate)",
    )
    parser.add_argument("--limit", type=float, default=30.0, help="the fake API's messages/s")
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run each sender rate on a fresh copy of the database and print a table."""
    args = parse_args(argv)
    results = []
    for rate in args.rates:
        copy = Path(f"{args.db}.fanout")
        shutil.copyfile(args.db, copy)
        shutil.copyfile(f"{args.db}.json", f"{copy}.json")
        try:
            results.append(asyncio.run(run(copy, rate, args.limit)))
        finally:
            for suffix in ("", "-wal", "-shm", ".json"):
                Path(f"{copy}{suffix}").unlink(missing_ok=True)
    rows = [
        [
            r["students_due"],
            r["sender_rate"],
            r["allowed_rate"],
            r["sent"],
            r["virtual_s"],
            f"{100 * r['share_of_allowed']:.1f} %",
            r["rejected_429"],
            r["lost"],
            r["duplicates"],
            r["statuses"].get("sent", 0),
            r["real_s"],
        ]
        for r in results
    ]
    print(
        table(
            [
                "due",
                "sender /s",
                "allowed /s",
                "sent",
                "virtual s",
                "share of allowed",
                "429s",
                "lost",
                "duplicates",
                "recorded sent",
                "real s",
            ],
            rows,
        )
    )
    write_json(args.json, {"benchmark": "fanout", "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
