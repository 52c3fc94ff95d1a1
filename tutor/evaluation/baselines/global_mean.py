"""Baseline: the training learners' overall success rate, for every attempt."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tutor.evaluation.baselines._common import mean_correct
from tutor.evaluation.logs import FloatArray, LearnerLog


class GlobalMean:
    """Predicts the mean correctness of the training learners."""

    name = "global_mean"

    def __init__(self) -> None:
        self.mean = 0.5

    def fit(self, train: Sequence[LearnerLog], *, seed: int) -> None:
        """Store the training mean."""
        self.mean = mean_correct(train)

    def predict(self, learner: LearnerLog) -> FloatArray:
        """The same probability for every attempt."""
        return np.full(len(learner), self.mean)
