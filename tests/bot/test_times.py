"""Times of day and quiet hours as students type them."""

from __future__ import annotations

from datetime import date, time

import pytest

from bot.times import date_parts, parse_date, parse_quiet_hours, parse_time
from tutor.students import QuietHours


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("19:45", time(19, 45)),
        ("07:05", time(7, 5)),
        ("7:05", time(7, 5)),
        (" 0:00 ", time(0, 0)),
        ("23:59", time(23, 59)),
        ("19.45", time(19, 45)),
        ("7h45", time(7, 45)),
        ("19h", time(19, 0)),
        ("7:45pm", time(19, 45)),
        ("7:45 PM", time(19, 45)),
        ("7.45 p.m.", time(19, 45)),
        ("7pm", time(19, 0)),
        ("7 am", time(7, 0)),
        ("12am", time(0, 0)),
        ("12pm", time(12, 0)),
        ("12:30 a.m.", time(0, 30)),
        ("noon", time(12, 0)),
        ("midnight", time(0, 0)),
        ("１９：４５", time(19, 45)),  # full-width, as Chinese keyboards type it
        ("下午7:45", time(19, 45)),
        ("下午 7:45", time(19, 45)),
        ("上午9点", time(9, 0)),
        ("19点45", time(19, 45)),
        ("19点45分", time(19, 45)),
        ("7点半", time(7, 30)),
        ("七点半", time(7, 30)),
        ("十二点一刻", time(12, 15)),
        ("二十点四十五", time(20, 45)),
        ("晚上七点", time(19, 0)),
        ("晚上12点", time(0, 0)),
        ("中午12点", time(12, 0)),
        ("中午1点", time(13, 0)),
        ("凌晨12点", time(0, 0)),
    ],
)
def test_times_people_type(typed: str, expected: time) -> None:
    assert parse_time(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "7",
        "19",
        "abc",
        "24:00",
        "25:00",
        "7:60",
        "19am",
        "0pm",
        "13:00am",
        "下午7pm",
        "2026-05-01",
        "Europe/Berlin",
        "7:4",
        "19:45:30",
        "12345",
        "1945",  # a year as much as a time
        "0730",
        "7 45",
    ],
)
def test_anything_else_is_not_a_time(typed: str) -> None:
    assert parse_time(typed) is None


def test_a_bare_hour_counts_only_where_a_range_is_typed() -> None:
    assert parse_time("22") is None
    assert parse_time("22", bare_hour=True) == time(22, 0)


@pytest.mark.parametrize(
    ("typed", "start", "end"),
    [
        ("22:00-07:00", time(22, 0), time(7, 0)),
        ("22:30 – 06:30", time(22, 30), time(6, 30)),
        ("22-7", time(22, 0), time(7, 0)),
        ("10pm to 7am", time(22, 0), time(7, 0)),
        ("13:00~14:00", time(13, 0), time(14, 0)),
        ("晚上10点到早上7点", time(22, 0), time(7, 0)),
        ("22:00至07:00", time(22, 0), time(7, 0)),
    ],
)
def test_quiet_hours_people_type(typed: str, start: time, end: time) -> None:
    assert parse_quiet_hours(typed) == QuietHours(start, end)


@pytest.mark.parametrize("typed", ["22:00", "22:00-22:00", "22:00-25:00", "night", "-7"])
def test_quiet_hours_need_two_different_times(typed: str) -> None:
    assert parse_quiet_hours(typed) is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2027-01-20", date(2027, 1, 20)),
        (" 2027-1-20 ", date(2027, 1, 20)),
        ("2027/1/20", date(2027, 1, 20)),
        ("2027.01.20", date(2027, 1, 20)),
        ("2027年1月20日", date(2027, 1, 20)),
        ("2027 年 1 月 20 号", date(2027, 1, 20)),
        ("2027年1月20", date(2027, 1, 20)),
        ("２０２７年１月２０日", date(2027, 1, 20)),  # full-width digits
        ("２０２７－０１－２０", date(2027, 1, 20)),
    ],
)
def test_a_date_typed_the_usual_ways_is_read(typed: str, expected: date) -> None:
    assert parse_date(typed) == expected


@pytest.mark.parametrize(
    "typed", ["2027-02-30", "2027年13月1日", "20/1/2027", "next week", "2027-01", "27-01-20", ""]
)
def test_no_date_or_a_day_the_calendar_lacks_is_none(typed: str) -> None:
    assert parse_date(typed) is None


def test_a_day_the_calendar_lacks_is_still_written_as_a_date() -> None:
    assert date_parts("2027年2月30日") == (2027, 2, 30)
    assert date_parts("next week") is None
