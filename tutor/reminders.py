"""When a reminder goes out: daily-quiz slots, quiet hours, nudges, lateness (pure, no I/O).

Every wall-clock rule is applied in the student's own time zone with ``zoneinfo``:

* a local time that does not exist (skipped by a spring-forward change) moves to the first
  valid minute after the gap (02:30 on a day that jumps 02:00 → 03:00 fires at 03:00);
* a local time that occurs twice (autumn fold) fires once, at its first occurrence;
* a slot inside quiet hours moves to the end of the quiet hours.

A *slot* is the idempotency key of one reminder (one row per user, kind and slot), so a slot
is sent at most once however often it is planned. Results are aware UTC datetimes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from tutor.clock import require_utc, zone
from tutor.students import QuietHours, Student, StudentStatus

#: How far ahead daily slots are written to the database.
PLAN_HORIZON = timedelta(hours=26)
#: A slot found overdue by more than this (the bot was down) is skipped, not sent late.
LATE_LIMIT = timedelta(hours=3)
#: Overdue by less than this counts as on time (the job runs every ~30 s; batches take time).
ON_TIME_GRACE = timedelta(minutes=5)
STUDYING_NOW = timedelta(minutes=15)
"""A student who answered this recently is studying: a reminder would only interrupt."""


class ReminderKind(enum.StrEnum):
    """What a reminder row is for."""

    DAILY = "daily"
    NUDGE = "nudge"
    ANNOUNCE = "announce"

    @property
    def counts_toward_limit(self) -> bool:
        """Announcements are not reminders: they never use up the daily maximum."""
        return self is not ReminderKind.ANNOUNCE


class Action(enum.StrEnum):
    """What to do with a due reminder."""

    SEND = "send"
    SKIP = "skip"
    RESCHEDULE = "reschedule"


@dataclass(frozen=True, slots=True)
class ReminderProfile:
    """What the reminder rules need to know about a student."""

    user_id: int
    timezone: str
    daily_quiz_time: time | None
    quiet_hours: QuietHours | None
    status: StudentStatus
    daily_goal: int

    @classmethod
    def of(cls, student: Student) -> ReminderProfile:
        """The profile of a student."""
        return cls(
            user_id=student.id,
            timezone=student.timezone,
            daily_quiz_time=student.daily_quiz_time,
            quiet_hours=student.quiet_hours,
            status=student.status,
            daily_goal=student.daily_goal,
        )


@dataclass(frozen=True, slots=True)
class PlannedReminder:
    """A reminder to store: at most one per (user, kind, slot)."""

    user_id: int
    kind: ReminderKind
    slot: str
    due: datetime


@dataclass(frozen=True, slots=True)
class DueReminder:
    """A stored reminder whose time has come."""

    kind: ReminderKind
    slot: str
    due: datetime


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on a due reminder; ``due`` is the new time for RESCHEDULE."""

    action: Action
    reason: str
    due: datetime | None = None


@dataclass(frozen=True, slots=True)
class DayCounts:
    """The student's numbers for the local day of the decision."""

    answers_today: int = 0
    reminders_sent_today: int = 0
    last_answer: datetime | None = None


class NudgePlanner(Protocol):
    """Where a next-nudge time comes from (the study policy: items about to be forgotten)."""

    async def next_nudge(self, student: Student, now: datetime) -> datetime | None:
        """When to nudge ``student`` next, or None for no nudge."""
        ...


# -- wall clock -----------------------------------------------------------------------------


def wall_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant at which the local clock in ``tz`` shows ``at`` on ``day``.

    Ambiguous times (the autumn fold) give the first occurrence; a time inside a
    spring-forward gap gives the first valid minute after the gap.
    """
    naive = datetime.combine(day, at.replace(tzinfo=None))
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first
    # In a gap: the other reading lies before it; walk forward to where the clock jumps.
    probe = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    probe = probe.replace(second=0, microsecond=0)
    for _ in range(24 * 60):
        if probe.astimezone(tz).replace(tzinfo=None) >= naive:
            return probe
        probe += timedelta(minutes=1)
    raise AssertionError(f"no valid local time near {naive} in {tz.key}")


def local_date(moment: datetime, tz_name: str) -> date:
    """The student's calendar date at ``moment``."""
    return require_utc(moment).astimezone(zone(tz_name)).date()


