"""Build a metatutor database at scale through the storage schema, for the other benchmarks.

    .venv/bin/python -m benchmarks.generate_db --scale 10k --out /tmp/mt-10k.sqlite
    .venv/bin/python -m benchmarks.generate_db --students 100000 --items 10000 --decks 20 \\
        --attempts 10000000 --out /tmp/mt-100k.sqlite
    scripts/postgres .venv/bin/python -m benchmarks.generate_db --scale 10k \
        --postgres "$METATUTOR_TEST_POSTGRES" --meta /tmp/mt-10k.pg.json

The schema comes from the real migrations (``Database.open``); ``benchmarks.bulk_load``
inserts the rows in one transaction (SQLite: ``executemany``; PostgreSQL, with ``--postgres
URL``: COPY), with the secondary indexes of the big tables dropped during the load and rebuilt
after it (as a restore would). The same options and seed give the same rows on both. Distributions:

* attempts per student are log-normal (a few heavy users, a long tail of light ones);
* each student is enrolled in 1-3 decks (popular decks more often) and works through a
  prefix of their items, revisiting each a few times;
* answer times are spread from the student's sign-up (up to ``--months`` before ``--now``)
  to ``--now``; correctness follows student ability minus item difficulty;
* ``memory`` rows, ``item_stats`` and ``tag_stats`` are computed from the attempts exactly
  as the service would (expanding intervals: 1 day after a first success, x2.5 per further
  success, ten minutes after a lapse).

Every attempt gets its answered ``questions`` row (outside any session, as the questions
table grows like the log); past quiz sessions are not generated, nor is ``learner_state``
(the latency benchmark replays the students it samples). A sidecar ``<out>.json`` (or
``--meta``) records the parameters, including ``now_ms``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import numpy as np

from benchmarks.bulk_load import Rows, load_postgres, load_sqlite
from benchmarks.common import table, write_json
from storage import Database
from storage.migrations import apply_migrations
from storage.postgres import redacted
from tutor.items import Item, ItemKind

SCALES: dict[str, tuple[int, int]] = {
    "1k": (1_000, 100_000),
    "10k": (10_000, 1_000_000),
    "100k-1m": (100_000, 1_000_000),
    "100k": (100_000, 10_000_000),
}
"""Preset: (students, attempts); items and decks stay at --items / --decks."""

DEFAULT_NOW = datetime(2026, 11, 27, tzinfo=UTC)
TIMEZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Shanghai", "Asia/Kolkata")
FIRST_USER_ID = 100_000_000
LAPSE_DAYS = 10 / (24 * 60)
DAY_MS = 86_400_000
CHUNK = 200_000


def _item(deck: int, position: int, kind: ItemKind, rng: np.random.Generator) -> Item:
    prompt = f"Deck {deck} question {position}: which of these is right?"
    tags = (f"deck{deck:02d}", f"deck{deck:02d}::topic{position % 25:02d}")
    common: dict[str, Any] = {"prompt": prompt, "external_id": f"q{position}", "tags": tags}
    if kind is ItemKind.MULTIPLE_CHOICE:
        return Item(
            kind=kind,
            options=tuple(f"option {k} of {position}" for k in range(4)),
            correct_option=int(rng.integers(4)),
            explanation="Because it is.",
            **common,
        )
    if kind is ItemKind.TRUE_FALSE:
        return Item(kind=kind, correct_option=int(rng.integers(2)), **common)
    if kind is ItemKind.TYPED:
        return Item(kind=kind, accepted=(f"answer {position}",), **common)
    return Item(kind=ItemKind.FLASHCARD, answer=f"back of {position}", **common)


def _kinds(n: int, rng: np.random.Generator) -> list[ItemKind]:
    kinds = [ItemKind.MULTIPLE_CHOICE, ItemKind.TRUE_FALSE, ItemKind.TYPED, ItemKind.FLASHCARD]
    return [kinds[k] for k in rng.choice(4, size=n, p=[0.5, 0.2, 0.15, 0.15])]


def _split(total: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``total`` attempts over ``n`` students, log-normally skewed, summing exactly."""
    weights = rng.lognormal(0.0, 1.2, n)
    counts = np.floor(weights / weights.sum() * total).astype(np.int64)
    short = total - int(counts.sum())
    np.add.at(counts, rng.choice(n, size=short, replace=True, p=weights / weights.sum()), 1)
    return np.asarray(counts, dtype=np.int64)


