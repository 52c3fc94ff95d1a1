"""``metatutor chat``: the real application and service, talked to from a terminal.

By default the bot runs on an in-process fake of the Bot API. With ``http=True``
(``metatutor chat --http``) the same fake is served on a local socket and the bot reaches it
as it reaches Telegram: PTB's HTTP client, start-up calls, long polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TextIO

from pydantic import SecretStr

from bot.app import AnyApplication, build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.http_chat import TOKEN, HttpChat
from bot.fake_telegram.http_server import HttpBotApi
from bot.fake_telegram.objects import FakeUser
from bot.logging_setup import logs_to_file
from bot.serving import run_polling, until_telegram_answers
from bot.settings import Settings
from bot.terminal import DEFAULT_BANNER, chat_loop, run_terminal_chat
from tutor.service import TutorService

LOCAL_USER_ID = 1001
LOG_NAME = "metatutor-chat.log"
START_TIMEOUT = 30.0
"""Seconds the bot may take to start polling over HTTP (it waits out injected faults)."""


def chat_log_path(settings: Settings) -> Path:
    """Where the local chat writes its log: next to the database, in the data folder."""
    return settings.database_file.parent / LOG_NAME


@contextlib.asynccontextmanager
async def bot_over_http(
    settings: Settings,
    service: TutorService,
    *,
    fake: FakeBotApi | None = None,
    reminders: bool = False,
    raise_errors: bool = True,
    prepare: Callable[[AnyApplication], None] | None = None,
) -> AsyncIterator[HttpChat]:
    """The bot serving by long polling against ``fake`` on a local port, while in the block.

    The settings' token and Bot API URLs are replaced by the local server's; the rest (the
    database, admins, limits) is used as given. Start-up faults injected into ``fake``
    beforehand are met as in production.

    Raises:
        TimeoutError: if the bot did not start polling within :data:`START_TIMEOUT`.
    """
    fake = fake or FakeBotApi(require_known_chat=False)
    fake.token = TOKEN
    async with HttpBotApi(fake) as server:
        wired = settings.model_copy(
            update={
                "telegram_bot_token": SecretStr(TOKEN),
                "telegram_api_base_url": server.base_url,
                "telegram_api_file_base_url": server.file_base_url,
            }
        )
        application = build_application(wired, service, reminders=reminders)
        if prepare is not None:
            prepare(application)
        chat = HttpChat(server, application, raise_errors=raise_errors)
        stop, started = asyncio.Event(), asyncio.Event()
        serving = asyncio.create_task(run_polling(application, stop=stop, on_started=started.set))
        try:
            waiting = asyncio.create_task(started.wait())
            done, _ = await asyncio.wait(
                {serving, waiting}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
            )
            if serving in done:
                waiting.cancel()
                serving.result()  # start-up failed: raise why
            if waiting not in done:
                waiting.cancel()
                raise TimeoutError(f"the bot did not start polling within {START_TIMEOUT:g} s")
            yield chat
        finally:
            stop.set()
            await asyncio.wait_for(serving, 30)


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
    http: bool = False,
    faults: tuple[tuple[str, int | str], ...] = (),
) -> None:
    """Chat with the bot offline until the user types ``quit`` or input ends.

    The application is the one ``metatutor serve`` runs, on an in-process fake of the Bot
    API (or, with ``http``, the fake served on a local socket): no token, no network. The
    streams default to the standard ones as they are at the call (not at import). The local
    student is ``user`` if given, else one made from ``user_id``, ``name`` and ``language``
    (the Telegram language code; default: the configured language). ``faults`` (method,
    status or "timeout"/"network") fail those calls once each, from start-up on.

    The terminal shows only the conversation: log records (the scheduler's every 30
    seconds among them) go to ``log_file`` (default: :func:`chat_log_path`), which the
    banner names.
    """
    fake = FakeBotApi()
    local_user = user or FakeUser(
        user_id, name, language_code=language or settings.language, username="local_student"
    )
    fake.register_user(local_user)
    for method, fault in faults:
        fake.fail_next(method, fault)
    path = log_file or chat_log_path(settings)
    inp = input_stream or sys.stdin
    out = output_stream or sys.stdout
    with logs_to_file(path):
        if not http:
            application = build_application(settings, service, request=fake, reminders=True)
            # getMe failing (a fault asked for by hand) is waited out as when serving.
            await until_telegram_answers(application.initialize, "getMe", asyncio.Event())
            await run_terminal_chat(
                application,
                input_stream=inp,
                output_stream=out,
                user=local_user,
                media_dir=media_dir,
                banner=f"{DEFAULT_BANNER}\nThe bot's log goes to {path}.",
            )
            return
        async with bot_over_http(
            settings, service, fake=fake, reminders=True, raise_errors=False
        ) as chat:
            banner = (
                f"{DEFAULT_BANNER}\nThe bot talks HTTP to a local Bot API at"
                f" {chat.server.base_url}<token>, long polling as with Telegram."
                f"\nThe bot's log goes to {path}."
            )
            await chat_loop(
                chat,
                fake,
                input_stream=inp,
                output_stream=out,
                user=local_user,
                media_dir=media_dir,
                banner=banner,
            )
