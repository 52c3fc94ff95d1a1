"""The learner-model adapter answers the policy's questions through predict/update."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

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


class PlainModel:
    """A learner model seen only through ``predict`` and ``update`` (the adapter's fallback)."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, state: Any, candidates: Any, now: datetime) -> Any:
        return self.model.predict(state, candidates, now)

    def update(self, state: Any, attempt: AttemptFeatures) -> Any:
        return self.model.update(state, attempt)


def test_fast_adapter_answers_as_the_plain_calls() -> None:
    """predict_at and predict_after_answer give what predict per time and update + predict do."""
    from tests.tutor.model.test_scoring import random_candidates, random_weights, walk
    from tutor.model.online import LearnerModel

    model = LearnerModel(random_weights(21, use_state=True), "adapter")
    rng = np.random.default_rng(21)
    cands = random_candidates(rng, 80)
    cands = list({c.item_id: c for c in cands}.values())  # one candidate per item
    state = walk(model, cands, rng, 200)
    t = datetime(2026, 9, 1, tzinfo=UTC).timestamp()
    ids = np.array([c.item_id for c in cands])
    for batch in (None, model.prepare(cands)):
        fast = LearnerModelPredictor(model, state, cands, batch)
        plain = LearnerModelPredictor(PlainModel(model), state, cands, batch)  # type: ignore[arg-type]
        items = np.r_[ids, ids[:5], np.full(20, ids[7])]
        at = np.r_[np.full(ids.shape[0], t), np.full(5, t + 86400.0), t + np.geomspace(1, 3e7, 20)]
        np.testing.assert_allclose(fast.recall_at(items, at), plain.recall_at(items, at), atol=5e-6)
        some = ids[rng.integers(0, ids.shape[0], 30)]
        for got, want in zip(
            fast.recall_after_review(some, t, t + 14 * 86400.0),
            plain.recall_after_review(some, t, t + 14 * 86400.0),
            strict=True,
        ):
            np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5)
    with pytest.raises(KeyError):
        fast.recall_at(np.array([10**9]), np.array([t]))
    empty = fast.recall_after_review(np.zeros(0, np.int64), t, t)
    assert empty[0].shape == empty[1].shape == (0,)
