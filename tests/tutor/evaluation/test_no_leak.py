"""Every baseline predicts attempt t from attempts < t only: changing the label of attempt t
never changes the predictions of attempts 0..t."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tests.tutor.evaluation.conftest import make_learner
from tutor.evaluation.anki_logs import time_split
from tutor.evaluation.baselines import fsrs_batch
from tutor.evaluation.baselines.best_lr import BestLR
from tutor.evaluation.baselines.dkt import DKT
from tutor.evaluation.baselines.elo import Elo
from tutor.evaluation.baselines.fsrs6 import FSRS6Default, FSRS6PerUser
from tutor.evaluation.baselines.global_mean import GlobalMean
from tutor.evaluation.baselines.hlr import HLR
from tutor.evaluation.baselines.item_mean import ItemMean
from tutor.evaluation.logs import LearnerLog, Predictor


def _flip(log: LearnerLog, t: int) -> LearnerLog:
    correct = log.correct.copy()
    correct[t] = 1 - correct[t]
    grades = None
    if log.grades is not None:
        grades = log.grades.copy()
        grades[t] = 3 if correct[t] else 1
    return replace(log, correct=correct, grades=grades)


FACTORIES = {
    "global_mean": GlobalMean,
    "item_mean": ItemMean,
    "elo": Elo,
    "best_lr": lambda: BestLR(steps=30),
    "dkt": lambda: DKT(epochs=1, min_steps=10, dim=8, hidden=8),
    "fsrs6_default": FSRS6Default,
    "fsrs6_user": FSRS6PerUser,
    "hlr": lambda: HLR(steps=30, refit_steps=10),
}


@pytest.mark.parametrize("name", list(FACTORIES))
def test_no_leak(name: str, train_logs: list[LearnerLog], monkeypatch: pytest.MonkeyPatch) -> None:
    # let the per-user FSRS fit really run on this small log
    monkeypatch.setattr(fsrs_batch, "MINI_BATCH", 16)
    monkeypatch.setattr(fsrs_batch, "EPOCHS", 2)
    target = time_split(make_learner("target", 120, seed=7, n_items=12))
    assert len(target.split_points) == 5
    model: Predictor = FACTORIES[name]()
    model.fit(train_logs, seed=0)
    base = model.predict(target)
    assert base.shape == (len(target),)
    assert np.all((base >= 0) & (base <= 1))
    points = [0, 5, target.split_points[1] - 1, target.split_points[3], len(target) - 1]
    if name == "fsrs6_user":  # five parameter fits per prediction: check fewer positions
        points = [target.split_points[1] - 1, target.split_points[3]]
    for t in points:
        flipped = model.predict(_flip(target, t))
        np.testing.assert_array_equal(flipped[: t + 1], base[: t + 1], err_msg=f"{name} t={t}")


def test_flip_reaches_later_predictions(train_logs: list[LearnerLog]) -> None:
    """The check above can fail: an online model does react to earlier labels."""
    target = make_learner("target", 50, seed=3)
    model = Elo()
    model.fit(train_logs, seed=0)
    base = model.predict(target)
    flipped = model.predict(_flip(target, 10))
    assert not np.allclose(flipped[11:], base[11:])
