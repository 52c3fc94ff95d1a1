"""The reminder queue over the database: plan slots, claim due rows, record outcomes.

Delivery guarantee (at most once per slot, nothing due lost):

* Slots are rows, unique per (user, kind, slot); planning again never adds a second one.
* A sending job *claims* due rows in one transaction, so no two jobs take the same row.
* Just before a row's Telegram call, :meth:`ReminderQueue.mark_started` is committed; the
  outcome (sent / failed) is committed as soon as the call returns.
* After a crash, :meth:`ReminderQueue.recover` puts claimed rows that were never started back
  to pending (they go out at the next run, late rules applied), and skips rows that were
  started but not settled: Telegram may have delivered them, and a slot is never sent twice.
  Only a message whose call was in flight at the moment of the crash can be lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage import Connection, Database
from storage import announcements as announcement_rows
from storage import reminders as rows
from storage.reminders import ReminderRow
from tutor.clock import Clock, from_millis, require_utc, to_millis, utc_now
from tutor.convert import student_from_record
from tutor.reminders import (
    LATE_LIMIT,
    PLAN_HORIZON,
    Action,
    DayCounts,
    Decision,
    DueReminder,
    NudgePlanner,
    PlannedReminder,
    ReminderKind,
    ReminderProfile,
    daily_slots,
    decide,
    local_date,
    local_day_bounds,
    plan_nudge,
)
from tutor.students import Student

#: A student's slots are recomputed when their plan reaches less than this far ahead.
REPLAN = timedelta(hours=1)
#: "At risk": not due yet, but due within this window.
AT_RISK_WINDOW = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class StudyCounts:
    """What a reminder tells the student: items due now, due soon, and never seen."""

    due: int
    at_risk: int
    new: int


@dataclass(frozen=True, slots=True)
class Reminder:
    """A claimed reminder ready to render and send."""

    id: int
    kind: ReminderKind
    slot: str
    due: datetime
    student: Student
    counts: StudyCounts
    late: bool = False
    text: str = ""  # an announcement's text


@dataclass(frozen=True, slots=True)
class Settled:
    """A claimed row that was decided without sending."""

    id: int
    user_id: int
    kind: ReminderKind
    action: Action
    reason: str


@dataclass(frozen=True, slots=True)
class Claim:
    """One claimed batch: what to send now, and what was skipped or moved."""

    to_send: list[Reminder]
    settled: list[Settled]


@dataclass(frozen=True, slots=True)
class DryRunLine:
    """Who would be reminded, when, and what the rules would say now."""

    user_id: int
    first_name: str
    kind: ReminderKind
    slot: str
    due: datetime
    verdict: str


class ReminderQueue:
    """Reminder rows of one database, with the rules of :mod:`tutor.reminders` applied."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock = utc_now,
        max_per_day: int = 2,
        late_limit: timedelta = LATE_LIMIT,
        horizon: timedelta = PLAN_HORIZON,
    ) -> None:
        self.db = db
        self._clock = clock
        self.max_per_day = max_per_day
        self.late_limit = late_limit
        self.horizon = horizon
        # user → (settings that shaped their slots, planned up to): skips unchanged students
        self._planned: dict[int, tuple[tuple[object, ...], datetime]] = {}

    def now(self) -> datetime:
        """The injected clock (aware UTC)."""
        return require_utc(self._clock())

    # -- planning ---------------------------------------------------------------------------

    async def plan_daily(self) -> int:
        """Write the daily-quiz slots of the next :data:`PLAN_HORIZON`; returns rows changed.

        Only slots that are new or whose time changed (new settings) are written. A student
        whose settings did not change is recomputed about once an hour, so a run over many
        students costs one query, not a time-zone computation per student.
        """
        now = self.now()
        async with self.db.read() as conn:
            users = await rows.users_with_daily_time(conn)
        stale = []
        for record in users:
            signature = (record.timezone, record.daily_quiz_time, record.quiet_hours)
            cached = self._planned.get(record.id)
            if cached and cached[0] == signature and cached[1] >= now + self.horizon - REPLAN:
                continue
            self._planned[record.id] = (signature, now + self.horizon)
            stale.append(record)
        if not stale:
            return 0
        async with self.db.read() as conn:
            known = await rows.pending_after(conn, ReminderKind.DAILY.value, to_millis(now))
        changes: list[tuple[int, str, str, int]] = []
        for record in stale:
            profile = ReminderProfile.of(student_from_record(record))
            for slot in daily_slots(profile, now, self.horizon):
                due_ms = to_millis(slot.due)
                if known.get((slot.user_id, slot.slot)) != due_ms:
                    changes.append((slot.user_id, slot.kind.value, slot.slot, due_ms))
        if not changes:
            return 0
        async with self.db.transaction() as conn:
            return await rows.plan(conn, changes)

    async def plan_nudge(
        self, student: Student, nudge_at: datetime | None
    ) -> PlannedReminder | None:
        """Store (or move) the student's nudge for the time the policy chose."""
        planned = plan_nudge(ReminderProfile.of(student), nudge_at, self.now())
        if planned is not None:
            async with self.db.transaction() as conn:
                await rows.plan(
                    conn, [(student.id, planned.kind.value, planned.slot, to_millis(planned.due))]
                )
        return planned

    async def plan_nudges(self, planner: NudgePlanner, students: list[Student]) -> int:
        """Ask ``planner`` for each student's next nudge and store the ones it gives."""
        count = 0
        for student in students:
            when = await planner.next_nudge(student, self.now())
            if await self.plan_nudge(student, when) is not None:
                count += 1
        return count

    async def active_students(self) -> list[Student]:
        """Students who get reminders (for a nudge planner)."""
        async with self.db.read() as conn:
            records = await rows.active_users(conn)
        return [student_from_record(record) for record in records]

    # -- claiming ---------------------------------------------------------------------------

    async def recover(self, claimed_before: datetime) -> tuple[int, int]:
        """Release rows claimed before ``claimed_before``; returns (requeued, skipped)."""
        cutoff = to_millis(claimed_before)
        async with self.db.read() as conn:
            if not await rows.has_stale(conn, cutoff):
                return 0, 0
        async with self.db.transaction() as conn:
            return await rows.recover_stale(conn, cutoff)

    async def claim(
        self, limit: int = 200, *, kind: ReminderKind | None = None, slot: str | None = None
    ) -> Claim:
        """Claim due rows and decide each under the current settings, in one transaction.

        Rows to skip or move are settled here; the rest stay claimed until the caller marks
        them started and then sent or failed.
        """
        now = self.now()
        now_ms = to_millis(now)
        to_send: list[Reminder] = []
        settled: list[Settled] = []
        async with self.db.transaction() as conn:
            claimed = await rows.claim_due(
                conn, now_ms, limit, kind=kind.value if kind else None, slot=slot
            )
            users = await rows.users_by_id(conn, (row.user_id for row in claimed))
            students = {uid: student_from_record(record) for uid, record in users.items()}
            day_counts = await _day_counts(conn, list(students.values()), now)
            study = await rows.study_counts_many(
                conn, students, now_ms, to_millis(now + AT_RISK_WINDOW)
            )
            texts: dict[str, str] = {}
            chosen: dict[int, int] = {}  # reminders picked in this batch, per user
            for row in claimed:
                student = students.get(row.user_id)
                row_kind = ReminderKind(row.kind)
                if student is None:
                    await rows.settle(conn, row.id, rows.SKIPPED, now_ms, "unknown user")
                    settled.append(Settled(row.id, row.user_id, row_kind, Action.SKIP, "unknown"))
                    continue
                answers, sent, last_answer = day_counts.get(student.id, (0, 0, None))
                decision = decide(
                    DueReminder(row_kind, row.slot, from_millis(row.due_ms)),
                    ReminderProfile.of(student),
                    now,
                    DayCounts(answers, sent + chosen.get(student.id, 0), last_answer),
                    max_per_day=self.max_per_day,
                    late_limit=self.late_limit,
                )
                if decision.action is not Action.SEND:
                    await _apply(conn, row, decision, now_ms)
                    settled.append(
                        Settled(row.id, row.user_id, row_kind, decision.action, decision.reason)
                    )
                    continue
                if row_kind.counts_toward_limit:
                    chosen[student.id] = chosen.get(student.id, 0) + 1
                text = ""
                if row_kind is ReminderKind.ANNOUNCE:
                    if row.slot not in texts:
                        texts[row.slot] = await _announcement_text(conn, row.slot)
                    text = texts[row.slot]
                due, soon, new = study.get(student.id, (0, 0, 0))
                to_send.append(
                    Reminder(
                        id=row.id,
                        kind=row_kind,
                        slot=row.slot,
                        due=from_millis(row.due_ms),
                        student=student,
                        counts=StudyCounts(due, soon - due, new),
                        late=decision.reason == "late",
                        text=text,
                    )
                )
        return Claim(to_send, settled)

    async def mark_started(self, reminder_id: int) -> bool:
        """Commit that a Telegram call for the row starts now; False if it is not claimed."""
        async with self.db.transaction() as conn:
            return await rows.mark_started(conn, reminder_id)

    async def advance(self, started: int | None, sent: list[int]) -> bool:
        """In one transaction: mark ``sent`` rows sent, then mark ``started`` started.

        The sending job batches "sent" marks this way (one commit per message). A crash
        before the commit leaves those rows claimed *and started*, so recovery skips them:
        they were delivered, and are not sent again.
        """
        # One UPDATE statement: atomic and committed on its own in autocommit mode, which
        # saves the BEGIN/COMMIT round trips on this per-message path.
        async with self.db.read() as conn:
            return await rows.advance(conn, started, sent, to_millis(self.now()))

    async def mark_sent(self, reminder_id: int) -> None:
        """The student has the message."""
        await self._settle(reminder_id, rows.SENT, "")

    async def mark_failed(self, reminder_id: int, detail: str) -> None:
        """Telegram refused for good (``detail`` says why, e.g. 'blocked')."""
        await self._settle(reminder_id, rows.FAILED, detail)

    async def mark_skipped(self, reminder_id: int, detail: str) -> None:
        """Not sent on purpose."""
        await self._settle(reminder_id, rows.SKIPPED, detail)

    async def _settle(self, reminder_id: int, status: str, detail: str) -> None:
        async with self.db.transaction() as conn:
            await rows.settle(conn, reminder_id, status, to_millis(self.now()), detail)

    # -- reading ----------------------------------------------------------------------------

    async def study_counts(self, user_id: int) -> StudyCounts:
        """Items due now, at risk (due within 12 hours) and new, for one student."""
        now = self.now()
        async with self.db.read() as conn:
            due, soon, new = await rows.study_counts(
                conn, user_id, to_millis(now), to_millis(now + AT_RISK_WINDOW)
            )
        return StudyCounts(due, soon - due, new)

    async def dry_run(self, hours: float = 1.0) -> list[DryRunLine]:
        """Reminders due in the next ``hours`` (and overdue pending ones), with the verdict
        the rules would give at each one's time: a slot today counts today's answers and
        reminders, a slot on a later local day starts from none. Nothing is written.
        """
        now = self.now()
        until = now + timedelta(hours=hours)
        async with self.db.read() as conn:
            stored = await rows.due_between(conn, 0, to_millis(until))
            users = await rows.users_with_daily_time(conn)
            others = await rows.users_by_id(conn, (row.user_id for row in stored))
            students = {
                record.id: student_from_record(record) for record in [*users, *others.values()]
            }
            counts = await _day_counts(conn, list(students.values()), now)
        lines: list[DryRunLine] = []
        seen: set[tuple[int, str, str]] = set()
        for row in stored:
            if row.user_id not in students:
                continue
            seen.add((row.user_id, row.kind, row.slot))
            student = students[row.user_id]
            lines.append(
                self._dry_line(
                    student, ReminderKind(row.kind), row.slot, row.due_ms, counts[student.id]
                )
            )
        for record in users:
            student = students[record.id]
            for slot in daily_slots(ReminderProfile.of(student), now, timedelta(hours=hours)):
                if (slot.user_id, slot.kind.value, slot.slot) not in seen:
                    lines.append(
                        self._dry_line(
                            student, slot.kind, slot.slot, to_millis(slot.due), counts[student.id]
                        )
                    )
        lines.sort(key=lambda line: (line.due, line.user_id))
        return lines

    def _dry_line(
        self,
        student: Student,
        kind: ReminderKind,
        slot: str,
        due_ms: int,
        counts: tuple[int, int, datetime | None],
    ) -> DryRunLine:
        due = from_millis(due_ms)
        now = self.now()
        judged_at = max(due, now)
        # Each slot is judged by its own local day: today's answers and reminders say
        # nothing about tomorrow's slot (no answer is logged on a day still to come).
        today = local_date(now, student.timezone) == local_date(judged_at, student.timezone)
        decision = decide(
            DueReminder(kind, slot, due),
            ReminderProfile.of(student),
            judged_at,
            DayCounts(*counts) if today else DayCounts(),
            max_per_day=self.max_per_day,
            late_limit=self.late_limit,
        )
        verdict = decision.action.value + f" ({decision.reason})"
        if decision.action is Action.RESCHEDULE and decision.due is not None:
            verdict += f" to {decision.due.isoformat(timespec='minutes')}"
        return DryRunLine(student.id, student.first_name, kind, slot, due, verdict)


