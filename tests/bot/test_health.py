"""``metatutor health`` and the JobQueue heartbeat it reads."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import cli
from bot.fake_telegram.api import FakeBotApi
from bot.health import REMINDER_JOB, check_health
from bot.heartbeat import Heartbeat, heartbeat_path, install_heartbeat, read_heartbeat
from bot.settings import Settings
from storage import Database
from tests.conftest import FakeClock


def _settings(database: Path, **values: Any) -> Settings:
    return Settings(_env_file=None, database=database, **values)  # type: ignore[call-arg]


class _Model:
    weights_id = "abc123"


def _loader(path: Path | None) -> _Model:
    return _Model()


async def _migrated(path: Path) -> None:
    db = await Database.open(path)
    await db.close()


async def test_healthy_when_database_heartbeat_and_model_are_fine(
    tmp_path: Path, clock: FakeClock
) -> None:
    database = tmp_path / "m.sqlite3"
    await _migrated(database)
    Heartbeat(heartbeat_path(database), clock).beat(REMINDER_JOB)
    clock.advance(seconds=30)
    report = check_health(_settings(database), clock=clock, model_loader=_loader)
    assert report.ok, report.to_text()
    body = json.loads(report.to_json())
    checks = {c["name"]: c for c in body["checks"]}
    assert checks["database"]["data"]["schema_version"] >= 2
    assert checks["database"]["data"]["quick_check"] == "ok"
    assert checks["scheduler"]["data"]["age_seconds"] == 30.0
    assert checks["model"]["data"]["weights_id"] == "abc123"


def test_missing_database_is_reported_not_created(tmp_path: Path) -> None:
    database = tmp_path / "absent" / "m.sqlite3"
    report = check_health(_settings(database), skip=["scheduler"], model_loader=_loader)
    assert not report.ok
    assert "does not exist" in report.checks[0].detail
    assert not database.parent.exists()


def test_corrupt_database_fails(tmp_path: Path) -> None:
    database = tmp_path / "m.sqlite3"
    database.write_bytes(b"this is not a database" * 100)
    report = check_health(_settings(database), skip=["scheduler", "model"])
    assert not report.ok
    assert "not a database" in report.checks[0].detail


async def test_damaged_pages_fail_quick_check(tmp_path: Path) -> None:
    database = tmp_path / "m.sqlite3"
    db = await Database.open(database)
    async with db.transaction() as conn:
        await conn.execute("CREATE TABLE filler (x TEXT)")
        await conn.executemany("INSERT INTO filler VALUES (?)", [("x" * 500,)] * 400)
    await db.close()
    data = bytearray(database.read_bytes())
    page = 4096
    for offset in range(page * 3, len(data) - page, page):
        data[offset + 8 : offset + 64] = b"\xff" * 56  # scribble over b-tree page headers
    database.write_bytes(bytes(data))
    report = check_health(_settings(database), skip=["scheduler", "model"])
    assert not report.ok
    assert report.checks[0].data["quick_check"] != "ok" or "cannot read" in report.checks[0].detail


async def test_old_schema_fails_with_the_fix(tmp_path: Path) -> None:
    database = tmp_path / "m.sqlite3"
    db = await Database.open(database, migrate=False)
    await db.close()
    report = check_health(_settings(database), skip=["scheduler", "model"])
    assert not report.ok
    assert "metatutor db upgrade" in report.checks[0].detail


async def test_stale_or_failed_reminder_job_fails(tmp_path: Path, clock: FakeClock) -> None:
    database = tmp_path / "m.sqlite3"
    await _migrated(database)
    beat = Heartbeat(heartbeat_path(database), clock)
    beat.beat(REMINDER_JOB)
    clock.advance(minutes=10)
    stale = check_health(_settings(database), skip=["model"], clock=clock)
    assert not stale.ok and "600 s ago" in stale.checks[1].detail
    beat.beat(REMINDER_JOB, ok=False, error="OperationalError")
    failed = check_health(_settings(database), skip=["model"], clock=clock)
    assert not failed.ok and "OperationalError" in failed.checks[1].detail
    fresh = check_health(
        _settings(database), skip=["model"], clock=clock, max_job_age=timedelta(hours=1)
    )
    assert not fresh.ok  # still the failed run


def test_heartbeat_file_is_owner_only(tmp_path: Path, clock: FakeClock) -> None:
    path = heartbeat_path(tmp_path / "m.sqlite3")
    Heartbeat(path, clock).beat("reminders")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_heartbeat(path)["reminders"]["ok"] is True
    path.write_text("{broken")
    assert read_heartbeat(path) == {}


@pytest.mark.parametrize("content", [None, b"", b"garbage" * 100, b"PK\x03\x04truncated zip"])
def test_missing_or_corrupt_weights_fail_clearly(tmp_path: Path, content: bytes | None) -> None:
    weights = tmp_path / "weights.pt"
    if content is not None:
        weights.write_bytes(content)
    database = tmp_path / "m.sqlite3"
    report = check_health(_settings(database, model_path=weights), skip=["database", "scheduler"])
    assert not report.ok
    assert report.checks[0].detail.startswith("weights do not load:")
    assert str(weights) in report.checks[0].detail or "weights" in report.checks[0].detail


async def test_jobqueue_runs_write_the_heartbeat(tmp_path: Path) -> None:
    database = tmp_path / "m.sqlite3"
    application = FakeBotApi().application_builder().build()
    install_heartbeat(application, database)
    ran = asyncio.Event()

    async def job(context: Any) -> None:
        ran.set()

    async def broken(context: Any) -> None:
        raise RuntimeError("job failed")

    assert application.job_queue is not None
    async with application:
        await application.start()
        # Scheduled once the scheduler runs: a run time already past by more than the
        # misfire grace (1 s, a slow start on a loaded machine) would be skipped.
        application.job_queue.run_repeating(job, interval=60, first=0.01, name=REMINDER_JOB)
        application.job_queue.run_once(broken, 0.01, name="once")
        await asyncio.wait_for(ran.wait(), 5)
        for _ in range(100):
            jobs = read_heartbeat(heartbeat_path(database))
            if REMINDER_JOB in jobs and "once" in jobs:
                break
            await asyncio.sleep(0.02)
        await application.stop()
    jobs = read_heartbeat(heartbeat_path(database))
    assert jobs[REMINDER_JOB]["ok"] is True
    assert jobs["once"] == {"at": jobs["once"]["at"], "ok": False, "error": "RuntimeError"}


def test_reminder_job_name_matches_the_reminder_module() -> None:
    reminders = pytest.importorskip("bot.reminders")
    assert reminders.JOB_NAME == REMINDER_JOB


async def test_cli_health_exit_codes_and_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "m.sqlite3"
    await _migrated(database)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("METATUTOR_DATABASE", str(database))
    monkeypatch.setenv("METATUTOR_MODEL", str(tmp_path / "missing.pt"))
    code = await asyncio.to_thread(cli.main, ["health", "--json", "--skip", "scheduler"])
    body = json.loads(capsys.readouterr().out)
    assert code == 1 and body["ok"] is False
    assert [c["name"] for c in body["checks"]] == ["database", "model"]
    assert body["checks"][0]["ok"] is True
    code = await asyncio.to_thread(cli.main, ["health", "--skip", "scheduler", "--skip", "model"])
    assert code == 0
    assert capsys.readouterr().out.strip().endswith("healthy")
