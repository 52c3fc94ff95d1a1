"""Metrics against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tutor.evaluation.logs import LearnerLog
from tutor.evaluation.metrics import BinKeys, auc, bin_keys, bucket_of, log_loss, rmse_bins


def test_auc_by_hand() -> None:
    # pairs (pos, neg): (0.35,0.1) win, (0.35,0.4) loss, (0.8,*) 2 wins -> 3/4
    assert auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    # a tie counts one half: pos 0.5 vs neg 0.5 -> 0.5, pos 0.9 vs neg 0.5 -> 1
    assert auc([0, 1, 1], [0.5, 0.5, 0.9]) == pytest.approx(0.75)
    assert math.isnan(auc([1, 1], [0.2, 0.3]))


def test_log_loss_by_hand() -> None:
    expected = -(math.log(0.8) + math.log(1 - 0.3)) / 2
    assert log_loss([1, 0], [0.8, 0.3]) == pytest.approx(expected)
    assert log_loss([1], [0.0]) == pytest.approx(-math.log(1e-15))


def test_rmse_bins_by_hand() -> None:
    # two bins: (elapsed 1 day, rep 2, no lapse) x2 and (elapsed 10 days, rep 2, 1 lapse) x1
    keys = BinKeys(
        np.array([1.0, 1.0, 10.0]), np.array([2, 2, 2]), np.array([0, 0, 1], dtype=np.int64)
    )
    y = [1, 0, 1]
    p = [0.9, 0.7, 0.6]
    # bin A: mean y 0.5, mean p 0.8 -> 0.09 * 2; bin B: (1 - 0.6)^2 = 0.16 * 1
    assert rmse_bins(y, p, keys) == pytest.approx(math.sqrt((0.18 + 0.16) / 3))


def test_rmse_bins_merges_same_log_bin() -> None:
    # 4 and 5 days fall in the same base-3.62 bin (3.62 <= x < 13.1): one bin
    keys = BinKeys(np.array([4.0, 5.0]), np.array([2, 2]), np.array([0, 0], dtype=np.int64))
    assert rmse_bins([1, 0], [0.5, 0.5], keys) == pytest.approx(0.0)


def test_buckets() -> None:
    t = np.array([0, 1, 2, 3, 5, 6, 10, 11, 20, 21, 50, 51, 500])
    assert bucket_of(t).tolist() == [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]


def test_bin_keys_counts_days_reps_and_lapses() -> None:
    day = 86_400.0
    base = 1.7e9 - (1.7e9 % day) + 5 * 3600  # 05:00 UTC, after the 04:00 day start
    log = LearnerLog(
        user="a",
        items=np.array([7, 7, 7, 7, 8]),
        skills=((),) * 5,
        correct=np.array([0, 0, 0, 1, 1], dtype=np.int8),
        timestamps=np.array([base, base + 60, base + 2 * day, base + 5 * day, base + 5 * day]),
    )
    keys = bin_keys(log)
    assert keys.elapsed_days.tolist() == [-1, 0, 2, 3, -1]
    assert keys.reps.tolist() == [1, 1, 2, 3, 1]
    # the same-day failure is no lapse; the failure two days later is one
    assert keys.lapses.tolist() == [0, 0, 0, 1, 0]
