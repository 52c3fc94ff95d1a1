"""The next question: relearning, exam priority, due reviews, new items, extra practice."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from tutor.policy import scoring
from tutor.policy.scoring import due_mask, exam_gain_per_second
from tutor.policy.types import (
    DEFAULT_ANSWER_SECONDS,
    SECONDS_PER_DAY,
    BoolArray,
    Candidates,
    Choice,
    FloatArray,
    Reason,
    SessionHistory,
    StudySettings,
    TodayCounts,
    to_seconds,
)

#: Look this far down the ranking for an item of a different tag than the last one.
INTERLEAVE_WINDOW = 5
#: Exam gains below this (recall share per second) are noise, not a reason to study.
MIN_EXAM_GAIN = 1e-6


def _answer_seconds(c: Candidates) -> FloatArray:
    if c.answer_seconds is None:
        return np.full(len(c), DEFAULT_ANSWER_SECONDS)
    return np.where(np.isfinite(c.answer_seconds), c.answer_seconds, DEFAULT_ANSWER_SECONDS)


def _pick(
    key: FloatArray, mask: BoolArray, c: Candidates, last_tag: int | None, rng: np.random.Generator
) -> int | None:
    """Index of the lowest ``key`` within ``mask``, preferring a tag other than ``last_tag``."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return None
    jitter = rng.random(idx.size) * 1e-9  # seeded tie-break between equal keys
    ranked = idx[np.argsort(key[idx] + jitter, kind="stable")]
    if last_tag is not None and last_tag >= 0:
        head = ranked[:INTERLEAVE_WINDOW]
        other = head[c.tag[head] != last_tag]
        if other.size:
            return int(other[0])
    return int(ranked[0])


def _answers_since(session: SessionHistory, item_id: int) -> int:
    for back, answered in enumerate(reversed(session.answered)):
        if answered == item_id:
            return back
    return len(session.answered)


def _exam_pacing(
    c: Candidates,
    settings: StudySettings,
    today: TodayCounts,
    t_now: float,
    per_answer: float,
    daily_seconds: float,
) -> tuple[BoolArray, int | None, FloatArray]:
    """Items of exam decks answered too recently to review for the exam yet, a deck whose
    new items are behind the pace that brings the whole deck in (or None), and each item's
    planning horizon in days (NaN outside exam decks).

    Per deck, as the benchmark ranks a day: a seen item answered less than
    ``scoring.MIN_SPACING_SHARE`` of the planning horizon ago gets neither exam priority nor
    a due review; ``scoring.exam_new_floor`` sets how many new items the day needs.
    """
    n = len(c)
    recent = np.zeros(n, bool)
    horizons = np.full(n, np.nan)
    since = (t_now - c.last_seen) / SECONDS_PER_DAY  # NaN for new items: never recent
    behind: int | None = None
    per_day = daily_seconds / (per_answer * scoring.ANSWERS_PER_REVIEW)
    for deck, exam_at in settings.exams.items():
        in_deck = c.deck == deck
        left = (to_seconds(exam_at) - t_now) / SECONDS_PER_DAY
        size = int(in_deck.sum())
        if size == 0 or left <= 0:
            continue
        horizon = scoring.planning_horizon_days(left, size, per_answer, daily_seconds)
        horizons[in_deck] = horizon
        with np.errstate(invalid="ignore"):
            recent |= in_deck & ~c.is_new & (since < scoring.MIN_SPACING_SHARE * horizon)
        n_new = int((in_deck & c.is_new).sum())
        floor = scoring.exam_new_floor(
            n_new + today.new, size, left, per_day, settings.exam_new_cutoff_days
        )
        if behind is None and n_new > 0 and today.new < float(floor):
            behind = deck
    return recent, behind, horizons


