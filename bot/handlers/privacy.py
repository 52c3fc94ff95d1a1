"""``/mydata`` (the student's answers as a CSV file) and ``/forget`` (erase them, after a tap).

The confirmation button carries a one-time token kept in the student's ``user_data``: a
forged, replayed or pre-restart press finds no matching token and erases nothing. Handlers
run in :data:`PRIVACY_GROUP`, before the student handlers' catch-all button handler.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler, CommandHandler, filters

from bot.handlers.common import Context, language_of, reply, service_of, student_of, user_data
from bot.handlers.delivery import finish_progress, send_file
from bot.i18n import Html, counted, plain, t
from tutor.errors import UnknownStudent
from tutor.own_cards import OwnCards
from tutor.privacy import PrivacyService

log = logging.getLogger("bot.privacy")

_REGISTERED = "privacy_handlers"
PRIVACY_GROUP = -40  # after the flood limit (-75) and admin handlers (-50), before group 0
COMMANDS = ("mydata", "forget")
_TOKEN_KEY = "privacy_forget_token"


async def mydata_command(update: Update, context: Context) -> None:
    """/mydata: send the student's answer history as a CSV document, and their own cards."""
    user = update.effective_user
    assert user is not None
    lang = language_of(update, await student_of(update, context))
    try:
        export = await PrivacyService(service_of(context)).export_answers(user.id)
    except UnknownStudent:
        await reply(update, t(lang, "privacy.nothing"))
        return
    sent = await send_file(
        update,
        lang,
        "document",
        export.data,
        filename=export.filename,
        caption=t(lang, counted("privacy.export", export.rows), n=export.rows),
        failed="send_failed.mydata",
    )
    if sent:
        log.info("privacy: answer history sent to user %s (%d rows)", user.id, export.rows)
    cards = OwnCards(service_of(context))
    count = await cards.count(user.id)
    if count:  # their own cards too, whole (JSON keeps every field)
        name, data = await cards.export(user.id, "json")
        await send_file(
            update,
            lang,
            "document",
            data,
            filename=name,
            caption=t(lang, "privacy.own_cards", n=count),
            failed="send_failed.mydata",
        )


async def forget_command(update: Update, context: Context) -> None:
    """/forget: ask for confirmation with a one-time button."""
    student = await student_of(update, context)
    lang = language_of(update, student)
    if student is None:
        await reply(update, t(lang, "privacy.nothing"))
        return
    token = secrets.token_urlsafe(9)
    user_data(context)[_TOKEN_KEY] = token
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(plain(lang, "privacy.yes"), callback_data=f"p:forget:{token}")],
            [InlineKeyboardButton(plain(lang, "privacy.no"), callback_data="p:keep")],
        ]
    )
    text = t(lang, "privacy.ask")
    own = await OwnCards(service_of(context)).count(student.id)
    if own:  # they go too: say so, and how to keep a copy
        text = Html(f"{text}\n\n{t(lang, counted('privacy.ask_own_cards', own), n=own)}")
    await reply(update, text, keyboard)


async def privacy_button(update: Update, context: Context) -> None:
    """The confirmation buttons; nothing else sees ``p:`` presses."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    lang = language_of(update, await student_of(update, context))
    data = query.data or ""
    expected = user_data(context).pop(_TOKEN_KEY, None)
    if data == "p:keep" or not data.startswith("p:forget:"):
        await _finish(update, query, t(lang, "privacy.kept"))
        raise ApplicationHandlerStop
    if expected is None or not secrets.compare_digest(data.removeprefix("p:forget:"), expected):
        await _toast(query, plain(lang, "privacy.expired"))
        raise ApplicationHandlerStop
    try:
        report = await PrivacyService(service_of(context)).forget(user.id)
    except UnknownStudent:
        await _finish(update, query, t(lang, "privacy.nothing"))
        raise ApplicationHandlerStop from None
    if context.user_data is not None:
        context.user_data.clear()  # in-memory state about them goes too
    log.info("privacy: user %s erased (%d rows)", user.id, report.total)
    await _finish(update, query, t(lang, "privacy.done"))
    raise ApplicationHandlerStop


async def _toast(query: Any, text: str | None) -> None:
    # Too old to answer, or Telegram failed: the spinner stops by itself, and what was done
    # must still be said (an error here would report a failure after the work succeeded).
    with contextlib.suppress(TelegramError):
        await query.answer(text)


async def _finish(update: Update, query: Any, text: Html) -> None:
    """Acknowledge the press, then say the outcome in place of the question (or anew)."""
    await _toast(query, None)
    message = query.message if isinstance(query.message, Message) else None
    await finish_progress(update, message, text)


async def _stop_after(handler: Any, update: Update, context: Context) -> None:
    await handler(update, context)
    raise ApplicationHandlerStop


def register_privacy_handlers(application: Any, *, group: int = PRIVACY_GROUP) -> None:
    """Add /mydata, /forget and the confirmation buttons (private chats only)."""
    if application.bot_data.get(_REGISTERED):
        return
    application.bot_data[_REGISTERED] = True
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE

    async def mydata(update: Update, context: Context) -> None:
        await _stop_after(mydata_command, update, context)

    async def forget(update: Update, context: Context) -> None:
        await _stop_after(forget_command, update, context)

    application.add_handler(CommandHandler("mydata", mydata, filters=private), group=group)
    application.add_handler(CommandHandler("forget", forget, filters=private), group=group)
    application.add_handler(CallbackQueryHandler(privacy_button, pattern=r"^p:"), group=group)


__all__ = ["COMMANDS", "PRIVACY_GROUP", "register_privacy_handlers"]
