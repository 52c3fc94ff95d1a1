"""The learner-model adapter answers the policy's questions through predict/update."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from tutor.model.online import AttemptFeatures, CandidateFeatures
from tutor.policy import due_times
from tutor.policy.model_adapter import LearnerModelPredictor


class FakeState:
    def __init__(self, last: dict[int, float], half: dict[int, float]) -> None:
        self.last, self.half = last, half


class FakeModel:
    """Half-life curves; a right answer doubles the half-life, a wrong one halves it."""

    def predict(self, state: Any, candidates: Any, now: datetime) -> np.ndarray:
        t = now.timestamp()
        out = []
        for c in candidates:
            last = state.last.get(c.item_id)
            out.append(
                0.0 if last is None else 2.0 ** (-(t - last) / (86400 * state.half[c.item_id]))
            )
        return np.asarray(out, dtype=np.float32)

    def update(self, state: Any, attempt: AttemptFeatures) -> Any:
        i = attempt.item.item_id
        half = dict(state.half)
        half[i] = half.get(i, 1.0) * (2.0 if attempt.correct else 0.5)
        last = {**state.last, i: attempt.timestamp.timestamp()}
        return FakeState(last, half)


def test_adapter_predictions_and_hypothetical_reviews() -> None:
    now = datetime(2026, 2, 1, 12, tzinfo=UTC)
    t = now.timestamp()
    state = FakeState({1: t - 86400, 2: t - 2 * 86400}, {1: 1.0, 2: 4.0})
    cands = [CandidateFeatures(item_id=i) for i in (1, 2, 3)]
    pred = LearnerModelPredictor(FakeModel(), state, cands)  # type: ignore[arg-type]
    items = np.array([1, 2, 3])
    p = pred.recall_at(items, np.array([t, t, t]))
    assert np.allclose(p, [0.5, 2**-0.5, 0.0], atol=1e-6)
    later = pred.recall_at(np.array([1, 1]), np.array([t, t + 86400]))
    assert later[1] < later[0]
    right, wrong = pred.recall_after_review(items, t, t + 86400)
    assert np.allclose(right, [2**-0.5, 2**-0.125, 2**-0.5], atol=1e-6)
    assert np.all(wrong < right)
    assert state.half == {1: 1.0, 2: 4.0}  # the learner's state is untouched
    due = due_times(pred, np.array([2]), now - timedelta(days=2), 0.9)[0]
    assert abs(due - (t - 2 * 86400 + 4 * 86400 * np.log2(1 / 0.9))) < 1.0
    assert replace(cands[0], item_id=9).item_id == 9