def choose_next(
    c: Candidates,
    settings: StudySettings,
    session: SessionHistory,
    today: TodayCounts,
    now: datetime,
    rng: np.random.Generator,
) -> Choice:
    """Choose the next item to ask.

    Order of precedence: an item answered wrong this session, once ``relearn_gap`` other
    answers have passed; with an exam ahead (while today's goal is not met), new items of the
    exam deck while they are behind the pace that brings the deck in
    (``scoring.exam_new_floor``), then the item with the largest gain in expected exam-day
    recall per second; reviews whose predicted recall fell below the target, least likely
    first (with an exam ahead, neither for items answered less than
    ``scoring.MIN_SPACING_SHARE`` of the planning horizon ago); new items up to today's
    quota (or up to ``settings.new_items_today``, when the student asked for more); then extra
    practice, which never counts toward the quota and says how many new items wait. The same
    item never comes twice in a row unless it is the only one. Same inputs (and RNG state)
    give the same choice.
    """
    t_now = to_seconds(now)
    n = len(c)
    if n == 0:
        raise ValueError("no items to choose from")
    last = session.last
    allowed = c.item_id != last if last is not None else np.ones(n, bool)
    if not allowed.any():
        allowed = np.ones(n, bool)
    pos_of_last = np.flatnonzero(c.item_id == last) if last is not None else np.array([], int)
    last_tag = int(c.tag[pos_of_last[0]]) if pos_of_last.size else None
    secs = _answer_seconds(c)
    per_answer = float(np.median(secs))
    p_now = np.where(c.is_new, 0.0, np.nan_to_num(c.p_recall, nan=0.0))

    # 1. Bring back what was answered wrong, a few answers later.
    ready = [
        w
        for w in session.wrong
        if _answers_since(session, w) >= settings.relearn_gap and w != last and w in c.item_id
    ]
    if ready:
        oldest = max(ready, key=lambda w: _answers_since(session, w))
        return Choice(oldest, Reason.RELEARN)
    # New items of a deck whose exam is too close are not introduced at all.
    days_left = np.full(n, np.inf)
    for deck, exam_at in settings.exams.items():
        days_left[c.deck == deck] = (to_seconds(exam_at) - t_now) / SECONDS_PER_DAY
    too_late = c.is_new & (days_left < settings.exam_new_cutoff_days)
    if (allowed & ~too_late).any():
        allowed = allowed & ~too_late
    new_left = allowed & c.is_new & ~too_late
    # Items already answered this session wait (a wrong one until its relearning turn),
    # unless nothing else is left.
    fresh = allowed & ~np.isin(c.item_id, np.asarray(session.answered, dtype=np.int64))
    if fresh.any():
        allowed = fresh

    goal_items = settings.goal_items(per_answer)
    goal_met = today.reviews + today.new >= goal_items
    daily_seconds = goal_items * per_answer
    if settings.daily_goal_minutes is not None:
        goal_met = today.seconds >= settings.daily_goal_minutes * 60.0
        daily_seconds = settings.daily_goal_minutes * 60.0

    # Exam decks: reviews spaced out, and new items brought in while the budget allows.
    recent = np.zeros(n, bool)
    horizons = np.full(n, np.nan)
    if settings.exams and not goal_met:
        recent, floor_deck, horizons = _exam_pacing(
            c, settings, today, t_now, per_answer, daily_seconds
        )
        if floor_deck is not None:
            order = np.arange(n, dtype=np.float64)
            new_here = allowed & c.is_new & (c.deck == floor_deck)
            pick = _pick(order, new_here, c, last_tag, rng)
            if pick is not None:
                return Choice(int(c.item_id[pick]), Reason.NEW_ITEM)

    # 2. Exam priority: the best marginal gain in exam-day recall per second.
    if (
        settings.exams
        and c.p_exam_now is not None
        and c.p_exam_reviewed is not None
        and not goal_met
    ):
        gain = exam_gain_per_second(
            p_now,
            c.is_new,
            c.p_exam_now,
            c.p_exam_reviewed,
            secs,
            days_left,
            settings.exam_new_cutoff_days,
        )
        # a review soon after the last answer adds less than the model says
        since = (t_now - c.last_seen) / SECONDS_PER_DAY
        gain = scoring.spaced_gain(gain, since, c.is_new, np.nan_to_num(horizons, nan=1.0))
        mask = allowed & np.isfinite(gain) & (gain > MIN_EXAM_GAIN) & np.isfinite(days_left)
        mask &= ~recent
        pick = _pick(-gain, mask, c, last_tag, rng)
        if pick is not None:
            return Choice(int(c.item_id[pick]), Reason.EXAM_PRIORITY)

    # 3. Due reviews, the most at risk first.
    due = due_mask(c.p_recall, c.is_new, settings.target_retention) & ~recent
    pick = _pick(p_now, allowed & due, c, last_tag, rng)
    if pick is not None:
        return Choice(int(c.item_id[pick]), Reason.DUE_REVIEW)

    # 4. New items, in deck order, paced to the daily goal (or as many as the student
    #    asked for today).
    quota_left = not goal_met and today.new < settings.new_quota(per_answer)
    asked_for = settings.new_items_today is not None and today.new < settings.new_items_today
    order = np.arange(n, dtype=np.float64)
    if quota_left or asked_for:
        pick = _pick(order, allowed & c.is_new, c, last_tag, rng)
        if pick is not None:
            return Choice(int(c.item_id[pick]), Reason.NEW_ITEM)

    # 5. Extra practice: the weakest seen item; the new items it holds back are counted, so
    #    the student can be offered them instead. Only new items left to ask this session
    #    (everything seen was answered already): the next new one, as what it is.
    pick = _pick(p_now, allowed & ~c.is_new, c, last_tag, rng)
    if pick is not None:
        return Choice(int(c.item_id[pick]), Reason.EXTRA_PRACTICE, int(new_left.sum()))
    pick = _pick(order, allowed, c, last_tag, rng)
    assert pick is not None
    reason = Reason.NEW_ITEM if c.is_new[pick] else Reason.EXTRA_PRACTICE
    return Choice(int(c.item_id[pick]), reason)
