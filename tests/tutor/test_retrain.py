"""``metatutor train --from-db``: the deployment's own students as training data, judged on
a held-out fifth of them."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import numpy as np
import pytest

from bot.cli import main
from storage import Database
from tutor.model.weights import TrainedWeights
from tutor.model_store import models_dir
from tutor.retrain import MIN_ANSWERS, RefitError, check_size, read_logs, split_students
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
    import sqlite3

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
    assert "| current |" in printed and "| candidate (fine-tuned) |" in printed
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
