"""`metatutor import` in another process while the bot serves the same database file.

A student keeps answering while the command line imports a large deck: answers are stored
between the import's steps (seen by the order of events, not by timing). The first import
is killed with SIGKILL midway: students never see any of it, and the next import deletes
what it left. The second runs to the end and the deck appears whole.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from storage import Database
from storage.imports import BUILD_PREFIX
from tests.tutor.test_service import right_answer
from tutor.service import TutorConfig, TutorService

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ROWS = 60_000
STUDENT = 100


def _big_csv(path: Path) -> None:
    rows = "".join(f"h{k},Huge question {k}?,answer {k},Huge\n" for k in range(ROWS))
    path.write_text("id,question,answer,deck\n" + rows)


def _cli_import(csv: Path, database: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "METATUTOR_"))}
    env["METATUTOR_DATABASE"] = str(database)
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "import", str(csv)],
        cwd=csv.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _build_rows(database: Path) -> int:
    """Rows the import in progress has built so far (0 before it starts and after it ends)."""
    with sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True, timeout=10) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM items i JOIN decks d ON d.id = i.deck_id"
            " WHERE d.slug >= ? AND d.slug < ?",
            (BUILD_PREFIX, BUILD_PREFIX[:-1] + "."),
        ).fetchone()
    return int(row[0])


async def _answer_one(service: TutorService) -> None:
    question = await service.open_question(STUDENT) or await service.start_quiz(STUDENT, 50)
    assert question is not None
    await service.answer(STUDENT, question.id, right_answer(question))


async def _live_decks(service: TutorService) -> list[tuple[str, int]]:
    return [(info.deck.name, info.n_items) for info in await service.decks()]


async def test_the_bot_serves_while_another_process_imports_and_a_killed_import_leaves_nothing(
    tmp_path: Path,
) -> None:
    database = tmp_path / "tutor.sqlite3"
    csv = tmp_path / "huge.csv"
    _big_csv(csv)
    db = await Database.open(database)
    try:
        service = TutorService(db, config=TutorConfig(default_quiz_length=50))
        await (
            service.install_bundled_decks()
        )  # as the bot does at start (the import's are then current)
        lines = [f"q{k},Question {k}?,answer {k}" for k in range(40)]
        await service.import_file(("id,question,answer\n" + "\n".join(lines)).encode(), "s.csv")
        await service.register(STUDENT, STUDENT, "Ada", "en")
        await service.enrol(STUDENT, "s")
        before = await _live_decks(service)

        # 1. Killed midway: answers are served while it builds; then SIGKILL.
        importing = _cli_import(csv, database)
        progress: list[int] = []  # build rows seen after each answer stored meanwhile
        while importing.poll() is None and len(set(progress) - {0}) < 4:
            await _answer_one(service)
            progress.append(_build_rows(database))
            assert await _live_decks(service) == before  # nothing of the import shows
        assert importing.poll() is None, importing.communicate()
        importing.send_signal(signal.SIGKILL)
        importing.wait()
        served = [rows for rows in progress if rows > 0]
        assert len(set(served)) >= 4  # answers stored between at least four import steps
        assert 0 < _build_rows(database) < ROWS  # left behind, hidden
        assert await _live_decks(service) == before

        # 2. Run to the end: served meanwhile again, the deck appears whole, the leftover goes.
        importing = _cli_import(csv, database)
        answered_during = 0
        while importing.poll() is None:
            await _answer_one(service)
            answered_during += 1
            decks = sorted(await _live_decks(service))
            assert decks in (sorted(before), sorted([*before, ("Huge", ROWS)]))
        out, err = importing.communicate()
        assert importing.returncode == 0, err
        assert f"{ROWS} added" in out.decode()
        assert answered_during >= 3
        assert sorted(await _live_decks(service)) == sorted([*before, ("Huge", ROWS)])
        assert _build_rows(database) == 0
        async with db.read() as conn:
            rows = await conn.execute_fetchall("SELECT COUNT(*) FROM decks WHERE slug >= '~'")
            assert next(iter(rows))[0] == 0
            rows = await conn.execute_fetchall(
                "SELECT COUNT(*) FROM attempts WHERE user_id = ?", (STUDENT,)
            )
            assert next(iter(rows))[0] == len(progress) + answered_during
    finally:
        await db.close()
