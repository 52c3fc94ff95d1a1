"""Exam mode: exam-day recall forecasts for choosing items and for ``/stats``."""

from __future__ import annotations

import math
from collections.abc import Sequence
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
    FloatArray,
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
        # A new item has nothing to recall without a review (and need not be scored).
        old = sel[~c.is_new[sel]]
        p_exam_now[sel] = 0.0
        if old.size:
            p_exam_now[old] = predictor.recall_at(c.item_id[old], np.full(old.size, t_exam))
        if shortlist is not None:
            old = old[np.argsort(p_exam_now[old], kind="stable")[:shortlist]]
            sel = np.concatenate([old, sel[c.is_new[sel]][:shortlist]])
            items = c.item_id[sel]
        p_exam_rev[sel] = expected_recall_after_review(predictor, items, t_now, t_exam)
    return replace(c, p_exam_now=p_exam_now, p_exam_reviewed=p_exam_rev)


#: Review days whose forecasts are computed exactly; between them, an item's recall after a
#: review is interpolated in the logarithm of the days left (it changes slowly with them).
#: With the shipped model on generated students (10k file, 8-12 students, exams 7-60 days
#: ahead, 500-item decks), the share recalled differs from one exact forecast per day by at
#: most 0.0012 with 6 anchors (0.0009 with 8, 0.0015 with 5, 0.0032 with 4).
REVIEW_ANCHORS = 6


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
    return expected_exam_recall_at_paces(
        predictor,
        items,
        is_new,
        now,
        exam_at,
        [minutes_per_day],
        seconds_per_answer,
        new_cutoff_days,
    )[0]


def expected_exam_recall_at_paces(
    predictor: RecallPredictor,
    items: IntArray,
    is_new: BoolArray,
    now: datetime,
    exam_at: datetime,
    paces_minutes: Sequence[float],
    seconds_per_answer: float,
    new_cutoff_days: float = 1.0,
) -> list[float]:
    """:func:`expected_exam_recall` for each daily pace, from one set of review forecasts.

    The forecasts after a review are made for at most ``REVIEW_ANCHORS`` review days (all
    of them for a nearer exam; otherwise the first, the last and days spaced evenly in the
    logarithm of the days left) and interpolated for the days between: the costly part with
    a learner model (two hypothetical answers per item and day) no longer grows with the
    days to the exam or the number of paces asked.
    """
    require_aware(now, "now")
    t_now, t_exam = to_seconds(now), to_seconds(exam_at)
    n = items.shape[0]
    if n == 0:
        return [0.0 for _ in paces_minutes]
    if t_exam <= t_now:
        now_recall = np.where(is_new, 0.0, predictor.recall_at(items, np.full(n, t_now)))
        return [float(np.mean(now_recall)) for _ in paces_minutes]
    base = np.where(is_new, 0.0, predictor.recall_at(items, np.full(n, t_exam)))
    days = math.ceil((t_exam - t_now) / SECONDS_PER_DAY)
    review_at = np.minimum(t_now + np.arange(days) * SECONDS_PER_DAY, t_exam - 3600.0)
    forecasts = _ReviewForecasts(predictor, items, review_at, t_exam)
    return _greedy_last_review(
        base,
        forecasts,
        is_new,
        (t_exam - review_at) / SECONDS_PER_DAY >= new_cutoff_days,
        [math.floor(m * 60.0 / (seconds_per_answer * ANSWERS_PER_REVIEW)) for m in paces_minutes],
    )


