"""Array scores shared by the live policy and the benchmark (any array shape, no I/O)."""

from __future__ import annotations

import numpy as np

from tutor.policy.types import BoolArray, FloatArray

#: Answers per item in one pass through the deck (wrong answers are shown twice).
CYCLE_FACTOR = 1.2
#: Answers per item on the day it is reviewed, for capacity estimates.
ANSWERS_PER_REVIEW = 1.5

#: In exam mode, a seen item answered less than this share of the planning horizon ago gets
#: neither exam priority nor a due review (0 turns it off). A review so soon adds little by
#: the exam, strongly so for memory with a spacing effect; with the simulated students' true
#: memory it lifts exam-day recall, but with the shipped model's predictions it did not
#: (docs/scheduling.md), so the service leaves it off for now.
MIN_SPACING_SHARE = 0.0
#: The new-item floor applies when the answers left before the exam allow this many answers
#: per item of the deck (0 turns it off): then every item can be learned, and a greedy gain
#: rule, which values a first sight only by what it adds at the horizon, may leave some items
#: unseen. Off for now, for the same reason.
COVERAGE_ANSWERS = 0.0
#: Share of the days left (before the cut-off) over which the floor spreads the new items.
NEW_SPREAD = 0.5
#: In exam mode a seen item's gain counts in proportion to the time since its last answer,
#: in full from this share of the planning horizon on (0 turns it off; see
#: :func:`spacing_weight`).
REVIEW_SPACING_SHARE = 0.5
#: The values the benchmark's ``oracle_paced`` reference runs with.
PACED_SPACING_SHARE = 0.9
PACED_COVERAGE_ANSWERS = 3.0


def expected_cost(p_now: FloatArray, is_new: BoolArray, answer_seconds: FloatArray) -> FloatArray:
    """Expected seconds a review takes: a wrong answer is shown again.

    For a new item ``p_now`` is the chance of knowing it at first sight (0 if unknown).
    """
    p = np.nan_to_num(p_now, nan=0.0)
    return answer_seconds * (2.0 - p)


def exam_gain_per_second(
    p_now: FloatArray,
    is_new: BoolArray,
    p_exam_now: FloatArray,
    p_exam_reviewed: FloatArray,
    answer_seconds: FloatArray,
    days_left: FloatArray | float,
    new_cutoff_days: float,
) -> FloatArray:
    """Marginal gain in expected exam-day recall per second of study; -inf where not allowed.

    New items are not allowed within ``new_cutoff_days`` of the exam (seen once, they would
    not be learned), nor after the exam.
    """
    base = np.where(is_new, 0.0, p_exam_now)
    gain = (p_exam_reviewed - base) / expected_cost(p_now, is_new, answer_seconds)
    blocked = (is_new & (np.asarray(days_left) < new_cutoff_days)) | (np.asarray(days_left) <= 0)
    return np.where(blocked, -np.inf, gain)


def spacing_weight(
    days_since: FloatArray,
    is_new: BoolArray,
    horizon: FloatArray | float,
    share: float | None = None,
) -> FloatArray:
    """How much of a review's predicted exam gain counts: ``min(1, days since the last answer
    / (share * horizon))`` for seen items, 1 for new ones and where that time is unknown
    (``share`` defaults to ``REVIEW_SPACING_SHARE``; 0 counts every gain in full).

    The learner model has little spacing effect: it says a review soon after the last answer
    adds nearly as much as a spaced one, where memory with a spacing effect (people's, and
    both simulated families) gains far less from it. Weighting the gain, rather than barring
    recent items as ``MIN_SPACING_SHARE`` does, keeps them when their gain is large.
    """
    s = REVIEW_SPACING_SHARE if share is None else share
    if s <= 0:
        return np.ones(np.shape(days_since))
    # an unknown time since the last answer (NaN) counts the gain in full
    since = np.nan_to_num(np.asarray(days_since, np.float64), nan=np.inf)
    w = np.clip(since / (s * np.maximum(np.asarray(horizon, np.float64), 1e-9)), 0.0, 1.0)
    return np.where(is_new, 1.0, w)


