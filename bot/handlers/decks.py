"""/decks (enrol and leave with buttons) and /exam (set or clear exam dates)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import callbacks
from bot.callbacks import DeckPress
from bot.handlers.common import (
    Context,
    guarded,
    language_of,
    pressing_student,
    reply,
    service_of,
    started_student,
    student_of,
    toast,
)
from bot.handlers.delivery import redraw
from bot.handlers.onboarding import date_text_error, local_today
from bot.i18n import Html, counted, listed, plain, t
from bot.times import parse_date
from tutor.errors import NotEnrolled, UnknownDeck
from tutor.students import Student
from tutor.views import DeckInfo


def deck_panel(lang: str, decks: list[DeckInfo]) -> tuple[Html, InlineKeyboardMarkup | None]:
    """The deck list with an enrol or leave button per deck."""
    if not decks:
        return t(lang, "decks.none"), None
    lines = [t(lang, "decks.header")]
    keyboard = []
    for info in decks:
        exam = (
            t(lang, "decks.exam_suffix", date=info.exam_date.isoformat())
            if info.enrolled and info.exam_date
            else ""
        )
        lines.append(
            t(
                lang,
                "decks.line",
                mark="✅" if info.enrolled else "▫️",
                deck=info.deck.name,
                items=info.n_items,
                exam=Html(exam),
            )
        )
        key, op = ("button.leave", "l") if info.enrolled else ("button.enrol", "e")
        keyboard.append(
            [
                InlineKeyboardButton(
                    plain(lang, key, deck=info.deck.name),
                    callback_data=callbacks.deck(op, info.deck.id),
                )
            ]
        )
    return Html("\n".join(lines)), InlineKeyboardMarkup(keyboard)


@guarded
async def decks_command(update: Update, context: Context) -> None:
    """/decks: list decks with enrol/leave buttons."""
    student = await student_of(update, context)
    if student is None:
        await reply(update, t(language_of(update, None), "please_start"))
        return
    decks = await service_of(context).decks(student.id)
    await reply(update, *deck_panel(student.language, decks))


async def deck_press(update: Update, context: Context, press: DeckPress) -> None:
    """Enrol in or leave a deck, then refresh the list."""
    query = update.callback_query
    assert query is not None
    student = await pressing_student(update, context)
    if student is None:
        return
    lang = student.language
    service = service_of(context)
    try:
        if press.op == "e":
            info = await service.enrol(student.id, press.deck_id)
            notice = plain(lang, "decks.enrolled", deck=info.deck.name)
        else:
            info = await service.leave(student.id, press.deck_id)
            notice = plain(lang, "decks.left", deck=info.deck.name)
    except UnknownDeck:
        await toast(query, plain(lang, "error.unknown_deck", deck=press.deck_id))
        notice = None
    else:
        await toast(query, notice)
    # Saved: a 5xx is tried again and a refused edit comes anew; an apology here would have
    # the student tap again, which undoes what they did.
    await redraw(update, query, *deck_panel(lang, await service.decks(student.id)))


@guarded
async def exam_command(update: Update, context: Context) -> None:
    """/exam YYYY-MM-DD [deck], /exam off [deck], or /exam to list exam dates."""
    student = await started_student(update, context)
    if student is None:
        return
    lang = student.language
    args = context.args or []
    if not args:
        await _list_exams(update, context, student)
        return
    deck_ref: str | int | None = " ".join(args[1:]).strip() or None
    if isinstance(deck_ref, str) and deck_ref.isdigit():
        deck_ref = int(deck_ref)
    service = service_of(context)
    if args[0].lower() == "off":
        decks = await service.set_exam(student.id, None, deck_ref)
        if not decks:
            raise NotEnrolled()
        await reply(update, t(lang, "exam.cleared", decks=_names(lang, decks)))
        return
    exam_date = parse_date(args[0])
    today = local_today(student, service.now())
    if exam_date is None:
        if args[0][:1].isdigit():  # meant as a date: say what is wrong with it
            await reply(update, date_text_error(lang, args[0], today))
            return
        await reply(update, t(lang, "exam.usage"))
        return
    if exam_date <= today:
        await reply(update, t(lang, "text.date_past"))
        return
    decks = await service.set_exam(student.id, exam_date, deck_ref)
    if not decks:
        raise NotEnrolled()
    await reply(
        update,
        t(
            lang,
            counted("exam.set", (exam_date - today).days),
            date=exam_date.isoformat(),
            days=(exam_date - today).days,
            decks=_names(lang, decks),
        ),
    )


def _names(lang: str, decks: list[DeckInfo]) -> str:
    return listed(lang, (info.deck.name for info in decks))


async def _list_exams(update: Update, context: Context, student: Student) -> None:
    lang = student.language
    decks = [d for d in await service_of(context).decks(student.id) if d.enrolled and d.exam_date]
    if not decks:
        await reply(update, t(lang, "exam.none"))  # it names the form already
        return
    lines = [t(lang, "exam.list_header")]
    lines += [
        t(lang, "exam.list_line", deck=d.deck.name, date=d.exam_date.isoformat())
        for d in decks
        if d.exam_date
    ]
    lines.append(t(lang, "exam.usage"))
    await reply(update, Html("\n".join(lines)))
