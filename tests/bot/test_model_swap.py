"""Promoted weights swap into a serving bot without stopping it: the old weights serve while
the new ones load and the states are rebuilt, and no answer given meanwhile is lost."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.operations_model import watch_weights
from bot.preflight import BackgroundModel
from bot.settings import Settings
from storage import Database
from storage import attempts as attempt_rows
from tutor import replay as replay_module
from tutor.learner import ModelMemory
from tutor.model.online import LearnerState
from tutor.model.weights import DEFAULT_WEIGHTS, TrainedWeights
from tutor.model_store import promote
from tutor.replay import replay_all
from tutor.service import TutorService
from tutor.simulation.deployment import START, DeploymentConfig, SimClock, answer_for, generate

SMALL = DeploymentConfig(students=6, items=20, days=3, quiz_length=8, seed=4)
STUDENT = 1000


def _states(path: Path) -> dict[int, tuple[str, LearnerState, str]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT user_id, model_version, state, calibration FROM learner_state"
        ).fetchall()
    return {
        user: (version, LearnerState.from_bytes(state), cal) for user, version, state, cal in rows
    }


def _assert_same(a: LearnerState, b: LearnerState) -> None:
    """Equal states (NaN equal to NaN, whatever its bits)."""
    assert (a.weights_id, a.step, a.u_c, a.u_w) == (b.weights_id, b.step, b.u_c, b.u_w)
    for name in ("h", "item_ids", "items", "tag_ids", "tags"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    np.testing.assert_array_equal(a.u_ema, b.u_ema)


class _Jobs:
    """The JobQueue's part the watch uses: the job it schedules."""

    def __init__(self) -> None:
        self.jobs: list[Any] = []

    def run_repeating(self, callback: Any, **kwargs: Any) -> None:
        self.jobs.append(callback)


class _Application:
    def __init__(self) -> None:
        self.job_queue = _Jobs()


async def _scenario(path: Path) -> tuple[Path, int, list[bool]]:
    service = await generate(path, SMALL)
    await service.db.close()
    settings = Settings(database=path)
    model = BackgroundModel(settings)
    db = await Database.open(path)
    clock = SimClock(START + timedelta(days=SMALL.days + 1))  # whole seconds, as stored
    tutor = TutorService(db, clock=clock, memory=model)
    await model.ready()
    await replay_all(db)  # the states of the bundled weights, as after a start-up replay
    application = _Application()
    watch_weights(application, settings, model, db)
    (check,) = application.job_queue.jobs
    await check(None)  # nothing promoted: nothing happens
    assert model.memory.weights is None

    weights = TrainedWeights.load(DEFAULT_WEIGHTS)
    weights.meta["refit"] = "a promoted candidate"  # other bytes: other weights
    promoted = promote(path, weights, clock.now, {})
    served: list[bool] = []  # which weights served each answer given during the swap

    async def study() -> None:
        question = await tutor.start_quiz(STUDENT, 8)
        while question is not None:
            served.append(model.memory.weights == promoted)
            await tutor.answer(STUDENT, question.id, answer_for(question, True, 3))
            clock.now += timedelta(seconds=20)
            question = await tutor.next_question(STUDENT)

    await asyncio.gather(check(None), study())
    try:
        return promoted, len(served), served
    finally:
        await db.close()


def test_promoted_weights_swap_in_while_students_answer(tmp_path: Path) -> None:
    path = tmp_path / "tutor.sqlite3"
    promoted, answered, served = asyncio.run(_scenario(path))
    # which weights served each answer depends on thread timing; what must hold whatever
    # the interleaving is below
    assert answered > 0 and len(served) == answered
    new_id = hashlib.blake2b(promoted.read_bytes(), digest_size=8).hexdigest()
    live = _states(path)
    assert {version for version, _, _ in live.values()} == {new_id}

    # every answer, those given during the swap too, is in the states: a replay from the
    # log with the new weights gives the very same bytes
    async def replay_again() -> None:
        db = await Database.open(path)
        try:
            await replay_all(db, promoted)
        finally:
            await db.close()

    asyncio.run(replay_again())
    again = _states(path)
    assert again.keys() == live.keys()
    for user, (version, state, calibration) in live.items():
        assert (again[user][0], again[user][2]) == (version, calibration)
        _assert_same(again[user][1], state)


async def _late_answer(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int, bool]:
    service = await generate(path, SMALL)
    await service.db.close()
    db = await Database.open(path)
    other = await Database.open(path)  # a second connection logs an answer meanwhile
    try:
        await replay_all(db)
        clock = SimClock(START + timedelta(days=SMALL.days + 1))
        tutor = TutorService(other, clock=clock, memory=ModelMemory(None))
        question = await tutor.start_quiz(STUDENT, 1)
        assert question is not None
        reads = replay_module._batch
        logged = False

        async def batch_then_answer(conn: Any, after: Any, items: Any) -> Any:
            nonlocal logged
            rows = await reads(conn, after, items)
            if not rows and not conn.in_transaction and not logged:
                # the replay has read the whole log; this answer comes before its last step
                await tutor.answer(STUDENT, question.id, answer_for(question, True, 3))
                logged = True
            return rows

        monkeypatch.setattr(replay_module, "_batch", batch_then_answer)
        weights = TrainedWeights.load(DEFAULT_WEIGHTS)
        weights.meta["refit"] = "a promoted candidate"
        promoted = promote(path, weights, clock.now, {})
        await replay_all(db, promoted, switch=lambda _version: None)
        async with db.read() as conn:
            answers = len(await attempt_rows.user_attempts(conn, STUDENT))
    finally:
        await other.close()
        await db.close()
    return answers, _states(path)[STUDENT][1].step, logged


def test_an_answer_logged_after_the_replays_reads_is_learned_before_the_switch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers, learned, logged = asyncio.run(_late_answer(tmp_path / "tutor.sqlite3", monkeypatch))
    assert logged
    assert learned == answers  # the late answer too
