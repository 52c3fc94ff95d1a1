"""Synthetic learner logs for the evaluation tests (seeded, no shared data needed)."""

from __future__ import annotations

import numpy as np
import pytest

from tutor.evaluation.logs import LearnerLog

DAY = 86_400.0


def make_learner(
    user: str, n: int, *, seed: int, n_items: int = 30, timed: bool = True
) -> LearnerLog:
    """A learner whose success depends on the item and on practice, with review gaps."""
    rng = np.random.default_rng(seed)
    items = rng.integers(0, n_items, size=n).astype(np.int64)
    skills = tuple((int(i) % 5, 100 + int(i) % 3) if i % 4 == 0 else (int(i) % 5,) for i in items)
    seen: dict[int, int] = {}
    correct = np.zeros(n, dtype=np.int8)
    for t, i in enumerate(items.tolist()):
        k = seen.get(i, 0)
        p = 1 / (1 + np.exp(-(0.3 * k + (i % 7 - 3) * 0.4)))
        correct[t] = rng.random() < p
        seen[i] = k + 1
    gaps = rng.choice([60.0, 600.0, DAY, 2 * DAY, 5 * DAY], size=n)
    ts = 1.7e9 + np.cumsum(gaps) if timed else None
    grades = np.where(correct == 1, rng.choice([2, 3, 4], size=n), 1).astype(np.int8)
    return LearnerLog(
        user=user,
        items=items,
        skills=skills,
        correct=correct,
        timestamps=ts,
        grades=grades if timed else None,
        durations_ms=rng.uniform(1000, 9000, size=n) if timed else None,
    )


@pytest.fixture
def train_logs() -> list[LearnerLog]:
    return [make_learner(f"u{k}", 60 + 7 * k, seed=k) for k in range(12)]


@pytest.fixture
def test_log() -> LearnerLog:
    return make_learner("target", 80, seed=99)
