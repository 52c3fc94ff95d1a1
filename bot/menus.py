"""Telegram's command menus: every student command for everyone, the admin commands too in
the admins' own chats (``setMyCommands`` with a per-chat scope), the group commands in group
chats, in English and Chinese."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from telegram import Bot, BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeChat
from telegram.error import TelegramError

from bot import handlers
from bot.handlers import admin_common, groups, privacy
from bot.i18n import LANGUAGES, plain

log = logging.getLogger("bot.menus")

STUDENT_COMMANDS: tuple[str, ...] = (
    *(name for name in handlers.COMMANDS if name != "help"),
    *privacy.COMMANDS,
    "help",
)
"""What any student may send, in menu order (/help last, as the way out of anything)."""
ADMIN_COMMANDS: tuple[str, ...] = admin_common.COMMANDS


def command_menu(lang: str, *, admin: bool = False) -> list[BotCommand]:
    """The command list shown in Telegram's menu, in one language (an admin's has theirs)."""
    names = STUDENT_COMMANDS + (ADMIN_COMMANDS if admin else ())
    return [BotCommand(name, plain(lang, f"commands.{name}")) for name in names]


def group_command_menu(lang: str) -> list[BotCommand]:
    """The command list Telegram shows in group chats, in one language."""
    return [BotCommand(name, plain(lang, f"group.commands.{name}")) for name in groups.COMMANDS]


def _code(lang: str) -> str | None:
    """English is the menu for every language we do not speak; Chinese has its own."""
    return None if lang == "en" else lang


async def publish_menus(bot: Bot, admin_ids: Iterable[int]) -> None:
    """The default menu in every language, then each admin's own (all at once).

    A failure is logged, never raised: a menu is not worth refusing to start over. An admin
    who never wrote to the bot has no chat yet ("chat not found"); their menu is published
    again when they send /start.
    """

    async def default(lang: str) -> None:
        try:
            await bot.set_my_commands(command_menu(lang), language_code=_code(lang))
            await bot.set_my_commands(
                group_command_menu(lang),
                scope=BotCommandScopeAllGroupChats(),
                language_code=_code(lang),
            )
        except TelegramError as error:
            log.warning("setMyCommands (%s) failed: %s", lang, error.message)

    await asyncio.gather(
        *(default(lang) for lang in LANGUAGES),
        *(publish_admin_menu(bot, admin_id) for admin_id in admin_ids),
    )


async def publish_admin_menu(bot: Bot, admin_id: int) -> bool:
    """The admin's menu, scoped to their private chat, in every language; False on failure."""
    try:
        for lang in LANGUAGES:
            await bot.set_my_commands(
                command_menu(lang, admin=True),
                scope=BotCommandScopeChat(admin_id),
                language_code=_code(lang),
            )
    except TelegramError as error:
        log.warning("setMyCommands for admin %s failed: %s", admin_id, error.message)
        return False
    return True
