"""Promoted weights with several processes on one database: one process rebuilds the learner
states (under the ``weights-rebuild`` lease), the others follow the weights version it
records, and no process on the old weights uses or overwrites a state the new ones built.

Two :class:`Database` objects on one SQLite file or PostgreSQL database stand for two bot
processes, each with its own :class:`BackgroundModel` (as ``metatutor serve`` builds it) and
its model watch (:func:`bot.operations_model.watch_weights`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from bot.operations_model import watch_weights
from bot.preflight import BackgroundModel
from bot.settings import Settings
from storage import Database
from storage import attempts as attempt_rows
from storage import learner_state as state_rows
from storage import model_weights as weights_rows
from storage.learner_state import StoredState
from tests.backends import on_each_backend
from tutor import replay as replay_module
from tutor.model.online import LearnerState
from tutor.model.weights import DEFAULT_WEIGHTS, TrainedWeights
from tutor.model_store import promote
from tutor.replay import replay_all, serving_weights
from tutor.service import TutorService
from tutor.simulation.deployment import START, DeploymentConfig, SimClock, answer_for, generate

SMALL = DeploymentConfig(students=4, items=16, days=2, quiz_length=6, seed=5)
STUDENT = 1000


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """On SQLite and on PostgreSQL (tests/backends.py)."""
    on_each_backend(metafunc)


class _Jobs:
    def __init__(self) -> None:
        self.jobs: list[Callable[[object], Awaitable[None]]] = []

    def run_repeating(self, callback: Any, **kwargs: Any) -> None:
        self.jobs.append(callback)


class _Application:
    """The JobQueue's part the model watch uses."""

    def __init__(self) -> None:
        self.job_queue = _Jobs()


class Process:
    """One bot process: its connection, background model, service and model watch."""

    def __init__(self, db: Database, settings: Settings, clock: SimClock) -> None:
        self.db = db
        self.now = 0.0  # the process's monotonic clock: looks at the version when moved
        self.model = BackgroundModel(settings, follow=True, monotonic=lambda: self.now)
        self.tutor = TutorService(db, clock=clock, memory=self.model)
        application = _Application()
        watch_weights(application, settings, self.model, db)
        (self.check,) = application.job_queue.jobs

    async def answer_one(self, clock: SimClock) -> None:
        question = await self.tutor.start_quiz(STUDENT, 1)
        assert question is not None
        await self.tutor.answer(STUDENT, question.id, answer_for(question, True, 3))
        clock.now += timedelta(seconds=30)


async def stored_state(db: Database) -> tuple[str, int, int]:
    """(weights id, weights version, answers learned) of the student's stored state."""
    async with db.read() as conn:
        stored = await state_rows.get_state(conn, STUDENT)
    assert stored is not None
    return stored.model_version, stored.weights_version, LearnerState.from_bytes(stored.state).step


async def answers(db: Database) -> int:
    async with db.read() as conn:
        return len(await attempt_rows.user_attempts(conn, STUDENT))


async def test_promoted_weights_are_rebuilt_once_and_every_process_follows(
    database_location: Path | str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # PostgreSQL keeps promoted weights in data/ (settings)
    service = await generate(cast(Path, database_location), SMALL)
    await service.db.close()
    settings = Settings(database=database_location)  # type: ignore[call-arg]
    clock = SimClock(START + timedelta(days=SMALL.days + 1))
    first = Process(await Database.open(database_location), settings, clock)
    second = Process(await Database.open(database_location), settings, clock)
    rebuilds: list[Path | None] = []

    async def counted(db: Database, weights: Path | None = None, *args: Any, **kw: Any) -> int:
        rebuilds.append(weights)
        return await replay_all(db, weights, *args, **kw)

    try:
        await asyncio.gather(first.model.ready(), second.model.ready())
        await replay_all(first.db)  # the bundled weights' states, as after a start-up replay
        await first.answer_one(clock)
        await second.answer_one(clock)

        weights = TrainedWeights.load(DEFAULT_WEIGHTS)
        weights.meta["refit"] = "a promoted candidate"  # other bytes: other weights
        promoted = promote(settings.database_file, weights, clock.now, {})
        monkeypatch.setattr(replay_module, "replay_all", counted)
        # both processes' watches see the promotion at the same moment: one rebuild
        await asyncio.gather(first.check(None), second.check(None))
        assert rebuilds == [promoted]
        async with first.db.read() as conn:
            serving = await serving_weights(conn)
        assert serving is not None and serving.path == promoted.resolve()
        rebuilt, behind = (
            (first, second) if first.model.memory.weights == promoted else (second, first)
        )
        assert rebuilt.model.memory.version == serving.version
        new_id = rebuilt.model.memory.load().weights_id
        assert await stored_state(first.db) == (new_id, serving.version, await answers(first.db))

        # Within its second between looks, the process still on the old weights gets an
        # answer: it neither uses the new state nor overwrites it; it follows at once.
        await behind.answer_one(clock)
        version, stored_version, _ = await stored_state(first.db)
        assert (version, stored_version) == (new_id, serving.version)
        assert behind.model.following is not None
        await behind.model.following
        assert behind.model.memory.weights == promoted.resolve()
        assert behind.model.memory.version == serving.version
        # its next answer first learns the one it gave while following: none is lost
        await behind.answer_one(clock)
        assert await stored_state(first.db) == (new_id, serving.version, await answers(first.db))
        # and its watch, a minute later, finds nothing to rebuild
        behind.now += 60
        await behind.check(None)
        assert rebuilds == [promoted]
    finally:
        await first.db.close()
        await second.db.close()


async def test_weights_that_do_not_load_here_leave_the_rules_serving_and_are_retried(
    database_location: Path | str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.chdir(tmp_path)
    service = await generate(cast(Path, database_location), SMALL)
    await service.db.close()
    settings = Settings(database=database_location)  # type: ignore[call-arg]
    clock = SimClock(START + timedelta(days=SMALL.days + 1))
    process = Process(await Database.open(database_location), settings, clock)
    try:
        await process.model.ready()
        await replay_all(process.db)
        # another machine's process rebuilt the states with weights this one cannot open
        async with process.db.transaction() as conn:
            await weights_rows.record(conn, 2, "elsewhere", str(tmp_path / "gone.pt"), 0)
            await state_rows.put_state(conn, STUDENT, StoredState("elsewhere", b"?", None, 2), 0)
        process.now += 2
        question = await process.tutor.start_quiz(STUDENT, 1)  # served by the rules
        assert question is not None
        failed = process.model.following
        assert failed is not None
        await failed
        assert "cannot load the weights other processes serve" in caplog.text
        await process.answer_one(clock)  # still the rules: no load per request
        assert process.model.following is failed
        async with process.db.read() as conn:
            kept = await state_rows.get_state(conn, STUDENT)
        assert kept == StoredState("elsewhere", b"?", None, 2)  # not overwritten
        process.now += 61
        await process.answer_one(clock)
        assert process.model.following is not failed  # tried again after a minute
        await cast(asyncio.Task[None], process.model.following)
    finally:
        await process.db.close()
