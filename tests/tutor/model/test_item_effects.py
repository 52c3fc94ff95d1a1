"""Item-level effects: what they measure, and that a learner's own answers never feed them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tutor.evaluation.logs import LearnerLog
from tutor.model.extras import extra_columns
from tutor.model.history import AnswerStats
from tutor.model.item_effects import EffectSums, ability_logits, effect_columns

from .conftest import synthetic_logs

NAMES = ("item_tag_irt", "item_disc")


def learner(user: str, items: list[int], correct: list[int], tag: int = 7) -> LearnerLog:
    return LearnerLog(
        user=user,
        items=np.array(items, dtype=np.int64),
        skills=tuple((tag,) for _ in items),
        correct=np.array(correct, dtype=np.int8),
    )


def test_own_answers_are_left_out() -> None:
    logs = synthetic_logs(8, 40, seed=3)
    me, others = logs[0], logs[1:]
    left_out = effect_columns(me, EffectSums.from_logs(logs), NAMES, leave_out=True)
    never_in = effect_columns(me, EffectSums.from_logs(others), NAMES, leave_out=False)
    for name in NAMES:
        np.testing.assert_allclose(left_out[name], never_in[name], atol=1e-9)
        assert np.any(left_out[name] != 0.0)


def test_an_attempt_sees_only_earlier_answers_of_the_learner() -> None:
    logs = synthetic_logs(8, 40, seed=4)
    sums = EffectSums.from_logs(logs)
    (me,) = synthetic_logs(1, 30, seed=9)
    flipped = me.correct.copy()
    flipped[20:] ^= 1
    a = effect_columns(me, sums, NAMES, leave_out=False)
    b = effect_columns(replace(me, correct=flipped), sums, NAMES, leave_out=False)
    for name in NAMES:
        np.testing.assert_array_equal(a[name][:21], b[name][:21])
    assert ability_logits(me)[0] == 0.0


def test_an_item_only_strong_learners_get_right_separates_them() -> None:
    # eight warm-up answers on other items set each learner's ability, then item 0
    strong = [learner(f"s{k}", [1, 2, 3, 4, 5, 6, 1, 2, 0], [1] * 8 + [1]) for k in range(6)]
    weak = [learner(f"w{k}", [1, 2, 3, 4, 5, 6, 1, 2, 0], [0] * 8 + [0]) for k in range(6)]
    sums = EffectSums.from_logs(strong + weak)
    new_strong = learner("ns", [1, 2, 3, 0], [1, 1, 1, 1])
    new_weak = learner("nw", [1, 2, 3, 0], [0, 0, 0, 0])
    disc_strong = effect_columns(new_strong, sums, NAMES, leave_out=False)["item_disc"][-1]
    disc_weak = effect_columns(new_weak, sums, NAMES, leave_out=False)["item_disc"][-1]
    assert disc_strong > 0.1 and disc_weak < -0.1


def test_an_item_failed_by_those_who_master_its_tag_is_hard_for_its_tag() -> None:
    # item 0 and item 9 share tag 7; learners right on the tag's other items fail item 0
    logs = [learner(f"u{k}", [1, 2, 3, 0, 9], [1, 1, 1, 0, 1]) for k in range(8)]
    cols = effect_columns(learner("new", [0, 9], [0, 0]), EffectSums.from_logs(logs), NAMES,
                          leave_out=False)  # fmt: skip
    hard, easy = cols["item_tag_irt"]
    assert hard < -0.5 < 0.0 < easy


def test_item_inputs_need_the_effect_sums() -> None:
    logs = synthetic_logs(3, 20, seed=1)
    with pytest.raises(ValueError, match="effects=True"):
        extra_columns(logs[0], AnswerStats.from_logs(logs), NAMES, leave_out=True)
    stats = AnswerStats.from_logs(logs, effects=True)
    out = extra_columns(logs[0], stats, ("item_irt", *NAMES), leave_out=True)
    assert out.shape == (20, 3) and np.all(np.isfinite(out))
