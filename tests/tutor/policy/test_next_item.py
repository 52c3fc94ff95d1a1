"""Choosing the next item: precedence, pacing, interleaving, determinism."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import numpy as np
import pytest

from tutor.policy import (
    Candidates,
    Reason,
    SessionHistory,
    StudySettings,
    TodayCounts,
    choose_next,
)


def _random_candidates(seed: int, n: int = 40) -> Candidates:
    r = np.random.default_rng(seed)
    new = r.random(n) < 0.3
    return Candidates.build(
        list(range(100, 100 + n)),
        np.where(new, 0.0, r.random(n)),
        is_new=new,
        tag=r.integers(0, 4, n),
    )


def test_same_inputs_same_choice(now: datetime) -> None:
    settings = StudySettings()
    for seed in range(20):
        c = _random_candidates(seed)
        session = SessionHistory().record(int(c.item_id[3]), True)
        picks = {
            choose_next(c, settings, session, TodayCounts(), now, np.random.default_rng(7))
            for _ in range(3)
        }
        assert len(picks) == 1


def test_naive_clock_rejected(rng: np.random.Generator) -> None:
    c = Candidates.build([1, 2], [0.5, 0.6])
    with pytest.raises(ValueError, match="timezone-aware"):
        choose_next(c, StudySettings(), SessionHistory(), TodayCounts(), datetime(2026, 1, 1), rng)


def test_due_reviews_before_new_items_then_new(now: datetime, rng: np.random.Generator) -> None:
    c = Candidates.build([1, 2, 3, 4], [0.5, 0.95, 0.0, 0.0], is_new=[False, False, True, True])
    first = choose_next(c, StudySettings(), SessionHistory(), TodayCounts(), now, rng)
    assert first.item_id == 1 and first.reason is Reason.DUE_REVIEW
    session = SessionHistory().record(1, True)
    c2 = Candidates.build([1, 2, 3, 4], [0.97, 0.95, 0.0, 0.0], is_new=[False, False, True, True])
    second = choose_next(c2, StudySettings(), session, TodayCounts(reviews=1), now, rng)
    assert second.item_id == 3 and second.reason is Reason.NEW_ITEM


def test_most_at_risk_review_first(now: datetime, rng: np.random.Generator) -> None:
    c = Candidates.build([1, 2, 3], [0.85, 0.3, 0.6])
    assert choose_next(c, StudySettings(), SessionHistory(), TodayCounts(), now, rng).item_id == 2


def test_never_twice_in_a_row_unless_only_item(now: datetime, rng: np.random.Generator) -> None:
    c = Candidates.build([1, 2], [0.1, 0.99])
    session = SessionHistory().record(1, True)
    assert choose_next(c, StudySettings(), session, TodayCounts(), now, rng).item_id == 2
    only = Candidates.build([1], [0.1])
    assert choose_next(only, StudySettings(), session, TodayCounts(), now, rng).item_id == 1


def test_wrong_answer_comes_back_a_few_items_later(now: datetime) -> None:
    rng = np.random.default_rng(0)
    settings = StudySettings(relearn_gap=3)
    n = 12
    c = Candidates.build(list(range(n)), np.linspace(0.2, 0.8, n))  # all due
    session = SessionHistory()
    order: list[tuple[int, Reason]] = []
    for step in range(8):
        pick = choose_next(c, settings, session, TodayCounts(reviews=step), now, rng)
        order.append((pick.item_id, pick.reason))
        session = session.record(pick.item_id, correct=step != 0)
    wrong_item = order[0][0]
    returns = [k for k, (item, _) in enumerate(order) if item == wrong_item and k > 0]
    assert returns == [4]  # three other answers in between
    assert order[4][1] is Reason.RELEARN
    assert all(order[k][0] != order[k - 1][0] for k in range(1, len(order)))


def _day_of_answers(
    settings: StudySettings, n: int, answers: int, now: datetime
) -> tuple[list[tuple[Reason, int]], TodayCounts, np.ndarray, np.ndarray]:
    """One session of right answers on ``n`` new items: (reason, new_waiting) per choice,
    today's counts, and which items are still new (with their recall) afterwards."""
    rng = np.random.default_rng(3)
    is_new, p = np.ones(n, bool), np.zeros(n)
    session, today = SessionHistory(), TodayCounts()
    choices = []
    for _ in range(answers):
        c = Candidates.build(list(range(n)), p.copy(), is_new=is_new.copy())
        pick = choose_next(c, settings, session, today, now, rng)
        choices.append((pick.reason, pick.new_waiting))
        session = session.record(pick.item_id, True)
        first = bool(is_new[pick.item_id])
        today = TodayCounts(today.reviews + int(not first), today.new + int(first))
        is_new[pick.item_id], p[pick.item_id] = False, 0.95  # seen, and well remembered
    return choices, today, is_new, p


def test_new_items_paced_to_the_daily_goal(now: datetime) -> None:
    settings = StudySettings(daily_goal_items=20, new_share=0.25)  # 5 new a day
    choices, today, is_new, p = _day_of_answers(settings, 30, 8, now)
    assert [reason for reason, _ in choices[:5]] == [Reason.NEW_ITEM] * 5
    # Past the quota in the same session, everything seen was answered minutes ago: the
    # next new items come, as what they are (not as "practice").
    assert choices[5:] == [(Reason.NEW_ITEM, 0)] * 3
    # A new session the same day: the quota is used up, so seen items come back as extra
    # practice, and the new items it holds back are counted for the student.
    c = Candidates.build(list(range(30)), p, is_new=is_new)
    pick = choose_next(c, settings, SessionHistory(), today, now, np.random.default_rng(4))
    assert pick.reason is Reason.EXTRA_PRACTICE and not is_new[pick.item_id]
    assert pick.new_waiting == 30 - 8


def test_a_student_who_asks_for_more_new_items_gets_them(now: datetime) -> None:
    settings = StudySettings(daily_goal_items=4, new_share=0.25)  # 1 new item a day
    n = 12
    is_new = np.arange(n) >= 3  # three items seen before, all well remembered
    c = Candidates.build(list(range(n)), np.where(is_new, 0.0, 0.95), is_new=is_new)
    today = TodayCounts(reviews=3, new=1)  # the goal is met
    rng = np.random.default_rng(5)
    offered = choose_next(c, settings, SessionHistory(), today, now, rng)
    assert offered.reason is Reason.EXTRA_PRACTICE and offered.new_waiting == 9
    asked = replace(settings, new_items_today=today.new + 2)
    pick = choose_next(c, asked, SessionHistory(), today, now, rng)
    assert (pick.item_id, pick.reason) == (3, Reason.NEW_ITEM)
    used_up = TodayCounts(reviews=3, new=3)  # the two asked for were met
    assert choose_next(c, asked, SessionHistory(), used_up, now, rng).reason is (
        Reason.EXTRA_PRACTICE
    )


def test_extra_practice_does_not_count_toward_the_goal() -> None:
    assert not Reason.EXTRA_PRACTICE.counts_toward_goal
    assert Reason.DUE_REVIEW.counts_toward_goal and Reason.RELEARN.counts_toward_goal


def test_interleaves_tags(now: datetime, rng: np.random.Generator) -> None:
    c = Candidates.build([1, 2, 3, 4], [0.5, 0.5, 0.51, 0.95], tag=[0, 0, 1, 0])
    session = SessionHistory().record(4, True)  # last answer had tag 0
    pick = choose_next(c, StudySettings(), session, TodayCounts(), now, rng)
    assert pick.item_id == 3


def test_settings_validate_target() -> None:
    with pytest.raises(ValueError):
        StudySettings(target_retention=1.2)
