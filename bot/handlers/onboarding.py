"""/start: language, decks, time zone, daily quiz time, exam date; deep links to a deck.

Every onboarding button carries its step in its callback data, so a press works even when
``user_data`` was lost in a restart. Typed answers (a zone name, a daily quiz time, an exam
date) need the step from ``user_data``; without it a typed zone, time or date is still
recognised, and anything else restarts onboarding from the top (settings already chosen are
kept).
"""

from __future__ import annotations

from datetime import date, datetime, time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import callbacks, timezones
from bot.callbacks import OnboardingPress
from bot.handlers.common import (
    Context,
    drop_buttons,
    guarded,
    reply,
    service_of,
    toast,
    user_data,
)
from bot.handlers.delivery import redraw
from bot.i18n import LANGUAGES, Html, counted, language_for, listed, plain, t
from bot.render import rows, start_quiz_keyboard
from bot.times import date_parts, parse_date, parse_time
from tutor.clock import zone
from tutor.errors import NotEnrolled, UnknownDeck
from tutor.items import ItemKind
from tutor.reminders import daily_time_after_quiet
from tutor.students import Student, format_hhmm

STEP_KEY = "onboarding"
QUIZ_TIMES = ("07:00", "08:00", "12:00", "18:00", "20:00", "21:00")
Step = tuple[Html, InlineKeyboardMarkup | None]


# -- the steps, as text and buttons ---------------------------------------------------------


def language_step(student: Student) -> Step:
    """Pick English or Chinese; the current choice is ticked."""
    buttons = [
        InlineKeyboardButton(
            ("✓ " if lang == student.language else "") + plain(lang, f"language.{lang}"),
            callback_data=callbacks.onboarding("lang", lang),
        )
        for lang in LANGUAGES
    ]
    return t(student.language, "onboarding.language", name=student.first_name), (
        InlineKeyboardMarkup([buttons])
    )


async def deck_step(context: Context, student: Student) -> Step:
    """Tap decks to enrol or leave, then Continue."""
    lang = student.language
    decks = await service_of(context).decks(student.id)
    keyboard = [
        [
            InlineKeyboardButton(
                plain(
                    lang, "button.leave" if info.enrolled else "button.enrol", deck=info.deck.name
                ),
                callback_data=callbacks.onboarding("deck", str(info.deck.id)),
            )
        ]
        for info in decks
    ]
    keyboard.append(
        [
            InlineKeyboardButton(
                plain(lang, "button.continue"), callback_data=callbacks.onboarding("deck", "done")
            )
        ]
    )
    text = t(lang, "onboarding.deck" if decks else "onboarding.no_decks")
    return text, InlineKeyboardMarkup(keyboard)


def zone_buttons(step_data: str, lang: str = "en") -> list[InlineKeyboardButton]:
    """Buttons for the common zones, their cities named in ``lang``; ``step_data`` is "o"
    (onboarding) or "s" (settings)."""
    build = callbacks.onboarding if step_data == "o" else callbacks.setting
    return [
        InlineKeyboardButton(_zone_label(lang, name), callback_data=build("tz", name))
        for name in timezones.COMMON_ZONES
    ]


def _zone_label(lang: str, name: str) -> str:
    """A common zone's city in the student's language (UTC is UTC everywhere)."""
    return timezones.label(name) if name == "UTC" else plain(lang, f"zone.{name}")


def offset_buttons(step_data: str) -> list[InlineKeyboardButton]:
    """Buttons UTC-12 … UTC+14."""
    build = callbacks.onboarding if step_data == "o" else callbacks.setting
    return [
        InlineKeyboardButton(
            timezones.label(timezones.offset_zone(hours)),
            callback_data=build("tz", timezones.offset_zone(hours)),
        )
        for hours in timezones.OFFSETS
    ]


def timezone_step(lang: str, *, offsets: bool = False, prefix: Html | None = None) -> Step:
    """Common zones (or the offset grid) plus a hint that a name can be typed."""
    if offsets:
        keyboard = rows(offset_buttons("o"), 5)
        keyboard.append(
            [
                InlineKeyboardButton(
                    plain(lang, "button.back"), callback_data=callbacks.onboarding("tzoff", "back")
                )
            ]
        )
        text = t(lang, "onboarding.timezone_offsets")
    else:
        keyboard = rows(zone_buttons("o", lang), 3)
        keyboard.append(
            [
                InlineKeyboardButton(
                    plain(lang, "button.more_offsets"),
                    callback_data=callbacks.onboarding("tzoff", "show"),
                )
            ]
        )
        text = t(lang, "onboarding.timezone")
    if prefix:
        text = Html(f"{prefix}\n\n{text}")
    return text, InlineKeyboardMarkup(keyboard)


