"""The real bot over HTTP, as a user meets it: a harness for end-to-end stories.

:func:`http_chat` serves the Bot API fake on a local port (:class:`HttpBotApi`), builds the
metatutor application pointed at it by its base URLs (PTB's own HTTP client, no offline
request object) and runs it with :func:`bot.serving.run_polling`, long polling like in
production (:func:`bot.local_chat.bot_over_http`, which ``metatutor chat --http`` runs too).
:class:`HttpChat` then plays the users: each step queues an update where ``getUpdates`` will
find it and returns once the application has handled it (its replies sent over HTTP), as a
:class:`~bot.fake_telegram.driver.Turn` of the Bot API calls it made.

Usable for any story or fault test over HTTP: pass the service, optionally settings (the
token and the base URLs are filled in), a fake (to inject faults before start-up) and
``reminders=True`` for the reminder job.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

from bot.app import AnyApplication
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.http_chat import TOKEN, HttpChat
from bot.local_chat import bot_over_http
from bot.settings import Settings
from tests.bot.stories.conftest import story_settings
from tutor.service import TutorService

__all__ = ["TOKEN", "HttpChat", "http_chat"]


@contextlib.asynccontextmanager
async def http_chat(
    service: TutorService,
    settings: Settings | None = None,
    *,
    fake: FakeBotApi | None = None,
    reminders: bool = False,
    raise_errors: bool = True,
    prepare: Callable[[AnyApplication], None] | None = None,
) -> AsyncIterator[HttpChat]:
    """Serve ``service``'s bot by long polling over HTTP for the duration of the block.

    Args:
        service: The tutor service the bot runs on.
        settings: Bot settings (default: :func:`story_settings`); the token and Bot API
            URLs are replaced by the local server's.
        fake: The Bot API fake to serve (default: a new one).
        reminders: Schedule the reminder job, as the running bot does.
        raise_errors: See :class:`HttpChat`.
        prepare: Called with the application before it starts (extra handlers, jobs).
    """
    async with bot_over_http(
        settings or story_settings(),
        service,
        fake=fake,
        reminders=reminders,
        raise_errors=raise_errors,
        prepare=prepare,
    ) as chat:
        yield chat