class _ReviewForecasts:
    """Exam-day recall of items after a review on each day, made when first needed.

    Exact on anchor days (all days for a near exam; otherwise the first, the last and days
    spaced evenly in the logarithm of the days left), interpolated in that logarithm between
    them. Each anchor is forecast once, for the items still free when a day first needs it:
    the greedy review plan goes from the exam backwards and only ever frees fewer items, so
    items planned for a review before an early anchor is reached are never forecast there.
    """

    def __init__(
        self, predictor: RecallPredictor, items: IntArray, review_at: FloatArray, t_exam: float
    ) -> None:
        days = review_at.shape[0]
        if days <= REVIEW_ANCHORS:
            anchors = np.arange(days)
        else:
            left = t_exam - review_at  # seconds left, falling with the day
            grid = np.geomspace(left[0], left[-1], REVIEW_ANCHORS)
            anchors = np.unique(np.searchsorted(-left, -grid).clip(0, days - 1))
            anchors = np.union1d(anchors, [0, days - 1])
        self.predictor = predictor
        self.items = items
        self.t_exam = t_exam
        self.review_at = review_at[anchors]
        self.exact = np.full((anchors.shape[0], items.shape[0]), np.nan)
        self.known = np.zeros(self.exact.shape, bool)
        # per day: (lower anchor, upper anchor, weight of the upper); an anchor day uses its
        # own forecast alone (lower = upper, no weight)
        self.days: list[tuple[int, int, float | None]] = []
        if anchors.shape[0] == days:
            self.days = [(d, d, None) for d in range(days)]
            return
        x = np.log(t_exam - review_at)
        xa = x[anchors]  # decreasing
        for d in range(days):
            j = int(np.searchsorted(-xa, -x[d]))
            if j < anchors.shape[0] and xa[j] == x[d]:
                self.days.append((j, j, None))
                continue
            lo, hi = max(j - 1, 0), min(j, anchors.shape[0] - 1)
            w = 0.0 if lo == hi else float((xa[lo] - x[d]) / (xa[lo] - xa[hi]))
            self.days.append((lo, hi, w))

    def prepare(self, day: int, wanted: BoolArray) -> None:
        """Forecast the anchors of ``day`` for the ``wanted`` items not forecast there yet."""
        lo, hi, _ = self.days[day]
        for a in {lo, hi}:
            missing = np.flatnonzero(wanted & ~self.known[a])
            if missing.size:
                self.exact[a, missing] = expected_recall_after_review(
                    self.predictor, self.items[missing], float(self.review_at[a]), self.t_exam
                )
                self.known[a, missing] = True

    def row(self, day: int, idx: IntArray) -> FloatArray:
        """Exam-day recall of items ``idx`` after a review on ``day`` (prepared for them)."""
        lo, hi, w = self.days[day]
        if w is None:
            return np.asarray(self.exact[lo, idx])
        return np.asarray((1.0 - w) * self.exact[lo, idx] + w * self.exact[hi, idx])


def _greedy_last_review(
    base: FloatArray,
    forecasts: _ReviewForecasts,
    is_new: BoolArray,
    may_start: BoolArray,
    per_day: Sequence[int],
) -> list[float]:
    """Mean exam-day recall, for each of the ``per_day`` paces, when each day, from the last
    to the first, reviews that many free items with the largest gain (new items only on days
    in ``may_start``). The paces run side by side, so each day's forecasts are made once."""
    finals = [base.copy() for _ in per_day]
    frees = [np.ones(base.shape[0], bool) for _ in per_day]
    for k in range(may_start.shape[0] - 1, -1, -1):
        live = [p for p, m in enumerate(per_day) if m > 0 and frees[p].any()]
        if not live:
            break
        forecasts.prepare(k, np.logical_or.reduce([frees[p] for p in live]))
        for p in live:
            free, final = frees[p], finals[p]
            idx = np.flatnonzero(free & (~is_new | may_start[k]))
            if idx.size == 0:
                continue
            after = forecasts.row(k, idx)
            gain = after - base[idx]
            order = np.argsort(-gain, kind="stable")[: per_day[p]]
            keep = order[gain[order] > 0]
            final[idx[keep]] = np.maximum(final[idx[keep]], after[keep])
            free[idx[keep]] = False
    return [float(np.mean(final)) for final in finals]