class Generated:
    """All rows of the big tables as numpy columns (about 25 bytes per attempt)."""

    def __init__(self, args: argparse.Namespace) -> None:
        rng = np.random.default_rng(args.seed)
        self.n_users, self.n_items, self.n_decks = args.students, args.items, args.decks
        self.per_deck = args.items // args.decks
        self.now_ms = int(args.now.timestamp() * 1000)
        span_ms = int(args.months * 30 * DAY_MS)
        self.created = self.now_ms - rng.integers(DAY_MS, span_ms, self.n_users)
        self.ability = rng.normal(0.5, 1.0, self.n_users)
        self.difficulty = rng.normal(0.0, 1.0, self.n_items + 1)
        self.kinds = _kinds(self.n_items, rng)
        popularity = 1.0 / np.arange(1, self.n_decks + 1)
        popularity /= popularity.sum()
        n_enrolled = rng.choice([1, 2, 3], size=self.n_users, p=[0.5, 0.3, 0.2])
        self.enrolled = [
            rng.choice(self.n_decks, size=min(k, self.n_decks), replace=False, p=popularity)
            for k in n_enrolled
        ]
        counts = _split(args.attempts, self.n_users, rng)
        self.per_user = counts
        users, items, times = [], [], []
        for u in range(self.n_users):
            k = int(counts[u])
            if k == 0:
                continue
            decks = self.enrolled[u]
            pool = len(decks) * self.per_deck
            distinct = min(pool, max(1, int(k / rng.uniform(2.0, 6.0))))
            picks = np.concatenate([np.arange(distinct), rng.integers(0, distinct, k - distinct)])
            picks = rng.permutation(picks)
            item = decks[picks // self.per_deck] * self.per_deck + picks % self.per_deck + 1
            start = int(self.created[u])
            when = np.sort(rng.integers(start, self.now_ms - 3_600_000, k))
            users.append(np.full(k, u, np.int32))
            items.append(item.astype(np.int32))
            times.append(when)
        self.user = np.concatenate(users)
        self.item = np.concatenate(items)
        self.ms = np.concatenate(times)
        z = self.ability[self.user] - self.difficulty[self.item] + 1.0
        self.correct = (rng.random(self.user.shape[0]) < 1 / (1 + np.exp(-z))).astype(np.int8)
        self.latency = np.clip(rng.lognormal(8.9, 0.6, self.user.shape[0]), 800, 120_000)
        # The log is in time order across students, as a live bot writes it.
        order = np.argsort(self.ms, kind="stable")
        for name in ("user", "item", "ms", "correct", "latency"):
            setattr(self, name, getattr(self, name)[order])

    def memory_rows(self) -> Iterator[tuple[int, int, int, int, int, int, int, float]]:
        """One row per (student, item) answered, from the attempts in order."""
        order = np.lexsort((self.ms, self.item, self.user))
        u, i, ms, c = self.user[order], self.item[order], self.ms[order], self.correct[order]
        n = u.shape[0]
        index = np.arange(n)
        first = np.ones(n, bool)
        first[1:] = (u[1:] != u[:-1]) | (i[1:] != i[:-1])
        group = np.cumsum(first) - 1
        last = np.ones(n, bool)
        last[:-1] = first[1:]
        run_start = (c == 1) & (first | np.concatenate([[True], c[:-1] == 0]))
        begin = np.maximum.accumulate(np.where(run_start, index, -1))
        streak = np.where(c == 1, index - begin + 1, 0)
        n_correct = np.bincount(group, weights=c).astype(np.int64)
        n_total = np.bincount(group).astype(np.int64)
        ends = index[last]
        interval = np.where(
            streak[ends] > 0,
            np.minimum(2.5 ** (np.maximum(streak[ends], 1) - 1), 365.0),
            LAPSE_DAYS,
        )
        due = ms[ends] + (interval * DAY_MS).astype(np.int64)
        for k in range(ends.shape[0]):
            yield (
                FIRST_USER_ID + int(u[ends[k]]),
                int(i[ends[k]]),
                int(n_correct[k]),
                int(n_total[k] - n_correct[k]),
                int(ms[ends[k]]),
                int(c[ends[k]]),
                int(due[k]),
                float(interval[k]),
            )

    def question_rows(self) -> Iterator[tuple[object, ...]]:
        """The answered question behind each attempt, asked ``latency`` before the answer."""
        for k in range(self.user.shape[0]):
            ms = int(self.ms[k])
            yield (
                k + 1,
                FIRST_USER_ID + int(self.user[k]),
                int(self.item[k]),
                "review",
                ms - int(self.latency[k]),
                ms,
                1,
            )

    def attempt_rows(self) -> Iterator[tuple[object, ...]]:
        """Attempts in time order; idempotency keys sort like ids (cheap unique index)."""
        for k in range(self.user.shape[0]):
            yield (
                k + 1,
                FIRST_USER_ID + int(self.user[k]),
                int(self.item[k]),
                int(self.ms[k]),
                "1" if self.correct[k] else "0",
                int(self.correct[k]),
                int(self.latency[k]),
                f"g{k + 1:010d}",
            )


def _users(gen: Generated, rng: np.random.Generator) -> Iterator[tuple[object, ...]]:
    last_seen = np.array(gen.created)
    np.maximum.at(last_seen, gen.user, gen.ms)
    for u in range(gen.n_users):
        uid = FIRST_USER_ID + u
        daily = f"{int(rng.integers(7, 22)):02d}:00" if rng.random() < 0.3 else None
        yield (
            uid,
            uid,
            f"Student {u}",
            "en" if u % 4 else "zh",
            TIMEZONES[u % len(TIMEZONES)],
            daily,
            1,
            int(gen.created[u]),
            int(last_seen[u]),
        )


TABLES: dict[str, tuple[str, ...]] = {
    "decks": ("id", "slug", "name", "description", "created_ms", "updated_ms"),
    "items": (
        "id",
        "deck_id",
        "external_id",
        "kind",
        "payload",
        "tags",
        "position",
        "created_ms",
        "updated_ms",
    ),
    "users": (
        "id",
        "chat_id",
        "first_name",
        "language",
        "timezone",
        "daily_quiz_time",
        "onboarded",
        "created_ms",
        "last_seen_ms",
    ),
    "enrolments": ("user_id", "deck_id", "enrolled_ms"),
    "attempts": (
        "id",
        "user_id",
        "item_id",
        "answered_ms",
        "response",
        "correct",
        "latency_ms",
        "idempotency_key",
    ),
    "questions": ("id", "user_id", "item_id", "reason", "asked_ms", "answered_ms", "number"),
    "memory": (
        "user_id",
        "item_id",
        "n_correct",
        "n_wrong",
        "last_ms",
        "last_correct",
        "due_ms",
        "interval_days",
    ),
    "item_stats": ("item_id", "attempts", "correct"),
    "tag_stats": ("tag", "attempts", "correct"),
}
"""The tables filled, in load order, with their columns (the same for both databases)."""

BIG_TABLES = ("attempts", "questions", "memory", "users", "enrolments")
"""Their secondary indexes are dropped for the load and built after it."""


def table_rows(gen: Generated, seed: int) -> Iterator[tuple[str, Rows]]:
    """Every table's rows, in :data:`TABLES` order; the same rows for the same ``gen``/seed."""
    rng = np.random.default_rng(seed + 1)
    now = gen.now_ms
    yield (
        "decks",
        [
            (d + 1, f"deck{d:02d}", f"Deck {d:02d}", "generated", now - 400 * DAY_MS, now)
            for d in range(gen.n_decks)
        ],
    )
    item_rows = []
    for d in range(gen.n_decks):
        for p in range(gen.per_deck):
            item_id = d * gen.per_deck + p + 1
            item = _item(d, p, gen.kinds[item_id - 1], rng)
            item_rows.append(
                (
                    item_id,
                    d + 1,
                    item.external_id,
                    item.kind.value,
                    json.dumps(item.to_payload(), ensure_ascii=False, sort_keys=True),
                    " ".join(item.tags),
                    p,
                    now - 400 * DAY_MS,
                    now - 400 * DAY_MS,
                )
            )
    yield "items", item_rows
    yield "users", _users(gen, rng)
    yield (
        "enrolments",
        (
            (FIRST_USER_ID + u, int(d) + 1, int(gen.created[u]) + k)
            for u in range(gen.n_users)
            for k, d in enumerate(gen.enrolled[u])
        ),
    )
    yield "attempts", gen.attempt_rows()
    yield "questions", gen.question_rows()
    yield "memory", gen.memory_rows()
    answers = np.bincount(gen.item, minlength=gen.n_items + 1)
    right = np.bincount(gen.item, weights=gen.correct, minlength=gen.n_items + 1).astype(np.int64)
    yield (
        "item_stats",
        ((i, int(answers[i]), int(right[i])) for i in range(1, gen.n_items + 1) if answers[i]),
    )
    tags: dict[str, list[int]] = {}
    for row in item_rows:
        for tag in str(row[5]).split():
            tally = tags.setdefault(tag, [0, 0])
            tally[0] += int(answers[int(row[0])])
            tally[1] += int(right[int(row[0])])
    yield "tag_stats", ((tag, n, c) for tag, (n, c) in tags.items() if n)


def build(args: argparse.Namespace) -> dict[str, Any]:
    """Generate and load everything; returns timings and sizes."""
    out: Path = args.out
    postgres: str | None = args.postgres
    if postgres is None and out.exists():
        if not args.force:
            raise SystemExit(f"{out} exists (use --force to replace it)")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{out}{suffix}").unlink(missing_ok=True)
    timings: dict[str, Any] = {}
    t0 = time.perf_counter()

    async def migrate() -> None:
        if postgres is not None:
            await (await Database.open(postgres)).close()
            return
        db = await Database.open(out, migrate=False)  # creates the file, owner-only, WAL
        await db.close()
        conn = await aiosqlite.connect(str(out), isolation_level=None)
        try:
            await apply_migrations(conn, target=args.schema_version)
        finally:
            await conn.close()

    asyncio.run(migrate())
    gen = Generated(args)
    timings["generate_s"] = time.perf_counter() - t0
    tables = ((name, TABLES[name], rows) for name, rows in table_rows(gen, args.seed))
    if postgres is not None:
        timings |= load_postgres(postgres, tables, BIG_TABLES)
    else:
        timings |= load_sqlite(out, tables, BIG_TABLES)
        check = sqlite3.connect(out)
        timings["memory_rows"] = int(check.execute("SELECT COUNT(*) FROM memory").fetchone()[0])
        check.close()
        timings["size_mb"] = out.stat().st_size / 1e6
    timings["total_s"] = time.perf_counter() - t0
    info = {
        "out": redacted(postgres) if postgres is not None else str(out),
        "students": gen.n_users,
        "items": gen.n_items,
        "decks": gen.n_decks,
        "attempts": int(gen.user.shape[0]),
        "max_attempts_per_student": int(gen.per_user.max()),
        "median_attempts_per_student": float(np.median(gen.per_user)),
        "now_ms": gen.now_ms,
        "first_user_id": FIRST_USER_ID,
        "seed": args.seed,
        "schema_version": args.schema_version,
    } | timings
    Path(args.meta).write_text(json.dumps(info, indent=2) + "\n")
    return info


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.generate_db",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", choices=sorted(SCALES), help="preset students/attempts")
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--decks", type=int, default=20)
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--months", type=float, default=6.0, help="history span")
    parser.add_argument("--now", type=datetime.fromisoformat, default=DEFAULT_NOW)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--schema-version", type=int, default=None, help="migrate only this far (a baseline)"
    )
    parser.add_argument("--out", type=Path, default=None, help="default /tmp/metatutor-<n>.sqlite")
    parser.add_argument("--force", action="store_true", help="replace an existing file")
    parser.add_argument(
        "--postgres",
        default=None,
        metavar="URL",
        help="fill this empty PostgreSQL database (COPY) instead of an SQLite file",
    )
    parser.add_argument(
        "--meta", type=Path, default=None, help="the parameters' JSON (default <out>.json)"
    )
    parser.add_argument("--json", type=Path, default=None, help="write results here")
    args = parser.parse_args(argv)
    if args.scale:
        args.students, args.attempts = SCALES[args.scale]
    if args.now.tzinfo is None:
        parser.error("--now must carry a timezone (e.g. 2026-11-27T00:00+00:00)")
    if args.out is None:
        args.out = Path(f"/tmp/metatutor-{args.students}-{args.attempts}.sqlite")
    if args.postgres is not None:
        if not args.postgres.startswith(("postgresql://", "postgres://")):
            parser.error("--postgres takes a postgresql:// URL")
        if args.schema_version is not None:
            parser.error("--schema-version is for SQLite files only")
        if args.meta is None:
            parser.error("--postgres needs --meta FILE (where the parameters' JSON goes)")
    args.meta = args.meta or Path(f"{args.out}.json")
    if args.items % args.decks:
        parser.error("--items must be a multiple of --decks")
    return args


def main(argv: list[str] | None = None) -> int:
    """Build the database and print a table."""
    args = parse_args(argv)
    info = build(args)
    print(
        table(
            [
                "students",
                "items",
                "attempts",
                "memory rows",
                "build s",
                "insert s",
                "index s",
                "size MB",
            ],
            [
                [
                    info["students"],
                    info["items"],
                    info["attempts"],
                    info["memory_rows"],
                    info["total_s"],
                    info["insert_s"],
                    info["index_s"],
                    info["size_mb"],
                ]
            ],
        )
    )
    write_json(args.json, {"benchmark": "generate_db", "result": info})
    return 0


if __name__ == "__main__":
    sys.exit(main())
