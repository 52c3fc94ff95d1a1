"""Review intervals and recall estimates from a student's record of one item.

This is the tutor's rule-based memory: an expanding interval per item (longer after each
success, reset after a lapse, scaled by the self-grade) and an exponential forgetting
estimate calibrated so that recall is at the target retention when an item falls due. The
learner model refines these predictions when its weights are loaded; this module is what
the tutor falls back on, and what keeps working without torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tutor.items import Grade

FIRST_INTERVAL_DAYS = 1.0
LAPSE_INTERVAL_DAYS = 10 / (24 * 60)  # ten minutes: see it again soon
MAX_INTERVAL_DAYS = 365.0
_GROWTH = {Grade.HARD: 1.2, Grade.GOOD: 2.5, Grade.EASY: 3.5}


@dataclass(frozen=True, slots=True)
class ItemMemory:
    """What a student has shown of one item: counts, the last answer and the current interval."""

    n_correct: int = 0
    n_wrong: int = 0
    last_correct: bool = False
    interval_days: float = 0.0


def next_interval(memory: ItemMemory, correct: bool, grade: Grade | None) -> float:
    """Days until the item should be reviewed again after this answer."""
    if not correct or grade is Grade.AGAIN:
        return LAPSE_INTERVAL_DAYS
    effective = grade or Grade.GOOD
    if memory.interval_days < FIRST_INTERVAL_DAYS or memory.n_correct == 0:
        base = FIRST_INTERVAL_DAYS * (_GROWTH[effective] / _GROWTH[Grade.GOOD])
        return max(base, LAPSE_INTERVAL_DAYS)
    return min(memory.interval_days * _GROWTH[effective], MAX_INTERVAL_DAYS)


def estimated_recall(interval_days: float, elapsed_days: float, target: float = 0.9) -> float:
    """P(recall) after ``elapsed_days``, equal to ``target`` when the interval has passed."""
    if interval_days <= 0:
        return 0.0
    rate = -math.log(target) / interval_days
    return math.exp(-rate * max(elapsed_days, 0.0))
