"""The service helpers: from stored items to a choice and an exam outlook."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from tests.tutor.policy.conftest import HalfLifePredictor
from tutor.items import Item, ItemKind
from tutor.policy import Reason, SessionHistory, StudySettings, TodayCounts, scoring
from tutor.policy.plan import build_candidates, daily_study_seconds, exam_outlook, pick_next
from tutor.policy.types import FloatArray, IntArray


def _items() -> list[Item]:
    return [
        Item(ItemKind.FLASHCARD, f"q{i}", f"e{i}", tags=("a" if i % 2 else "b",), id=i, deck_id=3)
        for i in range(1, 9)
    ]


def test_build_candidates_and_pick(now: datetime) -> None:
    t = now.timestamp()
    last_seen = {1: now - timedelta(days=3), 2: now - timedelta(hours=1)}
    pred = HalfLifePredictor({1: t - 3 * 86400, 2: t - 3600}, {1: 1.0, 2: 5.0})
    c = build_candidates(pred, _items(), last_seen, now)
    assert c.is_new.tolist() == [False, False] + [True] * 6
    assert c.p_recall[0] < 0.9 < c.p_recall[1]
    assert c.tag[0] != c.tag[1] and c.tag[0] == c.tag[2]
    choice = pick_next(
        pred,
        _items(),
        last_seen,
        StudySettings(),
        SessionHistory(),
        TodayCounts(),
        now,
        np.random.default_rng(0),
    )
    assert choice.item_id == 1 and choice.reason is Reason.DUE_REVIEW


def test_exam_outlook_rises_with_pace(now: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    t = now.timestamp()
    last_seen = {i: now - timedelta(days=2) for i in (1, 2, 3)}
    pred = HalfLifePredictor({i: t - 2 * 86400 for i in (1, 2, 3)}, {1: 2.0, 2: 4.0, 3: 8.0})
    out = exam_outlook(pred, _items(), last_seen, now, now + timedelta(days=10), [0.1, 1.0])
    (m1, r1), (m2, r2) = out
    assert (m1, m2) == (0.1, 1.0) and 0.0 < r1 < r2 <= 1.0
    settings = StudySettings(exams={3: now + timedelta(days=10)})

    def pick(today: TodayCounts) -> Reason:
        rng = np.random.default_rng(0)
        return pick_next(
            pred, _items(), last_seen, settings, SessionHistory(), today, now, rng
        ).reason

    assert pick(TodayCounts()) is Reason.EXAM_PRIORITY
    # with the new-item floor on: the budget could learn this deck many times over, so new
    # items keep pace first (5 new over the first half of the 9 days before the cut-off:
    # 2 a day) ...
    monkeypatch.setattr(scoring, "COVERAGE_ANSWERS", 3.0)
    assert pick(TodayCounts()) is Reason.NEW_ITEM
    # ... then the exam forecasts decide
    assert pick(TodayCounts(new=2)) is Reason.EXAM_PRIORITY


def test_exam_forecasts_are_valued_at_the_planning_horizon_as_in_the_benchmark(
    now: datetime,
) -> None:
    # 8 items at 12 s and a 2-minute goal: one pass through the deck takes about a day, so a
    # review now is worth what it adds a day from now (the next chance to review the item),
    # not on the exam day a month away: the benchmark's planning horizon
    t = now.timestamp()
    last_seen = {i: now - timedelta(days=2) for i in (1, 2, 3)}
    asked: list[float] = []

    class Spy(HalfLifePredictor):
        def recall_after_review(
            self, items: IntArray, review_at: float, at: float
        ) -> tuple[FloatArray, FloatArray]:
            asked.append(at)
            return super().recall_after_review(items, review_at, at)

    pred = Spy({i: t - 2 * 86400 for i in (1, 2, 3)}, {1: 2.0, 2: 4.0, 3: 8.0})
    exam = now + timedelta(days=30)
    settings = StudySettings(daily_goal_minutes=2.0, exams={3: exam})
    rng = np.random.default_rng(0)
    pick_next(pred, _items(), last_seen, settings, SessionHistory(), TodayCounts(), now, rng)
    horizon = scoring.planning_horizon_days(30.0, 8, 12.0, 120.0)
    assert horizon == 1.0
    assert asked and all(a == pytest.approx(t + horizon * 86400) for a in asked)
    # a goal in answers is the same budget at the student's answer time
    assert daily_study_seconds(StudySettings(daily_goal_items=10), 12.0) == 120.0
    assert daily_study_seconds(settings, 12.0) == 120.0


def test_a_review_right_after_the_last_answer_counts_little_for_the_exam(
    now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # item 1 was answered an hour ago and fades fast: the model's largest exam gain; item 2
    # was answered four days ago. The planning horizon is a day (8 items, 2 minutes a day),
    # so the spacing weight counts item 1's gain at (1/24) / (0.5 * 1) of its value.
    t = now.timestamp()
    last_seen = {1: now - timedelta(hours=1), 2: now - timedelta(days=4)}
    pred = HalfLifePredictor({1: t - 3600, 2: t - 4 * 86400}, {1: 0.5, 2: 10.0})
    settings = StudySettings(daily_goal_minutes=2.0, exams={3: now + timedelta(days=10)})

    def pick() -> int:
        rng = np.random.default_rng(0)
        choice = pick_next(
            pred, _items(), last_seen, settings, SessionHistory(), TodayCounts(), now, rng
        )
        assert choice.reason is Reason.EXAM_PRIORITY
        return choice.item_id

    assert scoring.REVIEW_SPACING_SHARE == 0.5
    assert pick() == 2
    # counting every gain in full, the massed review of item 1 would come first
    monkeypatch.setattr(scoring, "REVIEW_SPACING_SHARE", 0.0)
    assert pick() == 1
