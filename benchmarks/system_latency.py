"""Latency of the service's hot paths on a generated database, with both memory models.

    .venv/bin/python -m benchmarks.generate_db --scale 10k --out /tmp/mt-10k.sqlite
    .venv/bin/python -m benchmarks.system_latency --db /tmp/mt-10k.sqlite --json out.json
    scripts/postgres sh -c '.venv/bin/python -m benchmarks.generate_db --scale 10k \
        --postgres "$METATUTOR_TEST_POSTGRES" --meta /tmp/mt-10k.pg.json &&
      .venv/bin/python -m benchmarks.system_latency --db /tmp/mt-10k.sqlite \
        --postgres "$METATUTOR_TEST_POSTGRES" --json out.json'

With ``--postgres URL`` (a database the generator filled with the same options and seed as
the file), every measurement also runs on PostgreSQL, in the same run and process: each
sampled student's quiz runs on the file, then on PostgreSQL (the same questions and
answers), so both see the same load; the table shows the two side by side. Peak RSS is then
that of the process holding both.

For a random sample of students (uniform over students who answered something), runs a quiz
through ``TutorService``: ``start_quiz`` (choose the first item), then per question
``answer`` (mark, log, learn) and ``next_question`` (choose the next item), then ``stats``.
Each call is timed on its own, on one event loop, as the bot runs it. The database is
written to (sessions, questions, attempts): pass a copy if the file must stay pristine.

With ``--exam-days N``, the sampled students get an exam N days ahead on all their decks
(exam mode: the policy forecasts exam-day recall for a shortlist of items per choice).

With ``--memory model``, the sampled students' learner states are first rebuilt from their
own attempts (the generator writes none), using the shipped weights or ``--weights``. Peak
RSS is that of this process, which holds what the bot process would: the service, the
database connection and, for the model, torch and the weights.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import random
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import peak_rss_mb, percentile, table, write_json
from storage import Database
from storage import learner_state as state_rows
from storage.learner_state import StoredState
from tutor.items import Grade, ItemKind
from tutor.learner import MemoryModel, ModelMemory
from tutor.model_reads import learn_answer
from tutor.policy.calibration import ItemHistory, RecallCalibration, after_answer
from tutor.rule_memory import RuleMemory
from tutor.service import TutorService
from tutor.views import Answer, Question

TARGETS_MS = {"next item": 20.0, "answer": 10.0, "stats": 200.0}


class SteppingClock:
    """A clock that moves forward a few seconds per call (answers take time)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=2)
        return self.now


def answer_for(question: Question, rng: random.Random) -> Answer:
    """A plausible answer to any kind of question."""
    if question.choices:
        return Answer(choice=rng.randrange(len(question.choices)))
    if question.item.kind is ItemKind.TYPED:
        return Answer(text=rng.choice([question.item.correct_text, "no idea"]))
    return Answer(grade=rng.choice([Grade.GOOD, Grade.AGAIN, Grade.EASY]))


async def _replay_states(db: Database, memory: ModelMemory, users: list[int], cap: int) -> float:
    """Learner states of ``users`` from their last ``cap`` attempts; returns seconds taken."""
    from tutor.clock import from_millis
    from tutor.convert import item_from_record
    from tutor.model.online import AttemptFeatures

    model = memory.load()
    started = time.perf_counter()
    async with db.transaction() as conn:
        for user_id in users:
            async with conn.execute(
                "SELECT item_id, answered_ms, correct, latency_ms FROM attempts"
                " WHERE user_id = ? ORDER BY answered_ms DESC LIMIT ?",
                (user_id, cap),
            ) as cur:
                rows = list(await cur.fetchall())[::-1]
            state, calibration = model.new_state(), RecallCalibration()
            histories: dict[int, ItemHistory] = {}
            items = {}
            for item_id, answered_ms, correct, latency_ms in rows:
                if item_id not in items:
                    from storage import content as content_rows

                    record = await content_rows.get_item(conn, item_id, live_only=False)
                    assert record is not None
                    items[item_id] = item_from_record(record)
                (candidate,) = await memory.candidates(conn, [items[item_id]])
                attempt = AttemptFeatures(
                    item=candidate,
                    timestamp=from_millis(answered_ms),
                    correct=bool(correct),
                    grade=None,
                    latency_ms=float(latency_ms),
                )
                history = histories.get(item_id)
                state, calibration = learn_answer(
                    model, state, calibration, attempt, history, calibrate=memory.calibrate
                )
                histories[item_id] = after_answer(history, answered_ms / 1000, bool(correct))
            stored = StoredState(model.weights_id, state.to_bytes(), calibration.to_json())
            await state_rows.put_state(conn, user_id, stored, 0)
    return time.perf_counter() - started


