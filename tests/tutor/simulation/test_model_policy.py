"""Our policy with a learner model in the loop (a stand-in model with the same interface)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from tutor.model.online import AttemptFeatures
from tutor.simulation.bench import run_learner_model_check
from tutor.simulation.model_policy import LearnerModelPolicy
from tutor.simulation.population import People, make_students
from tutor.simulation.runner import exam_scenario, run


class HalfLifeModel:
    """predict/update/new_state like LearnerModel; counts updates."""

    def __init__(self) -> None:
        self.updates = 0

    def new_state(self) -> dict[int, tuple[float, float]]:
        return {}

    def predict(self, state: Any, candidates: Any, now: datetime) -> np.ndarray:
        t = now.timestamp()
        out = []
        for c in candidates:
            if c.item_id not in state:
                out.append(0.5)
            else:
                last, half = state[c.item_id]
                out.append(2.0 ** (-(t - last) / (86400.0 * half)))
        return np.asarray(out, dtype=np.float32)

    def update(self, state: Any, attempt: AttemptFeatures) -> Any:
        self.updates += 1
        i = attempt.item.item_id
        _, half = state.get(i, (0.0, 1.0))
        new = dict(state)
        new[i] = (attempt.timestamp.timestamp(), half * (2.5 if attempt.correct else 0.5))
        return new


def test_learner_model_policy_runs_and_learns_from_answers() -> None:
    people = People.load()
    sc = exam_scenario(6, 5, n_items=40)
    students = make_students(people, 3, sc.n_items, seed=1)
    model = HalfLifeModel()
    made: list[LearnerModelPolicy] = []

    def make(s: int, n: int) -> LearnerModelPolicy:
        made.append(LearnerModelPolicy(model, s, n))
        return made[-1]

    out = run(sc, make, students, "fsrs6", seed=2)
    policy = made[0]
    for s, state in enumerate(policy.states):  # the model saw exactly the items answered
        assert set(state) == set(np.flatnonzero(policy.seen[s]).tolist())
    assert policy.item_n.sum() + 0 <= out.reviews.sum()
    assert model.updates > out.reviews.sum()  # plus the hypothetical answers of exam mode
    assert np.all((out.exam_recall > 0.2) & (out.exam_recall <= 1.0))


def test_learner_model_check_rows() -> None:
    rows = run_learner_model_check(HalfLifeModel(), People.load(), 2, seed=0, quick=True)
    names = {(r.policy, r.metric) for r in rows}
    assert ("metatutor_lm", "exam_recall") in names
    assert ("metatutor_lm", "exam_recall_minus_fsrs_0.9") in names
