"""A tiny bot used to test the offline Bot API fake, the chat driver and the terminal.

It is not the metatutor bot: just enough handlers to exercise commands, buttons, edits,
photos, documents, non-blocking handlers and group chats.
"""

from __future__ import annotations

import asyncio
import html
import struct
import zlib
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.fake_telegram.api import FakeBotApi

LANGUAGES = {"en": "English", "zh": "中文"}


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A valid grey PNG, built by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def language_keyboard() -> InlineKeyboardMarkup:
    """One row of language buttons."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(name, callback_data=f"lang:{code}")
                for code, name in LANGUAGES.items()
            ]
        ]
    )


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greets (escaping the user's name) and offers languages."""
    assert update.effective_message and update.effective_user
    name = html.escape(update.effective_user.first_name)
    text = f"Welcome, <b>{name}</b>! Choose a language:"
    if context.args:
        text += f"\nDeck: <code>{html.escape(context.args[0])}</code>"
    await update.effective_message.reply_text(
        text, parse_mode=ParseMode.HTML, reply_markup=language_keyboard()
    )


async def choose_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answers the press and replaces the question (removing its buttons)."""
    query = update.callback_query
    assert query and query.data
    code = query.data.removeprefix("lang:")
    if code not in LANGUAGES:
        await query.answer("Unknown choice", show_alert=True)
        return
    await query.answer("Language set")
    await query.edit_message_text(f"Language: {LANGUAGES[code]}")


async def same_again(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Edits a message to exactly what it already shows (Telegram refuses)."""
    query = update.callback_query
    assert query and query.message
    await query.answer()
    await query.edit_message_text(
        "Nothing changes",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Again", callback_data="same")]]),
    )


async def same_menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Shows the message whose button edits nothing."""
    assert update.effective_message
    await update.effective_message.reply_text(
        "Nothing changes",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Again", callback_data="same")]]),
    )


async def chart(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Sends a PNG as a photo."""
    assert update.effective_message
    await update.effective_message.reply_photo(
        tiny_png(), caption="Your <i>chart</i>", parse_mode=ParseMode.HTML, filename="chart.png"
    )


async def broken(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Sends malformed HTML (a bug Telegram catches)."""
    assert update.effective_message
    await update.effective_message.reply_text("<b>unclosed", parse_mode=ParseMode.HTML)


async def receive_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Downloads an uploaded document through the Bot API and reports on it."""
    message = update.effective_message
    assert message and message.document
    telegram_file = await message.document.get_file()
    data = bytes(await telegram_file.download_as_bytearray())
    lines = data.decode("utf-8").splitlines()
    await message.reply_text(
        f"Got {html.escape(message.document.file_name or '?')} "
        f"({message.caption or 'no caption'}): {len(lines)} lines, first {html.escape(lines[0])}",
        parse_mode=ParseMode.HTML,
    )


async def slow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A non-blocking handler that starts a follow-up task of its own."""
    assert update.effective_chat
    chat_id = update.effective_chat.id
    await asyncio.sleep(0.01)
    await context.bot.send_message(chat_id, "slow part one")

    async def later() -> None:
        await asyncio.sleep(0.01)
        await context.bot.send_message(chat_id, "slow part two")

    context.application.create_task(later())


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Echoes text once per update id (a redelivered update is ignored)."""
    message = update.effective_message
    assert message and message.text is not None
    seen: set[int] = context.bot_data.setdefault("seen_updates", set())
    if update.update_id in seen:
        return
    seen.add(update.update_id)
    await message.reply_text(f"You said: {html.escape(message.text)}", parse_mode=ParseMode.HTML)


def build_demo_application(fake: FakeBotApi) -> Application[Any, Any, Any, Any, Any, Any]:
    """The demo bot on the offline fake."""
    application = fake.application_builder().build()
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("same", same_menu))
    application.add_handler(CommandHandler("chart", chart))
    application.add_handler(CommandHandler("broken", broken))
    application.add_handler(CommandHandler("slow", slow, block=False))
    application.add_handler(CallbackQueryHandler(choose_language, pattern=r"^lang:"))
    application.add_handler(CallbackQueryHandler(same_again, pattern=r"^same$"))
    application.add_handler(MessageHandler(filters.Document.ALL, receive_document))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return application
