"""Students and their settings."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime, time

from tutor.clock import is_valid_zone
from tutor.errors import InvalidSetting

LANGUAGES = ("en", "zh")
DEFAULT_TARGET_RETENTION = 0.9


class StudentStatus(enum.StrEnum):
    """Whether reminders go out to a student."""

    ACTIVE = "active"
    PAUSED = "paused"
    BLOCKED = "blocked"


_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_hhmm(text: str) -> time:
    """Parse ``HH:MM`` (24-hour) into a time; raises ValueError otherwise."""
    match = _HHMM.match(text.strip())
    if not match:
        raise ValueError(f"expected a time like 07:30, got {text!r}")
    return time(int(match.group(1)), int(match.group(2)))


def format_hhmm(value: time) -> str:
    """Format a time as ``HH:MM``."""
    return f"{value.hour:02d}:{value.minute:02d}"


def common_setting_changes(
    *,
    language: str | None,
    timezone: str | None,
    daily_quiz_time: time | None,
    clear_daily_quiz_time: bool,
) -> dict[str, object]:
    """The stored changes of the settings students and groups share (None: unchanged);
    raises InvalidSetting naming the one that cannot be used."""
    changes: dict[str, object] = {}
    if language is not None:
        if language not in LANGUAGES:
            raise InvalidSetting(language, setting="language")
        changes["language"] = language
    if timezone is not None:
        if not is_valid_zone(timezone):
            raise InvalidSetting(timezone, setting="timezone")
        changes["timezone"] = timezone
    if clear_daily_quiz_time:
        changes["daily_quiz_time"] = None
    elif daily_quiz_time is not None:
        changes["daily_quiz_time"] = format_hhmm(daily_quiz_time)
    return changes


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A local-time window with no messages; may wrap midnight (22:00-07:00)."""

    start: time
    end: time

    def contains(self, local: time) -> bool:
        """True if the local wall-clock time falls inside the window."""
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def serialise(self) -> str:
        """``HH:MM-HH:MM``."""
        return f"{format_hhmm(self.start)}-{format_hhmm(self.end)}"

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """Parse ``HH:MM-HH:MM``."""
        start, sep, end = text.partition("-")
        if not sep:
            raise ValueError(f"expected quiet hours like 22:00-07:00, got {text!r}")
        return cls(parse_hhmm(start), parse_hhmm(end))


@dataclass(frozen=True, slots=True)
class Student:
    """A student as the tutor sees them. ``id`` is the Telegram user id."""

    id: int
    chat_id: int
    first_name: str
    language: str
    timezone: str
    daily_quiz_time: time | None
    quiet_hours: QuietHours | None
    daily_goal: int
    quiz_length: int
    target_retention: float
    status: StudentStatus
    onboarded: bool
    created_at: datetime
