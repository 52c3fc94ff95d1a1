"""What every handler needs: the service, the student's language, safe replies and edits."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Coroutine
from typing import Any, TypeAlias

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bot.bot_data import SERVICE_KEY
from bot.i18n import LANGUAGES, Html, catalog, language_for, placeholders, plain, t
from tutor.errors import TutorError
from tutor.service import TutorService
from tutor.students import Student

log = logging.getLogger("bot.handlers")

Context: TypeAlias = ContextTypes.DEFAULT_TYPE
Handler: TypeAlias = Callable[[Update, Context], Coroutine[Any, Any, None]]


def service_of(context: Context) -> TutorService:
    """The tutor service the application was built with."""
    service = context.bot_data[SERVICE_KEY]
    assert isinstance(service, TutorService)
    return service


def user_data(context: Context) -> dict[Any, Any]:
    """This user's in-memory scratch space (lost on restart: never the only copy of anything)."""
    data = context.user_data
    return data if data is not None else {}


async def student_of(update: Update, context: Context) -> Student | None:
    """The student behind the update, or None if they never sent /start."""
    user = update.effective_user
    if user is None:
        return None
    return await service_of(context).student(user.id)


async def pressing_student(update: Update, context: Context) -> Student | None:
    """The student behind a button press; if they never sent /start, say so in a toast."""
    student = await student_of(update, context)
    if student is None:
        query = update.callback_query
        assert query is not None
        await toast(query, plain(language_of(update, None), "please_start"))
    return student


async def started_student(update: Update, context: Context) -> Student | None:
    """The student behind the update; if they never sent /start, ask them to and give None."""
    student = await student_of(update, context)
    if student is None:
        await reply(update, t(language_of(update, None), "please_start"))
    return student


_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@\w+)?(?:\s|$)")


def command_of(update: Update) -> str | None:
    """The command the update's message (or a document's caption) gives, like ``/stats``."""
    message = update.effective_message
    if message is None or update.callback_query is not None:
        return None
    found = _COMMAND.match(message.text or message.caption or "")
    return f"/{found.group(1).lower()}" if found else None


def unknown_command_text(update: Update, lang: str) -> Html:
    """The reply to a command this bot does not have (or that is not the user's), naming it."""
    command = command_of(update)
    if command is None:
        return t(lang, "unknown_command")
    return t(lang, "unknown_command_named", command=command)


def language_of(update: Update, student: Student | None) -> str:
    """The student's language, or a guess from Telegram's ``language_code``."""
    if student is not None:
        return student.language
    user = update.effective_user
    return language_for(user.language_code if user else None)


async def reply(
    update: Update, text: Html, keyboard: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Send HTML text to the update's chat."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(
        text, parse_mode=ParseMode.HTML, reply_markup=keyboard, disable_web_page_preview=True
    )


async def toast(query: CallbackQuery, text: str | None = None) -> None:
    """Answer a callback query (a short notice over the chat, or just stop the spinner).

    A failure is logged, never raised: the press still does what it does (the panel opens,
    the answer is marked) and the spinner stops by itself; too old to answer (400) is
    nothing the user can see.
    """
    try:
        await query.answer(text)
    except BadRequest:
        pass
    except RetryAfter:  # flooded: the limiter did not wait it out, the spinner stops anyway
        log.debug("callback not answered: flood limit")
    except TelegramError as error:
        log.info("callback not answered: %s", error.message)


def _not_modified(error: BadRequest) -> bool:
    return "not modified" in error.message.lower()


async def edit(query: CallbackQuery, text: Html, keyboard: InlineKeyboardMarkup | None) -> bool:
    """Replace the pressed message's text (or caption) and buttons; False if Telegram refused.

    "Message is not modified" (a double press) counts as done.
    """
    message = query.message
    if not isinstance(message, Message):
        return False  # older than 48 hours: Telegram no longer lets bots edit it
    try:
        if message.photo or message.document:
            await query.edit_message_caption(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
        else:
            await query.edit_message_text(
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
                disable_web_page_preview=True,
            )
    except BadRequest as error:
        if _not_modified(error):
            return True
        log.info("edit refused: %s", error.message)
        return False
    return True


async def drop_buttons(query: CallbackQuery) -> None:
    """Remove the pressed message's buttons, quietly (already gone is fine)."""
    if not isinstance(query.message, Message):
        return
    try:
        await query.edit_message_reply_markup(None)
    except BadRequest as error:
        if not _not_modified(error):
            log.info("could not remove buttons: %s", error.message)


#: The name of the setting an InvalidSetting names, as the catalog key of its button.
SETTING_NAMES = {
    "language": "button.language",
    "timezone": "button.timezone",
    "daily_quiz_time": "button.daily_time",
    "quiet_hours": "button.quiet_hours",
    "daily_goal": "button.daily_goal",
    "quiz_length": "button.quiz_length",
    "target_retention": "button.retention",
    "exam_date": "setting_name.exam_date",
}


def _error_values(lang: str, error: TutorError) -> dict[str, str]:
    """What a service error's message names: the deck, the item, or the setting."""
    if error.code == "invalid_setting":
        key = SETTING_NAMES.get(str(error.params.get("setting", "")), "setting_name.this")
        return {"setting": plain(lang, key)}
    values = {name: str(value) for name, value in error.params.items()}
    values["deck"] = str(error.params.get("deck") or error)
    values["item"] = str(error.params.get("item") or error)
    return values


def _error_params(lang: str, error: TutorError) -> dict[str, str]:
    template = catalog(lang if lang in LANGUAGES else "en")[f"error.{error.code}"]
    values = _error_values(lang, error)
    return {name: values.get(name, "") for name in placeholders(template)}


def error_text(lang: str, error: TutorError) -> Html:
    """The catalog message for a service error, naming what it is about."""
    return t(lang, f"error.{error.code}", **_error_params(lang, error))


def error_plain(lang: str, error: TutorError) -> str:
    """:func:`error_text` as plain text (for a toast)."""
    return plain(lang, f"error.{error.code}", **_error_params(lang, error))


def guarded(handler: Handler) -> Handler:
    """Turn service errors into the catalog message (toast for presses, reply for messages)."""

    @functools.wraps(handler)
    async def wrapper(update: Update, context: Context) -> None:
        try:
            await handler(update, context)
        except TutorError as error:
            student = await _safe_student(update, context)
            lang = language_of(update, student)
            log.info(
                "update %s: %s for user %s",
                update.update_id,
                error.code,
                update.effective_user.id if update.effective_user else None,
            )
            if update.callback_query is not None:
                await toast(update.callback_query, error_plain(lang, error))
            else:
                await reply(update, error_text(lang, error))

    return wrapper


async def _safe_student(update: Update, context: Context) -> Student | None:
    try:
        return await student_of(update, context)
    except TutorError:
        return None
