"""Baseline: Elo rating of item difficulty and learner ability (Pelánek 2016)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from tutor.evaluation.baselines._common import logit, mean_correct
from tutor.evaluation.logs import FloatArray, LearnerLog


class Elo:
    """``P(correct) = sigmoid(ability - difficulty)``, both updated online.

    Training runs the Elo updates over the training learners (``passes`` times) with the
    uncertainty function ``K(n) = alpha / (1 + beta * n)`` of the number of updates so far.
    At test time the item difficulties are frozen (unseen items start at the prior that
    yields the global mean) and each test learner's ability starts at 0 and is updated
    after every answer, from that learner's own earlier answers only.
    """

    name = "elo"

    def __init__(self, alpha: float = 1.0, beta: float = 0.05, passes: int = 2) -> None:
        self.alpha = alpha
        self.beta = beta
        self.passes = passes
        self.b0 = 0.0
        self.difficulty: dict[int, float] = {}

    def _k(self, n: int) -> float:
        return self.alpha / (1.0 + self.beta * n)

    def fit(self, train: Sequence[LearnerLog], *, seed: int) -> None:
        """Run Elo over the training learners to estimate item difficulties."""
        self.b0 = -logit(mean_correct(train))
        diff: dict[int, float] = {}
        seen: dict[int, int] = {}
        for _ in range(self.passes):
            for log in train:
                theta = 0.0
                for n, (item, ok) in enumerate(
                    zip(log.items.tolist(), log.correct.tolist(), strict=True)
                ):
                    b = diff.get(item, self.b0)
                    p = 1.0 / (1.0 + math.exp(b - theta))
                    m = seen.get(item, 0)
                    theta += self._k(n) * (ok - p)
                    diff[item] = b - self._k(m) * (ok - p)
                    seen[item] = m + 1
        self.difficulty = diff

    def predict(self, learner: LearnerLog) -> FloatArray:
        """Predict each attempt, then update the learner's ability with its outcome."""
        out = np.empty(len(learner))
        theta = 0.0
        get = self.difficulty.get
        for n, (item, ok) in enumerate(
            zip(learner.items.tolist(), learner.correct.tolist(), strict=True)
        ):
            p = 1.0 / (1.0 + math.exp(get(item, self.b0) - theta))
            out[n] = p
            theta += self._k(n) * (ok - p)
        return out
