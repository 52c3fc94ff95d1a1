"""Start-up (process start to polling) and import throughput of a 10,000-note .apkg.

    .venv/bin/python -m benchmarks.startup --db /tmp/mt-10k.sqlite --json out.json

Start-up: ``metatutor serve`` runs as a child process against ``bot.fake_telegram.http_server``'s
HTTP Bot API fake (in this process); measured from spawning the process until its first
``getUpdates`` request arrives (the long poll begins; the fake logs a call only once it is
answered, up to 10 s later), and until it answered a ``/start`` queued at that moment; also
the CPU seconds the process had used when it began polling (on a shared machine the wall
time is mostly waiting for a core). The database at ``--db`` (a copy is used) makes the
start-up include opening a large file.

Import: a generated deck of ``--notes`` basic notes (genanki) goes through
``TutorService.import_file`` into a fresh database: notes per second, end to end (parse
off the event loop, then one transaction).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import table, write_json
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.http_server import HttpBotApi
from bot.fake_telegram.objects import FakeUser
from storage import Database
from tutor.service import TutorService

TOKEN = "5550001:StartupBenchStartupBench"


async def start_once(db: Path, workdir: Path) -> dict[str, float]:
    """One start of ``metatutor serve``; seconds to polling and to the first answer."""
    fake = FakeBotApi()
    fake.token = TOKEN
    user = FakeUser(77, "Tess")
    fake.register_user(user)
    async with HttpBotApi(fake) as server:
        base = f"http://127.0.0.1:{server.port}"
        env = os.environ | {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": f"{base}/bot",
            "TELEGRAM_API_FILE_BASE_URL": f"{base}/file/bot",
            "METATUTOR_DATABASE": str(db),
        }
        exe = Path(sys.executable).with_name("metatutor")
        began = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            str(exe),
            "serve",
            env=env,
            cwd=workdir,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        polling = answered = polling_cpu = float("nan")
        try:
            while time.perf_counter() - began < 60:
                polls = [at for at, method in server.arrivals if method == "getUpdates"]
                if polls:
                    polling = polls[0] - began
                    polling_cpu = cpu_seconds(proc.pid)  # within 10 ms of the first poll
                    break
                await asyncio.sleep(0.01)
            fake.queue_update(fake.user_command(user, "/start"))
            while time.perf_counter() - began < 60:
                if fake.messages(user.id):
                    answered = time.perf_counter() - began
                    break
                await asyncio.sleep(0.01)
        finally:
            proc.send_signal(signal.SIGTERM)
            await proc.wait()
    return {"to_polling_s": polling, "cpu_to_polling_s": polling_cpu, "to_first_reply_s": answered}


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux; NaN elsewhere).

    On a shared machine the wall time to polling mostly measures waiting for a core; the
    CPU time is what start-up itself costs.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def make_apkg(path: Path, notes: int) -> None:
    """A deck of basic notes with tags, written by genanki."""
    import genanki

    model = genanki.Model(
        1_607_392_319,
        "Basic",
        fields=[{"name": "Front"}, {"name": "Back"}],
        templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{FrontSide}}<hr>{{Back}}"}],
    )
    deck = genanki.Deck(2_059_400_110, "Startup bench deck")
    rng = random.Random(0)
    for k in range(notes):
        deck.add_note(
            genanki.Note(
                model=model,
                fields=[f"Question {k}: {rng.random():.6f}", f"Answer {k}"],
                tags=[f"topic{k % 50}"],
            )
        )
    genanki.Package(deck).write_to_file(str(path))


async def import_once(apkg: Path, db_path: Path) -> dict[str, Any]:
    """Import the package into a fresh database; seconds and notes per second."""
    db = await Database.open(db_path)
    service = TutorService(db)
    data = apkg.read_bytes()
    began = time.perf_counter()
    report = await service.import_file(data, apkg.name)
    seconds = time.perf_counter() - began
    await db.close()
    added = int(getattr(report, "added", 0))
    return {"bytes": len(data), "added": added, "seconds": seconds, "items_per_s": added / seconds}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.startup",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", type=Path, default=None, help="database to start on (copied)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Measure and print tables."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="metatutor-startup-") as tmp:
        work = Path(tmp)
        db = work / "bot.sqlite"
        if args.db is not None:
            shutil.copyfile(args.db, db)
        starts = [asyncio.run(start_once(db, work)) for _ in range(args.runs)]
        apkg = work / "deck.apkg"
        made = time.perf_counter()
        make_apkg(apkg, args.notes)
        made_s = time.perf_counter() - made
        imported = asyncio.run(import_once(apkg, work / "import.sqlite"))
    print(
        table(
            ["run", "to polling s", "CPU s to polling", "to first reply s"],
            [
                [k + 1, s["to_polling_s"], s["cpu_to_polling_s"], s["to_first_reply_s"]]
                for k, s in enumerate(starts)
            ],
        )
    )
    print()
    print(
        table(
            ["notes", "apkg bytes", "added", "import s", "items/s"],
            [
                [
                    args.notes,
                    imported["bytes"],
                    imported["added"],
                    imported["seconds"],
                    imported["items_per_s"],
                ]
            ],
        )
    )
    write_json(
        args.json,
        {
            "benchmark": "startup",
            "database": str(args.db),
            "starts": starts,
            "apkg_build_s": made_s,
            "import": imported,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
