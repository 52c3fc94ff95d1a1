"""Array scores shared by the live policy and the benchmark (any array shape, no I/O)."""

from __future__ import annotations

import numpy as np

from tutor.policy.types import BoolArray, FloatArray


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
    cycle = n_items * seconds_per_answer * 1.2 / max(daily_seconds, 1e-9)
    return float(min(days_left, max(cycle, 1.0)))
