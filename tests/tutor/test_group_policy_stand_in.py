"""The stand-in group policy: asks what many members need, never what all know, nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from tutor.group_policy_stand_in import GroupReason, Member, pick_group_quiz, recent_weights
from tutor.items import Item, ItemKind
from tutor.policy.types import FloatArray, IntArray

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


class Fixed:
    """Recall per item, whatever the time."""

    def __init__(self, recall: dict[int, float]) -> None:
        self.recall = recall

    def recall_at(self, items: IntArray, at: FloatArray) -> FloatArray:
        return np.array([self.recall.get(int(i), 0.0) for i in items])

    def recall_after_review(
        self, items: IntArray, review_at: float, at: float
    ) -> tuple[FloatArray, FloatArray]:
        return np.ones(items.shape[0]), np.zeros(items.shape[0])


def items(n: int) -> list[Item]:
    return [
        Item(ItemKind.TRUE_FALSE, f"Q{k}", f"q{k}", correct_option=0, id=k + 1) for k in range(n)
    ]


def test_known_by_all_comes_last_and_nothing_is_asked_twice() -> None:
    seen = {1: NOW, 2: NOW, 3: NOW}
    # item 1 known by both, item 2 weak for both, item 3 weak for one; item 4 new to both
    a = Member(Fixed({1: 0.99, 2: 0.2, 3: 0.3}), seen, 0.9)
    b = Member(Fixed({1: 0.99, 2: 0.3, 3: 0.99}), seen, 0.9)
    picks = pick_group_quiz([a, b], items(4), 4, NOW, np.random.default_rng(0))
    assert [p.item_id for p in picks][:2] in ([4, 2], [2, 4])
    assert picks[-1].item_id == 1 and picks[-1].reason is GroupReason.PRACTICE
    weak = next(p for p in picks if p.item_id == 2)
    assert (weak.reason, weak.count, weak.audience) == (GroupReason.WEAK_FOR_MANY, 2, 2)
    again = pick_group_quiz([a, b], items(4), 4, NOW, np.random.default_rng(0), asked=[4, 2])
    assert {p.item_id for p in again} == {1, 3}


def test_weights_follow_attendance() -> None:
    weights = recent_weights({1: [True, True, True], 2: [False, False, True], 3: []})
    assert weights[1] > weights[2] > 0 and weights[3] == 0.5
