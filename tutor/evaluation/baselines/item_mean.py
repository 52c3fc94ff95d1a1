"""Baseline: each item's success rate among the training learners."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tutor.evaluation.baselines._common import mean_correct
from tutor.evaluation.logs import FloatArray, LearnerLog


class ItemMean:
    """Per-item mean with a Beta prior centred on the global mean.

    ``p(item) = (correct + k * mean) / (attempts + k)`` over the training learners, so an
    item never seen in training gets the global mean.
    """

    name = "item_mean"

    def __init__(self, prior_strength: float = 5.0) -> None:
        self.k = prior_strength
        self.mean = 0.5
        self.table: dict[int, float] = {}

    def fit(self, train: Sequence[LearnerLog], *, seed: int) -> None:
        """Count attempts and successes per item."""
        self.mean = mean_correct(train)
        if not train:
            self.table = {}
            return
        items = np.concatenate([log.items for log in train])
        correct = np.concatenate([log.correct for log in train]).astype(np.float64)
        uniq, inverse = np.unique(items, return_inverse=True)
        tries = np.bincount(inverse)
        hits = np.bincount(inverse, weights=correct)
        rate = (hits + self.k * self.mean) / (tries + self.k)
        self.table = dict(zip(uniq.tolist(), rate.tolist(), strict=True))

    def predict(self, learner: LearnerLog) -> FloatArray:
        """Look every attempt's item up; unseen items get the global mean."""
        get = self.table.get
        return np.array([get(i, self.mean) for i in learner.items.tolist()], dtype=np.float64)
