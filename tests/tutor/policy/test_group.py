"""The group quiz policy: gain over members, weights, reasons, exam cut-off, no repeats."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from tutor.policy.group import (
    GroupCandidates,
    GroupReason,
    GroupSettings,
    answer_probability,
    choose_group_next,
    group_horizon_days,
    member_gain,
    plan_group_quiz,
)


def cands(
    p_now: list[list[float]],
    seen: list[list[bool]],
    weight: list[float] | None = None,
    p_horizon: list[list[float]] | None = None,
    p_reviewed: list[list[float]] | None = None,
    tag: list[int] | None = None,
) -> GroupCandidates:
    """Candidates; without forecasts, a review makes up 90% of what is not known now."""
    p = np.array(p_now, dtype=np.float64)
    m, n = p.shape
    known = np.array(seen, dtype=bool)
    if p_horizon is None and known.shape == p.shape:
        p_horizon = np.where(known, p, 0.0).tolist()
    if p_reviewed is None:
        p_reviewed = (p + 0.9 * (1.0 - p)).tolist()
    return GroupCandidates(
        item_id=np.arange(100, 100 + n, dtype=np.int64),
        tag=np.full(n, -1, np.int64) if tag is None else np.array(tag, np.int64),
        p_now=p,
        seen=known,
        weight=np.ones(m) if weight is None else np.array(weight, np.float64),
        p_horizon=np.array(p_horizon, np.float64),
        p_reviewed=np.array(p_reviewed, np.float64),
    )


def test_gain_is_the_recall_a_review_adds_at_the_horizon_weighted_by_answering() -> None:
    # item 0: all three know it and will still know it; item 1: new to two of them;
    # item 2: seen by all, fading for all
    c = cands(
        p_now=[[0.95, 0.3, 0.80], [0.95, 0.3, 0.70], [0.95, 0.9, 0.75]],
        seen=[[True, False, True], [True, False, True], [True, True, True]],
        weight=[1.0, 0.5, 1.0],
        # (a horizon forecast where unseen is ignored: a first sight counts from 0)
        p_horizon=[[0.93, 0.5, 0.40], [0.93, 0.5, 0.30], [0.93, 0.90, 0.35]],
        p_reviewed=[[0.95, 0.60, 0.80], [0.95, 0.60, 0.75], [0.95, 0.92, 0.80]],
    )
    g = member_gain(c, None, GroupSettings())
    assert g[:, 0] == pytest.approx([0.02, 0.02, 0.02])
    assert g[:, 1] == pytest.approx([0.60, 0.60, 0.02])  # a first sight counts from 0
    total = c.weight @ g
    assert total == pytest.approx([0.05, 0.92, 0.40 + 0.5 * 0.45 + 0.45])


def test_quiz_asks_the_largest_group_gains_first_and_everyone_knows_comes_last(
    now: datetime, rng: np.random.Generator
) -> None:
    c = cands(
        p_now=[[0.95, 0.3, 0.80], [0.95, 0.3, 0.70], [0.95, 0.9, 0.75]],
        seen=[[True, False, True], [True, False, True], [True, True, True]],
        p_horizon=[[0.95, 0.0, 0.40], [0.95, 0.0, 0.30], [0.95, 0.90, 0.35]],
        p_reviewed=[[0.95, 0.60, 0.80], [0.95, 0.60, 0.75], [0.95, 0.92, 0.80]],
    )
    quiz = plan_group_quiz(c, 3, GroupSettings(), now, rng)
    assert [q.item_id for q in quiz] == [102, 101, 100]
    assert quiz[0].reason is GroupReason.DUE_FOR_MANY and quiz[0].count == 3
    assert quiz[1].reason is GroupReason.NEW_TO_MANY and (quiz[1].count, quiz[1].audience) == (2, 3)
    # nobody gains from the item all know: it is only practice, and says so
    assert quiz[2].reason is GroupReason.PRACTICE and quiz[2].gain == pytest.approx(0.0)


def test_a_member_who_never_answers_does_not_steer_the_quiz(
    now: datetime, rng: np.random.Generator
) -> None:
    # item 0 is weak for the silent member only, item 1 due for the active one only
    c = cands(
        p_now=[[0.2, 0.95], [0.95, 0.6]],
        seen=[[True, True], [True, True]],
        weight=[0.0, 0.9],
    )
    first = choose_group_next(c, GroupSettings(), now, rng)
    assert first is not None and first.item_id == 101
    assert first.reason is GroupReason.DUE_FOR_MANY and (first.count, first.audience) == (1, 1)
    both = plan_group_quiz(
        cands(p_now=[[0.2, 0.95], [0.95, 0.6]], seen=[[True, True], [True, True]]),
        1,
        GroupSettings(),
        now,
        rng,
    )
    assert both[0].item_id == 100  # with both answering, the weak item gains more
    assert both[0].reason is GroupReason.WEAK_FOR_MANY


def test_never_twice_in_a_quiz_and_fewer_when_the_deck_runs_out(
    now: datetime, rng: np.random.Generator
) -> None:
    c = cands(p_now=[[0.1, 0.2, 0.3, 0.4]], seen=[[True, True, True, True]])
    quiz = plan_group_quiz(c, 10, GroupSettings(), now, rng, asked=[100])
    ids = [q.item_id for q in quiz]
    assert ids == [101, 102, 103]
    assert choose_group_next(c, GroupSettings(), now, rng, asked=[100, 101, 102, 103]) is None


def test_interleaves_tags_among_the_leading_items(now: datetime, rng: np.random.Generator) -> None:
    c = cands(p_now=[[0.1, 0.15, 0.2, 0.3]], seen=[[True, True, True, True]], tag=[0, 0, 0, 1])
    ids = [q.item_id for q in plan_group_quiz(c, 4, GroupSettings(), now, rng)]
    assert ids == [100, 103, 101, 102]
    # the last item asked before counts too
    after = plan_group_quiz(c, 1, GroupSettings(), now, rng, asked=[103])
    assert after[0].item_id == 100
    after_zero = plan_group_quiz(c, 1, GroupSettings(), now, rng, asked=[101])
    assert after_zero[0].item_id == 103


def test_exam_reason_and_no_first_sights_within_the_cut_off(
    now: datetime, rng: np.random.Generator
) -> None:
    c = cands(
        p_now=[[0.4, 0.5], [0.4, 0.5]],
        seen=[[False, True], [False, True]],
        p_horizon=[[0.0, 0.5], [0.0, 0.5]],
        p_reviewed=[[0.7, 0.6], [0.7, 0.6]],
    )
    soon = GroupSettings(exam_at=now + timedelta(days=3))
    quiz = plan_group_quiz(c, 2, soon, now, rng)
    assert [q.item_id for q in quiz] == [100, 101]
    assert quiz[0].reason is GroupReason.EXAM_PRIORITY and quiz[0].count == 2
    assert quiz[0].new == 2
    tomorrow = GroupSettings(exam_at=now + timedelta(hours=12))
    late = plan_group_quiz(c, 2, tomorrow, now, rng)
    assert [q.item_id for q in late] == [101, 100]  # seen once now, it would not be learned
    assert late[1].reason is GroupReason.PRACTICE
    past = GroupSettings(exam_at=now - timedelta(days=1))
    assert plan_group_quiz(c, 1, past, now, rng)[0].reason is GroupReason.NEW_TO_MANY


def test_practice_without_members_goes_in_deck_order(now: datetime) -> None:
    empty = GroupCandidates(
        item_id=np.array([7, 3, 5], np.int64),
        tag=np.full(3, -1, np.int64),
        p_now=np.zeros((0, 3)),
        seen=np.zeros((0, 3), bool),
        weight=np.zeros(0),
        p_horizon=np.zeros((0, 3)),
        p_reviewed=np.zeros((0, 3)),
    )
    for seed in range(5):
        quiz = plan_group_quiz(empty, 3, GroupSettings(), now, np.random.default_rng(seed))
        assert [q.item_id for q in quiz] == [7, 3, 5]
        assert all(q.reason is GroupReason.PRACTICE and q.audience == 0 for q in quiz)


def test_same_inputs_same_quiz_and_ties_broken_by_the_seeded_rng(now: datetime) -> None:
    c = cands(p_now=[[0.5] * 6], seen=[[True] * 6])

    def ids(seed: int) -> list[int]:
        rng = np.random.default_rng(seed)
        return [q.item_id for q in plan_group_quiz(c, 6, GroupSettings(), now, rng)]

    assert ids(1) == ids(1)
    assert len({tuple(ids(s)) for s in range(8)}) > 1


def test_bad_inputs_are_rejected(now: datetime) -> None:
    with pytest.raises(ValueError, match="members, items"):
        cands(p_now=[[0.5, 0.5]], seen=[[True]])
    with pytest.raises(ValueError, match="answer probabilities"):
        cands(p_now=[[0.5]], seen=[[True]], weight=[1.5])
    with pytest.raises(ValueError, match="p_reviewed must be"):
        cands(p_now=[[0.5]], seen=[[True]], p_reviewed=[[0.5, 0.6]])
    with pytest.raises(ValueError, match="aware"):
        GroupSettings(exam_at=datetime(2026, 5, 1))
    with pytest.raises(ValueError, match="naive"):
        plan_group_quiz(
            cands(p_now=[[0.5]], seen=[[True]]),
            1,
            GroupSettings(),
            datetime(2026, 5, 1),
            np.random.default_rng(0),
        )


def test_answer_probability_follows_the_recent_record() -> None:
    record = np.array(
        [
            [True] * 10,
            [False] * 10,
            [False] * 7 + [True] * 3,  # came back lately
            [True] * 7 + [False] * 3,  # stopped lately
        ]
    )
    p = answer_probability(record)
    assert p[0] > 0.85 and p[1] < 0.15
    # recent quizzes count more: a plain share would give (3 + 1) / 12 and (7 + 1) / 12
    assert p[2] > 0.4 and p[3] < 0.6
    assert p[2] + p[3] == pytest.approx(1.0)
    assert answer_probability(np.zeros((2, 0), bool)) == pytest.approx([0.5, 0.5])


def test_horizon_is_the_next_chance_or_the_exam() -> None:
    assert group_horizon_days(None, 150, 10) == pytest.approx(15.0)
    assert group_horizon_days(4.0, 150, 10) == pytest.approx(4.0)
    assert group_horizon_days(None, 5, 10) == pytest.approx(1.0)
