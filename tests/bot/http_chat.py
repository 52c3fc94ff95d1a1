"""The real bot over HTTP, as a user meets it: a harness for end-to-end stories.

:func:`http_chat` serves the Bot API fake on a local port (:class:`HttpBotApi`), builds the
metatutor application pointed at it by its base URLs (PTB's own HTTP client, no offline
request object) and runs it with :func:`bot.app.run_polling`, long polling like in
production. :class:`HttpChat` then plays the users: each step queues an update where
``getUpdates`` will find it and returns once the application has handled it (its replies
sent over HTTP), as a :class:`~bot.fake_telegram.driver.Turn` of the Bot API calls it made.

Usable for any story or fault test over HTTP: pass the service, optionally settings (the
token and the base URLs are filled in), a fake (to inject faults before start-up) and
``reminders=True`` for the reminder job.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from pydantic import SecretStr
from telegram import Update
from telegram.ext import ContextTypes

from bot.app import AnyApplication, build_application, run_polling
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import Target, Turn
from bot.fake_telegram.http_server import HttpBotApi
from bot.fake_telegram.objects import FakeUser, SentMessage
from bot.settings import Settings
from tests.bot.stories.conftest import story_settings
from tutor.service import TutorService

TOKEN = "5550001:" + "HttpStory7" * 3
"""The bot's token on the local server (Telegram's shape: id, colon, secret)."""


class HttpChat:
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

    # -- reading the chat -----------------------------------------------------------------

    def messages(self, target: Target) -> list[SentMessage]:
        """Live messages the bot sent to a user (or chat id)."""
        return self.fake.messages(_chat_id(target))

    def last(self, target: Target) -> SentMessage:
        """The newest live message the bot sent there."""
        return self.fake.last_message(_chat_id(target))

    def buttons(self, target: Target) -> list[str]:
        """Labels on the newest message that shows buttons ([] if none)."""
        message = self.fake.last_with_buttons(_chat_id(target))
        return message.button_texts if message else []

    def message_with_button(self, target: Target, button: str) -> SentMessage:
        """The newest live message showing ``button`` (label or data); LookupError if none."""
        for message in reversed(self.messages(target)):
            if message.find_button(button) is not None:
                return message
        raise LookupError(
            f"no message to {_chat_id(target)} shows a button {button!r};"
            f" latest buttons: {self.buttons(target)}"
        )


def _chat_id(target: Target) -> int:
    return target if isinstance(target, int) else target.id


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
    fake = fake or FakeBotApi(require_known_chat=False)
    fake.token = TOKEN
    async with HttpBotApi(fake) as server:
        wired = (settings or story_settings()).model_copy(
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
                {serving, waiting}, timeout=30, return_when=asyncio.FIRST_COMPLETED
            )
            if serving in done:
                waiting.cancel()
                serving.result()  # start-up failed: raise why
            if waiting not in done:
                raise TimeoutError("the bot did not start polling within 30 s")
            yield chat
        finally:
            stop.set()
            await asyncio.wait_for(serving, 30)
