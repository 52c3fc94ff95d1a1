"""Run whole conversations with a real ``Application`` against the offline Bot API fake.

``ChatDriver`` owns the application's lifecycle (as ``run_polling`` would: initialize,
``post_init``, start ... stop, ``post_stop``, shutdown, ``post_shutdown``), feeds user updates
through the application's update processor and ``Application.process_update`` so the real
handlers run as in production, and waits until everything
the update set off has finished, including ``block=False`` handlers and tasks the handlers
created. Each step returns a :class:`Turn` describing what the bot did in reply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from telegram import Update
from telegram.ext import Application, ContextTypes

from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.faults import EDIT_METHODS, SEND_METHODS
from bot.fake_telegram.http_server import CONNECTION_TASK
from bot.fake_telegram.objects import ApiCall, CallbackAnswer, FakeChat, FakeUser, SentMessage

Target = FakeUser | FakeChat | int
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


@dataclass
class Turn:
    """What the bot did while handling one or more updates."""

    updates: list[dict[str, Any]]
    calls: list[ApiCall] = field(default_factory=list)
    answers: list[CallbackAnswer] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    @property
    def new(self) -> list[SentMessage]:
        """Messages the bot sent, in order."""
        return [c.message for c in self.calls if c.ok and c.method in SEND_METHODS and c.message]

    @property
    def edited(self) -> list[SentMessage]:
        """Messages the bot edited (text, caption or buttons)."""
        return [c.message for c in self.calls if c.ok and c.method in EDIT_METHODS and c.message]

    @property
    def deleted(self) -> list[SentMessage]:
        """Messages the bot deleted."""
        return [
            c.message
            for c in self.calls
            if c.ok and c.method in ("deleteMessage", "deleteMessages") and c.message
        ]

    @property
    def failed(self) -> list[ApiCall]:
        """Calls Telegram refused (the bot saw an error)."""
        return [c for c in self.calls if not c.ok]

    @property
    def answer(self) -> CallbackAnswer | None:
        """The callback answer (toast) of a button press, if the bot gave one."""
        return self.answers[-1] if self.answers else None

    @property
    def text(self) -> str:
        """The plain text of all new messages, joined by newlines."""
        return "\n".join(m.plain for m in self.new)


class ChatReader:
    """What the bot sent, read from the fake: for :class:`ChatDriver` and the HTTP chat."""

    fake: FakeBotApi

    def messages(self, target: Target) -> list[SentMessage]:
        """Live messages the bot sent to a user's private chat, a group, or a chat id."""
        return self.fake.messages(_chat_id(target))

    def last(self, target: Target) -> SentMessage:
        """The newest live message the bot sent there."""
        return self.fake.last_message(_chat_id(target))

    def buttons(self, target: Target) -> list[str]:
        """Labels on the newest message that shows buttons ([] if none)."""
        message = self.fake.last_with_buttons(_chat_id(target))
        return message.button_texts if message else []

    def message_with_button(self, target: Target, button: str) -> SentMessage:
        """The newest live message in the chat showing ``button`` (label or data)."""
        chat_id = _chat_id(target)
        for message in reversed(self.fake.messages(chat_id)):
            if message.find_button(button) is not None:
                return message
        raise LookupError(
            f"no message in chat {chat_id} shows a button {button!r}; "
            f"latest buttons: {self.buttons(chat_id)}"
        )


