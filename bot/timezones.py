"""Time zones a student can pick: common zones, whole-hour UTC offsets, or a typed name.

Telegram does not tell bots a user's time zone. The ``Etc/GMT±N`` zones have POSIX's
inverted sign (``Etc/GMT-8`` is UTC+8), so students only ever see "UTC+8".
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache

from bot.i18n import LANGUAGES, catalog
from tutor.clock import is_valid_zone, zone

# Shown first, by rough number of likely students; labels are the zones' own city names.
COMMON_ZONES: tuple[str, ...] = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Moscow",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Australia/Sydney",
    "UTC",
)

OFFSETS: tuple[int, ...] = tuple(range(-12, 15))

# Cities a student may type that name no zone of their own: all of China keeps one zone.
CITY_ZONES: dict[str, str] = {
    city: "Asia/Shanghai"
    for city in (
        "北京",
        "beijing",
        "广州",
        "guangzhou",
        "深圳",
        "shenzhen",
        "成都",
        "chengdu",
        "重庆",
        "杭州",
        "hangzhou",
        "南京",
        "nanjing",
        "武汉",
        "wuhan",
        "西安",
        "xi'an",
        "天津",
        "tianjin",
        "苏州",
        "suzhou",
        "中国",
        "china",
    )
}

_OFFSET_TEXT = re.compile(r"^(?:utc|gmt)?\s*([+\-−])\s*(\d{1,2})(?:[:.h]?(\d{2}))?$", re.IGNORECASE)

# Offsets off the whole hour have no ``Etc/`` zone: each maps to a place that keeps that
# offset all year, so "UTC+5:30" reads as Kolkata (India has no daylight saving time).
PART_HOUR_ZONES: dict[tuple[int, int], str] = {
    (-9, 30): "Pacific/Marquesas",
    (3, 30): "Asia/Tehran",
    (4, 30): "Asia/Kabul",
    (5, 30): "Asia/Kolkata",
    (5, 45): "Asia/Kathmandu",
    (6, 30): "Asia/Yangon",
    (8, 45): "Australia/Eucla",
    (9, 30): "Australia/Darwin",
}


def offset_zone(hours: int) -> str:
    """The IANA zone for a whole-hour UTC offset (UTC+8 → ``Etc/GMT-8``)."""
    if hours == 0:
        return "UTC"
    return f"Etc/GMT{-hours:+d}"


def label(name: str) -> str:
    """How a zone reads on a button: "UTC+8" for offset zones, else the city name."""
    if name in ("UTC", "Etc/UTC", "Etc/GMT"):
        return "UTC"
    match = re.fullmatch(r"Etc/GMT([+\-]\d{1,2})", name)
    if match:
        return f"UTC{-int(match.group(1)):+d}"
    return name.rsplit("/", 1)[-1].replace("_", " ")


def parse_zone(text: str) -> str | None:
    """A zone from what a student typed: an IANA name (any case), "UTC+8" or "UTC+5:30";
    else None."""
    cleaned = text.strip()
    if not cleaned or len(cleaned) > 64:
        return None
    match = _OFFSET_TEXT.match(cleaned)
    if match:
        sign = -1 if match.group(1) in "-−" else 1
        hours, minutes = int(match.group(2)), int(match.group(3) or 0)
        if minutes:
            return PART_HOUR_ZONES.get((sign * hours, minutes))
        return offset_zone(sign * hours) if sign * hours in OFFSETS else None
    if cleaned.upper() in ("UTC", "GMT"):
        return "UTC"
    candidate = cleaned.replace(" ", "_")
    if "/" in candidate and is_valid_zone(candidate):
        return candidate
    lowered = candidate.lower()
    for known in _all_zones():
        if known.lower() == lowered:
            return known
    return _zones_by_city().get(cleaned.lower().replace("_", " "))


@cache
def _zones_by_city() -> dict[str, str]:
    """Zones by a city's name as typed: the zone's own city ("new york"), the buttons' labels
    in every language ("上海"), and :data:`CITY_ZONES`."""
    found: dict[str, str] = {}
    for known in sorted(_all_zones()):
        if "/" in known and not known.startswith("Etc/"):
            found.setdefault(known.rsplit("/", 1)[-1].replace("_", " ").lower(), known)
    for lang in LANGUAGES:
        for key, text in catalog(lang).items():
            if key.startswith("zone."):
                found[text.lower()] = key.removeprefix("zone.")
    found.update(CITY_ZONES)
    return found


def _all_zones() -> frozenset[str]:
    from zoneinfo import available_timezones

    return frozenset(available_timezones())


def local_time_text(name: str, now: datetime) -> str:
    """The wall-clock time ``now`` in zone ``name``, as HH:MM."""
    return now.astimezone(zone(name)).strftime("%H:%M")