async def _server(db: Database, meta: dict[str, Any]) -> dict[str, Any]:
    """PostgreSQL's version and durability settings; refuses a database of other data."""
    async with db.read() as conn:
        rows = await conn.execute_fetchall("SELECT COUNT(*) FROM users")
        students = int(next(iter(rows))[0])
        if students != meta["students"]:
            raise SystemExit(
                f"{db.location} has {students:,} students, the file {meta['students']:,}:"
                " generate both with the same options and seed"
            )
        info = {}
        for name in SERVER_SETTINGS:
            rows = await conn.execute_fetchall(f"SHOW {name}")
            info[name] = str(next(iter(rows))[0])
    return info


SERVER_SETTINGS = ("server_version", "fsync", "synchronous_commit", "shared_buffers")


class _Run:
    """One database's side of a measurement: its service, answer stream and timings."""

    def __init__(self, db: Database, server: dict[str, Any], seed: int) -> None:
        self.db = db
        self.server = server
        self.rng = random.Random(seed)
        self.times: dict[str, list[float]] = defaultdict(list)
        # per operation: statements and round trips sent to PostgreSQL, per call
        self.statements: dict[str, list[int]] = defaultdict(list)
        self.round_trips: dict[str, list[int]] = defaultdict(list)
        self.hops: dict[str, list[int]] = defaultdict(list)  # calls on the connection's thread
        self.db_ms: dict[str, list[float]] = defaultdict(list)
        # per operation: CPU time of this process (all its threads), per call
        self.cpu_ms: dict[str, list[float]] = defaultdict(list)
        self.listed: dict[str, list[str]] = {}
        self.service: TutorService | None = None
        self.setup_s = 0.0