async def _apply(conn: Connection, row: ReminderRow, decision: Decision, now_ms: int) -> None:
    if decision.action is Action.RESCHEDULE and decision.due is not None:
        await rows.reschedule(conn, row.id, to_millis(decision.due))
    else:
        await rows.settle(conn, row.id, rows.SKIPPED, now_ms, decision.reason)


async def _announcement_text(conn: Connection, slot: str) -> str:
    if not slot.startswith("a") or not slot[1:].isdigit():
        return ""
    found = await announcement_rows.get(conn, int(slot[1:]))
    return found.text if found else ""


async def _day_counts(
    conn: Connection, students: list[Student], now: datetime
) -> dict[int, tuple[int, int, datetime | None]]:
    """user → (answers today, reminders sent today, last answer today), each in the
    student's own local day."""
    by_zone: dict[str, list[int]] = {}
    for student in students:
        by_zone.setdefault(student.timezone, []).append(student.id)
    found: dict[int, tuple[int, int, datetime | None]] = {}
    for tz, ids in by_zone.items():
        start, end = (to_millis(bound) for bound in local_day_bounds(now, tz))
        answers = await rows.answer_counts(conn, ids, start, end)
        sent = await rows.sent_counts(conn, ids, start, end)
        for user_id in ids:
            count, last_ms = answers.get(user_id, (0, None))
            last = from_millis(last_ms) if last_ms is not None else None
            found[user_id] = (count, sent.get(user_id, 0), last)
    return found


def announcement_slot(announcement_id: int) -> str:
    """The reminder slot of an announcement's deliveries."""
    return f"a{announcement_id}"
