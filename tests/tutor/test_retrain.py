"""``metatutor train --from-db``: the deployment's own students as training data, judged on
a held-out fifth of them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.cli import main
from bot.heartbeat import Heartbeat, heartbeat_path
from bot.operations_model import (
    promote_and_replay,
    schedule_weekly_refit,
    weekly_refit,
    with_active_weights,
)
from bot.settings import Settings
from storage import Database
from tutor.model.weights import DEFAULT_WEIGHTS, TrainedWeights
from tutor.model_store import active_weights, models_dir
from tutor.retrain import (
    MIN_ANSWERS,
    Figures,
    Refit,
    RefitError,
    check_size,
    read_logs,
    split_students,
)
from tutor.simulation.deployment import DeploymentConfig, generate

SMALL = DeploymentConfig(students=10, items=30, days=6, quiz_length=10, seed=1)


async def _generate(path: Path, config: DeploymentConfig = SMALL) -> None:
    service = await generate(path, config)
    await service.db.close()


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small generated deployment's database, named by the settings."""
    path = tmp_path / "tutor.sqlite3"
    asyncio.run(_generate(path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("METATUTOR_MODEL", raising=False)
    monkeypatch.setenv("METATUTOR_DATABASE", str(path))
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def _logs(path: Path) -> list:  # type: ignore[type-arg]
    db = await Database.open_read_only(path)
    try:
        return await read_logs(db)
    finally:
        await db.close()


def test_each_student_becomes_one_log_with_what_the_service_sees(deployment: Path) -> None:
    logs = asyncio.run(_logs(deployment))
    assert sorted(int(log.user) for log in logs) == [1000 + s for s in range(SMALL.students)]
    with sqlite3.connect(deployment) as conn:
        n = conn.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
        kinds = dict(conn.execute("SELECT id, kind FROM items").fetchall())
    assert sum(len(log) for log in logs) == n
    for log in logs:
        assert log.timestamps is not None and np.all(np.diff(log.timestamps) >= 0)
        assert log.n_options is not None and log.self_graded is not None
        for item, options, graded in zip(log.items, log.n_options, log.self_graded, strict=True):
            flashcard = kinds[int(item)] == "flashcard"
            assert (int(options), bool(graded)) == ((0, True) if flashcard else (4, False))


def test_a_seeded_fifth_of_the_students_is_held_out(deployment: Path) -> None:
    logs = asyncio.run(_logs(deployment))
    train, held = split_students(logs, seed=3)
    assert len(held) == 2 and len(train) == 8
    assert {log.user for log in held}.isdisjoint(log.user for log in train)
    again = split_students(list(reversed(logs)), seed=3)[1]
    assert [log.user for log in again] == [log.user for log in held]
    assert [log.user for log in split_students(logs, seed=4)[1]] != [log.user for log in held]


def test_too_few_answers_say_how_many_are_needed() -> None:
    with pytest.raises(RefitError, match=f"no answers yet; at least {MIN_ANSWERS} answers"):
        check_size([])


def test_out_writes_the_candidate_and_changes_nothing_else(
    deployment: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _digest(deployment)
    out = tmp_path / "trial" / "candidate.pt"
    assert main(["train", "--from-db", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "| held out | 2 |" in printed
    assert "| current |" in printed and "| candidate (" in printed
    assert "| fine-tuned |" in printed and "| from scratch |" in printed
    assert TrainedWeights.load(out).meta["deployment"]["students"] == SMALL.students
    assert _digest(deployment) == before
    assert not models_dir(deployment).exists()


def test_an_empty_database_gets_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("METATUTOR_DATABASE", str(tmp_path / "empty.sqlite3"))
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["train", "--from-db"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("metatutor: the database has no answers yet; at least 500 answers")
    assert err.count("\n") == 1


def test_a_missing_database_gets_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("METATUTOR_DATABASE", str(tmp_path / "nowhere.sqlite3"))
    assert main(["train", "--from-db"]) == 1
    err = capsys.readouterr().err
    assert "nowhere.sqlite3" in err and err.count("\n") == 1
    assert not (tmp_path / "nowhere.sqlite3").exists()


def _result(current: Figures, candidate: Figures) -> Refit:
    weights = TrainedWeights.load(DEFAULT_WEIGHTS)
    return Refit(8, 400, 2, 100, current, candidate, weights, True, {"fine-tuned": 0.4})


def test_better_means_a_lower_log_loss_and_an_auc_not_lower() -> None:
    cur = Figures(log_loss=0.50, auc=0.70)
    assert _result(cur, Figures(0.49, 0.70)).better
    assert not _result(cur, Figures(0.49, 0.69)).better  # lower loss, worse ranking
    assert not _result(cur, Figures(0.50, 0.75)).better  # better ranking, same loss
    assert not _result(cur, Figures(0.51, 0.80)).better


def _settings(database: Path) -> Settings:
    return Settings(database=database)


def test_promotion_writes_the_weights_beside_the_database_and_rebuilds_the_states(
    deployment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(deployment)
    result = _result(Figures(0.5, 0.7), Figures(0.4, 0.8))
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert asyncio.run(promote_and_replay(settings, result, now)) == 0
    assert "rebuilt the learner state of 10 students" in capsys.readouterr().out
    active = active_weights(deployment)
    assert active is not None and active.parent == models_dir(deployment)
    assert active.parent.parent == deployment.parent  # beside the database, not the package
    record = json.loads((models_dir(deployment) / "active.json").read_text())
    assert record["promoted"] == now.isoformat() and record["candidate"]["log_loss"] == 0.4
    card = (models_dir(deployment) / "model_card.md").read_text()
    assert "## Refit on this deployment's students, 2026-12-01 00:00 UTC" in card
    assert "Data: 8 students (400 answers) trained the candidate" in card
    assert "2 held-out students (100 answers)" in card
    assert "| serving | 0.5000 | 0.7000 |\n| candidate | 0.4000 | 0.8000 |" in card
    assert "Decision: promoted" in card
    weights_id = hashlib.blake2b(active.read_bytes(), digest_size=8).hexdigest()
    with sqlite3.connect(deployment) as conn:
        versions = {row[0] for row in conn.execute("SELECT model_version FROM learner_state")}
    assert versions == {weights_id}
    # every process that opens this database now serves the promoted weights
    assert with_active_weights(settings).model_path == active
    assert with_active_weights(Settings(database=deployment, model_path=DEFAULT_WEIGHTS)) \
        .model_path == DEFAULT_WEIGHTS  # fmt: skip


def test_a_running_bot_is_left_to_swap_the_weights_itself(
    deployment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    Heartbeat(heartbeat_path(deployment)).beat("reminders", at=now - timedelta(seconds=50))
    result = _result(Figures(0.5, 0.7), Figures(0.4, 0.8))
    assert asyncio.run(promote_and_replay(_settings(deployment), result, now)) == 0
    assert "the running bot loads it and rebuilds the learner states" in capsys.readouterr().out
    assert active_weights(deployment) is not None
    with sqlite3.connect(deployment) as conn:  # the command rebuilt nothing under the bot
        assert conn.execute("SELECT COUNT(*) FROM learner_state").fetchone() == (0,)


def test_a_running_bot_pinned_to_a_weights_file_is_not_promoted_under(
    deployment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    Heartbeat(heartbeat_path(deployment)).beat("reminders", at=now - timedelta(seconds=50))
    result = _result(Figures(0.5, 0.7), Figures(0.4, 0.8))
    pinned = Settings(database=deployment, model_path=DEFAULT_WEIGHTS)
    assert asyncio.run(promote_and_replay(pinned, result, now)) == 1
    assert "serves METATUTOR_MODEL: keep the candidate with --out" in capsys.readouterr().err
    assert active_weights(deployment) is None
    # a heartbeat from long ago is a stopped bot: promoted, and the states rebuilt
    later = now + timedelta(hours=1)
    assert asyncio.run(promote_and_replay(_settings(deployment), result, later)) == 0
    assert "rebuilt the learner state of 10 students" in capsys.readouterr().out


class _Jobs:
    def __init__(self) -> None:
        self.jobs: list[tuple[str, timedelta]] = []

    def run_repeating(self, _callback: object, **kwargs: Any) -> None:
        self.jobs.append((kwargs["name"], kwargs["interval"]))


class _Application:
    def __init__(self) -> None:
        self.job_queue = _Jobs()


def test_the_weekly_refit_is_off_unless_set(deployment: Path) -> None:
    off, on = _Application(), _Application()
    schedule_weekly_refit(off, _settings(deployment))
    schedule_weekly_refit(on, Settings(database=deployment, retrain_weekly=True))
    assert off.job_queue.jobs == []
    assert on.job_queue.jobs == [("weekly-refit", timedelta(days=7))]


def test_a_weekly_refit_writes_the_card_and_promotes_only_a_better_candidate(
    deployment: Path,
) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    settings = Settings(database=deployment, retrain_weekly=True)
    promoted = asyncio.run(weekly_refit(settings, now))
    card = (models_dir(deployment) / "model_card.md").read_text()
    assert "## Refit on this deployment's students, 2026-12-01 00:00 UTC" in card
    assert ("Decision: promoted" in card) == promoted
    assert (active_weights(deployment) is not None) == promoted


def test_a_weekly_refit_of_a_small_database_is_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def empty() -> None:
        db = await Database.open(tmp_path / "empty.sqlite3")
        await db.close()

    asyncio.run(empty())
    settings = Settings(database=tmp_path / "empty.sqlite3", retrain_weekly=True)
    with caplog.at_level(logging.INFO, logger="bot.model"):
        assert not asyncio.run(weekly_refit(settings, datetime(2026, 12, 1, tzinfo=UTC)))
    assert "weekly refit skipped: the database has no answers yet" in caplog.text
    assert not models_dir(tmp_path / "empty.sqlite3").exists()


class _Callbacks:
    def __init__(self) -> None:
        self.callbacks: list[Any] = []

    def run_repeating(self, callback: Any, **_: Any) -> None:
        self.callbacks.append(callback)


def test_two_processes_on_one_database_refit_once_a_week(deployment: Path) -> None:
    settings = Settings(database=deployment, retrain_weekly=True)
    refits: list[datetime] = []

    async def refit(_settings: Settings, now: datetime) -> bool:
        refits.append(now)
        return False

    async def weeks() -> None:
        first, second = await Database.open(deployment), await Database.open(deployment)
        try:
            for _ in range(2):  # both a week after their start; then both restarted
                jobs = []
                for db in (first, second):
                    application = _Application()
                    application.job_queue = _Callbacks()  # type: ignore[assignment]
                    schedule_weekly_refit(application, settings, db, refit=refit)
                    jobs += application.job_queue.callbacks  # type: ignore[attr-defined]
                await asyncio.gather(*(job(None) for job in jobs))
        finally:
            await first.close()
            await second.close()

    asyncio.run(weeks())
    assert len(refits) == 1
