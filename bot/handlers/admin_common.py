"""Shared by the admin handlers: who is an admin, refusals, replies, command arguments."""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import ApplicationHandlerStop

from bot.handlers.common import Context, language_of, reply, toast
from bot.i18n import Html, plain, t
from bot.settings import Settings
from tutor.admin import AdminService
from tutor.errors import TutorError

log = logging.getLogger("bot.admin")

ADMIN_KEY = "admin"
COMMANDS: tuple[str, ...] = (
    "admin",
    "import",
    "admin_decks",
    "deck_rename",
    "deck_delete",
    "item",
    "add",
    "export",
    "users",
    "admin_stats",
    "announce",
)
IMPORT_WAIT = "admin_import_waiting"  # user_data: deck name (or "") for the next document
EDIT_WAIT = "admin_edit_item"  # user_data: item id whose new text comes next


@dataclass
class AdminConfig:
    """What the admin handlers need besides the service."""

    settings: Settings
    admin: AdminService

    def is_admin(self, user_id: int | None) -> bool:
        """True for the configured admin ids."""
        return user_id is not None and user_id in self.settings.admin_ids


def config_of(context: Context) -> AdminConfig:
    """The admin configuration stored at registration."""
    found = context.bot_data[ADMIN_KEY]
    assert isinstance(found, AdminConfig)
    return found


def h(text: object) -> str:
    """Escape text for Telegram HTML."""
    return html.escape(str(text), quote=False)


async def send(
    update: Update, text: str, keyboard: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Reply with HTML built from escaped parts."""
    return await reply(update, Html(text), keyboard)


async def refuse(update: Update, context: Context, what: str) -> None:
    """The unknown-command reply, and a ``denied`` audit row."""
    user = update.effective_user
    await config_of(context).admin.denied(user.id if user else None, what)
    log.warning("refused %s for user %s", what, user.id if user else None)
    if update.callback_query is not None:
        await toast(update.callback_query, plain(language_of(update, None), "callback.invalid"))
    else:
        await reply(update, t(language_of(update, None), "unknown_command"))


AdminHandler = Callable[[Update, Context, int], Awaitable[None]]


Callback = Callable[[Update, Context], Coroutine[Any, Any, None]]


def admin_only(name: str) -> Callable[[AdminHandler], Callback]:
    """Run the handler for admins only; service errors become a short reply; always stop."""

    def wrap(handler: AdminHandler) -> Callback:
        @functools.wraps(handler)
        async def run(update: Update, context: Context) -> None:
            user = update.effective_user
            if not config_of(context).is_admin(user.id if user else None):
                await refuse(update, context, name)
                raise ApplicationHandlerStop
            assert user is not None
            try:
                await handler(update, context, user.id)
            except TutorError as error:
                message = f"⚠️ {h(error)}"
                if update.callback_query is not None:
                    await toast(update.callback_query, str(error)[:190])
                else:
                    await send(update, message)
            raise ApplicationHandlerStop

        return run

    return wrap


def rest(update: Update) -> str:
    """The command's text after the command word (newlines kept)."""
    message = update.effective_message
    text = (message.text or message.caption or "") if message else ""
    parts = text.split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def buttons(*row: tuple[str, str]) -> InlineKeyboardMarkup:
    """One row of callback buttons."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row]]
    )
