"""Exam mode: exam-day forecasts, exam priority, stopping new items near the date."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest

from tests.tutor.policy.conftest import HalfLifePredictor
from tutor.policy import (
    Candidates,
    Reason,
    SessionHistory,
    StudySettings,
    TodayCounts,
    choose_next,
    expected_exam_recall,
    scoring,
    with_exam_forecast,
)
from tutor.policy import exam as exam_module
from tutor.policy.exam import expected_exam_recall_at_paces
from tutor.policy.predictor import expected_recall_after_review
from tutor.policy.types import SECONDS_PER_DAY


def _deck(now: datetime) -> tuple[HalfLifePredictor, Candidates]:
    t = now.timestamp()
    # items 0-4 seen (various strengths), 5-9 new; all in deck 7
    last = {i: t - (i + 1) * SECONDS_PER_DAY for i in range(5)}
    half = {i: 1.0 + 3.0 * i for i in range(5)}
    pred = HalfLifePredictor(last, half)
    ids = np.arange(10)
    p = np.concatenate([pred.recall_at(ids[:5], np.full(5, t)), np.zeros(5)])
    c = Candidates.build(ids, p, is_new=ids >= 5, deck=np.full(10, 7))
    return pred, c


def test_exam_priority_picks_largest_gain(
    now: datetime, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the new-item floor would bring in this small deck's new items first (see below)
    monkeypatch.setattr(scoring, "COVERAGE_ANSWERS", 0.0)
    pred, c = _deck(now)
    exam = now + timedelta(days=3)
    settings = StudySettings(exams={7: exam})
    c = with_exam_forecast(c, pred, now, settings.exams)
    assert c.p_exam_now is not None and c.p_exam_reviewed is not None
    assert np.all(c.p_exam_reviewed[:5] >= c.p_exam_now[:5] - 1e-12)
    pick = choose_next(c, settings, SessionHistory(), TodayCounts(), now, rng)
    assert pick.reason is Reason.EXAM_PRIORITY
    gain = c.p_exam_reviewed - np.where(c.is_new, 0.0, c.p_exam_now)
    cost = 2.0 - np.where(c.is_new, 0.0, c.p_recall)
    assert pick.item_id == int(np.argmax(gain / cost))


def test_new_items_stop_near_the_exam(now: datetime, rng: np.random.Generator) -> None:
    pred, c = _deck(now)
    far = StudySettings(exams={7: now + timedelta(days=10)})
    near = StudySettings(exams={7: now + timedelta(hours=12)})
    picks_far: set[int] = set()
    picks_near: set[int] = set()
    for settings, picks in ((far, picks_far), (near, picks_near)):
        cc = with_exam_forecast(c, pred, now, settings.exams)
        session = SessionHistory()
        for k in range(8):
            pick = choose_next(cc, settings, session, TodayCounts(reviews=k), now, rng)
            picks.add(pick.item_id)
            session = session.record(pick.item_id, True)
    assert picks_far & {5, 6, 7, 8, 9}  # new items are introduced with time left
    assert not picks_near & {5, 6, 7, 8, 9}  # but not on the eve of the exam


def test_expected_exam_recall_rises_with_pace(now: datetime) -> None:
    pred, c = _deck(now)
    exam = now + timedelta(days=14)
    low = expected_exam_recall(pred, c.item_id, c.is_new, now, exam, 0.5, 12.0)
    high = expected_exam_recall(pred, c.item_id, c.is_new, now, exam, 5.0, 12.0)
    none = expected_exam_recall(pred, c.item_id, c.is_new, now, exam, 0.0, 12.0)
    assert 0.0 <= none < low < high <= 1.0
    base = pred.recall_at(c.item_id[:5], np.full(5, exam.timestamp())).sum() / 10
    assert abs(none - base) < 1e-12


def test_shortlist_limits_the_review_forecasts(now: datetime) -> None:
    pred, c = _deck(now)
    exams = {7: now + timedelta(days=5)}
    full = with_exam_forecast(c, pred, now, exams)
    short = with_exam_forecast(c, pred, now, exams, shortlist=2)
    assert short.p_exam_reviewed is not None and full.p_exam_reviewed is not None
    done = np.flatnonzero(np.isfinite(short.p_exam_reviewed))
    assert done.tolist() == [0, 1, 5, 6]  # the two least recalled seen items, two new ones
    assert np.allclose(short.p_exam_reviewed[done], full.p_exam_reviewed[done])


def test_daily_budget_values_reviews_at_the_planning_horizon(now: datetime) -> None:
    """A deck the budget covers in about 2 days, an exam in 20: forecasts look 2 days ahead."""
    pred, c = _deck(now)
    exam = now + timedelta(days=20)
    to_exam = with_exam_forecast(c, pred, now, {7: exam})
    # 10 items x 12 s x 1.2 = 144 s per pass; 72 s a day gives a 2-day horizon
    near = with_exam_forecast(c, pred, now, {7: exam}, daily_seconds=72.0, answer_seconds=12.0)
    assert near.p_exam_now is not None and to_exam.p_exam_now is not None
    seen = ~c.is_new
    horizon = now.timestamp() + 2.0 * SECONDS_PER_DAY
    np.testing.assert_allclose(
        near.p_exam_now[seen], pred.recall_at(c.item_id[seen], np.full(5, horizon))
    )
    assert np.all(near.p_exam_now[seen] > to_exam.p_exam_now[seen])
    # a budget that covers the deck every day but the exam is sooner: the exam decides
    soon = now + timedelta(hours=12)
    a = with_exam_forecast(c, pred, now, {7: soon}, daily_seconds=1e6)
    b = with_exam_forecast(c, pred, now, {7: soon})
    assert a.p_exam_reviewed is not None and b.p_exam_reviewed is not None
    np.testing.assert_allclose(a.p_exam_reviewed, b.p_exam_reviewed)


def _pacing_deck(now: datetime) -> tuple[HalfLifePredictor, Candidates]:
    """Item 0 answered an hour ago (will be forgotten by the exam), item 1 five days ago
    (better learned), 2-39 new."""
    t = now.timestamp()
    last = {0: t - 3600.0, 1: t - 5 * SECONDS_PER_DAY}
    pred = HalfLifePredictor(last, {0: 3.0, 1: 20.0})
    ids = np.arange(40)
    seen = np.array([last.get(int(i), np.nan) for i in ids])
    p = np.where(np.isnan(seen), 0.0, pred.recall_at(ids, np.full(40, t)))
    c = Candidates.build(ids, p, is_new=np.isnan(seen), last_seen=seen, deck=np.full(40, 7))
    return pred, c


def test_exam_reviews_wait_for_spacing(
    now: datetime, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    pred, c = _pacing_deck(now)
    settings = StudySettings(exams={7: now + timedelta(days=10)}, daily_goal_minutes=2.0)
    c = with_exam_forecast(c, pred, now, settings.exams)
    monkeypatch.setattr(scoring, "COVERAGE_ANSWERS", 0.0)
    monkeypatch.setattr(scoring, "MIN_SPACING_SHARE", 0.0)
    monkeypatch.setattr(scoring, "REVIEW_SPACING_SHARE", 0.0)
    # without a spacing floor or weight, the item answered an hour ago has the largest gain
    first = choose_next(c, settings, SessionHistory(), TodayCounts(), now, rng)
    assert (first.item_id, first.reason) == (0, Reason.EXAM_PRIORITY)
    # 40 items x 12 s x 1.2 / 120 s a day: a 4.8-day horizon; half of it is 2.4 days
    monkeypatch.setattr(scoring, "MIN_SPACING_SHARE", 0.5)
    spaced = choose_next(c, settings, SessionHistory(), TodayCounts(), now, rng)
    assert spaced.item_id != 0 and spaced.reason is Reason.EXAM_PRIORITY
    # it is still asked when nothing else is left
    only = Candidates.build([0], [float(c.p_recall[0])], last_seen=[float(c.last_seen[0])])
    only = with_exam_forecast(replace(only, deck=np.array([7])), pred, now, settings.exams)
    assert choose_next(only, settings, SessionHistory(), TodayCounts(), now, rng).item_id == 0


def test_new_items_keep_pace_when_the_budget_allows(
    now: datetime, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    pred, c = _pacing_deck(now)
    c = with_exam_forecast(c, pred, now, {7: now + timedelta(days=10)})
    monkeypatch.setattr(scoring, "MIN_SPACING_SHARE", 0.0)
    monkeypatch.setattr(scoring, "COVERAGE_ANSWERS", 3.0)
    roomy = StudySettings(exams={7: now + timedelta(days=10)}, daily_goal_minutes=10.0)
    tight = StudySettings(exams={7: now + timedelta(days=10)}, daily_goal_minutes=0.5)
    # 10 min a day at 12 s (1.5 answers per item): 33 a day, 330 by the exam >= 3 x 40
    floor = scoring.exam_new_floor(38, 40, 10.0, 600.0 / 18.0, 1.0)
    assert float(floor) == np.ceil(38 / 4.5)
    assert float(scoring.exam_new_floor(38, 40, 10.0, 30.0 / 18.0, 1.0)) == 0.0
    assert float(scoring.exam_new_floor(38, 40, 0.5, 600.0 / 18.0, 1.0)) == 0.0
    pick = choose_next(c, roomy, SessionHistory(), TodayCounts(), now, rng)
    assert (pick.item_id, pick.reason) == (2, Reason.NEW_ITEM)  # deck order
    met = TodayCounts(new=12)  # the floor counts today's new ones: ceil((38 + 12) / 4.5)
    assert choose_next(c, roomy, SessionHistory(), met, now, rng).reason is Reason.EXAM_PRIORITY
    # a budget too small to learn the whole deck: the gains alone decide
    pick = choose_next(c, tight, SessionHistory(), TodayCounts(), now, rng)
    assert pick.reason is Reason.EXAM_PRIORITY


def test_exam_rank_key_orders_like_choose_next(monkeypatch: pytest.MonkeyPatch) -> None:
    gain = np.array([[0.5, 0.4, 0.01, 0.0, 0.0, 0.3]])
    is_new = np.array([[False, False, False, True, True, True]])
    p_now = np.array([[0.2, 0.9, 0.5, 0.0, 0.0, 0.0]])
    due = ~is_new & (p_now < 0.9)
    since = np.array([[0.1, 3.0, 3.0, np.nan, np.nan, np.nan]])
    key = scoring.exam_rank_key(gain, due, is_new, p_now, 0.05, since, 1.0)
    # gains first (item 0 waits: answered 0.1 days ago), then due, new in order, extra
    assert np.argsort(key[0]).tolist() == [1, 5, 2, 3, 4, 0]
    floor = scoring.exam_rank_key(gain, due, is_new, p_now, 0.05, since, 1.0, np.array([2.0]))
    assert np.argsort(floor[0]).tolist() == [3, 4, 1, 5, 2, 0]


def _one_forecast_per_day(
    pred: HalfLifePredictor, c: Candidates, now: datetime, exam: datetime, minutes: float
) -> float:
    """The exam-day forecast with an exact review forecast on every day (the reference)."""
    t_now, t_exam = now.timestamp(), exam.timestamp()
    base = np.where(c.is_new, 0.0, pred.recall_at(c.item_id, np.full(len(c), t_exam)))
    per_day = int(minutes * 60.0 / (12.0 * scoring.ANSWERS_PER_REVIEW))
    final, free = base.copy(), np.ones(len(c), bool)
    for k in range(int(np.ceil((t_exam - t_now) / SECONDS_PER_DAY)) - 1, -1, -1):
        review_at = min(t_now + k * SECONDS_PER_DAY, t_exam - 3600.0)
        idx = np.flatnonzero(free & (~c.is_new | ((t_exam - review_at) / SECONDS_PER_DAY >= 1)))
        after = expected_recall_after_review(pred, c.item_id[idx], review_at, t_exam)
        order = np.argsort(-(after - base[idx]), kind="stable")[:per_day]
        keep = order[(after - base[idx])[order] > 0]
        final[idx[keep]] = np.maximum(final[idx[keep]], after[keep])
        free[idx[keep]] = False
    return float(final.mean())


class CountingPredictor(HalfLifePredictor):
    """Counts the review forecasts asked of it."""

    reviews = 0

    def recall_after_review(
        self, items: np.ndarray, review_at: float, at: float
    ) -> tuple[np.ndarray, np.ndarray]:
        self.reviews += 1
        return super().recall_after_review(items, review_at, at)


@pytest.mark.parametrize("days", [3, 8, 30, 90])
def test_paces_share_a_bounded_number_of_review_forecasts(now: datetime, days: int) -> None:
    pred, c = _deck(now)
    counting = CountingPredictor(pred.last, pred.half)
    exam = now + timedelta(days=days)
    shares = expected_exam_recall_at_paces(
        counting, c.item_id, c.is_new, now, exam, [0.5, 1.0, 5.0], 12.0
    )
    assert counting.reviews <= exam_module.REVIEW_ANCHORS
    for minutes, share in zip([0.5, 1.0, 5.0], shares, strict=True):
        assert share == expected_exam_recall(pred, c.item_id, c.is_new, now, exam, minutes, 12.0)
        exact = _one_forecast_per_day(pred, c, now, exam, minutes)
        if days <= exam_module.REVIEW_ANCHORS:
            assert share == pytest.approx(exact, abs=1e-12)
        else:  # between the exact days, interpolated: close, not equal
            assert share == pytest.approx(exact, abs=0.02)


def _every_anchor_for_every_item(
    pred: HalfLifePredictor, c: Candidates, now: datetime, exam: datetime, minutes: float
) -> float:
    """The forecast with all anchor days forecast for all items up front, then interpolated
    and planned (what ``expected_exam_recall_at_paces`` computed before it went lazy)."""
    t_now, t_exam = now.timestamp(), exam.timestamp()
    days = int(np.ceil((t_exam - t_now) / SECONDS_PER_DAY))
    review_at = np.minimum(t_now + np.arange(days) * SECONDS_PER_DAY, t_exam - 3600.0)
    lazy = exam_module._ReviewForecasts(pred, c.item_id, review_at, t_exam)
    everything = np.ones(len(c), bool)
    reviewed = []
    for d in range(days):
        lazy.prepare(d, everything)
        reviewed.append(lazy.row(d, np.arange(len(c))))
    base = np.where(c.is_new, 0.0, pred.recall_at(c.item_id, np.full(len(c), t_exam)))
    per_day = int(minutes * 60.0 / (12.0 * scoring.ANSWERS_PER_REVIEW))
    final, free = base.copy(), np.ones(len(c), bool)
    for k in range(days - 1, -1, -1):
        if per_day <= 0 or not free.any():
            break
        may_start = (t_exam - review_at[k]) / SECONDS_PER_DAY >= 1
        idx = np.flatnonzero(free & (~c.is_new | may_start))
        after = reviewed[k][idx]
        order = np.argsort(-(after - base[idx]), kind="stable")[:per_day]
        keep = order[(after - base[idx])[order] > 0]
        final[idx[keep]] = np.maximum(final[idx[keep]], after[keep])
        free[idx[keep]] = False
    return float(final.mean())


@pytest.mark.parametrize("days", [3, 12, 45])
def test_forecasts_made_on_demand_equal_forecasting_everything(now: datetime, days: int) -> None:
    pred, c = _deck(now)
    counting = CountingPredictor(pred.last, pred.half)
    exam = now + timedelta(days=days, hours=5)
    paces = [0.2, 0.5, 1.0]
    shares = expected_exam_recall_at_paces(counting, c.item_id, c.is_new, now, exam, paces, 12.0)
    for minutes, share in zip(paces, shares, strict=True):
        assert share == _every_anchor_for_every_item(pred, c, now, exam, minutes)
    assert counting.reviews <= exam_module.REVIEW_ANCHORS


def test_items_already_planned_are_not_forecast_on_earlier_days(now: datetime) -> None:
    pred, c = _deck(now)
    asked: list[int] = []

    class Sizes(HalfLifePredictor):
        def recall_after_review(
            self, items: np.ndarray, review_at: float, at: float
        ) -> tuple[np.ndarray, np.ndarray]:
            asked.append(items.shape[0])
            return super().recall_after_review(items, review_at, at)

    # one review a day (1 minute at 12 s an answer) over 40 days: the last days plan most
    # of the ten items, so the earliest anchors are asked about fewer
    expected_exam_recall_at_paces(
        Sizes(pred.last, pred.half), c.item_id, c.is_new, now, now + timedelta(days=40), [0.3], 12.0
    )
    assert asked[0] == len(c) and min(asked) < len(c)
    assert sum(asked) < exam_module.REVIEW_ANCHORS * len(c)


def test_spacing_weight_counts_a_review_in_full_from_half_the_horizon() -> None:
    since = np.array([0.0, 1.0, 2.0, 4.0, np.nan, np.nan])
    is_new = np.array([False, False, False, False, False, True])
    w = scoring.spacing_weight(since, is_new, 4.0)
    np.testing.assert_allclose(w, [0.0, 0.5, 1.0, 1.0, 1.0, 1.0])  # unknown time: in full
    np.testing.assert_allclose(scoring.spacing_weight(since, is_new, 4.0, share=0.0), 1.0)
    gain = np.array([0.2, 0.2, 0.2, 0.2, -np.inf, 0.1])
    np.testing.assert_allclose(
        scoring.spaced_gain(gain, since, is_new, 4.0), [0.0, 0.1, 0.2, 0.2, -np.inf, 0.1]
    )
