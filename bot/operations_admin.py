"""Operator commands for students, reminders and groups: ``metatutor users``,
``metatutor remind``, ``metatutor groups``.

Both open the database read-only (SQLite refuses any write; nothing is created or migrated),
so they are safe to run while the bot serves the same file.
"""

from __future__ import annotations

from bot.group_text import group_lines
from bot.settings import Settings
from storage import Database
from tutor.admin import AdminService
from tutor.reminder_queue import ReminderQueue
from tutor.service import TutorService


async def users_summary(settings: Settings) -> int:
    """Print student totals: by status, seen and answering today and this week, and how many
    cards of their own students keep (never what they say)."""
    db = await Database.open_read_only(settings.database)
    try:
        summary = await AdminService(TutorService(db)).users_summary(settings.timezone)
    finally:
        await db.close()
    print(f"students       {summary.total}")
    print(f"  active       {summary.active}")
    print(f"  paused       {summary.paused}")
    print(f"  blocked      {summary.blocked}")
    print(f"seen today     {summary.active_today}  (this week {summary.active_week})")
    print(f"answered today {summary.answered_today}  (this week {summary.answered_week})")
    print(f"own cards      {summary.own_cards}  (from {summary.own_card_students} students)")
    print(f"(days are counted in {settings.timezone})")
    return 0


async def remind_dry_run(settings: Settings, hours: float = 1.0) -> int:
    """Print who would be reminded in the next ``hours``, when, and why (nothing is sent)."""
    db = await Database.open_read_only(settings.database)
    try:
        queue = ReminderQueue(db, max_per_day=settings.max_reminders_per_day)
        lines = await queue.dry_run(hours)
    finally:
        await db.close()
    if not lines:
        print(f"no reminders due in the next {hours:g} h")
        return 0
    print(f"{'due (UTC)':<17} {'user':>12}  {'kind':<8} {'slot':<11} verdict")
    for line in lines:
        print(
            f"{line.due:%Y-%m-%d %H:%M} {line.user_id:>12}  {line.kind.value:<8} "
            f"{line.slot:<11} {line.verdict}"
        )
    sends = sum(1 for line in lines if line.verdict.startswith("send"))
    print(
        f"{sends} of {len(lines)} would be sent"
        " (as of now; goals and daily limits are checked again at send time)"
    )
    return 0


async def groups_summary(settings: Settings) -> int:
    """Print every group: members active this week, quizzes run, accuracy."""
    db = await Database.open_read_only(settings.database)
    try:
        groups = await TutorService(db).groups.overview()
    finally:
        await db.close()
    if not groups:
        print("the bot is in no group yet")
        return 0
    active = sum(1 for group in groups if group.active)
    print(f"groups {len(groups)} ({active} with the bot in them); numbers are for the last 7 days")
    for line in group_lines(groups, limit=len(groups)):
        print(line)
    return 0