class ChatDriver(ChatReader):
    """Drive an ``Application`` built on a :class:`FakeBotApi` through user conversations.

    Args:
        application: Built with the fake as its request (``fake.application_builder()``).
        raise_errors: Re-raise the first exception a handler raised during a turn (after the
            application's own error handlers ran). Turn it off to test error handling.
        settle_timeout: Seconds to wait for the tasks a turn started before failing.
        start: Also ``start()`` the application (job queue, ``create_task`` tracking).
        fake: The fake behind the application's Bot API when the application reaches it
            over HTTP (:class:`bot.fake_telegram.http_server.HttpBotApi` in the same event
            loop); by default the application's request object is the fake.
    """

    def __init__(
        self,
        application: AnyApplication,
        *,
        raise_errors: bool = True,
        settle_timeout: float = 10.0,
        start: bool = True,
        fake: FakeBotApi | None = None,
    ) -> None:
        request = fake or application.bot.request
        if not isinstance(request, FakeBotApi):
            raise TypeError("the application must be built with FakeBotApi as its request")
        self.application = application
        self.fake: FakeBotApi = request
        self.raise_errors = raise_errors
        self.settle_timeout = settle_timeout
        self.errors: list[BaseException] = []
        self._start = start

    # -- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        app = self.application
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        # First of the error handlers: the application's own may end the update
        # (ApplicationHandlerStop), and PTB then skips the error handlers after it.
        others = dict(app.error_handlers)
        app.error_handlers.clear()
        app.add_error_handler(self._capture_error)
        app.error_handlers.update(others)
        if self._start:
            await app.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        app = self.application
        try:
            if app.running:
                await app.stop()
                if app.post_stop is not None:
                    await app.post_stop(app)
        finally:
            app.remove_error_handler(self._capture_error)
            await app.shutdown()
            if app.post_shutdown is not None:
                await app.post_shutdown(app)

    async def _capture_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.error is not None:
            self.errors.append(context.error)

    # -- feeding updates ----------------------------------------------------------------------

    async def feed(self, *updates: dict[str, Any], concurrently: bool = False) -> Turn:
        """Process updates (one after another, or all at once) and wait until all is done."""
        parsed = [Update.de_json(u, self.application.bot) for u in updates]
        app = self.application

        async def one(update: Update) -> None:
            # Through the update processor, as the application's own update fetcher does, so
            # concurrency limits and per-user ordering apply as in production.
            await app.update_processor.process_update(update, app.process_update(update))

        async def process() -> None:
            if concurrently:
                await asyncio.gather(*(one(u) for u in parsed))
            else:
                for update in parsed:
                    await one(update)

        return await self._observe(process(), list(updates))

    async def run(self, awaitable: Awaitable[Any]) -> Turn:
        """Run bot code that no update triggers (a job callback, a broadcast) as a turn."""
        return await self._observe(awaitable, [])

    async def run_job(self, name: str) -> Turn:
        """Run every job queued under ``name`` once, now, regardless of its schedule.

        Reminder tests move the injected clock and call this instead of waiting for
        APScheduler's real-time trigger.
        """
        job_queue = self.application.job_queue
        jobs = job_queue.get_jobs_by_name(name) if job_queue is not None else ()
        if not jobs:
            raise LookupError(f"no job named {name!r} is scheduled")

        async def run_all() -> None:
            for job in jobs:
                await job.run(self.application)

        return await self._observe(run_all(), [])

    async def _observe(self, awaitable: Awaitable[Any], updates: list[dict[str, Any]]) -> Turn:
        turn = Turn(updates)
        first_call = len(self.fake.calls)
        first_answer = len(self.fake.callback_answers)
        first_error = len(self.errors)
        before = asyncio.all_tasks()
        await awaitable
        await self._settle(before)
        turn.calls = self.fake.calls[first_call:]
        turn.answers = self.fake.callback_answers[first_answer:]
        turn.errors = self.errors[first_error:]
        if self.raise_errors and turn.errors:
            raise turn.errors[0]
        return turn

    async def _settle(self, before: set[asyncio.Task[Any]]) -> None:
        """Wait for every task started since ``before`` (and the tasks those start)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settle_timeout
        current = asyncio.current_task()
        while True:
            await asyncio.sleep(0)  # let freshly scheduled callbacks create their tasks
            pending = [
                t
                for t in asyncio.all_tasks()
                if t not in before
                and t is not current
                and not t.done()
                and t.get_name() != CONNECTION_TASK  # the HTTP fake's side, not the bot's
            ]
            if not pending:
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                names = ", ".join(sorted(t.get_name() for t in pending))
                raise TimeoutError(
                    f"tasks still running {self.settle_timeout}s after the update: {names}"
                )
            await asyncio.wait(pending, timeout=remaining)

    # -- user actions ------------------------------------------------------------------------

    async def send(
        self,
        user: FakeUser,
        text: str,
        *,
        chat: FakeChat | None = None,
        reply_to: SentMessage | None = None,
        topic: int | None = None,
    ) -> Turn:
        """The user sends a text message or a command (in a forum topic, if given)."""
        update = self.fake.user_message(user, text, chat=chat, reply_to=reply_to, topic=topic)
        return await self.feed(update)

    async def press(
        self,
        user: FakeUser,
        button: str,
        *,
        message: SentMessage | None = None,
        chat: FakeChat | None = None,
    ) -> Turn:
        """The user presses a button (label or callback data) on the newest message showing it.

        Raises:
            LookupError: if no live message in the chat shows such a button.
        """
        target = message or self.message_with_button(chat or user, button)
        return await self.feed(self.fake.user_press(user, target, button))

    async def press_data(self, user: FakeUser, message: SentMessage, data: str) -> Turn:
        """A callback query with arbitrary data on ``message`` (stale or forged presses)."""
        return await self.feed(self.fake.user_callback(user, message, data))

    async def upload(
        self,
        user: FakeUser,
        data: bytes,
        filename: str,
        *,
        caption: str | None = None,
        mime_type: str | None = None,
        chat: FakeChat | None = None,
    ) -> Turn:
        """The user sends a document."""
        update = self.fake.user_document(
            user, data, filename, caption, mime_type=mime_type, chat=chat
        )
        return await self.feed(update)

    async def send_photo(
        self,
        user: FakeUser,
        data: bytes,
        *,
        caption: str | None = None,
        chat: FakeChat | None = None,
    ) -> Turn:
        """The user sends a photo (with a caption, if given)."""
        return await self.feed(self.fake.user_photo(user, data, caption, chat=chat))

    async def send_sound(
        self,
        user: FakeUser,
        data: bytes,
        filename: str,
        *,
        caption: str | None = None,
        voice: bool = False,
        duration: int | None = None,
        mime_type: str | None = None,
    ) -> Turn:
        """The user sends a voice note (``voice``) or an audio file (with a caption, if given)."""
        update = self.fake.user_sound(
            user,
            data,
            filename,
            caption,
            voice=voice,
            duration=duration,
            mime_type=mime_type,
        )
        return await self.feed(update)

    async def redeliver(self, update: dict[str, Any]) -> Turn:
        """Telegram delivers ``update`` again, unchanged."""
        return await self.feed(self.fake.redeliver(update))


def _chat_id(target: Target) -> int:
    return target if isinstance(target, int) else target.id
