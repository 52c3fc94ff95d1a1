"""Large imports in a worker process: the same report, the same errors, nothing parsed here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ServiceFactory
from tutor import library
from tutor.errors import ContentRejected, UnknownDeck
from tutor.service import TutorService


@pytest.fixture
async def via_worker(
    service_factory: ServiceFactory, monkeypatch: pytest.MonkeyPatch
) -> TutorService:
    """A service that hands every file to a worker process (and cannot parse one itself)."""

    def not_here(*args: object) -> None:
        raise AssertionError("parsed in the bot's process")

    monkeypatch.setattr(library, "parse_upload", not_here)
    return await service_factory(worker_import_bytes=1)


# The worker process reopens the SQLite file; on PostgreSQL imports run in-process.
@pytest.mark.sqlite_only
async def test_a_worker_imports_updates_and_audits_like_the_service(
    via_worker: TutorService,
) -> None:
    rows = "".join(f"w{k},Question {k}?,answer {k},Workers\n" for k in range(50))
    data = ("id,question,answer,deck\n" + rows).encode()
    report = await via_worker.import_file(data, "workers.csv", actor_id=7)
    assert (report.deck.name, report.added, report.updated) == ("Workers", 50, 0)
    (info,) = await via_worker.decks()
    assert (info.deck.id, info.n_items) == (report.deck.id, 50)
    again = await via_worker.import_file(data.replace(b"answer 3,", b"answer three,"), "w.csv")
    assert (again.deck.id, again.added, again.updated, again.unchanged) == (info.deck.id, 0, 1, 49)
    async with via_worker.db.read() as conn:
        rows_ = await conn.execute_fetchall("SELECT actor_id, action FROM audit_log")
    assert [tuple(row) for row in rows_] == [(7, "import")]


# The worker process reopens the SQLite file; on PostgreSQL imports run in-process.
@pytest.mark.sqlite_only
async def test_a_workers_errors_arrive_whole(via_worker: TutorService) -> None:
    with pytest.raises(ContentRejected) as refused:
        await via_worker.import_file(b"Which planet is red? Mars\n", "long.txt")
    assert refused.value.params["cause"] == "not_anki_notes"
    assert refused.value.params["filename"] == "long.txt"
    assert "does not look like an Anki notes export" in str(refused.value)
    with pytest.raises(UnknownDeck) as unknown:
        await via_worker.import_file(b"question,answer\nA?,a\n", "a.csv", deck_name="deck_42")
    assert unknown.value.params["deck"] == "deck_42"
    assert await via_worker.decks() == []


PARENT = """
import asyncio, pathlib, sys
from tutor.import_worker import ImportJob, import_in_worker
data = pathlib.Path(sys.argv[2]).read_bytes()
asyncio.run(import_in_worker(ImportJob(sys.argv[1], data, "huge.csv", None, None, 10**9)))
"""


def _bot_importing(database: Path, csv: Path) -> subprocess.Popen[bytes]:
    """A process standing in for the bot, importing ``csv`` through a worker."""
    return subprocess.Popen([sys.executable, "-c", PARENT, str(database), str(csv)])


@pytest.mark.slow
# The worker process reopens the SQLite file; on PostgreSQL imports run in-process.
@pytest.mark.sqlite_only
async def test_a_worker_stops_when_the_bot_is_killed_and_publishes_nothing(
    service: TutorService, db_path: Path, tmp_path: Path
) -> None:
    import asyncio
    import sqlite3

    from storage.imports import BUILD_PREFIX
    from tutor.deck_store import _alive

    csv = tmp_path / "huge.csv"
    rows = "".join(f"h{k},Huge question {k}?,answer {k},Huge\n" for k in range(60_000))
    csv.write_text("id,question,answer,deck\n" + rows)
    bot = _bot_importing(db_path, csv)

    def build() -> tuple[str, int] | None:
        with sqlite3.connect(f"{db_path.as_uri()}?mode=ro", uri=True, timeout=10) as conn:
            row = conn.execute(
                "SELECT d.slug, COUNT(i.id) FROM decks d JOIN items i ON i.deck_id = d.id"
                " WHERE d.slug >= ? AND d.slug < ? GROUP BY d.id",
                (BUILD_PREFIX, BUILD_PREFIX[:-1] + "."),
            ).fetchone()
        return (str(row[0]), int(row[1])) if row else None

    try:
        for _ in range(600):
            found = build()
            if found is not None or bot.poll() is not None:
                break
            await asyncio.sleep(0.05)
        assert found is not None and bot.poll() is None, "the worker never started building"
    finally:
        bot.kill()
        bot.wait()
    worker = int(found[0].rpartition("@")[0].rpartition("-")[2])
    for _ in range(200):  # it notices within PARENT_CHECK_S
        if not _alive(worker):
            break
        await asyncio.sleep(0.05)
    assert not _alive(worker)
    left = build()
    assert left is not None and left[1] < 60_000
    assert await service.decks() == []  # nothing of it ever shows
    await service.import_file(b"question,answer\nA?,a\n", "small.csv")
    assert build() is None  # the dead worker's build is deleted by the next import
    assert [info.deck.name for info in await service.decks()] == ["small"]
