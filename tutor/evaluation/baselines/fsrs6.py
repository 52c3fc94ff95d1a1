"""Baselines: FSRS-6 with default parameters, and with parameters optimised per learner."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tutor.evaluation.baselines._common import first_attempt_mean, mean_correct
from tutor.evaluation.baselines.fsrs_batch import (
    default_parameters,
    fit_parameters,
    group_cards,
    predict_cards,
)
from tutor.evaluation.logs import FloatArray, LearnerLog

# New-user split: refit after this many attempts, then after twice as many, and so on.
FIRST_REFIT = 500


def _inputs(learner: LearnerLog) -> tuple[np.ndarray, np.ndarray]:
    if learner.timestamps is None or learner.grades is None:
        raise ValueError(f"FSRS needs timestamps and grades (learner {learner.user})")
    return learner.grades.astype(np.int64), learner.timestamps


def _retrievability(params: Sequence[float], learner: LearnerLog, fallback: float) -> FloatArray:
    grades, ts = _inputs(learner)
    cards = group_cards(learner.items, grades, ts)
    ret = predict_cards(params, cards)
    out = np.full(len(learner), fallback)
    mask = cards.mask & ~np.isnan(ret)
    out[cards.index[mask]] = ret[mask]
    return np.asarray(np.clip(out, 1e-4, 1 - 1e-4), dtype=np.float64)


class FSRS6Default:
    """FSRS-6 memory model of the ``fsrs`` package with its default parameters.

    Retrievability before each review comes from the card's own earlier reviews (package
    equations, see :mod:`fsrs_batch`); a review less than a whole day after the previous one
    gets the forgetting curve at the fractional elapsed time (the package reports 1.0). A
    card's first review has no memory state: it gets the training learners' success rate on
    first reviews. Predictions are clipped to [1e-4, 1 - 1e-4].
    """

    name = "fsrs6_default"

    def __init__(self) -> None:
        self.first = 0.5

    def fit(self, train: Sequence[LearnerLog], *, seed: int) -> None:
        """Only the first-review rate is learned from the training learners."""
        self.first = first_attempt_mean(train, mean_correct(train))

    def predict(self, learner: LearnerLog) -> FloatArray:
        """Default-parameter retrievability before every review."""
        return _retrievability(default_parameters(), learner, self.first)


class FSRS6PerUser(FSRS6Default):
    """FSRS-6 with parameters fitted to each test learner's own earlier reviews.

    Under a time split (``split_points`` set), the attempts of chunk ``j`` are predicted
    with parameters fitted on every attempt before the chunk starts, as srs-benchmark does
    (defaults before the first chunk, which is not scored). Under the new-user split the
    learner has no earlier data: defaults are used for the first 500 attempts, then the
    parameters are refitted on all earlier attempts after 500, 1000, 2000, ... attempts.
    The fit follows the package optimizer's recipe (:func:`fsrs_batch.fit_parameters`),
    which keeps the defaults below 512 reviews a day or more after the previous one.
    """

    name = "fsrs6_user"

    def __init__(self) -> None:
        super().__init__()
        self.seed = 0

    def fit(self, train: Sequence[LearnerLog], *, seed: int) -> None:
        """Learn the first-review rate; per-learner parameters are fitted in ``predict``."""
        super().fit(train, seed=seed)
        self.seed = seed

    def _points(self, learner: LearnerLog) -> list[int]:
        if learner.split_points:
            return list(learner.split_points)
        points, n = [], FIRST_REFIT
        while n < len(learner):
            points.append(n)
            n *= 2
        return points

    def predict(self, learner: LearnerLog) -> FloatArray:
        """Predict chunk by chunk, each with parameters fitted on the attempts before it."""
        grades, ts = _inputs(learner)
        out = _retrievability(default_parameters(), learner, self.first)
        points = self._points(learner)
        for j, start in enumerate(points):
            end = points[j + 1] if j + 1 < len(points) else len(learner)
            params = fit_parameters(group_cards(learner.items, grades, ts, upto=start))
            out[start:end] = _retrievability(params, learner, self.first)[start:end]
        return out