async def measure(
    locations: list[str], memory_name: str, n_students: int, length: int, seed: int, args: Any
) -> list[dict[str, Any]]:
    """Run the sampled quizzes on each database; returns latencies (ms) per operation.

    With several databases, each student's quiz runs on one, then on the next, student by
    student: every database sees the same students, answers and load over time (on a shared
    machine the load moves within minutes, so one database after the other would not).
    """
    meta = json.loads(Path(args.meta).read_text())
    start = datetime.fromtimestamp(meta["now_ms"] / 1000, UTC) + timedelta(hours=1)
    runs = []
    for location in locations:
        db = await Database.open(location, migrate=not args.no_migrate)
        server = await _server(db, meta) if db.url is not None else {}
        runs.append(_Run(db, server, seed))
    async with (
        runs[0].db.read() as conn,
        conn.execute("SELECT id FROM users WHERE last_seen_ms > created_ms ORDER BY id") as cur,
    ):
        active = [row[0] for row in await cur.fetchall()]
    users = random.Random(seed).sample(active, min(n_students, len(active)))
    for run in runs:
        run.rng.sample(active, min(n_students, len(active)))  # the answers' stream, as before
        db = run.db
        if args.exam_days:
            # Exam mode: every sampled student has an exam on all their decks.
            exam = (start + timedelta(days=args.exam_days)).date().isoformat()
            async with db.transaction() as conn:
                await conn.executemany(
                    "UPDATE enrolments SET exam_date = ? WHERE user_id = ?",
                    [(exam, user_id) for user_id in users],
                )
        memory: MemoryModel
        if memory_name == "model":
            model_memory = ModelMemory(args.weights)
            run.setup_s = await _replay_states(db, model_memory, users, args.replay_cap)
            memory = model_memory
        else:
            memory = RuleMemory()
        run.service = TutorService(db, clock=SteppingClock(start), seed=seed, memory=memory)

    profiles: dict[str, cProfile.Profile] = {}

    async def timed(run: _Run, name: str, call: Any) -> Any:
        key = f"{run.db.dialect}-{name}"
        profile = profiles.setdefault(key, cProfile.Profile()) if args.profile else None
        if profile is not None:
            profile.enable()
        traffic = run.db.traffic
        if traffic is not None:
            before = (traffic.statements, traffic.round_trips, traffic.seconds, traffic.hops)
            if args.list_statements and name not in run.listed:
                traffic.log = run.listed[name] = []
        t0, c0 = time.perf_counter(), time.process_time()
        result = await call
        run.times[name].append((time.perf_counter() - t0) * 1000)
        run.cpu_ms[name].append((time.process_time() - c0) * 1000)
        if profile is not None:
            profile.disable()
        if traffic is not None:
            traffic.log = None
            run.statements[name].append(traffic.statements - before[0])
            run.round_trips[name].append(traffic.round_trips - before[1])
            run.hops[name].append(traffic.hops - before[3])
            run.db_ms[name].append((traffic.seconds - before[2]) * 1000)
        return result

    for user_id in users:
        for run in runs:
            service, rng = run.service, run.rng
            assert service is not None
            question = await timed(run, "start quiz", service.start_quiz(user_id, length))
            while question is not None:
                answer = answer_for(question, rng)
                await timed(run, "answer", service.answer(user_id, question.id, answer))
                question = await timed(run, "next item", service.next_question(user_id))
            await timed(run, "stats", service.stats(user_id))
    for run in runs:
        await run.db.close()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        for key, profile in profiles.items():
            profile.dump_stats(args.profile / f"{memory_name}-{key.replace(' ', '_')}.prof")
    return [
        {
            "database": run.db.dialect,
            "server": run.server,
            "memory": memory_name,
            "students": len(users),
            "setup_s": run.setup_s,
            "ops": {
                name: {
                    "n": len(v),
                    "p50_ms": percentile(v, 0.5),
                    "p99_ms": percentile(v, 0.99),
                    "max_ms": max(v),
                    "samples_ms": [round(x, 3) for x in v],
                    # this process's CPU (both threads): the rest of the time is waiting
                    "cpu_p50_ms": percentile(run.cpu_ms[name], 0.5),
                    "cpu_p99_ms": percentile(run.cpu_ms[name], 0.99),
                }
                for name, v in run.times.items()
            },
            "peak_rss_mb": peak_rss_mb(),
            "traffic": {
                name: {
                    "statements_mean": sum(v) / len(v),
                    "statements_max": max(v),
                    "round_trips_mean": sum(run.round_trips[name]) / len(v),
                    "round_trips_max": max(run.round_trips[name]),
                    "hops_mean": sum(run.hops[name]) / len(v),
                    # time in the round trips on the connection's thread (server, network,
                    # and reading the rows), against the operation's p50 above
                    "round_trips_ms_p50": percentile(run.db_ms[name], 0.5),
                    "round_trips_ms_p99": percentile(run.db_ms[name], 0.99),
                }
                for name, v in run.statements.items()
            },
            "statements_listed": run.listed,
        }
        for run in runs
    ]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.system_latency",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", required=True, help="from benchmarks.generate_db (a file or URL)")
    parser.add_argument(
        "--postgres",
        default=None,
        metavar="URL",
        help="also measure this PostgreSQL database, generated like --db",
    )
    parser.add_argument("--meta", type=Path, default=None, help="default: the file's <db>.json")
    parser.add_argument("--memory", choices=["rules", "model", "both"], default="both")
    parser.add_argument("--students", type=int, default=100, help="students sampled")
    parser.add_argument("--length", type=int, default=10, help="questions per quiz")
    parser.add_argument("--weights", type=Path, default=None, help="default: shipped weights")
    parser.add_argument("--replay-cap", type=int, default=500, help="attempts replayed per student")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--exam-days", type=int, default=0, help="give the sampled students an exam this far ahead"
    )
    parser.add_argument(
        "--no-migrate", action="store_true", help="keep the file's schema version (a baseline)"
    )
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--list-statements",
        action="store_true",
        help="keep the statements each operation sent PostgreSQL the first time (in the JSON)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="directory: cProfile each operation (timings then include its overhead)",
    )
    args = parser.parse_args(argv)
    if args.meta is None:
        if args.db.startswith(("postgresql://", "postgres://")):
            parser.error("a URL as --db needs --meta (the generator's JSON)")
        args.meta = Path(f"{args.db}.json")
    return args