def spaced_gain(
    gain: FloatArray,
    days_since: FloatArray,
    is_new: BoolArray,
    horizon: FloatArray | float,
    share: float | None = None,
) -> FloatArray:
    """``gain`` weighted by :func:`spacing_weight` (-inf, not allowed, stays -inf)."""
    w = spacing_weight(days_since, is_new, horizon, share)
    return np.where(np.isfinite(gain), gain * w, gain)


def due_mask(p_now: FloatArray, is_new: BoolArray, target: float) -> BoolArray:
    """Seen items whose predicted recall has fallen below the target retention."""
    return ~is_new & (np.nan_to_num(p_now, nan=0.0) < target)


def planning_horizon_days(
    days_left: float, n_items: int, seconds_per_answer: float, daily_seconds: float
) -> float:
    """How far ahead an exam-mode review is valued: the exam, or sooner the next chance.

    If reviewing every item once takes ``cycle`` days at the daily budget, an item reviewed
    now can be reviewed again about ``cycle`` days later, so a review is worth what it adds
    to recall at that point (which favours long spacing early); within the last cycle before
    the exam, it is worth what it adds on exam day (denser review near the date).
    """
    cycle = n_items * seconds_per_answer * CYCLE_FACTOR / max(daily_seconds, 1e-9)
    return float(min(days_left, max(cycle, 1.0)))


def exam_new_floor(
    n_new: FloatArray | float,
    n_items: FloatArray | float,
    days_left: float,
    answers_per_day: FloatArray | float,
    cutoff_days: float,
    coverage_answers: float | None = None,
) -> FloatArray:
    """New items to introduce at least today, ahead of exam gains (0 when the budget is tight).

    When the answers left before the exam allow ``coverage_answers`` (default
    ``COVERAGE_ANSWERS``; 0 = off) answers per item of the deck, the remaining new items are
    spread over the first ``NEW_SPREAD`` of the days left before the cut-off; otherwise the
    gains alone decide which items are worth learning.
    """
    need = COVERAGE_ANSWERS if coverage_answers is None else coverage_answers
    usable = days_left - cutoff_days
    if need <= 0 or usable <= 0:
        return np.zeros(np.shape(n_new))
    roomy = days_left * np.asarray(answers_per_day) >= need * np.asarray(n_items)
    per_day = np.ceil(np.asarray(n_new, np.float64) / max(1.0, usable * NEW_SPREAD))
    return np.where(roomy, per_day, 0.0)


def exam_rank_key(
    gain: FloatArray,
    due: BoolArray,
    is_new: BoolArray,
    p_now: FloatArray,
    min_gain: float,
    days_since: FloatArray | None = None,
    min_spacing: FloatArray | float = 0.0,
    new_floor: FloatArray | None = None,
) -> FloatArray:
    """A ranking key (lower first) with ``choose_next``'s exam-mode precedence, for a day.

    Items whose exam gain per second exceeds ``min_gain`` come first, best first; then due
    reviews, least likely first; new items in deck order (the last axis); extra practice,
    weakest first. Seen items answered less than ``min_spacing`` days ago (``days_since``)
    get neither exam priority nor a due review; the first ``new_floor`` new items (per row)
    come before everything. Used by the benchmark to rank a whole day at once.
    """
    n = gain.shape[-1]
    order = np.arange(n, dtype=np.float64) / max(n, 1)
    p = np.nan_to_num(p_now, nan=0.0)
    recent = np.zeros(gain.shape, bool)
    if days_since is not None:
        recent = ~is_new & (days_since < min_spacing)
    rest = np.where(due & ~recent, 10.0 + p, np.where(is_new, 20.0 + order, 30.0 + p))
    key = np.where((gain > min_gain) & ~recent, -gain, rest)
    if new_floor is not None:
        new_rank = np.cumsum(is_new, axis=-1) - 1
        first = is_new & (new_rank < np.asarray(new_floor)[..., None]) & np.isfinite(gain)
        key = np.where(first, -1e6 + order, key)
    return np.asarray(key)
