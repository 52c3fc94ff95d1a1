"""Reminder timing: at-risk threshold, preferred window, quiet hours, daylight saving."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import numpy as np
import pytest

from tests.tutor.policy.conftest import HalfLifePredictor
from tutor.policy import ReminderSettings, next_daily_quiz, next_nudge
from tutor.policy.reminders import allowed_at
from tutor.policy.types import SECONDS_PER_DAY


def _fading(now: datetime, n: int, half_days: float) -> tuple[HalfLifePredictor, np.ndarray]:
    t = now.timestamp()
    return HalfLifePredictor({i: t for i in range(n)}, {i: half_days for i in range(n)}), np.arange(
        n
    )


def test_nudge_when_threshold_crossed_inside_window() -> None:
    now = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # 10:00 in Berlin
    pred, items = _fading(now, 12, half_days=1.0)
    # recall 0.9 is crossed after log2(1/0.9) days = 3.65 h -> 11:39 UTC, 13:39 local
    settings = ReminderSettings(timezone="Europe/Berlin", at_risk_threshold=10)
    nudge = next_nudge(pred, items, now, settings)
    assert nudge is not None
    expected = now + timedelta(days=float(np.log2(1 / 0.9)))
    assert abs((nudge - expected).total_seconds()) <= 60
    assert nudge.tzinfo is not None and nudge.utcoffset() == timedelta(0)


def test_nudge_moved_out_of_quiet_hours() -> None:
    ny = "America/New_York"
    now = datetime(2026, 6, 1, 23, 0, tzinfo=UTC)  # 19:00 EDT; crossing ~22:39 local
    pred, items = _fading(now, 12, half_days=1.0)
    settings = ReminderSettings(timezone=ny, at_risk_threshold=10)
    nudge = next_nudge(pred, items, now, settings)
    assert nudge == datetime(2026, 6, 2, 13, 0, tzinfo=UTC)  # 09:00 EDT, window start


def test_quiet_hours_across_spring_forward() -> None:
    # 2026-03-08: New York moves from EST (UTC-5) to EDT (UTC-4) at 02:00 local.
    settings = ReminderSettings(timezone="America/New_York", quiet_end=time(8, 0))
    night = datetime(2026, 3, 8, 6, 30, tzinfo=UTC)  # 01:30 EST
    assert not allowed_at(night, settings)
    now = night
    pred, items = _fading(now, 5, half_days=0.01)  # everything at risk at once
    nudge = next_nudge(
        pred, items, now, ReminderSettings(timezone="America/New_York", at_risk_threshold=5)
    )
    assert nudge == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)  # 09:00 EDT, not 14:00 UTC
    before = datetime(2026, 3, 7, 6, 30, tzinfo=UTC)  # the same local time a day earlier
    pred, items = _fading(before, 5, half_days=0.01)
    day_before = next_nudge(
        pred,
        items,
        before,
        ReminderSettings(timezone="America/New_York", at_risk_threshold=5),
    )
    assert day_before == datetime(2026, 3, 7, 14, 0, tzinfo=UTC)  # 09:00 EST


def test_no_nudge_when_nothing_fades() -> None:
    now = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    pred, items = _fading(now, 3, half_days=1000.0)
    assert next_nudge(pred, items, now, ReminderSettings(at_risk_threshold=1)) is None


def test_daily_quiz_keeps_local_time_across_dst() -> None:
    ny = "America/New_York"
    at = time(8, 0)
    sat = next_daily_quiz(datetime(2026, 3, 7, 0, 0, tzinfo=UTC), ny, at)
    assert sat == datetime(2026, 3, 7, 13, 0, tzinfo=UTC)  # 08:00 EST
    sun = next_daily_quiz(sat, ny, at)
    assert sun == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)  # 08:00 EDT
    assert sun - sat == timedelta(hours=23)
    # a wall time skipped by the change (02:30) fires once, an hour later on the clock
    gap = next_daily_quiz(datetime(2026, 3, 8, 0, 0, tzinfo=UTC), ny, time(2, 30))
    assert gap == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT
    # autumn: 01:30 happens twice on 2026-11-01; the quiz fires at the first one only
    first = next_daily_quiz(datetime(2026, 11, 1, 0, 0, tzinfo=UTC), ny, time(1, 30))
    assert first == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert next_daily_quiz(first, ny, time(1, 30)) == datetime(2026, 11, 2, 6, 30, tzinfo=UTC)


def test_naive_times_rejected() -> None:
    with pytest.raises(ValueError):
        next_daily_quiz(datetime(2026, 1, 1), "UTC", time(8, 0))
    assert SECONDS_PER_DAY == 86_400.0
