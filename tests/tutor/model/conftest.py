"""Fixtures: synthetic learner logs and a tiny network trained on them in seconds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tutor.evaluation.logs import LearnerLog
from tutor.model.train import TrainConfig, train
from tutor.model.weights import TrainedWeights

TINY = TrainConfig(
    epochs=10,
    batch_size=4,
    chunk=30,
    lr=1e-2,
    state_size=8,
    hidden=16,
    val_fraction=0.2,
    min_tokens=0,
)


def synthetic_logs(n_learners: int, n_steps: int, seed: int) -> list[LearnerLog]:
    """Learners with an ability, items with a difficulty, and exponential forgetting."""
    n_items = 40
    difficulty = np.random.default_rng(0).normal(0.0, 1.0, n_items)  # same items for every seed
    rng = np.random.default_rng(seed)
    logs = []
    for u in range(n_learners):
        ability = rng.normal(0.0, 1.0)
        t = 1_700_000_000.0
        last_seen: dict[int, float] = {}
        items, ys, ts = [], [], []
        for _ in range(n_steps):
            item = int(rng.integers(n_items))
            t += float(rng.exponential(3_600.0 * 6))
            z = ability - difficulty[item]
            if item in last_seen:
                z += 1.5 - 0.5 * math.log1p((t - last_seen[item]) / 86_400.0)
            y = int(rng.random() < 1.0 / (1.0 + math.exp(-z)))
            last_seen[item] = t
            items.append(item)
            ys.append(y)
            ts.append(t)
        logs.append(
            LearnerLog(
                user=f"u{u}",
                items=np.array(items, dtype=np.int64),
                skills=tuple((i % 5,) for i in items),
                correct=np.array(ys, dtype=np.int8),
                timestamps=np.array(ts, dtype=np.float64),
            )
        )
    return logs


@pytest.fixture(scope="session", autouse=True)
def one_thread() -> None:
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def train_logs() -> list[LearnerLog]:
    return synthetic_logs(30, 60, seed=1)


@pytest.fixture(scope="session")
def tiny_weights(train_logs: list[LearnerLog]) -> TrainedWeights:
    return train([("synthetic", train_logs)], TINY, seed=0, progress=False)
