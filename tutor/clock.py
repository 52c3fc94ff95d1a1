"""Time: every datetime inside the tutor is timezone-aware UTC."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Clock = Callable[[], datetime]


class NaiveDatetimeError(ValueError):
    """A datetime without a timezone reached code that needs one."""


def utc_now() -> datetime:
    """The system clock, in UTC."""
    return datetime.now(UTC)


def require_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC, refusing naive datetimes."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise NaiveDatetimeError(f"naive datetime {value.isoformat()} (a timezone is required)")
    return value.astimezone(UTC)


def to_millis(value: datetime) -> int:
    """Unix milliseconds of an aware datetime."""
    return int(require_utc(value).timestamp() * 1000)


def from_millis(millis: int) -> datetime:
    """An aware UTC datetime from Unix milliseconds."""
    return datetime.fromtimestamp(millis / 1000, UTC)


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; raises ValueError with a readable message if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r}") from error


def is_valid_zone(name: str) -> bool:
    """True if ``name`` is an IANA zone this machine knows."""
    try:
        zone(name)
    except ValueError:
        return False
    return True


def local_day_start(moment: datetime, tz_name: str) -> datetime:
    """UTC instant of the local midnight that starts ``moment``'s day in ``tz_name``."""
    local = require_utc(moment).astimezone(zone(tz_name))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(UTC)


def exam_instant(exam: date, tz_name: str) -> datetime:
    """The start of the exam day in the student's zone, as UTC."""
    return datetime.combine(exam, time(0, 0), zone(tz_name)).astimezone(UTC)


def days(n: float) -> timedelta:
    """A timedelta of ``n`` days."""
    return timedelta(days=n)
