"""Time zone choices: the inverted Etc/GMT sign never reaches the student."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot import timezones
from tutor.clock import zone


def test_offset_zones_read_the_right_way_round() -> None:
    assert timezones.offset_zone(8) == "Etc/GMT-8"
    assert timezones.label("Etc/GMT-8") == "UTC+8"
    assert timezones.label("Etc/GMT+5") == "UTC-5"
    assert timezones.offset_zone(0) == "UTC"
    noon = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert timezones.local_time_text(timezones.offset_zone(8), noon) == "20:00"
    assert timezones.local_time_text(timezones.offset_zone(-5), noon) == "07:00"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        (" America/New York ", "America/New_York"),
        ("UTC+8", "Etc/GMT-8"),
        ("utc-5", "Etc/GMT+5"),
        ("GMT+05:00", "Etc/GMT-5"),
        ("+3", "Etc/GMT-3"),
        ("utc", "UTC"),
        ("UTC+05:30", "Asia/Kolkata"),
        ("utc+5:30", "Asia/Kolkata"),
        ("GMT+0545", "Asia/Kathmandu"),
        ("+9.30", "Australia/Darwin"),
        ("UTC-9:30", "Pacific/Marquesas"),
        ("UTC+8:00", "Etc/GMT-8"),
        ("UTC+5:17", None),
        ("Mars/Olympus", None),
        ("UTC+15", None),
        ("../../etc/passwd", None),
        ("", None),
        # a city, as the buttons name it in either language, or a zone's own city
        ("上海", "Asia/Shanghai"),
        ("伦敦", "Europe/London"),
        ("Shanghai", "Asia/Shanghai"),
        ("new york", "America/New_York"),
        ("Paris", "Europe/Paris"),
        ("北京", "Asia/Shanghai"),
        ("火星", None),
        ("Europe", None),
    ],
)
def test_typed_zones(typed: str, expected: str | None) -> None:
    assert timezones.parse_zone(typed) == expected


def test_common_zones_exist() -> None:
    for name in timezones.COMMON_ZONES:
        assert timezones.parse_zone(name) == name


def test_part_hour_zones_keep_their_offset_all_year() -> None:
    for (hours, minutes), name in timezones.PART_HOUR_ZONES.items():
        offset = timedelta(hours=hours, minutes=minutes if hours >= 0 else -minutes)
        for month in (1, 7):
            moment = datetime(2026, month, 15, 12, tzinfo=UTC)
            assert moment.astimezone(zone(name)).utcoffset() == offset, name
