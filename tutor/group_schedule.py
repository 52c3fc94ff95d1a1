"""Daily group quizzes: slots planned like the students' daily reminders, started once each.

A group's daily quiz follows the reminder rules of :mod:`tutor.reminders` with the group in
the student's place (its time zone and daily quiz time; a group has no quiet hours, no goal
and no limit per day): slots are keyed by the group's local date, re-timed when the settings
change, and a slot found late (the bot was down) starts its quiz only if it is at most
:data:`tutor.reminders.LATE_LIMIT` late and on the same local day, as a reminder would.
Claiming a slot and creating its quiz happen in one transaction, and the claim is one row
update of pending rows: a slot starts at most one quiz, whatever restarts or other
processes do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage import Database
from storage import group_quizzes as quiz_rows
from storage import group_slots as slot_rows
from storage import groups as group_rows
from tutor.clock import Clock, from_millis, require_utc, to_millis, utc_now
from tutor.groups import MAX_GROUP_QUIZ, Group, group_from_record
from tutor.reminders import (
    LATE_LIMIT,
    PLAN_HORIZON,
    Action,
    DayCounts,
    DueReminder,
    ReminderKind,
    ReminderProfile,
    daily_slots,
    decide,
)
from tutor.students import StudentStatus

REPLAN = timedelta(hours=1)
_NO_LIMIT = 1 << 30


def group_profile(group: Group) -> ReminderProfile:
    """The reminder rules' view of a group: its zone and daily time, no quiet hours."""
    return ReminderProfile(
        user_id=group.id,
        timezone=group.timezone,
        daily_quiz_time=group.daily_quiz_time,
        quiet_hours=None,
        status=StudentStatus.ACTIVE if group.active else StudentStatus.PAUSED,
        daily_goal=_NO_LIMIT,
    )


@dataclass(frozen=True, slots=True)
class SlotOutcome:
    """What a claimed slot became: a quiz (``quiz_id``) or a skip, and why."""

    group_id: int
    slot: str
    quiz_id: int | None
    reason: str


class GroupSchedule:
    """The daily group quiz slots of one database."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock = utc_now,
        late_limit: timedelta = LATE_LIMIT,
        horizon: timedelta = PLAN_HORIZON,
    ) -> None:
        self.db = db
        self._clock = clock
        self.late_limit = late_limit
        self.horizon = horizon
        # group → (settings that shaped its slots, planned up to): skips unchanged groups
        self._planned: dict[int, tuple[tuple[object, ...], datetime]] = {}

    def now(self) -> datetime:
        """The injected clock (aware UTC)."""
        return require_utc(self._clock())

    async def plan(self) -> int:
        """Write the daily slots of the next :data:`PLAN_HORIZON`; returns rows changed."""
        now = self.now()
        async with self.db.read() as conn:
            records = await group_rows.groups_with_daily_time(conn)
            known = await slot_rows.pending_after(conn, to_millis(now))
        # A group counts as planned only while its slot is still there: a change of time
        # (in this process or another) drops its pending slots, even when the time then
        # goes back to the one planned here.
        waiting = {group_id for group_id, _ in known}
        stale = []
        for record in records:
            signature = (record.timezone, record.daily_quiz_time)
            cached = self._planned.get(record.id)
            if (
                cached
                and cached[0] == signature
                and cached[1] >= now + self.horizon - REPLAN
                and record.id in waiting
            ):
                continue
            self._planned[record.id] = (signature, now + self.horizon)
            stale.append(group_from_record(record))
        if not stale:
            return 0
        changes = []
        for group in stale:
            for planned in daily_slots(group_profile(group), now, self.horizon):
                due_ms = to_millis(planned.due)
                if known.get((group.id, planned.slot)) != due_ms:
                    changes.append((group.id, planned.slot, due_ms))
        if not changes:
            return 0
        async with self.db.transaction() as conn:
            return await slot_rows.plan(conn, changes)

    def forget(self, group_id: int) -> None:
        """Plan the group afresh at the next run (its settings changed)."""
        self._planned.pop(group_id, None)

    async def claim(self, limit: int = 200) -> list[SlotOutcome]:
        """Claim due slots and start their quizzes (or skip them) in one transaction."""
        now = self.now()
        now_ms = to_millis(now)
        outcomes = []
        async with self.db.transaction() as conn:
            for slot in await slot_rows.claim_due(conn, now_ms, limit):
                record = await group_rows.get_group(conn, slot.group_id)
                decks = await group_rows.deck_ids(conn, slot.group_id) if record else []
                if record is None or not record.active:
                    await slot_rows.settle(conn, slot.id, "skipped", "inactive")
                    outcomes.append(SlotOutcome(slot.group_id, slot.slot, None, "inactive"))
                    continue
                group = group_from_record(record, tuple(decks))
                decision = decide(
                    DueReminder(ReminderKind.DAILY, slot.slot, from_millis(slot.due_ms)),
                    group_profile(group),
                    now,
                    DayCounts(),
                    max_per_day=_NO_LIMIT,
                    late_limit=self.late_limit,
                )
                if decision.action is Action.RESCHEDULE and decision.due is not None:
                    await slot_rows.reschedule(conn, slot.id, to_millis(decision.due))
                    continue
                reason = decision.reason
                quiz_id = None
                if decision.action is Action.SEND:
                    if not decks:
                        reason = "no_decks"
                    else:
                        length = max(1, min(group.daily_length, MAX_GROUP_QUIZ))
                        quiz_id = await quiz_rows.start_quiz(
                            conn, group.id, "daily", length, now_ms, group.topic_id
                        )
                        if quiz_id is None:
                            reason = "quiz_running"
                status = "started" if quiz_id is not None else "skipped"
                await slot_rows.settle(conn, slot.id, status, reason, quiz_id)
                outcomes.append(SlotOutcome(group.id, slot.slot, quiz_id, reason))
        return outcomes