def time_step(lang: str, prefix: Html | None = None) -> Step:
    """Daily quiz time buttons, or none."""
    buttons = [
        InlineKeyboardButton(
            hhmm, callback_data=callbacks.onboarding("time", hhmm.replace(":", ""))
        )
        for hhmm in QUIZ_TIMES
    ]
    keyboard = rows(buttons, 3)
    keyboard.append(
        [
            InlineKeyboardButton(
                plain(lang, "button.no_daily_quiz"),
                callback_data=callbacks.onboarding("time", "none"),
            )
        ]
    )
    text = t(lang, "onboarding.time")
    if prefix:
        text = Html(f"{prefix}\n\n{text}")
    return text, InlineKeyboardMarkup(keyboard)


def exam_step(lang: str, prefix: Html | None = None) -> Step:
    """Type an exam date or skip."""
    keyboard = [
        [
            InlineKeyboardButton(
                plain(lang, "button.skip"), callback_data=callbacks.onboarding("exam", "skip")
            )
        ]
    ]
    text = t(lang, "onboarding.exam")
    if prefix:
        text = Html(f"{prefix}\n\n{text}")
    return text, InlineKeyboardMarkup(keyboard)


def quiet_hours_warning(student: Student) -> Html | None:
    """What happens to a daily quiz time that falls in the quiet hours (None if it does not)."""
    daily, quiet = student.daily_quiz_time, student.quiet_hours
    if daily is None or quiet is None:
        return None
    actual = daily_time_after_quiet(daily, quiet)
    if actual == daily:
        return None
    return t(
        student.language,
        "time.in_quiet_hours",
        time=format_hhmm(daily),
        quiet=f"{format_hhmm(quiet.start)}–{format_hhmm(quiet.end)}",
        actual=format_hhmm(actual),
    )


def time_confirmation(student: Student) -> Html:
    """ "Daily quiz at 19:45", with the quiet-hours warning when it applies."""
    lang = student.language
    if student.daily_quiz_time is None:
        return t(lang, "onboarding.no_daily_time")
    confirmed = t(lang, "onboarding.time_set", time=format_hhmm(student.daily_quiz_time))
    warning = quiet_hours_warning(student)
    return Html(f"{confirmed}\n{warning}") if warning else confirmed


# -- /start ---------------------------------------------------------------------------------


