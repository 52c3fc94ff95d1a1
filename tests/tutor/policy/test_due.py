"""next_due: two grid calls against the exact bisection on the logarithm of the gap."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tests.tutor.model.test_scoring import random_candidates, random_weights, walk
from tutor.model.online import LearnerModel
from tutor.policy.due import NEXT_DUE_HORIZON_S, NEXT_DUE_MIN_S, next_due
from tutor.policy.model_adapter import LearnerModelPredictor
from tutor.policy.predictor import RecallPredictor
from tutor.policy.types import FloatArray, IntArray

from .conftest import HalfLifePredictor

NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)


def bisection(predictor: RecallPredictor, item_id: int, now: datetime, target: float) -> datetime:
    """The exact answer: 30 halvings of [1 min, 1 year] on a log scale."""
    items = np.array([item_id])
    start = now.timestamp()

    def recall(gap: float) -> float:
        return float(predictor.recall_at(items, np.array([start + gap]))[0])

    if recall(0.0) < target:
        return now
    if recall(NEXT_DUE_HORIZON_S) >= target:
        return now + timedelta(seconds=NEXT_DUE_HORIZON_S)
    lo, hi = NEXT_DUE_MIN_S, NEXT_DUE_HORIZON_S
    for _ in range(30):
        mid = math.sqrt(lo * hi)
        lo, hi = (lo, mid) if recall(mid) < target else (mid, hi)
    return now + timedelta(seconds=hi)


class Counting:
    """A predictor that counts its ``recall_at`` calls."""

    def __init__(self, inner: RecallPredictor) -> None:
        self.inner = inner
        self.calls = 0

    def recall_at(self, items: IntArray, at: FloatArray) -> FloatArray:
        self.calls += 1
        return self.inner.recall_at(items, at)

    def recall_after_review(
        self, items: IntArray, review_at: float, at: float
    ) -> tuple[FloatArray, FloatArray]:
        return self.inner.recall_after_review(items, review_at, at)


def assert_close(predictor: RecallPredictor, item_id: int, target: float) -> None:
    counting = Counting(predictor)
    got = next_due(counting, item_id, NOW, target)
    want = bisection(predictor, item_id, NOW, target)
    gap = (want - NOW).total_seconds()
    assert abs((got - want).total_seconds()) <= max(0.001 * gap, 1e-3), (got, want)
    assert counting.calls <= 2


@pytest.mark.parametrize("half_life", [0.0005, 0.02, 0.7, 3.0, 45.0, 200.0])
@pytest.mark.parametrize("target", [0.5, 0.8, 0.9, 0.97])
def test_grid_matches_bisection_on_forgetting_curves(half_life: float, target: float) -> None:
    t = NOW.timestamp()
    predictor = HalfLifePredictor({1: t - 3600.0}, {1: half_life})
    assert_close(predictor, 1, target)


def test_below_target_now_and_never_below() -> None:
    t = NOW.timestamp()
    predictor = HalfLifePredictor({1: t - 30 * 86400.0, 2: t}, {1: 1.0, 2: 1e6})
    assert next_due(predictor, 1, NOW, 0.9) == NOW
    assert next_due(predictor, 2, NOW, 0.9) == NOW + timedelta(seconds=NEXT_DUE_HORIZON_S)
    assert next_due(predictor, 3, NOW, 0.9) == NOW  # never seen: recall 0


@pytest.mark.parametrize("seed", [1, 3])  # random networks that do forget
def test_grid_matches_bisection_on_the_learner_model(seed: int) -> None:
    model = LearnerModel(random_weights(seed, use_state=True), "due")
    rng = np.random.default_rng(seed)
    cands = random_candidates(rng, 40)
    state = walk(model, cands, rng, 200)
    predictor = LearnerModelPredictor(model, state, cands)
    start = NOW.timestamp()
    ids = [c.item_id for c in cands]
    p0 = predictor.recall_at(np.array(ids), np.full(len(ids), start))
    p1 = predictor.recall_at(np.array(ids), np.full(len(ids), start + NEXT_DUE_HORIZON_S))
    crossing = 0
    for k, item_id in enumerate(ids):
        for target in (0.3, 0.6, 0.85, 0.95):
            assert_close(predictor, item_id, target)
            crossing += p0[k] >= target > p1[k]
    assert crossing >= 2  # some items do cross the target inside the horizon


def test_grid_matches_bisection_on_the_shipped_model() -> None:
    model = LearnerModel.load()
    rng = np.random.default_rng(4)
    cands = random_candidates(rng, 30)
    state = walk(model, cands, rng, 150)
    predictor = LearnerModelPredictor(model, state, cands)
    for cand in cands:
        for target in (0.7, 0.9):
            assert_close(predictor, cand.item_id, target)
