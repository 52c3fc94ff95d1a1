"""When an item is due again: the moment its predicted recall falls below the target."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

import numpy as np

from tutor.policy.predictor import RecallPredictor
from tutor.policy.types import SECONDS_PER_DAY

NEXT_DUE_HORIZON_S = 365 * SECONDS_PER_DAY
NEXT_DUE_MIN_S = 60.0
NEXT_DUE_POINTS = 128
"""Gaps per prediction call. The first call spans [1 min, 1 year] on a log scale (127 steps of
about 11 %), the second splits the step where recall crosses the target into 128: the due
time is pinned to within 0.1 % of the gap (as 14 halvings of the log range were), in two
calls of ``recall_at`` instead of 16 (the model scores one item at many times for the price
of about one prediction)."""

_GAPS = np.r_[0.0, np.geomspace(NEXT_DUE_MIN_S, NEXT_DUE_HORIZON_S, NEXT_DUE_POINTS)]
_GAPS.flags.writeable = False


@cache
def _inner(k: int) -> np.ndarray:
    """The gaps strictly between ``_GAPS[k - 1]`` and ``_GAPS[k]`` (the same every time:
    made once per step)."""
    found = np.geomspace(_GAPS[k - 1], _GAPS[k], NEXT_DUE_POINTS + 1)[1:-1]
    found.flags.writeable = False
    return found


def next_due(predictor: RecallPredictor, item_id: int, now: datetime, target: float) -> datetime:
    """When the item's predicted recall falls below ``target`` (``now`` if it already has).

    Recall is taken to fall with time: the answer is the first gap of the grid where it is
    below ``target``; 1 minute at the least, 1 year at the most.
    """
    start = now.timestamp()

    def below(gaps_s: np.ndarray) -> np.ndarray:
        items = np.full(gaps_s.shape[0], item_id, dtype=np.int64)
        return np.asarray(predictor.recall_at(items, start + gaps_s)) < target

    first = below(_GAPS)
    if first[0]:
        return now
    crossed = np.flatnonzero(first)
    if not crossed.shape[0]:
        return now + timedelta(seconds=NEXT_DUE_HORIZON_S)
    k = int(crossed[0])
    if k == 1:
        return now + timedelta(seconds=NEXT_DUE_MIN_S)
    inner = _inner(k)
    second = np.flatnonzero(below(inner))
    gap = float(inner[second[0]]) if second.shape[0] else float(_GAPS[k])
    return now + timedelta(seconds=gap)