@guarded
async def start_command(update: Update, context: Context) -> None:
    """/start [deck_<id>]: register (keeping progress), enrol from a deep link, onboard."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    service = service_of(context)
    student = await service.register(user.id, chat.id, user.first_name, user.language_code)
    lang = student.language
    payload = (context.args or [""])[0]
    linked = False
    if payload.startswith("deck_") and len(payload) > len("deck_"):
        ref: str | int = payload.removeprefix("deck_")
        ref = int(ref) if isinstance(ref, str) and ref.isdigit() else ref
        try:
            info = await service.enrol(student.id, ref)
        except UnknownDeck:
            await reply(
                update, t(lang, "error.unknown_deck", deck=payload.removeprefix("deck_")[:64])
            )
        else:
            linked = True
            await reply(update, t(lang, "onboarding.deep_link", deck=info.deck.name))
    if student.onboarded:
        text = t(lang, "onboarding.welcome_back", name=student.first_name)
        await reply(update, text, start_quiz_keyboard(lang))
        return
    data = user_data(context)
    data[STEP_KEY] = "lang"
    data["skip_deck"] = linked
    text, keyboard = language_step(student)
    await reply(update, text, keyboard)


# -- button presses -------------------------------------------------------------------------


async def onboarding_press(update: Update, context: Context, press: OnboardingPress) -> None:
    """Apply one onboarding choice and show the next step in the same message."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    service = service_of(context)
    student = await service.student(user.id)
    if student is None:
        await toast(query, plain(language_for(user.language_code), "please_start"))
        return
    if student.onboarded:  # a step's message left over: its choices live in /settings now
        await toast(query, plain(student.language, "onboarding.already_done"))
        await drop_buttons(query)
        return
    data = user_data(context)
    lang = student.language
    step: Step
    if press.step == "lang":
        if press.value not in LANGUAGES:
            await toast(query, plain(lang, "callback.invalid"))
            return
        student = await service.update_settings(student.id, language=press.value)
        lang = student.language
        step = await _after_language(context, student)
    elif press.step == "deck":
        if press.value == "done":
            data[STEP_KEY] = "tz"
            step = timezone_step(lang)
        else:
            await _toggle_deck(context, student, int(press.value) if press.value.isdigit() else 0)
            step = await deck_step(context, student)
    elif press.step == "tzoff":
        data[STEP_KEY] = "tz"
        step = timezone_step(lang, offsets=press.value == "show")
    elif press.step == "tz":
        if timezones.parse_zone(press.value) != press.value:
            await toast(query, plain(lang, "callback.invalid"))
            return
        student = await service.update_settings(student.id, timezone=press.value)
        data[STEP_KEY] = "time"
        step = time_step(lang, _zone_confirmation(student, service.now()))
    elif press.step == "time":
        chosen = _parse_time_value(press.value)
        if chosen is None and press.value != "none":
            await toast(query, plain(lang, "callback.invalid"))
            return
        if chosen is None:
            student = await service.update_settings(student.id, clear_daily_quiz_time=True)
        else:
            student = await service.update_settings(student.id, daily_quiz_time=chosen)
        data[STEP_KEY] = "exam"
        step = exam_step(lang, time_confirmation(student))
    else:  # exam: skip
        await toast(query)
        await _finish(update, context, student, edit_query=True)
        return
    await toast(query)
    # The choice is saved: a 5xx is tried again and a refused edit comes anew, so the
    # student never reads "try again" (and undoes a deck by tapping it twice).
    await redraw(update, query, *step)


async def _after_language(context: Context, student: Student) -> Step:
    """The step after the language: decks, or the time zone when a link enrolled already."""
    data = user_data(context)
    if data.get("skip_deck"):
        data[STEP_KEY] = "tz"
        return timezone_step(student.language)
    data[STEP_KEY] = "deck"
    return await deck_step(context, student)


# What a student may type for a language at its step (the buttons say the same).
TYPED_LANGUAGES = {
    "english": "en",
    "en": "en",
    "英语": "en",
    "英文": "en",
    "chinese": "zh",
    "zh": "zh",
    "中文": "zh",
    "简体中文": "zh",
    "汉语": "zh",
    "普通话": "zh",
}


def _says_skip(text: str) -> bool:
    """Whether ``text`` is the Skip button's label (in any language) or a plain "no"."""
    typed = text.strip().lower()
    labels = {plain(lang, "button.skip").lower() for lang in LANGUAGES}
    return typed in labels | {"no", "none", "没有", "不用", "不"}


async def _toggle_deck(context: Context, student: Student, deck_id: int) -> None:
    service = service_of(context)
    for info in await service.decks(student.id):
        if info.deck.id == deck_id:
            if info.enrolled:
                await service.leave(student.id, deck_id)
            else:
                await service.enrol(student.id, deck_id)
            return
    raise UnknownDeck(str(deck_id))


def _parse_time_value(value: str) -> time | None:
    if len(value) == 4 and value.isdigit() and int(value[:2]) < 24 and int(value[2:]) < 60:
        return time(int(value[:2]), int(value[2:]))
    return None


def _zone_confirmation(student: Student, now: datetime) -> Html:
    return t(
        student.language,
        "onboarding.timezone_set",
        zone=timezones.label(student.timezone)
        if student.timezone.startswith("Etc/")
        else student.timezone,
        now=timezones.local_time_text(student.timezone, now),
    )


async def _finish(
    update: Update,
    context: Context,
    student: Student,
    *,
    edit_query: bool,
    notice: Html | None = None,
) -> None:
    """Onboarded: "All set!" (after ``notice``, e.g. the exam date kept) and a quiz button;
    without a deck, where to pick one instead."""
    service = service_of(context)
    student = await service.update_settings(student.id, onboarded=True)
    data = user_data(context)
    data.pop(STEP_KEY, None)
    data.pop("skip_deck", None)
    lang = student.language
    text: Html = t(lang, "onboarding.done")
    keyboard: InlineKeyboardMarkup | None = start_quiz_keyboard(lang)
    if not any(info.enrolled for info in await service.decks(student.id)):
        # "All set! Send /quiz" and a quiz button would lead to "not enrolled in any deck"
        text, keyboard = t(lang, "onboarding.done_no_deck"), None
    if notice:
        text = Html(f"{notice}\n\n{text}")
    if edit_query and update.callback_query is not None:
        await redraw(update, update.callback_query, text, keyboard)
    else:
        await reply(update, text, keyboard)


