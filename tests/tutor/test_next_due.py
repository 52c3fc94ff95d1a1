"""next_due: the quick path (rough recalls in a few calls) gives the step-by-step answer."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np

from tutor.learner import next_due
from tutor.policy.types import FloatArray, IntArray

NOW = datetime(2026, 5, 1, tzinfo=UTC)


class Curve:
    """Exponential forgetting; ``rough_recall_at`` adds a small error, like float rounding."""

    def __init__(self, half_life_s: float, noise: float = 1e-7, rough: bool = True) -> None:
        self.half_life_s = half_life_s
        self.noise = noise
        self.exact_calls = 0
        self.rough_calls = 0
        if not rough:
            self.rough_recall_at = None  # type: ignore[assignment]

    def _p(self, at: FloatArray) -> FloatArray:
        return np.asarray(2.0 ** (-(at - NOW.timestamp()) / self.half_life_s), dtype=np.float64)

    def recall_at(self, items: IntArray, at: FloatArray) -> FloatArray:
        self.exact_calls += 1
        return self._p(at)

    def recall_after_review(
        self, items: IntArray, review_at: float, at: float
    ) -> tuple[FloatArray, FloatArray]:
        raise NotImplementedError

    def rough_recall_at(self, item_id: int, at: FloatArray) -> FloatArray | None:
        self.rough_calls += 1
        rng = np.random.default_rng(int(at.shape[0]))
        return self._p(at) + rng.uniform(-self.noise, self.noise, at.shape[0])


def test_quick_answers_equal_the_step_by_step_ones_with_few_exact_calls() -> None:
    for half_life in (30.0, 3_600.0, 86_400.0 * 3.3, 86_400.0 * 40, 86_400.0 * 5_000):
        for target in (0.7, 0.9, 0.97):
            quick, slow = Curve(half_life), Curve(half_life, rough=False)
            assert next_due(quick, 1, NOW, target) == next_due(slow, 1, NOW, target)
            assert slow.exact_calls in (1, 2, 16)
            assert quick.exact_calls <= 2 and quick.rough_calls <= 2


def test_rough_recalls_that_mislead_fall_back_to_the_exact_steps() -> None:
    # Errors of 0.05 send the rough path astray; the exact check catches it.
    for half_life in (86_400.0 * 2, 86_400.0 * 9):
        misled, slow = Curve(half_life, noise=0.05), Curve(half_life, rough=False)
        assert next_due(misled, 1, NOW, 0.9) == next_due(slow, 1, NOW, 0.9)
        assert misled.exact_calls > 2  # the quick answer was refused
    exact_due = NOW + timedelta(seconds=86_400.0 * 9 * math.log2(1 / 0.9))
    found = next_due(Curve(86_400.0 * 9), 1, NOW, 0.9)
    assert abs((found - exact_due).total_seconds()) <= 0.001 * 86_400 * 9