def main(argv: list[str] | None = None) -> int:
    """Measure and print a table (each memory model in its own process)."""
    args = parse_args(argv)
    locations = [args.db] + ([args.postgres] if args.postgres else [])
    memories = ("rules", "model") if args.memory == "both" else (args.memory,)
    if len(memories) > 1:
        # Separate processes, so each peak RSS is that memory model's alone.
        import subprocess

        results = []
        for name in memories:
            out = Path(f"{args.json or '/tmp/system_latency'}.{name}.part")
            cmd = [
                sys.executable,
                "-m",
                "benchmarks.system_latency",
                *_forward(argv),
                "--memory",
                name,
                "--json",
                str(out),
            ]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            results.extend(json.loads(out.read_text())["results"])
            out.unlink()
    else:
        results = asyncio.run(
            measure(locations, args.memory, args.students, args.length, args.seed, args)
        )
    meta = json.loads(Path(args.meta).read_text())
    rows = []
    for result in results:
        for name in ("start quiz", "next item", "answer", "stats"):
            op = result["ops"][name]
            target = TARGETS_MS.get(name)
            sent = result.get("traffic", {}).get(name)
            rows.append(
                [
                    result["database"],
                    result["memory"],
                    name,
                    op["n"],
                    op["p50_ms"],
                    op["p99_ms"],
                    f"≤ {target:g}" if target else "",
                    f"{op['cpu_p50_ms']:.1f} / {op['cpu_p99_ms']:.1f}"
                    if "cpu_p50_ms" in op
                    else "",
                    f"{sent['statements_mean']:.1f} / {sent['round_trips_mean']:.1f}"
                    f" / {sent['hops_mean']:.1f}"
                    if sent
                    else "",
                    f"{sent['round_trips_ms_p50']:.1f} / {sent['round_trips_ms_p99']:.1f}"
                    if sent
                    else "",
                    result["peak_rss_mb"],
                ]
            )
    schema = "as generated" if args.no_migrate else "latest"
    print(
        f"database (schema {schema}): {meta['students']:,} students,"
        f" {meta['attempts']:,} attempts,"
        f" {meta['size_mb']:,.0f} MB; load average {_load()}"
    )
    for result in results:
        if result["server"]:
            settings = ", ".join(f"{k} {v}" for k, v in result["server"].items())
            print(f"PostgreSQL: {settings}")
            break
    print(
        table(
            [
                "database",
                "memory",
                "operation",
                "n",
                "p50 ms",
                "p99 ms",
                "target p99 ms",
                "CPU p50 / p99 ms",
                "statements / round trips / thread calls",
                "in round trips p50 / p99 ms",
                "peak RSS MB",
            ],
            rows,
        )
    )
    write_json(
        args.json,
        {
            "benchmark": "system_latency",
            "database": meta,
            "load_average": os.getloadavg(),
            "results": results,
        },
    )
    return 0


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _forward(argv: list[str] | None) -> list[str]:
    """The caller's options minus those each process gets its own of."""
    given = list(sys.argv[1:] if argv is None else argv)
    kept, skip = [], False
    for arg in given:
        if skip:
            skip = False
            continue
        if arg in ("--memory", "--json"):
            skip = True
            continue
        if arg.startswith(("--memory=", "--json=")):
            continue
        kept.append(arg)
    return kept


if __name__ == "__main__":
    sys.exit(main())
