"""Online per-student recalibration of recall predictions."""

from __future__ import annotations

import numpy as np
import pytest

from tests.tutor.policy.conftest import HalfLifePredictor
from tutor.policy import calibration as cal
from tutor.policy.calibration import CalibratedPredictor, ItemHistory, RecallCalibration
from tutor.policy.predictor import RecallPredictor
from tutor.policy.types import SECONDS_PER_DAY

TRUE = np.array([0.3, 1.0, -0.9, 0.4, 0.3])


def _truth(p: np.ndarray, gap: np.ndarray, n: np.ndarray, sp: np.ndarray) -> np.ndarray:
    """A student who forgets faster than the model says, less so for well-learned items and
    after spaced reviews."""
    return cal.apply(TRUE, p, gap, n, sp)


def test_identity_until_answers_arrive() -> None:
    p = np.array([0.2, 0.5, 0.93])
    out = RecallCalibration().apply(
        p, np.array([0.5, 3.0, 40.0]), np.array([0, 1, 5]), np.array([0.0, 2.0, 9.0])
    )
    np.testing.assert_allclose(out, p, rtol=1e-9)


def test_learns_a_faster_forgetting_student_and_beats_the_raw_model() -> None:
    rng = np.random.default_rng(0)
    mean, prec = cal.prior((1,))
    for _ in range(60):  # 60 days of 25 reviews
        p = rng.uniform(0.85, 0.98, (1, 25))  # an overconfident, flat model
        gap = rng.uniform(0.5, 30.0, (1, 25))
        n = rng.integers(0, 6, (1, 25)).astype(float)
        sp = rng.uniform(0.0, 20.0, (1, 25))
        y = rng.random((1, 25)) < _truth(p, gap, n, sp)
        mean, prec = cal.observe(mean, prec, p, gap, n, sp, y)
    p = rng.uniform(0.85, 0.98, 4000)
    gap = rng.uniform(0.5, 30.0, 4000)
    n = rng.integers(0, 6, 4000).astype(float)
    sp = rng.uniform(0.0, 20.0, 4000)
    truth = _truth(p, gap, n, sp)
    fitted = cal.apply(mean[0], p, gap, n, sp)
    assert np.abs(fitted - truth).mean() < 0.04
    assert np.abs(fitted - truth).mean() < 0.3 * np.abs(p - truth).mean()
    assert mean[0, 2] < -0.4  # the gap term learned the faster forgetting


def test_batched_and_one_by_one_agree_for_one_answer() -> None:
    day = SECONDS_PER_DAY
    history = ItemHistory(last_seen=10 * day, previous_seen=7 * day, right=2)
    one = RecallCalibration().observe(0.9, history, 16 * day, False)
    mean, prec = cal.observe(*cal.prior((1,)), np.array([[0.9]]), np.array([[6.0]]),
                             np.array([[2.0]]), np.array([[3.0]]),
                             np.array([[False]]))  # fmt: skip
    np.testing.assert_allclose(one.mean, mean[0])
    np.testing.assert_allclose(one.precision, prec[0])
    assert one.answers == 1
    assert one.apply(np.array([0.9]), np.array([6.0]), np.array([2.0]), np.array([3.0]))[0] < 0.9


def test_padding_is_ignored() -> None:
    a = cal.observe(*cal.prior((1,)), np.array([[0.8]]), np.array([[2.0]]), np.array([[1.0]]),
                    np.array([[1.0]]), np.array([[True]]))  # fmt: skip
    b = cal.observe(*cal.prior((1,)), np.array([[0.8, 0.1]]), np.array([[2.0, 9.0]]),
                    np.array([[1.0, 0.0]]), np.array([[1.0, 0.0]]), np.array([[True, True]]),
                    np.array([[1.0, 0.0]]))  # fmt: skip
    np.testing.assert_allclose(a[0], b[0])
    np.testing.assert_allclose(a[1], b[1])


def test_json_round_trip_and_rejects_garbage() -> None:
    h = ItemHistory(last_seen=0.0)
    c = RecallCalibration().observe(0.7, h, 86_400.0, True).observe(0.95, h, 9e5, False)
    assert RecallCalibration.from_json(c.to_json()) == c
    with pytest.raises(ValueError):
        RecallCalibration.from_json('{"mean": [1, 2], "precision": [], "n": 0}')
    with pytest.raises(ValueError):
        RecallCalibration.from_json("not json")


def test_calibrated_predictor_wraps_seen_items_only() -> None:
    now = 1_800_000_000.0
    last = now - 3 * SECONDS_PER_DAY
    inner = HalfLifePredictor({1: last}, {1: 10.0})
    calib = RecallCalibration(mean=(0.0, 1.0, -1.0, 0.0, 0.5))  # faster forgetting with the gap
    history = {1: ItemHistory(last_seen=last, previous_seen=last - SECONDS_PER_DAY, right=2)}
    pred = CalibratedPredictor(inner, calib, history)
    assert isinstance(pred, RecallPredictor)
    items = np.array([1, 2])
    raw = inner.recall_at(items, np.full(2, now))
    got = pred.recall_at(items, np.full(2, now))
    assert got[0] == pytest.approx(
        calib.apply(raw[:1], np.array([3.0]), np.array([2.0]), np.array([1.0]))[0]
    )
    assert got[0] < raw[0]  # seen: calibrated down
    assert got[1] == raw[1]  # new: unchanged
    later = now + 7 * SECONDS_PER_DAY
    right, wrong = pred.recall_after_review(items, now, later)
    r_raw, w_raw = inner.recall_after_review(items, now, later)
    gap, spacing = np.full(2, 7.0), np.array([3.0, 0.0])  # the review is 3 days after the last
    np.testing.assert_allclose(right, calib.apply(r_raw, gap, np.array([3.0, 1.0]), spacing))
    np.testing.assert_allclose(wrong, calib.apply(w_raw, gap, np.array([2.0, 0.0]), spacing))


def test_a_long_run_of_expected_answers_does_not_let_the_weights_drift() -> None:
    # Answers the model already predicts well (about 97% right at predictions of 0.9-0.99)
    # carry little information; faded evidence must return the weights toward the identity
    # instead of leaving them to wander, and recall must never grow with the gap.
    rng = np.random.default_rng(0)
    mean, prec = cal.prior((1,))
    for _ in range(300):
        shape = (1, 20)
        mean, prec = cal.observe(
            mean,
            prec,
            rng.uniform(0.9, 0.99, shape),
            rng.uniform(0.5, 10.0, shape),
            rng.integers(1, 8, shape).astype(float),
            rng.uniform(0.0, 10.0, shape),
            rng.random(shape) < 0.97,
        )
        assert mean[0, 2] <= 0.0  # the gap term
        assert np.all(mean[0] >= cal.LOWER) and np.all(mean[0] <= cal.UPPER)
    a, b = mean[0, :2]
    assert abs(a) < 1.0 and 0.5 < b < 1.5
    later = cal.apply(mean[0], np.array([0.95]), np.array([30.0]), np.array([3.0]), np.array([2.0]))
    assert abs(later[0] - 0.95) < 0.03
