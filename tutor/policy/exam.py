"""Exam mode: exam-day recall forecasts for choosing items and for ``/stats``."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime

import numpy as np

from tutor.policy.predictor import RecallPredictor, expected_recall_after_review
from tutor.policy.scoring import ANSWERS_PER_REVIEW, planning_horizon_days
from tutor.policy.types import (
    DEFAULT_ANSWER_SECONDS,
    SECONDS_PER_DAY,
    BoolArray,
    Candidates,
    IntArray,
    require_aware,
    to_seconds,
)


def with_exam_forecast(
    c: Candidates,
    predictor: RecallPredictor,
    now: datetime,
    exams: dict[int, datetime],
    shortlist: int | None = None,
    daily_seconds: float | None = None,
    answer_seconds: float = DEFAULT_ANSWER_SECONDS,
) -> Candidates:
    """``c`` with ``p_exam_now`` / ``p_exam_reviewed`` filled for items of decks with an exam.

    ``p_exam_reviewed`` is the exam-day recall expected if the item were reviewed now
    (averaged over a right and a wrong answer); items of decks without an exam get NaN.
    With ``daily_seconds`` (the student's daily study time), both are valued at the planning
    horizon instead of the exam (:func:`tutor.policy.scoring.planning_horizon_days`: the time
    the budget needs to go once through the deck, at ``answer_seconds`` per answer, if that
    comes before the exam), which spaces reviews out early on and packs them near the date;
    this is how the scheduling benchmark runs the policy.
    With ``shortlist``, the review forecast (the costly part with a learner model: two
    hypothetical updates per item) is made only for that many seen items per deck, those
    least likely to be recalled on exam day, and that many new items in deck order; the
    others get NaN and are left to the ordinary rules.
    """
    t_now = to_seconds(now)
    p_exam_now = np.full(len(c), np.nan)
    p_exam_rev = np.full(len(c), np.nan)
    for deck, exam_at in exams.items():
        sel = np.flatnonzero(c.deck == deck)
        t_exam = to_seconds(exam_at)
        if sel.size == 0 or t_exam <= t_now:
            continue
        items = c.item_id[sel]
        if daily_seconds is not None:
            days = planning_horizon_days(
                (t_exam - t_now) / SECONDS_PER_DAY, sel.size, answer_seconds, daily_seconds
            )
            t_exam = min(t_exam, t_now + days * SECONDS_PER_DAY)
        p_exam_now[sel] = np.where(
            c.is_new[sel], 0.0, predictor.recall_at(items, np.full(sel.size, t_exam))
        )
        if shortlist is not None:
            old = sel[~c.is_new[sel]]
            old = old[np.argsort(p_exam_now[old], kind="stable")[:shortlist]]
            sel = np.concatenate([old, sel[c.is_new[sel]][:shortlist]])
            items = c.item_id[sel]
        p_exam_rev[sel] = expected_recall_after_review(predictor, items, t_now, t_exam)
    return replace(c, p_exam_now=p_exam_now, p_exam_reviewed=p_exam_rev)


def expected_exam_recall(
    predictor: RecallPredictor,
    items: IntArray,
    is_new: BoolArray,
    now: datetime,
    exam_at: datetime,
    minutes_per_day: float,
    seconds_per_answer: float,
    new_cutoff_days: float = 1.0,
) -> float:
    """Expected share of ``items`` recalled on exam day at a daily pace of ``minutes_per_day``.

    A conservative forecast: each item gets at most one more review, placed as late as the
    daily capacity allows (the best gains on the last day before the exam, the next best the
    day before, and so on); an item never reviewed keeps its forecast without review.
    """
    require_aware(now, "now")
    t_now, t_exam = to_seconds(now), to_seconds(exam_at)
    n = items.shape[0]
    if n == 0:
        return 0.0
    if t_exam <= t_now:
        return float(np.mean(np.where(is_new, 0.0, predictor.recall_at(items, np.full(n, t_now)))))
    base = np.where(is_new, 0.0, predictor.recall_at(items, np.full(n, t_exam)))
    per_day = math.floor(minutes_per_day * 60.0 / (seconds_per_answer * ANSWERS_PER_REVIEW))
    days = math.ceil((t_exam - t_now) / SECONDS_PER_DAY)
    final = base.copy()
    free = np.ones(n, bool)
    for k in range(days - 1, -1, -1):
        if per_day <= 0 or not free.any():
            break
        review_at = min(t_now + k * SECONDS_PER_DAY, t_exam - 3600.0)
        days_left = (t_exam - review_at) / SECONDS_PER_DAY
        idx = np.flatnonzero(free & (~is_new | (days_left >= new_cutoff_days)))
        if idx.size == 0:
            continue
        after = expected_recall_after_review(predictor, items[idx], review_at, t_exam)
        gain = after - base[idx]
        best = idx[np.argsort(-gain, kind="stable")[:per_day]]
        keep = best[(after - base[idx])[np.searchsorted(idx, best)] > 0]
        final[keep] = np.maximum(final[keep], after[np.searchsorted(idx, keep)])
        free[keep] = False
    return float(np.mean(final))
