"""The new-deployment variants' tools: the tally shift moves every logit by the same amount."""

from __future__ import annotations

import numpy as np

from benchmarks.lodo_variants import _predictor, _shifted, tally_shift
from tests.tutor.model.conftest import TINY, synthetic_logs
from tutor.model.train import train


def logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))


def test_a_shift_moves_every_prediction_by_that_logit() -> None:
    logs = synthetic_logs(16, 40, seed=1)
    weights = train([("synthetic", logs)], TINY, seed=0, progress=False)
    test = synthetic_logs(3, 30, seed=9)
    before = _predictor(weights, logs)
    after = _predictor(_shifted(weights, 0.4), logs)
    for learner in test:  # no options: no guessing floor, the logits move by exactly 0.4
        moved = logit(after.predict(learner)) - logit(before.predict(learner))
        np.testing.assert_allclose(moved, 0.4, atol=1e-3)
    shift = tally_shift(before, logs)
    assert -4.0 < shift < 4.0
    # the shifted weights' own shift is 0: their items' predictions match the tallies
    assert abs(tally_shift(_predictor(_shifted(weights, shift), logs), logs)) < 1e-3
