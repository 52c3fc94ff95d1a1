"""Shared by the admin handlers: who is an admin, refusals, replies, command arguments."""

from __future__ import annotations

import functools
import html
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import ApplicationHandlerStop

from bot.handlers.common import (
    Context,
    language_of,
    reply,
    student_of,
    toast,
    unknown_command_text,
)
from bot.i18n import Html, plain, t
from bot.import_text import refusal_text
from bot.settings import Settings
from tutor.admin import AdminService
from tutor.content.messages import Reason
from tutor.errors import ContentRejected, TutorError, UnknownDeck, UnknownItem
from tutor.own_cards import PrivateItem
from tutor.students import Student

log = logging.getLogger("bot.admin")

ADMIN_KEY = "admin"
# ``/export DECK`` is an admin's too, but /export is everyone's (a student's own cards):
# bot.handlers.own_cards.export_command hands an admin's deck export to admin_io.
COMMANDS: tuple[str, ...] = (
    "admin",
    "import",
    "admin_decks",
    "deck_rename",
    "deck_delete",
    "item",
    "add",
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


def is_admin(context: Context, user_id: int | None) -> bool:
    """True for a configured admin (False when the admin handlers are not registered)."""
    config = context.bot_data.get(ADMIN_KEY)
    return isinstance(config, AdminConfig) and config.is_admin(user_id)


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
        await reply(update, unknown_command_text(update, language_of(update, None)))


#: The admin commands whose written form (``admin.usage_form.NAME`` in the catalogs, in the
#: admin's language) is the next step after a rejected one ("import" is a sentence).
USAGES = ("deck_rename", "deck_delete", "item", "add", "export", "announce")
_NOT_DONE = ("import", "deck_rename", "deck_delete", "add", "export", "announce")
_TAG = re.compile(r"<[^>]+>")


def add_forms(lang: str) -> str:
    """The three one-line forms of /add, in the admin's language (plain text)."""
    return plain(lang, "admin.add_forms")


def usage(lang: str, command: str) -> Html:
    """ "Usage: /command ARGS" in the admin's language."""
    if command == "add":
        written = "\n".join(f"/add {form}" for form in add_forms(lang).splitlines())
    else:
        key = "admin.usage_import" if command == "import" else f"admin.usage_form.{command}"
        written = plain(lang, key)
    return t(lang, "admin.usage", usage=written)


def reason_of(lang: str, error: TutorError) -> str:
    """Why the service refused, as it says it (a refused one-line form in the catalog, an
    importer's or exporter's coded reason in ``lang``)."""
    if isinstance(error.params.get("why"), Reason):
        return refusal_text(lang, error).rstrip(".")
    reason = str(error).rstrip(".")
    return plain(lang, "admin.no_form") if reason.startswith("expected:") else reason


def admin_error(lang: str, error: TutorError, command: str) -> Html:
    """An admin's reply to a refused command, in their language: what was not found or not
    accepted (the service's own words for the reason), and what to do next."""
    if isinstance(error, UnknownDeck):
        return t(lang, "admin.no_deck", deck=str(error.params.get("deck") or error))
    if isinstance(error, UnknownItem):
        return t(lang, "admin.no_item", item=str(error))
    if isinstance(error, PrivateItem):
        return t(lang, "admin.private_item", item=str(error))
    done = plain(lang, f"admin.not_done.{command if command in _NOT_DONE else 'other'}")
    step = (
        usage(lang, command)
        if command == "import" or command in USAGES
        else t(lang, "admin.see_admin")
    )
    if isinstance(error, ContentRejected):
        return t(lang, "admin.not_done", done=done, reason=reason_of(lang, error), step=step)
    return t(
        lang,
        "admin.not_done_code",
        done=done,
        reason=str(error).rstrip("."),
        code=error.code,
        step=step,
    )


async def admin_language(update: Update, context: Context) -> str:
    """The admin's language (their student settings, else Telegram's), even when the
    database is what failed."""
    student: Student | None
    try:
        student = await student_of(update, context)
    except Exception:
        student = None
    return language_of(update, student)


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
                message = admin_error(await admin_language(update, context), error, name)
                if update.callback_query is not None:
                    await toast(update.callback_query, _TAG.sub("", html.unescape(message))[:190])
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
