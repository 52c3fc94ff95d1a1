"""Fixtures for the policy tests: a deterministic forgetting-curve predictor and a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from tutor.policy.types import SECONDS_PER_DAY, FloatArray, IntArray


class HalfLifePredictor:
    """Recall ``2 ** (-elapsed / half_life)``; a review doubles (right) or halves (wrong) it."""

    def __init__(self, last: dict[int, float], half_life_days: dict[int, float]) -> None:
        self.last = last
        self.half = half_life_days

    def _curve(self, item: int, t: float, last: float, half: float) -> float:
        if np.isnan(last):
            return 0.0
        return float(2.0 ** (-max(t - last, 0.0) / (half * SECONDS_PER_DAY)))

    def recall_at(self, items: IntArray, at: FloatArray) -> FloatArray:
        return np.array(
            [
                self._curve(
                    int(i), float(t), self.last.get(int(i), np.nan), self.half.get(int(i), 1.0)
                )
                for i, t in zip(items, at, strict=True)
            ]
        )

    def recall_after_review(
        self, items: IntArray, review_at: float, at: float
    ) -> tuple[FloatArray, FloatArray]:
        right = [
            self._curve(int(i), at, review_at, 2.0 * self.half.get(int(i), 1.0)) for i in items
        ]
        wrong = [
            self._curve(int(i), at, review_at, max(0.25, 0.5 * self.half.get(int(i), 1.0)))
            for i in items
        ]
        return np.array(right), np.array(wrong)


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