def local_day_bounds(moment: datetime, tz_name: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the local day containing ``moment`` (23 or 25 h on DST days)."""
    tz = zone(tz_name)
    day = local_date(moment, tz_name)
    return wall_to_utc(day, time(0, 0), tz), wall_to_utc(day + timedelta(days=1), time(0, 0), tz)


def in_quiet_hours(moment: datetime, profile: ReminderProfile) -> bool:
    """True if the student's local clock at ``moment`` is inside their quiet hours."""
    if profile.quiet_hours is None:
        return False
    local = require_utc(moment).astimezone(zone(profile.timezone))
    return profile.quiet_hours.contains(local.time().replace(tzinfo=None))


def out_of_quiet_hours(moment: datetime, profile: ReminderProfile) -> datetime:
    """``moment``, or the end of the quiet hours it falls in."""
    quiet = profile.quiet_hours
    if quiet is None or not in_quiet_hours(moment, profile):
        return require_utc(moment)
    tz = zone(profile.timezone)
    local = require_utc(moment).astimezone(tz)
    end_day = local.date()
    if quiet.start > quiet.end and local.time().replace(tzinfo=None) >= quiet.start:
        end_day += timedelta(days=1)  # the window wraps midnight: it ends tomorrow
    return wall_to_utc(end_day, quiet.end, tz)


def daily_time_after_quiet(daily: time, quiet: QuietHours | None) -> time:
    """The local time a daily quiz set for ``daily`` comes: the end of the quiet hours when
    ``daily`` falls inside them (as :func:`daily_due` moves it), else ``daily`` itself."""
    if quiet is not None and quiet.contains(daily):
        return quiet.end
    return daily


# -- planning -------------------------------------------------------------------------------


def reminders_active(profile: ReminderProfile) -> bool:
    """Reminders go out only to active students (not paused, not blocked)."""
    return profile.status is StudentStatus.ACTIVE


def daily_due(profile: ReminderProfile, slot_day: date) -> datetime | None:
    """When the daily quiz of local date ``slot_day`` is due (None without a daily time)."""
    if profile.daily_quiz_time is None:
        return None
    scheduled = wall_to_utc(slot_day, profile.daily_quiz_time, zone(profile.timezone))
    return out_of_quiet_hours(scheduled, profile)


def daily_slots(
    profile: ReminderProfile, now: datetime, horizon: timedelta = PLAN_HORIZON
) -> list[PlannedReminder]:
    """The daily-quiz slots due after ``now`` and within ``horizon``, keyed by local date."""
    now = require_utc(now)
    if not reminders_active(profile) or profile.daily_quiz_time is None:
        return []
    today = local_date(now, profile.timezone)
    planned = []
    for offset in range(-1, int(horizon / timedelta(days=1)) + 3):
        day = today + timedelta(days=offset)
        due = daily_due(profile, day)
        if due is not None and now < due <= now + horizon:
            planned.append(
                PlannedReminder(profile.user_id, ReminderKind.DAILY, day.isoformat(), due)
            )
    return planned


def next_daily_slot(profile: ReminderProfile, now: datetime) -> PlannedReminder | None:
    """The next daily-quiz slot after ``now``, or None (no daily time, paused or blocked)."""
    found = daily_slots(profile, now, timedelta(days=3))
    return found[0] if found else None


def plan_nudge(
    profile: ReminderProfile, nudge_at: datetime | None, now: datetime
) -> PlannedReminder | None:
    """A nudge at the time the policy asked for, moved out of quiet hours (None: no nudge).

    Nudges share a slot per local day, so a student gets at most one a day; replanning the
    same day moves the pending nudge instead of adding another.
    """
    if nudge_at is None or not reminders_active(profile):
        return None
    when = out_of_quiet_hours(max(require_utc(nudge_at), require_utc(now)), profile)
    slot = local_date(when, profile.timezone).isoformat()
    return PlannedReminder(profile.user_id, ReminderKind.NUDGE, slot, when)


# -- deciding at send time ------------------------------------------------------------------


def decide(
    reminder: DueReminder,
    profile: ReminderProfile,
    now: datetime,
    counts: DayCounts,
    *,
    max_per_day: int,
    late_limit: timedelta = LATE_LIMIT,
) -> Decision:
    """Send, skip or move a reminder whose time has come, under the current settings.

    Settings may have changed since the slot was planned: a daily slot is re-timed from the
    current daily time; a slot that would now fall in quiet hours is moved out of them.
    A late slot (the bot was down across it) is sent once if it is still useful: at most
    ``late_limit`` late, on the same local day, and outside quiet hours; otherwise skipped.
    """
    now = require_utc(now)
    if profile.status is StudentStatus.BLOCKED:
        return Decision(Action.SKIP, "blocked")
    if reminder.kind is ReminderKind.ANNOUNCE:
        return Decision(Action.SEND, "announce")
    if profile.status is not StudentStatus.ACTIVE:
        return Decision(Action.SKIP, profile.status.value)
    due = require_utc(reminder.due)
    if reminder.kind is ReminderKind.DAILY:
        expected = daily_due(profile, date.fromisoformat(reminder.slot))
        if expected is None:
            return Decision(Action.SKIP, "no_daily_time")
        if expected != due:
            if expected > now:
                return Decision(Action.RESCHEDULE, "settings_changed", expected)
            due = expected
    if due > now:
        return Decision(Action.RESCHEDULE, "not_yet", due)
    lateness = now - due
    if lateness > ON_TIME_GRACE:
        if lateness > late_limit or local_date(now, profile.timezone) != local_date(
            due, profile.timezone
        ):
            return Decision(Action.SKIP, "too_late")
        if in_quiet_hours(now, profile):
            return Decision(Action.SKIP, "too_late")
    elif in_quiet_hours(now, profile):
        moved = out_of_quiet_hours(now, profile)
        if local_date(moved, profile.timezone) != local_date(due, profile.timezone):
            return Decision(Action.SKIP, "quiet_hours")
        return Decision(Action.RESCHEDULE, "quiet_hours", moved)
    if counts.answers_today >= profile.daily_goal:
        return Decision(Action.SKIP, "goal_met")
    if counts.last_answer is not None and now - require_utc(counts.last_answer) < STUDYING_NOW:
        return Decision(Action.SKIP, "studying_now")
    if counts.reminders_sent_today >= max_per_day:
        return Decision(Action.SKIP, "max_per_day")
    late = lateness > ON_TIME_GRACE
    return Decision(Action.SEND, "late" if late else "on_time")
