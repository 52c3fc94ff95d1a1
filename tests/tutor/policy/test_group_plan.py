"""The service's group helpers: members' predictors and items in, an ordered quiz out."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta

import numpy as np
import pytest

from tests.tutor.policy.conftest import HalfLifePredictor
from tutor.items import Item, ItemKind
from tutor.policy.group import GroupReason, GroupSettings
from tutor.policy.group_plan import Member, group_candidates, pick_group_quiz, recent_weights
from tutor.policy.types import FloatArray, IntArray, to_seconds


class Counting(HalfLifePredictor):
    """Records the items whose review forecasts are asked for."""

    def __init__(self, last: dict[int, float], half: dict[int, float]) -> None:
        super().__init__(last, half)
        self.forecast: list[int] = []

    def recall_after_review(
        self, items: IntArray, review_at: float, at: float
    ) -> tuple[FloatArray, FloatArray]:
        self.forecast += [int(i) for i in items]
        return super().recall_after_review(items, review_at, at)


ITEMS = [Item(ItemKind.MULTIPLE_CHOICE, f"q{i}", f"e{i}", id=i, deck_id=1) for i in (1, 2, 3, 4)]


def members(now: datetime) -> tuple[Counting, Counting, list[Member]]:
    t = to_seconds(now)
    day = 86_400.0
    # A saw item 1 ten days ago and item 2 yesterday; B saw item 1 ten days ago and item 4
    # just now; items fade by half every five days
    a = Counting({1: t - 10 * day, 2: t - day}, {1: 5.0, 2: 5.0})
    b = Counting({1: t - 10 * day, 4: t - 0.1 * day}, {1: 5.0, 4: 5.0})
    seen_a = {1: now - timedelta(days=10), 2: now - timedelta(days=1)}
    seen_b = {1: now - timedelta(days=10), 4: now - timedelta(days=0.1)}
    return a, b, [Member(a, seen_a, 1.0), Member(b, seen_b, 1.0)]


def test_quiz_from_the_members_predictors(now: datetime, rng: np.random.Generator) -> None:
    _, _, group = members(now)
    quiz = pick_group_quiz(group, ITEMS, 4, now, rng, per_day=2, shortlist=None)
    assert [q.item_id for q in quiz] == [1, 2, 4, 3]
    assert (quiz[0].reason, quiz[0].count, quiz[0].audience) == (GroupReason.WEAK_FOR_MANY, 2, 2)
    assert (quiz[1].reason, quiz[1].count, quiz[1].due, quiz[1].new) == (
        GroupReason.DUE_FOR_MANY,
        1,
        1,
        1,
    )
    # item 4: B still knows it, and that refresher gains more than A's first sight
    assert quiz[2].reason is GroupReason.PRACTICE
    assert (quiz[3].reason, quiz[3].count) == (GroupReason.NEW_TO_MANY, 2)
    # the gain is the recall a review adds two days on (4 items at 2 a day)
    c = group_candidates(group, ITEMS, now, per_day=2, shortlist=None)
    after = 0.25 * 2 ** (-2 / 10) + 0.75 * 2 ** (-2 / 2.5)
    assert c.p_reviewed is not None and c.p_horizon is not None
    assert c.p_reviewed[0, 0] - c.p_horizon[0, 0] == pytest.approx(after - 2 ** (-12 / 5))
    assert quiz[0].gain == pytest.approx(2 * (after - 2 ** (-12 / 5)))


def test_shortlist_bounds_the_review_forecasts(now: datetime, rng: np.random.Generator) -> None:
    a, b, group = members(now)
    quiz = pick_group_quiz(group, ITEMS, 4, now, rng, per_day=2, shortlist=2)
    # the two largest upper bounds: item 3 (new to both) and item 1 (fading for both)
    assert sorted(a.forecast) == sorted(b.forecast) == [1, 3]
    assert [q.item_id for q in quiz] == [1, 3, 2, 4]  # then practice, least known first
    assert [q.reason for q in quiz[2:]] == [GroupReason.PRACTICE] * 2


def test_exam_sets_the_horizon_and_the_reason(now: datetime, rng: np.random.Generator) -> None:
    _, _, group = members(now)
    exam = GroupSettings(exam_at=now + timedelta(days=1))
    c = group_candidates(group, ITEMS, now, per_day=1, exam_at=exam.exam_at, shortlist=None)
    assert c.p_horizon is not None
    assert c.p_horizon[0, 0] == pytest.approx(2 ** (-11 / 5))  # the exam, before the cycle
    quiz = pick_group_quiz(group, ITEMS, 2, now, rng, per_day=1, settings=exam, asked=[1])
    # a day ahead a first sight is still worth most: item 3 is new to both
    assert [q.item_id for q in quiz] == [3, 2]
    assert all(q.reason is GroupReason.EXAM_PRIORITY for q in quiz)


def test_no_members_and_no_items(now: datetime, rng: np.random.Generator) -> None:
    quiz = pick_group_quiz([], ITEMS, 2, now, rng)
    assert [q.item_id for q in quiz] == [1, 2]  # deck order
    assert pick_group_quiz(members(now)[2], [], 2, now, rng) == []


def test_recent_weights_by_member() -> None:
    w = recent_weights({7: [True, True, True, True], 9: [False, False, False, True], 11: []})
    assert w[7] > w[9] > 0.0 and w[11] == pytest.approx(0.5)


def test_importable_without_torch() -> None:
    code = (
        "import sys, tutor.policy.group_plan, tutor.policy.group; "
        "sys.exit(1 if 'torch' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
