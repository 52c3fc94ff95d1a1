"""Times of day as students type them: ``19:45``, ``7:45pm``, ``19.45``, ``7h45``, ``下午7:45``.

Typing is forgiving: full-width digits and colons (``１９：４５``), a.m./p.m. in any common
spelling, Chinese hour words (``19点45``, ``7点半``, ``晚上七点``, ``中午12点``), and
``noon``/``midnight``. Anything that is not clearly one time of day gives None, so the caller
can say what it expected instead of guessing.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, time

from tutor.students import QuietHours

# Chinese times of day, longest first so "下午" is not read as "午".
_ZH_PERIODS: tuple[tuple[str, str], ...] = (
    ("凌晨", "am"),
    ("早上", "am"),
    ("早晨", "am"),
    ("上午", "am"),
    ("清晨", "am"),
    ("中午", "noon"),
    ("下午", "pm"),
    ("傍晚", "pm"),
    ("晚上", "night"),
    ("夜里", "night"),
    ("夜间", "night"),
    ("早", "am"),
    ("晚", "night"),
)
_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_ZH_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_NUMBER = r"(\d{1,2}|[零〇一二两三四五六七八九十]{1,3})"
_LATIN = re.compile(r"(\d{1,2})(?:\s*(?:[:.]\s*(\d{2})|(h)\s*(\d{2})?))?\s*(am|pm|a|p)?")
_HAN = re.compile(_NUMBER + r"\s*[点點时時](?:\s*(半|一刻|三刻|" + _NUMBER[1:-1] + r")\s*分?)?")
_HAN_MINUTES = {None: 0, "半": 30, "一刻": 15, "三刻": 45}
_DATE = re.compile(
    r"(\d{4})\s*(?:[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})"
    r"|年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号號]?)"
)
_RANGE = re.compile(r"\s*(?:-|–|—|~|～|〜|to|till|until|至|到)\s*")


def _han_number(text: str) -> int | None:
    """0-59 in digits or Chinese numerals (七, 十二, 四十五, 二十)."""
    if text.isdigit():
        return int(text)
    if "十" not in text:
        return _ZH_DIGITS.get(text) if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    high = _ZH_DIGITS.get(tens, -1) if tens else 1
    low = _ZH_DIGITS.get(ones, -1) if ones else 0
    return high * 10 + low if high >= 0 and low >= 0 else None


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip().lower()
    for spelling in ("a.m.", "a.m", "am."):
        text = text.replace(spelling, "am")
    for spelling in ("p.m.", "p.m", "pm."):
        text = text.replace(spelling, "pm")
    return text


def _apply_period(hour: int, period: str | None) -> int | None:
    """The 24-hour hour for ``hour`` said with a.m., p.m. or noon (None if impossible)."""
    if period is None:
        return hour
    if period == "noon":  # 中午12点 is noon, 中午1点 13:00, 中午11点半 11:30
        if hour in (11, 12):
            return hour
        return hour + 12 if 1 <= hour <= 2 else None
    if period == "night":  # 晚上12点 is midnight; otherwise an evening hour
        return 0 if hour == 12 else _apply_period(hour, "pm")
    if hour > 12:
        return hour if period == "pm" else None  # "19:45pm" says the same twice; "19am" is nonsense
    if hour == 0:
        return 0 if period == "am" else None
    if period == "am":
        return 0 if hour == 12 else hour
    return 12 if hour == 12 else hour + 12


def parse_time(text: str, *, bare_hour: bool = False) -> time | None:
    """The time of day in ``text``, or None if it does not read as exactly one.

    A bare number ("7") counts as an hour only with ``bare_hour`` (inside a range).
    """
    text = _normalise(text)
    if text in ("noon", "midday", "中午"):
        return time(12, 0)
    if text in ("midnight", "午夜", "半夜"):
        return time(0, 0)
    period: str | None = None
    for word, meaning in _ZH_PERIODS:
        if text.startswith(word):
            period, text = meaning, text[len(word) :].strip()
            break
    hour: int | None
    minute: int | None
    if match := _HAN.fullmatch(text):
        hour = _han_number(match.group(1))
        rest = match.group(2)
        minute = _HAN_MINUTES[rest] if rest in _HAN_MINUTES else _han_number(rest)
    elif match := _LATIN.fullmatch(text):
        digits, colon_minutes, h, h_minutes, suffix = match.groups()
        hour, minute = int(digits), int(colon_minutes or h_minutes or 0)
        if suffix is not None:
            if period is not None:
                return None  # "下午7pm" says it twice
            period = "am" if suffix.startswith("a") else "pm"
        elif colon_minutes is None and h is None and period is None and not bare_hour:
            return None  # a bare number ("7") is too easily something else
    else:
        return None
    if hour is None or minute is None or not 0 <= minute <= 59:
        return None
    hour = _apply_period(hour, period)
    if hour is None or not 0 <= hour <= 23:
        return None
    return time(hour, minute)


def parse_quiet_hours(text: str) -> QuietHours | None:
    """A window typed as two times: ``22:00-07:00``, ``10pm to 7am``, ``晚上10点到早上7点``."""
    normalised = _normalise(text)
    parts = _RANGE.split(normalised, maxsplit=1)
    if len(parts) != 2:
        return None
    start, end = (parse_time(part, bare_hour=True) for part in parts)
    if start is None or end is None or start == end:
        return None
    return QuietHours(start, end)


def date_parts(text: str) -> tuple[int, int, int] | None:
    """Year, month and day of a date written ``2027-01-20``, ``2027-1-20``, ``2027/1/20``,
    ``2027.1.20`` or ``2027年1月20日`` (full-width digits too), whether or not the calendar
    has that day; else None."""
    match = _DATE.fullmatch(unicodedata.normalize("NFKC", text).strip())
    if match is None:
        return None
    year, month, day = (int(part) for part in match.groups() if part is not None)
    return year, month, day


def parse_date(text: str) -> date | None:
    """A date typed as :func:`date_parts` reads it and the calendar has; else None."""
    parts = date_parts(text)
    if parts is None:
        return None
    try:
        return date(*parts)
    except ValueError:  # 2027-02-30
        return None
