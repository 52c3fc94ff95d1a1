"""The apology after an unexpected failure: what did not work (a command, a button, a
message, a file) and what to do next, in the user's language."""

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


def apology(lang: str, update: Update) -> Html:
    """The chat message after an unexpected failure of ``update``."""
    command = command_of(update)
    if command is not None:
        name = command.removeprefix("/")
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
    if update.callback_query is not None:
        return t(lang, "apology.button")
    message = update.effective_message
    if message is not None and (message.document or message.photo or message.audio):
        return t(lang, "apology.file")
    return t(lang, "apology.message")


def apology_toast(lang: str) -> str:
    """The notice over the chat after a button press failed unexpectedly."""
    return plain(lang, "apology.button")


__all__ = ["apology", "apology_toast"]
