"""Baseline: half-life regression (Settles & Meeder 2016)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tutor.evaluation.anki_logs import review_days
from tutor.evaluation.baselines._common import first_attempt_mean, mean_correct
from tutor.evaluation.logs import FloatArray, LearnerLog

DAY_S = 86_400.0


def _design(learner: LearnerLog) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Features ``[1, sqrt(1 + right), sqrt(1 + wrong)]`` of each review's card history,
    days since the card's previous review, a mask of reviews that have one, and a mask of
    those on a later (Anki) day than the previous one (the reviews HLR is fitted on)."""
    if learner.timestamps is None:
        raise ValueError(f"HLR needs timestamps (learner {learner.user})")
    n = len(learner)
    x = np.zeros((n, 3))
    delta = np.zeros(n)
    has = np.zeros(n, dtype=bool)
    state: dict[int, tuple[int, int, float]] = {}
    for t, (item, ok, ts) in enumerate(
        zip(
            learner.items.tolist(),
            learner.correct.tolist(),
            learner.timestamps.tolist(),
            strict=True,
        )
    ):
        right, wrong, last = state.get(item, (0, 0, -1.0))
        x[t] = (1.0, np.sqrt(1 + right), np.sqrt(1 + wrong))
        if last >= 0:
            has[t] = True
            delta[t] = max(ts - last, 0.0) / DAY_S
        state[item] = (right + ok, wrong + (1 - ok), ts)
    days = review_days(learner.timestamps)
    later = np.zeros(n, dtype=bool)
    prev_day: dict[int, int] = {}
    for t, item in enumerate(learner.items.tolist()):
        if item in prev_day:
            later[t] = days[t] > prev_day[item]
        prev_day[item] = int(days[t])
    return x, delta, has, later


def _fit(
    xs: np.ndarray, deltas: np.ndarray, ys: np.ndarray, init: np.ndarray, steps: int
) -> np.ndarray:
    import torch

    x = torch.tensor(xs)
    d = torch.tensor(deltas)
    y = torch.tensor(ys, dtype=torch.float64)
    theta = torch.tensor(init, dtype=torch.float64, requires_grad=True)
    # three parameters on very different scales: L-BFGS converges where Adam crawls
    opt = torch.optim.LBFGS([theta], lr=1.0, max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        half_life = torch.pow(2.0, (x @ theta).clamp(-10, 20))
        p = torch.pow(2.0, -d / half_life).clamp(1e-4, 1 - 1e-4)
        loss = -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
        loss = loss + 1e-4 * theta[1:].square().sum()
        loss.backward()  # type: ignore[no-untyped-call]
        return loss

    opt.step(closure)  # type: ignore[no-untyped-call]
    return np.asarray(theta.detach().numpy(), dtype=np.float64)


class HLR:
    """``p = 2^(-delta / h)``, ``h = 2^(theta . x)`` with ``x = [1, sqrt(1+right), sqrt(1+wrong)]``.

    Fitted with L-BFGS (``steps`` / ``refit_steps`` iterations). ``delta`` is the time in
    days since the card's previous review, ``right``/``wrong`` the
    card's earlier outcomes. ``theta`` is fitted by log loss on the training learners' reviews
    that come on a later day than the card's previous review (as srs-benchmark's HLR, which
    leaves same-day reviews out); every repeat review is predicted. Under a time split it
    is refitted at each split point on the test learner's earlier such reviews (starting
    from the training fit), as srs-benchmark fits HLR per user.
    A card's first review gets the training learners' first-review success rate.
    """

    name = "hlr"

    def __init__(self, steps: int = 200, refit_steps: int = 50) -> None:
        self.steps = steps
        self.refit_steps = refit_steps
        self.theta = np.array([1.0, 0.0, 0.0])
        self.first = 0.5

    def fit(self, train: Sequence[LearnerLog], *, seed: int) -> None:
        """Fit theta on every repeat review of the training learners."""
        self.first = first_attempt_mean(train, mean_correct(train))
        parts = [(_design(log), log.correct) for log in train]
        xs = [x[k] for (x, _, _, k), _ in parts]
        if not xs or sum(len(a) for a in xs) == 0:
            return
        self.theta = _fit(
            np.concatenate(xs),
            np.concatenate([d[k] for (_, d, _, k), _ in parts]),
            np.concatenate([y[k] for (_, _, _, k), y in parts]),
            self.theta,
            self.steps,
        )

    def _p(self, theta: np.ndarray, x: np.ndarray, delta: np.ndarray) -> np.ndarray:
        half_life = np.power(2.0, np.clip(x @ theta, -10, 20))
        return np.asarray(np.clip(np.power(2.0, -delta / half_life), 1e-4, 1 - 1e-4))

    def predict(self, learner: LearnerLog) -> FloatArray:
        """Predict each repeat review from the card's history; refit at split points."""
        x, delta, has, later = _design(learner)
        out = np.where(has, self._p(self.theta, x, delta), self.first)
        points = list(learner.split_points)
        for j, start in enumerate(points):
            end = points[j + 1] if j + 1 < len(points) else len(learner)
            before = later.copy()
            before[start:] = False
            if before.sum() < 10:
                continue
            theta = _fit(
                x[before], delta[before], learner.correct[before], self.theta, self.refit_steps
            )
            seg = slice(start, end)
            out[seg] = np.where(has[seg], self._p(theta, x[seg], delta[seg]), self.first)
        return out
