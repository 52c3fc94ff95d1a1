"""The apology after an unexpected failure: what did not work (a command, a button, a
message, a file) and what to do next, in the user's language.

When Telegram refused or lost the bot's reply (``reply_lost``), what the user asked for may
have been done before the reply failed (a card saved, a setting changed, a deck toggled), so
the apology says to check before sending it again: sent again blindly, it would be done twice
or undone. Commands that only show or send something are safe to repeat either way."""

from __future__ import annotations

from telegram import Update

from bot.handlers.common import command_of
from bot.i18n import Html, plain, t

# The verb that fits what the command gives ("/stats could not be shown").
_SHOWN = frozenset(
    {"help", "stats", "decks", "settings", "mycards", "admin", "admin_decks", "item", "users"}
    | {"admin_stats", "top", "group_settings"}
)
_STARTED = frozenset({"start", "quiz", "new"})
_SENT = frozenset({"mydata", "export"})


def apology(lang: str, update: Update, *, reply_lost: bool = False) -> Html:
    """The chat message after an unexpected failure of ``update``."""
    command = command_of(update)
    if command is not None:
        name = command.removeprefix("/")
        if reply_lost and name not in _SHOWN | _STARTED | _SENT:
            return t(lang, "apology.reply_lost_command", command=command)
        verb = (
            "shown"
            if name in _SHOWN
            else "started"
            if name in _STARTED
            else "sent"
            if name in _SENT
            else "done"
        )
        return t(lang, f"apology.command_{verb}", command=command)
    lost = "reply_lost_" if reply_lost else ""
    if update.callback_query is not None:
        return t(lang, f"apology.{lost}button")
    message = update.effective_message
    sent = message and (message.document or message.photo or message.audio or message.voice)
    if sent:
        return t(lang, f"apology.{lost}file")
    return t(lang, f"apology.{lost}message")


def apology_toast(lang: str, *, reply_lost: bool = False) -> str:
    """The notice over the chat after a button press failed unexpectedly."""
    return plain(lang, "apology.reply_lost_button" if reply_lost else "apology.button")


__all__ = ["apology", "apology_toast"]
