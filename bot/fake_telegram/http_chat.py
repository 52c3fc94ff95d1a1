"""Users talking to a running application through the Bot API fake served over HTTP.

:class:`HttpChat` plays the users for an application that serves by long polling against an
:class:`~bot.fake_telegram.http_server.HttpBotApi`: each step queues an update where
``getUpdates`` will find it and returns once the application has handled it (its replies
sent over HTTP), as a :class:`~bot.fake_telegram.driver.Turn` of the Bot API calls it made.
The local chat's ``--http`` mode and the tests' HTTP stories use it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import AnyApplication, ChatReader, Turn
from bot.fake_telegram.http_server import HttpBotApi
from bot.fake_telegram.objects import FakeUser, SentMessage

TOKEN = "5550001:" + "HttpStory7" * 3
"""A bot token for the local server (Telegram's shape: id, colon, secret)."""


class HttpChat(ChatReader):
    """Users talking to a running application through the HTTP Bot API fake.

    Args:
        server: The HTTP server in front of the fake.
        application: The application, already serving by long polling against it.
        raise_errors: Re-raise the first exception a handler raised during a step.
        timeout: Seconds a step may take before it fails.
    """

    def __init__(
        self,
        server: HttpBotApi,
        application: AnyApplication,
        *,
        raise_errors: bool = True,
        timeout: float = 15.0,
    ) -> None:
        self.server = server
        self.fake: FakeBotApi = server.fake
        self.application = application
        self.raise_errors = raise_errors
        self.timeout = timeout
        self.errors: list[BaseException] = []
        self._handled: set[int] = set()
        self._progress = asyncio.Event()
        self._watch(application)

    def _watch(self, application: AnyApplication) -> None:
        """Note every update the application finished handling, and every error."""
        processor = application.update_processor
        original = processor.do_process_update

        async def handled(update: object, coroutine: Coroutine[Any, Any, Any]) -> None:
            try:
                await original(update, coroutine)
            finally:
                if isinstance(update, Update):
                    self._handled.add(update.update_id)
                    self._progress.set()

        # The processor is the application's own (per-user order); only observed here.
        setattr(processor, "do_process_update", handled)  # noqa: B010

        async def capture(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
            if context.error is not None:
                self.errors.append(context.error)

        application.add_error_handler(capture)

    # -- steps ------------------------------------------------------------------------------

    async def feed(self, *updates: dict[str, Any]) -> Turn:
        """Deliver updates through ``getUpdates`` and wait until each one was handled."""
        first_call = len(self.fake.calls)
        first_answer = len(self.fake.callback_answers)
        first_error = len(self.errors)
        for update in updates:
            self.fake.queue_update(update)
        wanted = {update["update_id"] for update in updates}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while not wanted <= self._handled:
            self._progress.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"updates {sorted(wanted - self._handled)} were not handled"
                    f" within {self.timeout} s"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.wait(), remaining)
        calls = [c for c in self.fake.calls[first_call:] if c.method != "getUpdates"]
        turn = Turn(
            list(updates),
            calls,
            self.fake.callback_answers[first_answer:],
            self.errors[first_error:],
        )
        if self.raise_errors and turn.errors:
            raise turn.errors[0]
        return turn

    async def send(self, user: FakeUser, text: str) -> Turn:
        """The user sends a text message or a command."""
        return await self.feed(self.fake.user_message(user, text))

    async def press(
        self, user: FakeUser, button: str, *, message: SentMessage | None = None
    ) -> Turn:
        """The user presses a button (label or callback data) on the newest message showing it."""
        target = message or self.message_with_button(user, button)
        return await self.feed(self.fake.user_press(user, target, button))

    async def press_data(self, user: FakeUser, message: SentMessage, data: str) -> Turn:
        """A callback query with arbitrary data on ``message`` (stale or forged presses)."""
        return await self.feed(self.fake.user_callback(user, message, data))

    async def upload(
        self, user: FakeUser, data: bytes, filename: str, *, caption: str | None = None
    ) -> Turn:
        """The user sends a document."""
        return await self.feed(self.fake.user_document(user, data, filename, caption))

    async def send_photo(self, user: FakeUser, data: bytes, *, caption: str | None = None) -> Turn:
        """The user sends a photo (with a caption, if given)."""
        return await self.feed(self.fake.user_photo(user, data, caption))

    async def send_sound(
        self,
        user: FakeUser,
        data: bytes,
        filename: str,
        *,
        caption: str | None = None,
        voice: bool = False,
    ) -> Turn:
        """The user sends a voice note (``voice``) or an audio file (with a caption, if given)."""
        return await self.feed(self.fake.user_sound(user, data, filename, caption, voice=voice))
