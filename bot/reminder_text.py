"""The words of reminder messages, in every catalog language (escaped like :func:`bot.i18n.t`).

Kept beside the main catalogs so this feature's strings live with it; the keys mirror catalog
keys (``reminder.*``) so they can move into ``bot/locales`` unchanged.
"""

from __future__ import annotations

import html

from bot.i18n import DEFAULT_LANGUAGE, Html
from tutor.reminder_queue import Reminder
from tutor.reminders import ReminderKind

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "reminder.daily": "⏰ Time for your daily quiz, {name}!",
        "reminder.nudge": "🧠 {name}, some of what you learned is starting to fade.",
        "reminder.due": "<b>{due}</b> to review now",
        "reminder.at_risk": "<b>{at_risk}</b> at risk of being forgotten soon",
        "reminder.new": "<b>{new}</b> new to learn",
        "reminder.nothing": "Nothing is due right now; a short quiz keeps it fresh.",
        "reminder.tap": "Tap the button to start.",
        "reminder.announce": "📣 {text}",
    },
    "zh": {
        "reminder.daily": "⏰ {name}，该做今天的测验了！",
        "reminder.nudge": "🧠 {name}，你学过的一些内容正在淡忘。",
        "reminder.due": "现在需要复习 <b>{due}</b> 个",
        "reminder.at_risk": "<b>{at_risk}</b> 个很快会被遗忘",
        "reminder.new": "<b>{new}</b> 个新内容待学习",
        "reminder.nothing": "现在没有到期的内容；做个小测验巩固一下吧。",
        "reminder.tap": "点击下面的按钮开始。",
        "reminder.announce": "📣 {text}",
    },
}


def text(lang: str, key: str, **params: object) -> Html:
    """One reminder string as safe HTML, parameters escaped."""
    table = TEXTS.get(lang, TEXTS[DEFAULT_LANGUAGE])
    template = table.get(key, TEXTS[DEFAULT_LANGUAGE][key])
    values = {
        k: v if isinstance(v, Html) else html.escape(str(v), quote=False) for k, v in params.items()
    }
    return Html(template.format(**values))


def render(reminder: Reminder) -> Html:
    """The message a student receives for a reminder."""
    student = reminder.student
    lang = student.language
    if reminder.kind is ReminderKind.ANNOUNCE:
        return text(lang, "reminder.announce", text=reminder.text)
    key = "reminder.nudge" if reminder.kind is ReminderKind.NUDGE else "reminder.daily"
    lines = [text(lang, key, name=student.first_name or "👋")]
    counts = reminder.counts
    parts = []
    if counts.due:
        parts.append(text(lang, "reminder.due", due=counts.due))
    if counts.at_risk:
        parts.append(text(lang, "reminder.at_risk", at_risk=counts.at_risk))
    if counts.new:
        parts.append(text(lang, "reminder.new", new=counts.new))
    if parts:
        lines.append(Html("\n".join(f"• {part}" for part in parts)))
    else:
        lines.append(text(lang, "reminder.nothing"))
    lines.append(text(lang, "reminder.tap"))
    return Html("\n\n".join(lines))