# -- typed answers during onboarding --------------------------------------------------------


def date_text_error(lang: str, text: str, today: date) -> Html:
    """Why typed text is no date: not written as YYYY-MM-DD, or a day the calendar lacks."""
    example = today.replace(day=28).isoformat()
    typed = text.strip()
    if date_parts(typed) is not None:
        return t(lang, "text.no_such_date", date=typed, example=example)
    return t(lang, "text.bad_date", example=example)


def local_today(student: Student, now: datetime) -> date:
    """Today in the student's time zone."""
    return now.astimezone(zone(student.timezone)).date()


async def onboarding_text(update: Update, context: Context, student: Student, text: str) -> bool:
    """Handle typed input while onboarding; False if it was not meant for onboarding."""
    if student.onboarded:
        return False
    service = service_of(context)
    asked = await service.open_question(student.id)
    if asked is not None and asked.shown and asked.item.kind in (ItemKind.TYPED, ItemKind.CLOZE):
        return False  # /quiz came before the set-up ended: the text answers its question
    lang = student.language
    step = user_data(context).get(STEP_KEY)
    typed_zone = timezones.parse_zone(text)
    typed_date = parse_date(text)
    typed_time = parse_time(text)
    if step == "tz" or (step is None and typed_zone):
        if typed_zone is None:
            await reply(
                update, t(lang, "text.bad_timezone", zone=text[:64]), timezone_step(lang)[1]
            )
            return True
        student = await service.update_settings(student.id, timezone=typed_zone)
        user_data(context)[STEP_KEY] = "time"
        await reply(update, *time_step(lang, _zone_confirmation(student, service.now())))
        return True
    if step == "time" or (step is None and typed_time):
        if typed_time is None:
            await reply(update, t(lang, "text.bad_time", text=text[:64]), time_step(lang)[1])
            return True
        student = await service.update_settings(student.id, daily_quiz_time=typed_time)
        user_data(context)[STEP_KEY] = "exam"
        await reply(update, *exam_step(lang, time_confirmation(student)))
        return True
    if step == "exam" and _says_skip(text):
        await _finish(update, context, student, edit_query=False)
        return True
    if step == "exam" or (step is None and typed_date):
        if typed_date is None:
            why = date_text_error(lang, text, local_today(student, service.now()))
            await reply(update, why, exam_step(lang)[1])
            return True
        if typed_date <= local_today(student, service.now()):
            await reply(update, t(lang, "text.date_past"), exam_step(lang)[1])
            return True
        try:
            decks = await service.set_exam(student.id, typed_date)
        except NotEnrolled:  # no deck yet: nothing to date; say so, and carry on
            decks = []
        if decks:
            today = local_today(student, service.now())
            names = listed(lang, (info.deck.name for info in decks))
            days = (typed_date - today).days
            done = t(
                lang, counted("exam.set", days), date=typed_date.isoformat(), days=days, decks=names
            )
        else:
            done = t(lang, "onboarding.exam_no_deck")
        await _finish(update, context, student, edit_query=False, notice=done)
        return True
    if step in ("lang", None) and text.strip().lower() in TYPED_LANGUAGES:
        chosen = TYPED_LANGUAGES[text.strip().lower()]
        student = await service.update_settings(student.id, language=chosen)
        await reply(update, *await _after_language(context, student))
        return True
    if step == "lang":  # not a language: say so, and show the buttons again
        _, keyboard = language_step(student)
        await reply(update, t(lang, "onboarding.language_typed", text=text[:64]), keyboard)
        return True
    if step == "deck":  # decks are picked with buttons: say so, and show them again
        _, keyboard = await deck_step(context, student)
        await reply(update, t(lang, "onboarding.deck_typed", text=text[:64]), keyboard)
        return True
    # Any other step (or none known): show where onboarding stands from the top.
    user_data(context)[STEP_KEY] = "lang"
    await reply(update, *language_step(student))
    return True
