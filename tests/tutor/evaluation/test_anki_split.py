"""srs-benchmark's per-learner time split."""

from __future__ import annotations

import numpy as np

from tutor.evaluation.anki_logs import elapsed_days, later_day_only, time_split
from tutor.evaluation.logs import LearnerLog

DAY = 86_400.0


def _log(days: list[float], items: list[int]) -> LearnerLog:
    n = len(days)
    return LearnerLog(
        user="u",
        items=np.array(items),
        skills=((),) * n,
        correct=np.ones(n, dtype=np.int8),
        timestamps=1.7e9 - (1.7e9 % DAY) + 6 * 3600 + np.array(days) * DAY,
    )


def test_elapsed_days_per_card() -> None:
    log = _log([0, 0.01, 1, 3, 3.5], [1, 1, 1, 2, 1])
    assert elapsed_days(log).tolist() == [-1, 0, 1, -1, 2]


def test_time_split_matches_timeseriessplit_arithmetic() -> None:
    # card 0 reviewed daily 13 times -> 12 eligible reviews (first review is not eligible)
    # plus same-day repeats that are never eligible
    days = [float(d) for d in range(13)] + [12.1]
    log = _log(days, [0] * 14)
    split = time_split(log, n_splits=5)
    # n = 12 eligible (indices 1..12), chunk = 12 // 6 = 2, test = last 10 eligible
    assert split.eval_mask is not None
    assert np.flatnonzero(split.eval_mask).tolist() == list(range(3, 13))
    assert split.split_points == (3, 5, 7, 9, 11)


def test_time_split_too_short_scores_nothing() -> None:
    split = time_split(_log([0, 1, 2], [0, 0, 0]))
    assert split.eval_mask is not None and not split.eval_mask.any()
    assert split.split_points == ()


def test_later_day_only_marks_cross_day_repeats() -> None:
    log = later_day_only(_log([0, 0.01, 1, 3, 3.5], [1, 1, 1, 2, 1]))
    assert log.eval_mask is not None
    assert log.eval_mask.tolist() == [False, False, True, False, True]
    assert log.split_points == ()
