"""Pictures, files and progress messages when Telegram fails: the user is told once, plainly.

A chart or a file is sent after the text it belongs to; if Telegram refuses it, times out or
cannot be reached, the user gets one message in their language that names what did not
arrive, why, and what to do. A progress message ("⏳ Importing…") always ends saying done or
failed: its final edit is tried twice, then the outcome is sent as a new message.
"""

from __future__ import annotations

import logging
from typing import Literal

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError, TimedOut

from bot.handlers.common import drop_buttons, edit, reply
from bot.i18n import Html, plain, t

log = logging.getLogger("bot.delivery")

Kind = Literal["photo", "document"]


def failure_reason(lang: str, kind: Kind, error: TelegramError) -> str:
    """Why Telegram did not take it, in a few words for the user (plain text)."""
    if isinstance(error, TimedOut):  # before BadRequest: both are NetworkErrors
        return plain(lang, "send_failed.reason.timeout")
    if isinstance(error, BadRequest):
        return plain(lang, f"send_failed.reason.refused_{kind}")
    if isinstance(error, RetryAfter):
        return plain(lang, "send_failed.reason.busy")
    return plain(lang, "send_failed.reason.unreachable")


def fetch_failure_reason(lang: str, error: TelegramError) -> str:
    """Why a file the user sent could not be fetched: as :func:`failure_reason`, but a
    timeout is only that (nothing of ours is on its way to the user)."""
    if isinstance(error, TimedOut):
        return plain(lang, "fetch_failed.reason.timeout")
    return failure_reason(lang, "document", error)


async def send_file(
    update: Update,
    lang: str,
    kind: Kind,
    data: bytes,
    *,
    failed: str,
    filename: str | None = None,
    caption: str | None = None,
    parse_mode: str | None = ParseMode.HTML,
    **params: object,
) -> bool:
    """Send ``data`` as a photo or document; if Telegram fails, say so once. True if sent.

    Args:
        update: The update whose chat gets the file.
        lang: The user's language.
        kind: ``"photo"`` or ``"document"``.
        data: The file's bytes.
        failed: Catalog key of the message that tells what did not arrive and what to do;
            it gets ``reason`` and ``params``.
        filename: The document's file name.
        caption: The caption (HTML unless ``parse_mode`` says otherwise).
        parse_mode: The caption's parse mode.
        params: More values for the ``failed`` message.
    """
    chat = update.effective_chat
    if chat is None:
        return False
    try:
        if kind == "photo":
            await chat.send_photo(data, caption=caption, parse_mode=parse_mode)
        else:
            await chat.send_document(
                data, filename=filename, caption=caption, parse_mode=parse_mode
            )
    except Forbidden:
        log.info("%s not sent to chat %s: the user blocked the bot", kind, chat.id)
        return False  # nothing reaches them now, a notice neither
    except TelegramError as error:
        log.warning("%s not sent to chat %s: %s", kind, chat.id, error.message)
        await tell(update, t(lang, failed, reason=failure_reason(lang, kind, error), **params))
        return False
    return True


async def tell(update: Update, text: Html) -> bool:
    """Send ``text``, logging instead of raising if Telegram fails again; True if sent."""
    try:
        await reply(update, text)
    except TelegramError as error:
        log.warning("notice not sent: %s", error.message)
        return False
    return True


async def start_progress(update: Update, text: Html) -> Message | None:
    """Send a progress message; None if Telegram refused it (the work goes on regardless)."""
    try:
        return await reply(update, text)
    except TelegramError as error:
        log.warning("progress message not sent: %s", error.message)
        return None


async def step_progress(status: Message | None, text: Html) -> None:
    """Show an intermediate step, best effort (the final outcome is what must arrive)."""
    if status is None:
        return
    try:
        await status.edit_text(text, parse_mode=ParseMode.HTML)
    except TelegramError as error:
        log.info("progress step not shown: %s", error.message)


async def finish_progress(update: Update, status: Message | None, text: Html) -> None:
    """Edit ``status`` (progress, a question) into the outcome ``text``, or send that anew."""
    if status is not None:
        for _ in range(2):
            try:
                await status.edit_text(text, parse_mode=ParseMode.HTML)
                return
            except BadRequest as error:
                if "not modified" in error.message.lower():
                    return  # a timed-out first edit that did arrive
                log.info("progress message not edited: %s", error.message)
            except Forbidden:
                return
            except TelegramError as error:
                log.info("progress message not edited: %s", error.message)
    await tell(update, text)


async def redraw(
    update: Update,
    query: CallbackQuery,
    text: Html,
    keyboard: InlineKeyboardMarkup | None,
    *,
    drop_old: bool = False,
) -> bool:
    """Edit the pressed panel into ``text``; if Telegram will not, send it anew. True if shown.

    A timeout or a 5xx is tried once more (a first edit that did arrive makes the second a
    "not modified", which counts as done). A message Telegram refuses to edit (deleted, too
    old) is not tried again: the panel comes as a new message with its buttons, so the press
    is never answered by nothing or by the generic apology. ``drop_old`` then removes the
    old message's buttons first (a flashcard's "Show answer").
    """
    for _ in range(2):
        try:
            if await edit(query, text, keyboard):
                return True
            break  # refused for good (logged by edit)
        except Forbidden:
            return False  # blocked: nothing reaches them
        except TelegramError as error:
            log.info("panel not redrawn: %s", error.message)
    if drop_old:
        await drop_buttons(query)
    try:
        await reply(update, text, keyboard)
    except Forbidden:
        return False
    except TelegramError as error:
        log.warning("panel not sent: %s", error.message)
        return False
    return True
