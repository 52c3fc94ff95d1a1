"""/settings: language, time zone, daily quiz time, quiet hours, daily goal, quiz length,
target recall."""

from __future__ import annotations

import unicodedata
from datetime import datetime, time, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import callbacks, timezones
from bot.callbacks import SettingPress
from bot.handlers.common import (
    Context,
    guarded,
    language_of,
    pressing_student,
    reply,
    service_of,
    student_of,
    toast,
    user_data,
)
from bot.handlers.delivery import redraw
from bot.handlers.onboarding import QUIZ_TIMES, offset_buttons, quiet_hours_warning, zone_buttons
from bot.i18n import LANGUAGES, Html, plain, t
from bot.render import rows
from bot.times import parse_quiet_hours, parse_time
from tutor.errors import InvalidSetting
from tutor.students import QuietHours, Student, format_hhmm, parse_hhmm

QUIET_CHOICES = ("2200-0700", "2300-0800", "2100-0600", "0000-0800")
GOALS = ("10", "20", "30", "50", "100")
LENGTHS = ("5", "10", "15", "20", "30")
RETENTIONS = ("80", "85", "90", "95")  # percent; the service accepts 70-97
#: Menus that are one row of choices: (prompt key, values, button label format).
ONE_ROW_MENUS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "goal": ("settings.choose_goal", GOALS, "{}"),
    "len": ("settings.choose_length", LENGTHS, "{}"),
    "ret": ("settings.choose_retention", RETENTIONS, "{}%"),
}
AWAITING_KEY = "awaiting"
AWAITING_SINCE_KEY = "awaiting_since"
AWAIT_TYPED_FOR = timedelta(minutes=30)
"""How long an opened menu takes typed text as its value: a student who comes back the next
day and types an answer means the answer."""
#: Menus whose value may also be typed, and what the typed text is then read as.
TYPED_MENUS = {"tz": "tz", "tzoff": "tz", "time": "time", "quiet": "quiet"}
TYPED_MENUS |= {"goal": "goal", "len": "len", "ret": "ret"}
#: Typed numbers: the message key saying a typed text cannot be used, per menu.
NUMBER_ERRORS = {"goal": "text.bad_goal", "len": "text.bad_length", "ret": "text.bad_retention"}
Panel = tuple[Html, InlineKeyboardMarkup]


