"""The reminder rules: local daily slots across DST, quiet hours, status, goal, lateness."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tutor.reminders import (
    Action,
    DayCounts,
    DueReminder,
    ReminderKind,
    ReminderProfile,
    daily_slots,
    decide,
    local_day_bounds,
    next_daily_slot,
    plan_nudge,
    wall_to_utc,
)
from tutor.students import QuietHours, StudentStatus

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


def profile(
    tz: str = BERLIN,
    at: time | None = time(8, 0),
    quiet: str | None = None,
    status: StudentStatus = StudentStatus.ACTIVE,
    goal: int = 20,
) -> ReminderProfile:
    return ReminderProfile(
        user_id=1,
        timezone=tz,
        daily_quiz_time=at,
        quiet_hours=QuietHours.parse(quiet) if quiet else None,
        status=status,
        daily_goal=goal,
    )


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_daily_quiz_at_local_time_in_two_zones() -> None:
    now = utc(2026, 3, 2, 0, 0)
    berlin = next_daily_slot(profile(BERLIN), now)
    new_york = next_daily_slot(profile(NEW_YORK), now)
    assert berlin is not None and new_york is not None
    assert berlin.due == utc(2026, 3, 2, 7, 0)  # 08:00 CET
    assert berlin.slot == "2026-03-02"
    assert new_york.due == utc(2026, 3, 2, 13, 0)  # 08:00 EST
    assert new_york.slot == "2026-03-02"


def test_daily_time_stays_local_across_spring_forward() -> None:
    # Berlin springs forward on 2026-03-29; New York on 2026-03-08.
    slots = daily_slots(profile(BERLIN), utc(2026, 3, 27, 12, 0), timedelta(days=3))
    assert [(s.slot, s.due) for s in slots] == [
        ("2026-03-28", utc(2026, 3, 28, 7, 0)),
        ("2026-03-29", utc(2026, 3, 29, 6, 0)),
        ("2026-03-30", utc(2026, 3, 30, 6, 0)),
    ]
    ny = daily_slots(profile(NEW_YORK), utc(2026, 3, 7, 0, 0), timedelta(days=2))
    assert [s.due for s in ny] == [utc(2026, 3, 7, 13, 0), utc(2026, 3, 8, 12, 0)]


def test_time_in_spring_forward_gap_moves_to_first_valid_minute() -> None:
    tz = ZoneInfo(BERLIN)
    # 02:30 does not exist on 2026-03-29: the clock jumps from 02:00 to 03:00 (01:00 UTC).
    assert wall_to_utc(date(2026, 3, 29), time(2, 30), tz) == utc(2026, 3, 29, 1, 0)
    assert wall_to_utc(date(2026, 3, 29), time(2, 30), tz).astimezone(tz).time() == time(3, 0)
    slots = daily_slots(profile(at=time(2, 30)), utc(2026, 3, 28, 12, 0), timedelta(days=2))
    assert [(s.slot, s.due) for s in slots] == [
        ("2026-03-29", utc(2026, 3, 29, 1, 0)),
        ("2026-03-30", utc(2026, 3, 30, 0, 30)),
    ]


def test_time_in_fall_back_fold_fires_once() -> None:
    # 02:30 happens twice on 2026-10-25 in Berlin; the slot is the first one, once.
    slots = daily_slots(profile(at=time(2, 30)), utc(2026, 10, 24, 12, 0), timedelta(days=2))
    on_the_day = [s for s in slots if s.slot == "2026-10-25"]
    assert len(on_the_day) == 1
    assert on_the_day[0].due == utc(2026, 10, 25, 0, 30)  # 02:30 CEST, the first reading


def test_local_day_bounds_on_a_25_hour_day() -> None:
    start, end = local_day_bounds(utc(2026, 10, 25, 12, 0), BERLIN)
    assert start == utc(2026, 10, 24, 22, 0)
    assert end - start == timedelta(hours=25)


def test_quiet_hours_move_the_slot_to_their_end() -> None:
    early = next_daily_slot(profile(at=time(6, 30), quiet="22:00-07:00"), utc(2026, 3, 2, 0, 0))
    assert early is not None and early.due == utc(2026, 3, 2, 6, 0)  # 07:00 CET
    late = daily_slots(
        profile(at=time(23, 30), quiet="22:00-07:00"), utc(2026, 3, 2, 12, 0), timedelta(days=1)
    )
    # 23:30 on the 2nd is quiet: it moves to 07:00 on the 3rd, still keyed by the 2nd.
    assert [(s.slot, s.due) for s in late] == [("2026-03-02", utc(2026, 3, 3, 6, 0))]


def test_paused_blocked_and_unset_get_no_slots() -> None:
    now = utc(2026, 3, 2, 0, 0)
    assert next_daily_slot(profile(status=StudentStatus.PAUSED), now) is None
    assert next_daily_slot(profile(status=StudentStatus.BLOCKED), now) is None
    assert next_daily_slot(profile(at=None), now) is None


def _due(slot: str = "2026-03-02", due: datetime | None = None) -> DueReminder:
    return DueReminder(ReminderKind.DAILY, slot, due or utc(2026, 3, 2, 7, 0))


def test_decide_sends_on_time_and_skips_when_paused_or_goal_met() -> None:
    now = utc(2026, 3, 2, 7, 0, 20)
    sent = decide(_due(), profile(), now, DayCounts(), max_per_day=2)
    assert sent.action is Action.SEND and sent.reason == "on_time"
    paused = decide(_due(), profile(status=StudentStatus.PAUSED), now, DayCounts(), max_per_day=2)
    assert (paused.action, paused.reason) == (Action.SKIP, "paused")
    goal = decide(_due(), profile(goal=5), now, DayCounts(answers_today=5), max_per_day=2)
    assert (goal.action, goal.reason) == (Action.SKIP, "goal_met")
    full = decide(_due(), profile(), now, DayCounts(reminders_sent_today=2), max_per_day=2)
    assert (full.action, full.reason) == (Action.SKIP, "max_per_day")


@pytest.mark.parametrize(
    ("now", "quiet", "expected"),
    [
        (utc(2026, 3, 2, 8, 30), None, (Action.SEND, "late")),  # 90 min late: still useful
        (utc(2026, 3, 2, 10, 1), None, (Action.SKIP, "too_late")),  # over three hours
        (utc(2026, 3, 2, 9, 0), "09:00-12:00", (Action.SKIP, "too_late")),  # now quiet
    ],
)
def test_lateness_rule(now: datetime, quiet: str | None, expected: tuple[Action, str]) -> None:
    decision = decide(_due(), profile(quiet=quiet), now, DayCounts(), max_per_day=2)
    assert (decision.action, decision.reason) == expected


def test_late_slot_of_yesterday_is_skipped() -> None:
    # 22:30 local slot, bot back at 00:30 local: two hours late but another day.
    due = DueReminder(ReminderKind.DAILY, "2026-03-02", utc(2026, 3, 2, 21, 30))
    decision = decide(
        due, profile(at=time(22, 30)), utc(2026, 3, 2, 23, 30), DayCounts(), max_per_day=2
    )
    assert (decision.action, decision.reason) == (Action.SKIP, "too_late")


def test_changed_daily_time_reschedules_the_pending_slot() -> None:
    decision = decide(
        _due(), profile(at=time(9, 15)), utc(2026, 3, 2, 7, 0), DayCounts(), max_per_day=2
    )
    assert decision.action is Action.RESCHEDULE
    assert decision.due == utc(2026, 3, 2, 8, 15)


def test_nudge_moves_out_of_quiet_hours_and_not_while_paused() -> None:
    now = utc(2026, 3, 2, 20, 0)
    nudge = plan_nudge(profile(quiet="22:00-07:00"), utc(2026, 3, 2, 22, 30), now)
    assert nudge is not None
    assert nudge.kind is ReminderKind.NUDGE
    assert nudge.due == utc(2026, 3, 3, 6, 0)
    assert nudge.slot == "2026-03-03"
    assert plan_nudge(profile(status=StudentStatus.PAUSED), now, now) is None
    assert plan_nudge(profile(), None, now) is None
    past = plan_nudge(profile(), now - timedelta(hours=2), now)
    assert past is not None and past.due == now


def test_announcements_ignore_pause_but_not_blocks() -> None:
    announce = DueReminder(ReminderKind.ANNOUNCE, "a1", utc(2026, 3, 2, 7, 0))
    now = utc(2026, 3, 2, 7, 0)
    paused = decide(announce, profile(status=StudentStatus.PAUSED), now, DayCounts(), max_per_day=0)
    assert paused.action is Action.SEND
    blocked = decide(
        announce, profile(status=StudentStatus.BLOCKED), now, DayCounts(), max_per_day=2
    )
    assert blocked.action is Action.SKIP


def test_decide_leaves_a_student_who_is_studying_right_now_alone() -> None:
    now = utc(2026, 3, 2, 7, 0, 20)
    just_answered = DayCounts(answers_today=3, last_answer=now - timedelta(minutes=4))
    busy = decide(_due(), profile(), now, just_answered, max_per_day=2)
    assert (busy.action, busy.reason) == (Action.SKIP, "studying_now")
    nudge = DueReminder(ReminderKind.NUDGE, "2026-03-02", utc(2026, 3, 2, 7, 0))
    assert decide(nudge, profile(), now, just_answered, max_per_day=2).reason == "studying_now"
    earlier = DayCounts(answers_today=3, last_answer=now - timedelta(minutes=40))
    assert decide(_due(), profile(), now, earlier, max_per_day=2).action is Action.SEND
