"""The text of a reminder message, assembled from the ``reminder.*`` catalog strings."""

from __future__ import annotations

from bot.i18n import Html, t
from tutor.reminder_queue import Reminder
from tutor.reminders import ReminderKind


def render(reminder: Reminder) -> Html:
    """The message a student receives for a reminder."""
    student = reminder.student
    lang = student.language
    if reminder.kind is ReminderKind.ANNOUNCE:
        return t(lang, "reminder.announce", text=reminder.text)
    key = "reminder.nudge" if reminder.kind is ReminderKind.NUDGE else "reminder.daily"
    lines = [t(lang, key, name=student.first_name or "👋")]
    counts = reminder.counts
    parts = []
    if counts.due:
        parts.append(t(lang, "reminder.due", due=counts.due))
    if counts.at_risk:
        parts.append(t(lang, "reminder.at_risk", at_risk=counts.at_risk))
    if counts.new:
        parts.append(t(lang, "reminder.new", new=counts.new))
    if parts:
        lines.append(Html("\n".join(f"• {part}" for part in parts)))
    else:
        lines.append(t(lang, "reminder.nothing"))
    lines.append(t(lang, "reminder.tap"))
    return Html("\n\n".join(lines))