def _button(lang: str, key: str, setting: str, value: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(plain(lang, key), callback_data=callbacks.setting(setting, value))


def _back(lang: str) -> list[InlineKeyboardButton]:
    return [_button(lang, "button.back", "menu", "main")]


def _quiet_label(value: str) -> str:
    return f"{value[:2]}:{value[2:4]}–{value[5:7]}:{value[7:]}"


def main_panel(student: Student, notice: Html | None = None) -> Panel:
    """Current settings and a button per setting, after ``notice`` if given."""
    lang = student.language
    zone_text = (
        timezones.label(student.timezone)
        if student.timezone.startswith("Etc/")
        else student.timezone
    )
    summary = t(
        lang,
        "settings.summary",
        language=plain(lang, f"language.{lang}"),
        zone=zone_text,
        time=format_hhmm(student.daily_quiz_time)
        if student.daily_quiz_time
        else plain(lang, "settings.none"),
        # written as in the warning and the buttons (a dash between the times)
        quiet=student.quiet_hours.serialise().replace("-", "–")
        if student.quiet_hours
        else plain(lang, "settings.none"),
        goal=student.daily_goal,
        length=student.quiz_length,
        retention=round(student.target_retention * 100),
    )
    keyboard = [
        [
            _button(lang, "button.language", "menu", "lang"),
            _button(lang, "button.timezone", "menu", "tz"),
        ],
        [
            _button(lang, "button.daily_time", "menu", "time"),
            _button(lang, "button.quiet_hours", "menu", "quiet"),
        ],
        [
            _button(lang, "button.daily_goal", "menu", "goal"),
            _button(lang, "button.quiz_length", "menu", "len"),
        ],
        [_button(lang, "button.retention", "menu", "ret")],
    ]
    text = f"{t(lang, 'settings.header')}\n{summary}"
    if notice:
        text = f"{notice}\n\n{text}"
    return Html(text), InlineKeyboardMarkup(keyboard)


def sub_panel(student: Student, menu: str) -> Panel | None:
    """The choices of one setting; None for an unknown menu."""
    lang = student.language
    keyboard: list[list[InlineKeyboardButton]]
    if menu == "lang":
        text = t(lang, "settings.choose_language")
        keyboard = [
            [
                InlineKeyboardButton(
                    plain(code, f"language.{code}"), callback_data=callbacks.setting("lang", code)
                )
                for code in LANGUAGES
            ]
        ]
    elif menu in ("tz", "tzoff"):
        text = t(lang, "onboarding.timezone_offsets" if menu == "tzoff" else "onboarding.timezone")
        if menu == "tzoff":
            keyboard = rows(offset_buttons("s"), 5)
        else:
            keyboard = rows(zone_buttons("s", lang), 3)
            keyboard.append([_button(lang, "button.more_offsets", "menu", "tzoff")])
    elif menu == "time":
        text = t(lang, "settings.choose_time")
        keyboard = rows(
            [
                InlineKeyboardButton(
                    hhmm, callback_data=callbacks.setting("time", hhmm.replace(":", ""))
                )
                for hhmm in QUIZ_TIMES
            ],
            3,
        )
        keyboard.append([_button(lang, "button.no_daily_quiz", "time", "none")])
    elif menu == "quiet":
        text = t(lang, "settings.choose_quiet")
        keyboard = rows(
            [
                InlineKeyboardButton(
                    _quiet_label(value), callback_data=callbacks.setting("quiet", value)
                )
                for value in QUIET_CHOICES
            ],
            2,
        )
        keyboard.append([_button(lang, "button.off", "quiet", "none")])
    elif menu in ONE_ROW_MENUS:
        prompt, values, label = ONE_ROW_MENUS[menu]
        text = t(lang, prompt)
        keyboard = [
            [
                InlineKeyboardButton(
                    label.format(value), callback_data=callbacks.setting(menu, value)
                )
                for value in values
            ]
        ]
    else:
        return None
    keyboard.append(_back(lang))
    return text, InlineKeyboardMarkup(keyboard)


@guarded
async def settings_command(update: Update, context: Context) -> None:
    """/settings: show the settings panel."""
    student = await student_of(update, context)
    if student is None:
        await reply(update, t(language_of(update, None), "please_start"))
        return
    user_data(context).pop(AWAITING_KEY, None)
    await reply(update, *main_panel(student))


async def setting_press(update: Update, context: Context, press: SettingPress) -> None:
    """Open a settings menu or apply a choice, then show the panel again."""
    query = update.callback_query
    assert query is not None
    student = await pressing_student(update, context)
    if student is None:
        return
    lang = student.language
    data = user_data(context)
    if press.setting == "menu":
        panel = main_panel(student) if press.value == "main" else sub_panel(student, press.value)
        if panel is None:
            await toast(query, plain(lang, "callback.invalid"))
            return
        if press.value in TYPED_MENUS:
            data[AWAITING_KEY] = TYPED_MENUS[press.value]  # typing the value works too
            data[AWAITING_SINCE_KEY] = service_of(context).now()
        else:
            data.pop(AWAITING_KEY, None)
        await toast(query)
        await redraw(update, query, *panel)
        return
    try:
        student = await _apply(context, student, press.setting, press.value)
    except (InvalidSetting, ValueError):
        await toast(query, plain(lang, "callback.invalid"))
        return
    data.pop(AWAITING_KEY, None)
    await toast(query, plain(student.language, "settings.saved"))
    warning = quiet_hours_warning(student) if press.setting in ("time", "quiet") else None
    await redraw(update, query, *main_panel(student, warning))


async def _apply(context: Context, student: Student, setting: str, value: str) -> Student:
    """Store one setting from its callback value; ValueError on a malformed value."""
    service = service_of(context)
    if setting == "lang":
        if value not in LANGUAGES:
            raise ValueError(value)
        return await service.update_settings(student.id, language=value)
    if setting == "tz":
        if timezones.parse_zone(value) != value:
            raise ValueError(value)
        return await service.update_settings(student.id, timezone=value)
    if setting == "time":
        if value == "none":
            return await service.update_settings(student.id, clear_daily_quiz_time=True)
        return await service.update_settings(student.id, daily_quiz_time=_hhmm(value))
    if setting == "quiet":
        if value == "none":
            return await service.update_settings(student.id, clear_quiet_hours=True)
        start, _, end = value.partition("-")
        return await service.update_settings(
            student.id, quiet_hours=QuietHours(_hhmm(start), _hhmm(end))
        )
    if setting in ("goal", "len") and value.isdigit():
        number = int(value)
        if setting == "goal":
            return await service.update_settings(student.id, daily_goal=number)
        return await service.update_settings(student.id, quiz_length=number)
    if setting == "ret" and value in RETENTIONS:
        return await service.update_settings(student.id, target_retention=int(value) / 100)
    raise ValueError(value)


def _hhmm(value: str) -> time:
    if len(value) != 4 or not value.isdigit():
        raise ValueError(value)
    return parse_hhmm(f"{value[:2]}:{value[2:]}")


async def settings_text(update: Update, context: Context, student: Student, text: str) -> bool:
    """A typed time zone, daily quiz time, quiet hours, daily goal, quiz length or target
    recall after opening that menu; False if nothing typed is awaited."""
    data = user_data(context)
    awaiting = data.get(AWAITING_KEY)
    lang = student.language
    service = service_of(context)
    since = data.get(AWAITING_SINCE_KEY)
    if awaiting is not None and (
        not isinstance(since, datetime) or service.now() - since > AWAIT_TYPED_FOR
    ):
        data.pop(AWAITING_KEY, None)  # the menu was left open long ago: not its value
        return False
    if awaiting == "tz":
        typed = timezones.parse_zone(text)
        if typed is None:
            await _not_read(update, context, student, t(lang, "text.bad_timezone", zone=text[:64]))
            return True
        student = await service.update_settings(student.id, timezone=typed)
    elif awaiting == "time":
        at = parse_time(text)
        if at is None:
            await _not_read(update, context, student, t(lang, "text.bad_time", text=text[:64]))
            return True
        student = await service.update_settings(student.id, daily_quiz_time=at)
    elif awaiting == "quiet":
        window = parse_quiet_hours(text)
        if window is None:
            bad = t(lang, "text.bad_quiet_hours", text=text[:64])
            await _not_read(update, context, student, bad)
            return True
        student = await service.update_settings(student.id, quiet_hours=window)
    elif awaiting in NUMBER_ERRORS:
        try:
            student = await _apply_number(context, student, awaiting, text)
        except (InvalidSetting, ValueError):
            limit = service.config.max_quiz_length
            bad = t(lang, NUMBER_ERRORS[awaiting], text=text[:64], max=limit)
            await _not_read(update, context, student, bad)
            return True
    else:
        return False
    data.pop(AWAITING_KEY, None)
    warning = quiet_hours_warning(student) if awaiting in ("time", "quiet") else None
    await reply(update, *main_panel(student, warning))
    return True


async def _apply_number(context: Context, student: Student, setting: str, text: str) -> Student:
    """A typed daily goal, quiz length or target recall ("25", "１２", "88%"); ValueError when
    the text is not a whole number, InvalidSetting when the number is out of range."""
    typed = unicodedata.normalize("NFKC", text).strip()
    if setting == "ret":
        typed = typed.removesuffix("%").strip()
    if not typed.isascii() or not typed.isdigit():
        raise ValueError(text)
    number = int(typed)
    service = service_of(context)
    if setting == "goal":
        return await service.update_settings(student.id, daily_goal=number)
    if setting == "len":
        return await service.update_settings(student.id, quiz_length=number)
    return await service.update_settings(student.id, target_retention=number / 100)


async def _not_read(update: Update, context: Context, student: Student, text: Html) -> None:
    """A typed setting that could not be read; if a quiz question is open, the student may
    have meant to answer it: say how (the settings menu still awaits its value)."""
    waiting = await service_of(context).open_question(student.id)
    if waiting is not None:
        back = plain(student.language, "button.back")
        hint = t(
            student.language,
            "text.setting_awaited_question_waiting",
            number=waiting.number,
            back=back,
        )
        text = Html(f"{text}\n{hint}")
    await reply(update, text)
