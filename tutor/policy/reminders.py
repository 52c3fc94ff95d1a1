"""When to remind: a nudge when enough items are at risk, and the daily quiz at the chosen time.

All wall-clock rules are applied in the student's own timezone (``zoneinfo``), so a daily
time stays at the same local hour across daylight-saving changes; results are aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from tutor.policy.predictor import RecallPredictor
from tutor.policy.types import IntArray, require_aware


@dataclass(frozen=True, slots=True)
class ReminderSettings:
    """A student's reminder preferences (local wall-clock times in ``timezone``).

    Intervals may wrap midnight (quiet hours 22:00-08:00 are the usual case).
    """

    timezone: str = "UTC"
    quiet_start: time = time(22, 0)
    quiet_end: time = time(8, 0)
    window_start: time = time(9, 0)
    window_end: time = time(21, 0)
    at_risk_threshold: int = 10
    target_retention: float = 0.9
    horizon: timedelta = timedelta(days=14)
    step: timedelta = timedelta(hours=1)

    @property
    def zone(self) -> ZoneInfo:
        """The student's timezone."""
        return ZoneInfo(self.timezone)


def _within(t: time, start: time, end: time) -> bool:
    """``start <= t < end`` on a 24-hour clock, wrapping midnight when ``end <= start``."""
    if start == end:
        return False
    if start < end:
        return start <= t < end
    return t >= start or t < end


def allowed_at(when: datetime, settings: ReminderSettings) -> bool:
    """True when a reminder may be sent at ``when``: inside the window, outside quiet hours."""
    local = require_aware(when).astimezone(settings.zone).time().replace(tzinfo=None)
    in_window = settings.window_start == settings.window_end or _within(
        local, settings.window_start, settings.window_end
    )
    return in_window and not _within(local, settings.quiet_start, settings.quiet_end)


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of local wall time ``at`` on ``day``.

    A wall time skipped by a spring-forward change maps to the same distance after the
    change (02:30 becomes 03:30); a repeated one (autumn) maps to its first occurrence.
    """
    return datetime.combine(day, at, tzinfo=zone).replace(fold=0).astimezone(UTC)


def next_allowed(when: datetime, settings: ReminderSettings) -> datetime:
    """The first instant at or after ``when`` at which a reminder may be sent."""
    when = require_aware(when).astimezone(UTC)
    if allowed_at(when, settings):
        return when
    zone = settings.zone
    local_day = when.astimezone(zone).date()
    starts = (settings.window_start, settings.quiet_end)
    for offset in range(3):
        day = local_day + timedelta(days=offset)
        for start in sorted(starts):
            cand = local_instant(day, start, zone)
            if cand >= when and allowed_at(cand, settings):
                return cand
    # Degenerate settings (the window lies inside quiet hours): scan by minutes for a day.
    probe = when
    for _ in range(24 * 60):
        probe += timedelta(minutes=1)
        if allowed_at(probe, settings):
            return probe
    raise ValueError("the reminder window lies entirely inside quiet hours")


def at_risk_counts(
    predictor: RecallPredictor, items: IntArray, times: list[datetime], target: float
) -> IntArray:
    """How many of ``items`` are predicted below ``target`` at each of ``times``."""
    n, k = items.shape[0], len(times)
    if n == 0 or k == 0:
        return np.zeros(k, dtype=np.int64)
    secs = np.array([require_aware(t).timestamp() for t in times])
    p = predictor.recall_at(np.tile(items, k), np.repeat(secs, n)).reshape(k, n)
    counts: IntArray = (p < target).sum(axis=1).astype(np.int64)
    return counts


def next_nudge(
    predictor: RecallPredictor, items: IntArray, now: datetime, settings: ReminderSettings
) -> datetime | None:
    """When to nudge: the first time the at-risk count reaches the threshold, moved into the
    preferred window and out of quiet hours. ``None`` if it is not reached within the horizon.

    ``items`` are the student's seen items (new items are not at risk of being forgotten).
    """
    now = require_aware(now, "now").astimezone(UTC)
    steps = int(settings.horizon / settings.step)
    grid = [now + i * settings.step for i in range(steps + 1)]
    counts = at_risk_counts(predictor, items, grid, settings.target_retention)
    hit = np.flatnonzero(counts >= settings.at_risk_threshold)
    if hit.size == 0:
        return None
    first = grid[int(hit[0])]
    if hit[0] > 0:  # refine the crossing to the minute inside the step
        lo = grid[int(hit[0]) - 1]
        minutes = [
            lo + timedelta(minutes=m)
            for m in range(1, int(settings.step / timedelta(minutes=1)) + 1)
        ]
        fine = at_risk_counts(predictor, items, minutes, settings.target_retention)
        first = minutes[int(np.flatnonzero(fine >= settings.at_risk_threshold)[0])]
    return next_allowed(first, settings)


def next_daily_quiz(now: datetime, timezone: str, at: time) -> datetime:
    """The next daily quiz strictly after ``now``: local time ``at`` in ``timezone``, as UTC."""
    now = require_aware(now, "now").astimezone(UTC)
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    for offset in range(3):
        cand = local_instant(today + timedelta(days=offset), at, zone)
        if cand > now:
            return cand
    raise AssertionError("unreachable: a local time recurs within two days")
