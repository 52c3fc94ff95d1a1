"""The demonstration of issue 18's refit: a deployment whose students forget faster than the
bundled weights assume, refitted by ``metatutor train --from-db``, predicts its held-out
students better and schedules the same answers' reviews sooner."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest

from bot.cli import main
from tutor.model_store import active_weights, models_dir
from tutor.simulation.deployment import DeploymentConfig, generate, probe

FAST = DeploymentConfig(students=16, items=40, days=10, quiz_length=12, speed=8.0, seed=2)


async def _generate(path: Path, config: DeploymentConfig) -> None:
    service = await generate(path, config)
    await service.db.close()


def test_fast_forgetters_get_a_better_model_and_sooner_reviews(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "tutor.sqlite3"
    asyncio.run(_generate(database, FAST))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("METATUTOR_MODEL", raising=False)
    monkeypatch.setenv("METATUTOR_DATABASE", str(database))
    before = asyncio.run(probe(database, None, tmp_path))

    assert main(["train", "--from-db", "--quiet"]) == 0
    assert "promoted" in capsys.readouterr().out
    promoted = active_weights(database)
    assert promoted is not None
    record = json.loads((models_dir(database) / "active.json").read_text())
    assert record["candidate"]["log_loss"] < record["current"]["log_loss"]

    # the same scripted answers of a new student: the refitted model expects them to be
    # forgotten sooner, and the service brings them back sooner
    after = asyncio.run(probe(database, promoted, tmp_path))
    assert after.recall_week < before.recall_week
    assert np.mean(after.intervals) < np.mean(before.intervals)
