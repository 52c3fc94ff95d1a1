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

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler, CommandHandler, filters

from bot.handlers.common import Context, language_of, reply, service_of, student_of, user_data
from bot.i18n import Html, plain, t
from tutor.errors import UnknownStudent
from tutor.privacy import PrivacyService

log = logging.getLogger("bot.privacy")

_REGISTERED = "privacy_handlers"
PRIVACY_GROUP = -40  # after the flood limit (-75) and admin handlers (-50), before group 0
COMMANDS = ("mydata", "forget")
_TOKEN_KEY = "privacy_forget_token"


async def mydata_command(update: Update, context: Context) -> None:
    """/mydata: send the student's answer history as a CSV document."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    lang = language_of(update, await student_of(update, context))
    try:
        export = await PrivacyService(service_of(context)).export_answers(user.id)
    except UnknownStudent:
        await reply(update, t(lang, "privacy.nothing"))
        return
    log.info("privacy: answer history sent to user %s (%d rows)", user.id, export.rows)
    await chat.send_document(
        export.data,
        filename=export.filename,
        caption=t(lang, "privacy.export", n=export.rows),
        parse_mode=ParseMode.HTML,
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
    await reply(update, t(lang, "privacy.ask"), keyboard)


async def privacy_button(update: Update, context: Context) -> None:
    """The confirmation buttons; nothing else sees ``p:`` presses."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    lang = language_of(update, await student_of(update, context))
    data = query.data or ""
    expected = user_data(context).pop(_TOKEN_KEY, None)
    if data == "p:keep" or not data.startswith("p:forget:"):
        await _finish(query, t(lang, "privacy.kept"))
        raise ApplicationHandlerStop
    if expected is None or not secrets.compare_digest(data.removeprefix("p:forget:"), expected):
        await _toast(query, plain(lang, "privacy.expired"))
        raise ApplicationHandlerStop
    try:
        report = await PrivacyService(service_of(context)).forget(user.id)
    except UnknownStudent:
        await _finish(query, t(lang, "privacy.nothing"))
        raise ApplicationHandlerStop from None
    if context.user_data is not None:
        context.user_data.clear()  # in-memory state about them goes too
    log.info("privacy: user %s erased (%d rows)", user.id, report.total)
    await _finish(query, t(lang, "privacy.done"))
    raise ApplicationHandlerStop


async def _toast(query: Any, text: str | None) -> None:
    with contextlib.suppress(BadRequest):  # too old to answer: nothing the user can see
        await query.answer(text)


async def _finish(query: Any, text: Html) -> None:
    await _toast(query, None)
    with contextlib.suppress(BadRequest):  # the message is gone or already says this
        await query.edit_message_text(text, parse_mode=ParseMode.HTML)


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
