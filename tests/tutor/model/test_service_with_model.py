"""The tutor service on the learner model: a new student's questions follow their answers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from storage import Database
from storage import attempts as attempt_rows
from storage import learner_state as state_rows
from tests.conftest import FakeClock
from tests.tutor.conftest import sample_deck_bytes
from tutor.items import Grade, ItemKind
from tutor.learner import ModelMemory
from tutor.model.weights import TrainedWeights
from tutor.policy.calibration import CalibratedPredictor, RecallCalibration
from tutor.replay import replay_all
from tutor.service import TutorService
from tutor.views import Answer, ChoiceReason, Question

RIGHT, WRONG = 1, 2


@pytest.fixture
def weights_file(tiny_weights: TrainedWeights, tmp_path: Path) -> Path:
    path = tmp_path / "weights.pt"
    tiny_weights.save(path)
    return path


@pytest.fixture
async def tutor(db: Database, clock: FakeClock, weights_file: Path) -> TutorService:
    """A service on the learner model, the sample deck, and two new students enrolled."""
    service = TutorService(db, clock=clock, seed=3, memory=ModelMemory(weights_file))
    await service.import_file(sample_deck_bytes(), "sample.json")
    for user in (RIGHT, WRONG):
        await service.register(user, user, f"student {user}", "en")
        await service.enrol(user, "sample")
    return service


def answer_for(question: Question, right: bool) -> Answer:
    item = question.item
    if item.kind in (ItemKind.MULTIPLE_CHOICE, ItemKind.TRUE_FALSE):
        index = question.choices.index(item.correct_text)
        return Answer(choice=index if right else (index + 1) % len(question.choices))
    if item.kind is ItemKind.TYPED:
        return Answer(text=item.accepted[0] if right else "no idea")
    return Answer(grade=Grade.GOOD if right else Grade.AGAIN)


async def study(service: TutorService, user: int, n: int, right: bool) -> list[Question]:
    asked = []
    question = await service.start_quiz(user, n)
    while question is not None:
        asked.append(question)
        await service.answer(user, question.id, answer_for(question, right))
        question = await service.next_question(user)
    return asked


async def test_questions_follow_each_new_students_answers(tutor: TutorService) -> None:
    # Day one: both students meet new items (a quarter of the daily goal of 20 may be new);
    # one knows them, one does not.
    first_right = await study(tutor, RIGHT, 6, right=True)
    first_wrong = await study(tutor, WRONG, 6, right=False)
    assert [q.reason for q in first_right][:5] == [ChoiceReason.NEW] * 5
    # A missed item comes back within the session for the student who missed it.
    assert ChoiceReason.RELEARN in {q.reason for q in first_wrong}

    # The model now believes different things about the two students...
    stats_right = await tutor.stats(RIGHT)
    stats_wrong = await tutor.stats(WRONG)
    recall_right = {r.tag: r.recall for r in stats_right.recall_by_tag}
    recall_wrong = {r.tag: r.recall for r in stats_wrong.recall_by_tag}
    assert recall_right and recall_right.keys() == recall_wrong.keys()
    assert all(recall_right[tag] > recall_wrong[tag] for tag in recall_right)

    # ...and schedules them differently: the struggling student's items come back sooner.
    async with (
        tutor.db.read() as conn,
        conn.execute(
            "SELECT user_id, AVG(due_ms) FROM memory GROUP BY user_id ORDER BY user_id"
        ) as cur,
    ):
        due = dict(await cur.fetchall())
    assert due[WRONG] < due[RIGHT]


async def test_each_answer_updates_the_stored_learner_state(tutor: TutorService) -> None:
    await study(tutor, RIGHT, 2, right=True)
    async with (
        tutor.db.read() as conn,
        conn.execute("SELECT user_id, length(state) FROM learner_state") as cur,
    ):
        rows = dict(await cur.fetchall())
    assert list(rows) == [RIGHT] and rows[RIGHT] > 0


async def test_replay_rebuilds_the_same_states(
    tutor: TutorService, clock: FakeClock, weights_file: Path
) -> None:
    await study(tutor, RIGHT, 4, right=True)
    await study(tutor, WRONG, 4, right=False)  # relearned items: answered twice
    clock.advance(days=2)
    await study(tutor, WRONG, 4, right=False)
    read_states = "SELECT user_id, state, calibration FROM learner_state ORDER BY user_id"
    read_memory = "SELECT user_id, item_id, previous_ms FROM memory ORDER BY user_id, item_id"
    read_tallies = [
        "SELECT item_id, attempts, correct, resid_sum, var_sum FROM item_stats ORDER BY item_id",
        "SELECT tag, attempts, correct, resid_sum, var_sum FROM tag_stats ORDER BY tag",
        "SELECT id, answers, answers_correct FROM users ORDER BY id",
    ]

    async def read_all(queries: list[str]) -> list[list[tuple[object, ...]]]:
        async with tutor.db.read() as conn:
            return [[tuple(row) for row in await conn.execute_fetchall(q)] for q in queries]

    live, live_memory = await read_all([read_states, read_memory])
    live_tallies = await read_all(read_tallies)
    assert any(previous is not None for _, _, previous in live_memory)
    assert RecallCalibration.from_json(live[1][2]).answers > 0
    items, tags, students = live_tallies
    assert students == [(RIGHT, 4, 4), (WRONG, 8, 0)]
    # the residual sums were kept live: before their k-th answer the RIGHT student's p is
    # (k + 1) / (k + 2), the WRONG student's 1 / (k + 2); residuals 1 / (k + 2) and -1 / (k + 2)
    assert all(var > 0 for *_, var in items) and all(var > 0 for *_, var in tags)
    assert sum(row[3] for row in items) == pytest.approx(
        sum(1 / (k + 2) for k in range(4)) - sum(1 / (k + 2) for k in range(8))
    )
    async with tutor.db.transaction() as conn:
        await conn.execute("DELETE FROM learner_state")
        await conn.execute("UPDATE memory SET previous_ms = NULL")  # as rows before version 7
        # as tallies before version 8
        await conn.execute("UPDATE item_stats SET resid_sum = 0, var_sum = 0")
        await conn.execute("UPDATE tag_stats SET resid_sum = 0, var_sum = 7")
        await conn.execute("UPDATE users SET answers = 0, answers_correct = 0")
    assert await replay_all(tutor.db, weights_file) == 2
    rebuilt, rebuilt_memory = await read_all([read_states, read_memory])
    assert rebuilt == live
    assert rebuilt_memory == live_memory
    assert await read_all(read_tallies) == live_tallies


async def test_a_forgetful_students_predictions_are_recalibrated(
    tutor: TutorService, clock: FakeClock, weights_file: Path
) -> None:
    # Day one the student knows every item; three days later they have forgotten them all.
    await study(tutor, WRONG, 6, right=True)
    clock.advance(days=3)
    again = await study(tutor, WRONG, 6, right=False)
    assert any(q.reason is not ChoiceReason.NEW for q in again)
    async with tutor.db.read() as conn:
        stored = await state_rows.get_state(conn, WRONG)
        items = await tutor._quizzes.items.enrolled(conn, WRONG)
        seen = await attempt_rows.memory_of(conn, WRONG, [i.id for i in items])
        calibrated = await tutor.memory.predictor(conn, WRONG, items)
        raw = await ModelMemory(weights_file, calibrate=False).predictor(conn, WRONG, items)
    assert stored is not None and stored.calibration is not None
    assert RecallCalibration.from_json(stored.calibration).answers > 0
    assert isinstance(calibrated, CalibratedPredictor)
    # Three days on, the student's own record says their items are likelier forgotten than
    # the shared model alone predicts.
    ids = np.array([m.item_id for m in seen])
    later = np.full(ids.shape[0], (clock() + timedelta(days=3)).timestamp())
    assert np.all(calibrated.recall_at(ids, later) < raw.recall_at(ids, later))


async def test_an_unreadable_calibration_starts_afresh(
    tutor: TutorService, clock: FakeClock
) -> None:
    await study(tutor, WRONG, 4, right=False)
    async with tutor.db.transaction() as conn:
        await conn.execute("UPDATE learner_state SET calibration = 'not json'")
    clock.advance(days=1)
    assert len(await study(tutor, WRONG, 2, right=True)) == 2
    async with tutor.db.read() as conn:
        stored = await state_rows.get_state(conn, WRONG)
    assert stored is not None and stored.calibration is not None
    assert RecallCalibration.from_json(stored.calibration).answers <= 2


async def test_a_new_students_predictions_follow_the_deployments_base_rate(
    tutor: TutorService, clock: FakeClock, weights_file: Path
) -> None:
    # The deck is new to the model and to every student; what the deployment's students
    # answered so far (the tallies in users) sets the base rate its inputs are relative to.
    async def recall(answers: int, correct: int) -> np.ndarray:
        async with tutor.db.transaction() as conn:
            await conn.execute(
                "UPDATE users SET answers = ?, answers_correct = ? WHERE id = ?",
                (answers, correct, WRONG),
            )
        async with tutor.db.read() as conn:
            items = await tutor._quizzes.items.enrolled(conn, RIGHT)
            predictor = await ModelMemory(weights_file).predictor(conn, RIGHT, items)
        ids = np.array([item.id for item in items])
        return predictor.recall_at(ids, np.full(ids.shape[0], clock().timestamp()))

    bundled = await recall(0, 0)  # no answers yet: the weights' own rate
    struggling = await recall(5000, 1000)
    strong = await recall(5000, 4500)
    assert np.all(struggling < bundled) and np.all(bundled < strong)


async def test_replay_learns_with_the_deployments_base_rate(
    tutor: TutorService, weights_file: Path
) -> None:
    await study(tutor, RIGHT, 4, right=True)
    await study(tutor, WRONG, 4, right=False)

    async def replayed_states(answers: int, correct: int) -> list[bytes]:
        async with tutor.db.transaction() as conn:  # the totals the replay starts from
            await conn.execute(
                "UPDATE users SET answers = ?, answers_correct = ? WHERE id = ?",
                (answers, correct, WRONG),
            )
        assert await replay_all(tutor.db, weights_file) == 2
        async with tutor.db.read() as conn:
            rows = await conn.execute_fetchall("SELECT state FROM learner_state ORDER BY user_id")
        return [bytes(row[0]) for row in rows]

    struggling = await replayed_states(5000, 1000)
    strong = await replayed_states(5000, 4500)
    assert struggling != strong
    assert await replayed_states(0, 0) != struggling  # few answers: the weights' own rate
