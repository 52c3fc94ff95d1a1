"""``metatutor chat``: the real application and service, talked to from a terminal."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.objects import FakeUser
from bot.logging_setup import logs_to_file
from bot.settings import Settings
from bot.terminal import DEFAULT_BANNER, run_terminal_chat
from tutor.service import TutorService

LOCAL_USER_ID = 1001
LOG_NAME = "metatutor-chat.log"


def chat_log_path(settings: Settings) -> Path:
    """Where the local chat writes its log: next to the database, in the data folder."""
    return settings.database_file.parent / LOG_NAME


async def run_local_chat(
    settings: Settings,
    service: TutorService,
    *,
    input_stream: TextIO | None = None,
    output_stream: TextIO | None = None,
    user_id: int = LOCAL_USER_ID,
    name: str = "Student",
    language: str | None = None,
    user: FakeUser | None = None,
    media_dir: Path | None = None,
    log_file: Path | None = None,
) -> None:
    """Chat with the bot offline until the user types ``quit`` or input ends.

    The application is the one ``metatutor serve`` runs, on an in-process fake of the Bot
    API: no token, no network. The streams default to the standard ones as they are at the
    call (not at import). The local student is ``user`` if given, else one made from
    ``user_id``, ``name`` and ``language`` (the Telegram language code; default: the
    configured language).

    The terminal shows only the conversation: log records (the scheduler's every 30
    seconds among them) go to ``log_file`` (default: :func:`chat_log_path`), which the
    banner names.
    """
    fake = FakeBotApi()
    local_user = user or FakeUser(
        user_id, name, language_code=language or settings.language, username="local_student"
    )
    fake.register_user(local_user)
    path = log_file or chat_log_path(settings)
    with logs_to_file(path):
        application = build_application(settings, service, request=fake, reminders=True)
        await run_terminal_chat(
            application,
            input_stream=input_stream or sys.stdin,
            output_stream=output_stream or sys.stdout,
            user=local_user,
            media_dir=media_dir,
            banner=f"{DEFAULT_BANNER}\nThe bot's log goes to {path}.",
        )
