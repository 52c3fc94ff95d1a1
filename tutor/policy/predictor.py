"""What the policy needs from a learner model: recall predictions at chosen times."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

import numpy as np

from tutor.policy.types import FloatArray, IntArray, to_seconds


@runtime_checkable
class RecallPredictor(Protocol):
    """P(recall) of a student's items at future times, from the model's current state.

    Times are Unix seconds. ``recall_after_review`` answers "if the student reviewed these items
    at ``review_at``, what would recall be at ``at``", once for a right and once for a wrong
    answer; a never-seen item counts as introduced at ``review_at``.
    """

    def recall_at(self, items: IntArray, at: FloatArray) -> FloatArray: ...

    def recall_after_review(
        self, items: IntArray, review_at: float, at: float
    ) -> tuple[FloatArray, FloatArray]: ...


def expected_recall_after_review(
    predictor: RecallPredictor, items: IntArray, review_at: float, at: float
) -> FloatArray:
    """Recall at ``at`` averaged over the outcome of a review at ``review_at``."""
    p_now = predictor.recall_at(items, np.full(items.shape[0], review_at))
    right, wrong = predictor.recall_after_review(items, review_at, at)
    return p_now * right + (1.0 - p_now) * wrong


def due_times(
    predictor: RecallPredictor,
    items: IntArray,
    now: datetime,
    target: float,
    horizon: timedelta = timedelta(days=365),
    steps: int = 40,
) -> FloatArray:
    """When each item's predicted recall falls below ``target`` (Unix seconds, bisection).

    Items already below target are due ``now``; items still above it at ``now + horizon`` get
    the horizon. Recall is assumed to fall monotonically between reviews.
    """
    lo = np.full(items.shape[0], to_seconds(now))
    hi = lo + horizon.total_seconds()
    below_now = predictor.recall_at(items, lo) < target
    above_end = predictor.recall_at(items, hi) >= target
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        below = predictor.recall_at(items, mid) < target
        hi = np.where(below, mid, hi)
        lo = np.where(below, lo, mid)
    out = hi.copy()
    out[below_now] = to_seconds(now)
    out[above_end & ~below_now] = to_seconds(now) + horizon.total_seconds()
    return out
