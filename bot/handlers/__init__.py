"""The student-facing handlers, registered on an application in one place."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.handlers import (
    decks,
    misc,
    onboarding,
    own_card_sounds,
    own_cards,
    quiz,
    settings,
    stats,
)

# Runs before everything else; other handler modules (e.g. admin commands) may use groups
# between DEDUPE_GROUP and 0 and raise ApplicationHandlerStop for updates they consume.
DEDUPE_GROUP = -100

COMMANDS: tuple[str, ...] = (
    "start",
    "quiz",
    "stop",
    "stats",
    "decks",
    "settings",
    "exam",
    "pause",
    "resume",
    *own_cards.COMMANDS,
    "help",
)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add the student handlers: private-chat commands, buttons, text, and fallbacks."""
    application.add_handler(TypeHandler(Update, misc.drop_redelivered), group=DEDUPE_GROUP)
    # New messages only: an edited message must not count as a second answer.
    new = filters.UpdateType.MESSAGE
    private = filters.ChatType.PRIVATE & new
    application.add_handler(MessageHandler(~filters.ChatType.PRIVATE & new, misc.group_message))
    command_callbacks = {
        "start": onboarding.start_command,
        "quiz": quiz.quiz_command,
        "stop": quiz.stop_command,
        "stats": stats.stats_command,
        "decks": decks.decks_command,
        "settings": settings.settings_command,
        "exam": decks.exam_command,
        "pause": misc.pause_command,
        "resume": misc.resume_command,
        "help": misc.help_command,
        "new": own_cards.new_command,
        "mycards": own_cards.mycards_command,
        "cancel": own_cards.cancel_command,
        "export": own_cards.export_command,
    }
    for name in COMMANDS:
        application.add_handler(CommandHandler(name, command_callbacks[name], filters=private))
    application.add_handler(CallbackQueryHandler(misc.button_press))
    application.add_handler(MessageHandler(private & filters.COMMAND, misc.unknown_command))
    application.add_handler(MessageHandler(private & filters.TEXT, misc.text_message))
    application.add_handler(MessageHandler(private & filters.PHOTO, own_cards.photo_message))
    application.add_handler(
        MessageHandler(private & (filters.VOICE | filters.AUDIO), own_card_sounds.sound_message)
    )
    application.add_handler(
        MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, misc.not_text)
    )
