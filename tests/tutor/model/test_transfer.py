"""Item-item transfer: what it measures, and that a learner's own answers never feed it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tutor.evaluation.logs import LearnerLog
from tutor.model.extras import extra_columns
from tutor.model.history import AnswerStats
from tutor.model.transfer import (
    WINDOW,
    PairTallies,
    contexts,
    transfer_column,
    transfer_columns,
)

from .conftest import synthetic_logs


def learner(user: str, items: list[int], correct: list[int]) -> LearnerLog:
    return LearnerLog(
        user=user,
        items=np.array(items, dtype=np.int64),
        skills=tuple((7,) for _ in items),
        correct=np.array(correct, dtype=np.int8),
    )


def test_the_context_is_the_distinct_recent_answers() -> None:
    log = learner("a", [1, 2, 1, 3, 4, 5, 6, 7, 8], [1, 0, 1, 1, 1, 1, 1, 1, 1])
    keys = [k for _, k in contexts(log)]
    assert keys[0] == [] and keys[1] == [(1, 1, 2)]
    assert keys[3] == [(1, 1, 3), (2, 0, 3)]  # item 1 right twice: one context
    assert (1, 1, 7) in keys[7] and len(keys[7]) == WINDOW
    assert (1, 1, 8) not in keys[8] and len(keys[8]) == WINDOW  # item 1 left the window


def test_own_answers_are_left_out() -> None:
    logs = synthetic_logs(8, 40, seed=3)
    me, others = logs[0], logs[1:]
    rate = np.full(len(me), 0.6)
    left_out = transfer_column(me, PairTallies.from_logs(logs), rate, leave_out=True)
    never_in = transfer_column(me, PairTallies.from_logs(others), rate, leave_out=False)
    np.testing.assert_allclose(left_out, never_in, atol=1e-9)
    assert np.any(left_out != 0.0)


def test_an_attempt_sees_only_earlier_answers_of_the_learner() -> None:
    tallies = PairTallies.from_logs(synthetic_logs(8, 40, seed=4))
    (me,) = synthetic_logs(1, 30, seed=9)
    flipped = me.correct.copy()
    flipped[20:] ^= 1
    rate = np.full(len(me), 0.6)
    a = transfer_column(me, tallies, rate, leave_out=False)
    b = transfer_column(replace(me, correct=flipped), tallies, rate, leave_out=False)
    np.testing.assert_array_equal(a[:21], b[:21])
    assert not np.array_equal(a, b)


def test_an_item_mastered_after_another_is_predicted_from_it() -> None:
    # item 2 is right after item 1 was right, wrong after item 1 was wrong
    logs = [learner(f"r{k}", [1, 2], [1, 1]) for k in range(6)]
    logs += [learner(f"w{k}", [1, 2], [0, 0]) for k in range(6)]
    tallies = PairTallies.from_logs(logs)
    rate = np.full(2, 0.5)
    after_right = transfer_column(learner("a", [1, 2], [1, 0]), tallies, rate, leave_out=False)
    after_wrong = transfer_column(learner("b", [1, 2], [0, 0]), tallies, rate, leave_out=False)
    unseen = transfer_column(learner("c", [3, 2], [1, 0]), tallies, rate, leave_out=False)
    assert after_right[0] == after_wrong[0] == 0.0
    assert after_right[1] > 1.0 and after_wrong[1] < -1.0 and unseen[1] == 0.0


def test_the_input_needs_the_pair_tallies() -> None:
    logs = synthetic_logs(3, 20, seed=1)
    with pytest.raises(ValueError, match="effects=True"):
        extra_columns(logs[0], AnswerStats.from_logs(logs), ("item_transfer",), leave_out=True)
    stats = AnswerStats.from_logs(logs, effects=True)
    out = extra_columns(logs[0], stats, ("item_irt", "item_transfer"), leave_out=True)
    assert out.shape == (20, 2) and np.all(np.isfinite(out)) and np.any(out[:, 1] != 0.0)


def test_the_evidence_grows_with_the_pairs_answers() -> None:
    few = PairTallies.from_logs([learner(f"r{k}", [1, 2], [1, 1]) for k in range(2)])
    many = PairTallies.from_logs([learner(f"r{k}", [1, 2], [1, 1]) for k in range(40)])
    me = learner("a", [1, 2], [1, 1])
    rate = np.full(2, 0.5)
    _, low = transfer_columns(me, few, rate, leave_out=False)
    _, high = transfer_columns(me, many, rate, leave_out=False)
    _, none = transfer_columns(learner("c", [3, 2], [1, 0]), many, rate, leave_out=False)
    assert low[0] == high[0] == none[1] == 0.0
    assert 0.0 < low[1] < high[1]
