"""Helpers shared by the baselines."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tutor.evaluation.logs import FloatArray, LearnerLog


def sigmoid(x: FloatArray | float) -> FloatArray:
    """Logistic function (numerically safe)."""
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64))))


def logit(p: float) -> float:
    """Inverse of :func:`sigmoid`, with ``p`` kept inside (1e-6, 1 - 1e-6)."""
    q = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(q / (1 - q)))


def mean_correct(train: Sequence[LearnerLog], default: float = 0.5) -> float:
    """Fraction of correct attempts over all training learners."""
    total = sum(len(log) for log in train)
    if total == 0:
        return default
    return float(sum(int(log.correct.sum()) for log in train) / total)


def first_attempt_mean(train: Sequence[LearnerLog], default: float) -> float:
    """Success rate on a learner's first attempt at an item, over the training learners."""
    hits = tries = 0
    for log in train:
        _, first = np.unique(log.items, return_index=True)
        hits += int(log.correct[first].sum())
        tries += len(first)
    return hits / tries if tries else default
