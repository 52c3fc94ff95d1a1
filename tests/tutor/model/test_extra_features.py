"""Opt-in extra inputs: the ability-adjusted item difficulty (Rasch step, mean residual)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tutor.evaluation.logs import LearnerLog
from tutor.model.ability import IRT_PRIOR, ability_residuals
from tutor.model.extras import extra_columns
from tutor.model.history import AnswerStats
from tutor.model.network import NetConfig
from tutor.model.train import prepare
from tutor.model.weights import DEFAULT_WEIGHTS

from .conftest import TINY, synthetic_logs

EXTRA = ("item_irt", "skill_irt", "item_resid", "u_resid", "us_resid")


def _log(user: str, items: list[int], ys: list[int]) -> LearnerLog:
    return LearnerLog(
        user=user,
        items=np.array(items, dtype=np.int64),
        skills=tuple((i % 2,) for i in items),
        correct=np.array(ys, dtype=np.int8),
    )


def test_ability_residuals_use_answers_before_only() -> None:
    resid, var = ability_residuals(_log("a", [1, 2, 3], [1, 1, 0]))
    # abilities before each answer: 1/2, 2/3, 3/4
    assert resid == pytest.approx([0.5, 1 / 3, -0.75])
    assert var == pytest.approx([0.25, 2 / 9, 3 / 16])


def test_item_difficulty_by_hand() -> None:
    strong = _log("s", [0, 0, 0, 7], [1, 1, 1, 0])  # item 7 failed by a learner at 3/3
    weak = _log("w", [8], [0])  # item 8 failed by a learner with no history
    stats = AnswerStats.from_logs([strong, weak])
    target = _log("t", [7, 8], [1, 1])
    cols = extra_columns(target, stats, EXTRA, leave_out=False)
    p7 = 4 / 5
    assert cols[0, 0] == pytest.approx(-p7 / (p7 * (1 - p7) + IRT_PRIOR))
    assert cols[1, 0] == pytest.approx(-0.5 / (0.25 + IRT_PRIOR))
    # both failed once, but item 7 by a stronger learner: it is judged harder
    assert cols[0, 0] < cols[1, 0]
    assert cols[0, 2] == pytest.approx(-p7 / (1 + 5))


def test_leave_out_equals_statistics_without_the_learner() -> None:
    logs = synthetic_logs(8, 40, seed=3)
    everyone = AnswerStats.from_logs(logs)
    others = AnswerStats.from_logs(logs[1:])
    item_level = EXTRA[:3]  # (the learner-level ones also see the global rate, not left out)
    left_out = extra_columns(logs[0], everyone, item_level, leave_out=True)
    fresh = extra_columns(logs[0], others, item_level, leave_out=False)
    np.testing.assert_allclose(left_out, fresh, atol=1e-5)
    # and the labels of the learner's own answers never reach the item-level inputs
    flipped = replace(logs[0], correct=(1 - logs[0].correct).astype(np.int8))
    with_flip = AnswerStats.from_logs([flipped, *logs[1:]])
    np.testing.assert_allclose(
        extra_columns(flipped, with_flip, item_level, leave_out=True), fresh, atol=1e-5
    )


def test_unknown_extra_feature_is_rejected() -> None:
    log = synthetic_logs(1, 5, seed=0)[0]
    with pytest.raises(ValueError, match="unknown extra"):
        extra_columns(log, AnswerStats(), ["nope"], leave_out=False)


def test_default_inputs_are_the_served_extras() -> None:
    from tutor.model.ability import IRT_EXTRAS, RAW_EXTRAS
    from tutor.model.train import TrainConfig

    assert TrainConfig().extra_features == IRT_EXTRAS
    shipped = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())["config"]
    assert RAW_EXTRAS.issuperset(shipped.get("extra_features", ()))  # the service computes them
    assert NetConfig(**shipped).to_dict() == shipped
    # weights of a network without extras keep their configuration as it was
    assert "extra_features" not in NetConfig().to_dict()
    log = synthetic_logs(1, 20, seed=2)[0]
    stats = AnswerStats.from_logs(synthetic_logs(4, 20, seed=4))
    plain = prepare(log, stats, leave_out=False)
    wide = prepare(log, stats, leave_out=False, extra=EXTRA)
    np.testing.assert_array_equal(wide.x[:, : plain.x.shape[1]], plain.x)
    assert wide.x.shape[1] == plain.x.shape[1] + len(EXTRA)


def test_weights_with_extra_inputs_round_trip_and_predict(
    train_logs: list[LearnerLog], tmp_path: Path
) -> None:
    from tutor.model.predictor import MetatutorPredictor
    from tutor.model.weights import TrainedWeights

    cfg = replace(TINY, epochs=3, extra_features=EXTRA)
    pred = MetatutorPredictor(config=cfg)
    pred.fit(train_logs, seed=0)
    assert pred.weights is not None
    assert pred.weights.config["extra_features"] == list(EXTRA)
    pred.weights.save(tmp_path / "w.pt")
    loaded = TrainedWeights.load(tmp_path / "w.pt")
    assert NetConfig(**loaded.config).extra_features == EXTRA
    log = synthetic_logs(1, 30, seed=9)[0]
    p = pred.predict(log)
    assert p.shape == (30,)
    assert np.all((p > 0) & (p < 1))
    # no leak: changing the answers from t = 12 on leaves the predictions up to 12 as they were
    later = log.correct.copy()
    later[12:] = 1 - later[12:]
    q = pred.predict(replace(log, correct=later))
    np.testing.assert_array_equal(q[:13], p[:13])
    assert not np.allclose(q[13:], p[13:])


def test_own_residuals_see_earlier_answers_only() -> None:
    stats = AnswerStats.from_logs(synthetic_logs(6, 40, seed=5))
    log = synthetic_logs(1, 30, seed=12)[0]
    names = ("u_resid", "us_resid")
    base = extra_columns(log, stats, names, leave_out=False)
    assert np.all(base[0] == 0.0)  # nothing answered yet
    flipped = log.correct.copy()
    flipped[10] = 1 - flipped[10]
    other = extra_columns(replace(log, correct=flipped), stats, names, leave_out=False)
    np.testing.assert_array_equal(other[:11], base[:11])  # attempt 10's label reaches t > 10 only
    assert other[11, 0] != base[11, 0]
    # a right answer raises the learner's residual ability
    assert (other[11, 0] > base[11, 0]) == bool(flipped[10])


def test_ablation_zeroes_user_level_extras() -> None:
    import torch

    from tutor.model.features import N_FEATURES
    from tutor.model.network import LearnerNet

    names = ("item_irt", "u_resid")
    net = LearnerNet(NetConfig(n_features=N_FEATURES + 2, use_state=False, extra_features=names))
    x = torch.ones(1, 3, N_FEATURES + 2)
    masked = net.mask_user(x)
    assert float(masked[0, 0, N_FEATURES]) == 1.0  # item_irt kept
    assert float(masked[0, 0, N_FEATURES + 1]) == 0.0  # u_resid zeroed
