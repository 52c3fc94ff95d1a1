"""When an item is due again: the moment its predicted recall falls below the target."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np

from tutor.policy.predictor import RecallPredictor
from tutor.policy.types import SECONDS_PER_DAY

NEXT_DUE_HORIZON_S = 365 * SECONDS_PER_DAY
NEXT_DUE_MIN_S = 60.0
NEXT_DUE_STEPS = 14
"""Bisection on the logarithm of the gap: 14 halvings of [1 min, 1 year] pin the due time to
within 0.1 % of the gap, with 16 predictions (each a model call) instead of 42."""


def next_due(predictor: RecallPredictor, item_id: int, now: datetime, target: float) -> datetime:
    """When the item's predicted recall falls below ``target`` (``now`` if it already has)."""
    items = np.array([item_id], dtype=np.int64)
    start = now.timestamp()

    def recall(gap_s: float) -> float:
        return float(predictor.recall_at(items, np.array([start + gap_s]))[0])

    if recall(0.0) < target:
        return now
    if recall(NEXT_DUE_HORIZON_S) >= target:
        return now + timedelta(seconds=NEXT_DUE_HORIZON_S)
    lo, hi = NEXT_DUE_MIN_S, NEXT_DUE_HORIZON_S
    for _ in range(NEXT_DUE_STEPS):
        mid = math.sqrt(lo * hi)
        if recall(mid) < target:
            hi = mid
        else:
            lo = mid
    return now + timedelta(seconds=hi)
