"""The Telegram application: builder, per-user ordering, command menus, errors, and serving.

Updates of different users are handled concurrently, while one user's updates run strictly
in arrival order (answers must be graded in the order they were given). Serving runs inside
the caller's event loop, so the database the service holds stays on that loop; SIGINT and
SIGTERM stop it cleanly (updates in flight finish, then everything shuts down).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import signal
import traceback
import urllib.parse
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any, TypeAlias

from telegram import Update
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    BaseUpdateProcessor,
)
from telegram.request import BaseRequest

from bot import handlers
from bot.bot_data import SERVICE_KEY
from bot.flood import register_flood_guard
from bot.group_quizzes import build_group_runner, schedule_group_quizzes
from bot.handlers.admin import register_admin_handlers
from bot.handlers.admin_common import ADMIN_KEY, AdminConfig
from bot.handlers.common import Context
from bot.handlers.groups import register_group_handlers
from bot.handlers.privacy import register_privacy_handlers
from bot.handlers.quiz import NotDelivered
from bot.heartbeat import install_heartbeat
from bot.i18n import plain, t
from bot.menus import command_menu, publish_menus
from bot.once import once
from bot.outgoing import ChatRateLimiter
from bot.reminders import schedule_reminders
from bot.settings import Settings
from bot.telegram_http import KeepAliveRequest
from tutor.deliveries import UpdateLog
from tutor.nudges import PolicyNudges
from tutor.service import TutorService

log = logging.getLogger("bot.app")

AnyApplication: TypeAlias = Application[Any, Any, Any, Any, Any, Any]

LOCAL_TOKEN = "0:local-chat"
"""Stand-in token when no real one is configured and an offline request object is used."""
MAX_CONCURRENT_UPDATES = 32
# my_chat_member: the bot added to or removed from a group; poll_answer: members' answers to
# group quiz polls (a poll's own state updates are not needed: the quiz job closes polls).
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER, Update.POLL_ANSWER]


class _UserQueue:
    """One user's FIFO lock and how many of their updates hold or wait for it."""

    __slots__ = ("lock", "updates")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.updates = 0


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Concurrency across users, strict order within one user (by a FIFO lock per user)."""

    def __init__(self, max_concurrent_updates: int, updates: UpdateLog | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, _UserQueue] = {}
        self.updates = updates
        """With several processes (``serve``): each update acted on once (:mod:`bot.once`)."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update once no earlier update of the same user is still running."""
        if self.updates is not None:
            coroutine = once(self.updates, update, coroutine)
        user = update.effective_user if isinstance(update, Update) else None
        if user is None:
            await coroutine
            return
        queue = self._locks.setdefault(user.id, _UserQueue())
        queue.updates += 1
        try:
            async with queue.lock:
                await coroutine
        finally:
            # Counted, not read from the lock: right after a release the lock looks free
            # while the next update, woken but not yet running, still needs it.
            queue.updates -= 1
            if queue.updates == 0:
                del self._locks[user.id]  # nobody waits: don't keep one lock per user forever

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Write the record's last done marks (the database is still open)."""
        if self.updates is not None:
            await self.updates.flush()


def build_application(
    settings: Settings,
    service: TutorService,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    reminders: bool = False,
    limiter: ChatRateLimiter | None = None,
    updates: UpdateLog | None = None,
) -> AnyApplication:
    """The bot application over ``service``: flood limit, privacy, admin and student handlers.

    Args:
        settings: Token, Bot API base URLs, admin ids.
        service: The tutor service handlers call.
        request: An offline request object (tests, the local chat); default: HTTP, by
            :class:`bot.telegram_http.KeepAliveRequest` (PTB's httpx client with a proxy).
        get_updates_request: The same for ``getUpdates``; defaults to ``request``.
        reminders: Schedule the repeating reminder job (the running bot and the local chat
            do; tests that drive reminders themselves leave it off).
        limiter: The outgoing rate limiter (default: :func:`rate_limiter` of the settings;
            tests pass one on virtual time).
        updates: The database's record of handled updates (``serve``): an update Telegram
            delivers again, to this process or another, is acknowledged and skipped.

    Raises:
        ValueError: if there is neither a token nor an offline request object.
    """
    token = settings.token
    if token is None:
        if request is None:
            raise ValueError("no bot token is set: set TELEGRAM_BOT_TOKEN or use the local chat")
        # An offline Bot API may insist on its own token; use it if it names one.
        token = str(getattr(request, "token", LOCAL_TOKEN))
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_api_file_base_url)
        .rate_limiter(limiter or rate_limiter(settings))
        .concurrent_updates(PerUserUpdateProcessor(MAX_CONCURRENT_UPDATES, updates))
        .post_init(_post_init)
    )
    proxy = settings.telegram_proxy
    if request is None and proxy is None:
        request = KeepAliveRequest()  # PTB's defaults, on a leaner HTTP stack
        get_updates_request = get_updates_request or KeepAliveRequest(connection_pool_size=1)
    if request is not None:
        builder = builder.request(request).get_updates_request(get_updates_request or request)
    elif proxy is not None:  # through a proxy: PTB's own httpx clients
        builder = builder.proxy(proxy)
        if get_updates_request is not None:
            builder = builder.get_updates_request(get_updates_request)
        else:
            builder = builder.get_updates_proxy(proxy)
    application = builder.build()
    application.bot_data[SERVICE_KEY] = service
    if settings.flood_burst > 0:
        register_flood_guard(
            application, burst=settings.flood_burst, per_second=settings.flood_per_second
        )
    register_privacy_handlers(application)
    register_admin_handlers(application, settings)
    register_group_handlers(application)
    handlers.register(application)
    application.add_error_handler(on_error)
    if reminders:
        schedule_reminders(application, settings, nudge_planner=PolicyNudges(service))
        schedule_group_quizzes(application, settings)
        install_heartbeat(application, settings.database_file)
    else:
        build_group_runner(application, settings)  # /quiz in a group sends its first poll
    return application


def rate_limiter(settings: Settings, **timing: Any) -> ChatRateLimiter:
    """The outgoing limits from the settings: per chat, and overall if an operator set one.

    ``timing`` may replace the limiter's ``clock`` and ``sleep`` (benchmarks on virtual time).
    """
    return ChatRateLimiter(
        chat_rate=settings.chat_rate,
        chat_burst=settings.chat_burst,
        overall_rate=settings.send_rate,
        max_retries=2,
        **timing,
    )


async def _post_init(application: AnyApplication) -> None:
    """Publish the command menus: the default one in English and Chinese, the admins' own."""
    config = application.bot_data.get(ADMIN_KEY)
    admin_ids = sorted(config.settings.admin_ids) if isinstance(config, AdminConfig) else []
    await publish_menus(application.bot, admin_ids)


def _redact(text: str, application: AnyApplication) -> str:
    token = application.bot.token
    return text.replace(token, "<token>") if token else text


ErrorHandler: TypeAlias = Callable[[object, Context], Coroutine[Any, Any, None]]


def _ends_the_update(handler: ErrorHandler) -> ErrorHandler:
    """After ``handler``, a failed update goes no further (``ApplicationHandlerStop``).

    PTB hands an update whose handler raised to the next handler group. A command that failed
    in the admin or privacy group would then reach the student handlers too, and the user got
    a second answer on top of the error notice ("I do not know that command").
    """

    @functools.wraps(handler)
    async def run(update: object, context: Context) -> None:
        await handler(update, context)
        if isinstance(update, Update):
            raise ApplicationHandlerStop

    return run


@_ends_the_update
async def on_error(update: object, context: Context) -> None:
    """Log the failure with context (never message text or the token), and tell the user."""
    error = context.error
    update_id = user_id = None
    if isinstance(update, Update):
        update_id = update.update_id
        user_id = update.effective_user.id if update.effective_user else None
    if error is None:
        return
    # A message after a stored answer was lost: log Telegram's error, tell the student how
    # to see it again (not the generic apology).
    lost = error if isinstance(error, NotDelivered) else None
    failure: BaseException = lost.__cause__ if lost and lost.__cause__ else error
    # The exception's own message may quote user text; only Telegram's errors are shown.
    detail = failure.message if isinstance(failure, TelegramError) else ""
    stack = "".join(traceback.format_tb(failure.__traceback__))
    log.error(
        "update %s (user %s) failed with %s %s%s\n%s",
        update_id,
        user_id,
        type(failure).__name__,
        _redact(detail, context.application),
        f" ({lost.key})" if lost else "",
        _redact(stack, context.application),
    )
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != update.effective_chat.PRIVATE:
        return
    from bot.handlers.common import language_of, student_of

    try:
        student = await student_of(update, context)
    except Exception:  # the database may be what failed
        student = None
    lang = language_of(update, student)
    with contextlib.suppress(Exception):  # e.g. Forbidden: the user blocked the bot
        if lost is not None:
            # In the chat, where it stays (a toast vanishes, and the press was answered).
            await update.effective_chat.send_message(t(lang, lost.key), parse_mode="HTML")
            return
        if update.callback_query is not None:
            try:
                await update.callback_query.answer(plain(lang, "generic_error"))
                return
            except TelegramError:
                pass  # already answered (the failure came later): say it in the chat
        await update.effective_chat.send_message(t(lang, "generic_error"), parse_mode="HTML")


# -- serving ----------------------------------------------------------------------------------


def _stop_event(stop: asyncio.Event | None) -> tuple[asyncio.Event, list[signal.Signals]]:
    """An event set by SIGINT/SIGTERM (where the loop supports signal handlers)."""
    event = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, event.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            pass
    return event, installed


STARTUP_RETRY_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
"""Seconds between start-up attempts when Telegram fails; the last repeats until it works."""


def _not_a_bootstrap_abort(record: logging.LogRecord) -> bool:
    """Drop PTB's stack trace for a failed start step: :func:`until_telegram_answers` says it."""
    return not str(record.msg).endswith("Failed run number %s of %s. Aborting.")


async def until_telegram_answers(
    step: Callable[[], Awaitable[object]], what: str, stop: asyncio.Event
) -> bool:
    """Run ``step`` until Telegram takes it, with backoff; False if stopped while waiting.

    A Telegram outage (5xx, a timeout, no connection, a flood wait) while the bot starts is
    waited out, one log line per failed attempt, instead of stopping the service. A refusal
    that no retry can change (a wrong token, a 400) stops start-up at once.
    """
    attempt = 0
    ptb = logging.getLogger("telegram.ext")  # its network loop's logger
    while True:
        ptb.addFilter(_not_a_bootstrap_abort)
        try:
            await step()
            return True
        except BadRequest:
            raise  # a NetworkError to PTB, but Telegram answered: retrying cannot help
        except RetryAfter as error:
            wait = error.retry_after
            delay = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            reason = f"flood wait {delay:.0f} s"
        except NetworkError as error:  # 5xx, timeouts, no connection
            delay = STARTUP_RETRY_DELAYS[min(attempt, len(STARTUP_RETRY_DELAYS) - 1)]
            reason = f"{type(error).__name__}: {error.message}"
        finally:
            ptb.removeFilter(_not_a_bootstrap_abort)
        attempt += 1
        log.warning(
            "start-up: %s failed (%s); trying again in %g s (attempt %d)",
            what,
            reason,
            delay,
            attempt + 1,
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
            return False  # SIGINT/SIGTERM while waiting: stop without serving


async def _serve(
    application: AnyApplication,
    start_updates: Callable[[], Awaitable[object]],
    stop: asyncio.Event | None,
    on_started: Callable[[], object] | None,
    start_method: str,
    on_stopping: Callable[[], Awaitable[object]] | None = None,
) -> None:
    event, installed = _stop_event(stop)
    updater = application.updater
    assert updater is not None
    try:
        # getMe (initialize) and deleteWebhook/setWebhook (start_updates) are retried while
        # Telegram is down; the command menus (post_init) log their own failures.
        if not await until_telegram_answers(application.initialize, "getMe", event):
            return
        if application.post_init is not None:
            await application.post_init(application)
        if not await until_telegram_answers(start_updates, start_method, event):
            return
        await application.start()
        log.info("bot running; stop with SIGINT or SIGTERM")
        if on_started is not None:
            on_started()
        await event.wait()
        log.info("stopping")
        if on_stopping is not None:
            await on_stopping()  # take no more updates before the application stops
    finally:
        if updater.running:
            await updater.stop()
        if application.running:
            await application.stop()
            if application.post_stop is not None:
                await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
        loop = asyncio.get_running_loop()
        for sig in installed:
            loop.remove_signal_handler(sig)


async def run_polling(
    application: AnyApplication,
    *,
    stop: asyncio.Event | None = None,
    on_started: Callable[[], object] | None = None,
) -> None:
    """Serve by long polling until SIGINT/SIGTERM (or ``stop`` is set).

    ``on_started`` is called once updates are being fetched and handled.
    """
    updater = application.updater
    assert updater is not None

    def starting() -> Awaitable[object]:
        return updater.start_polling(
            allowed_updates=ALLOWED_UPDATES,
            error_callback=lambda error: _polling_failed(error, application),
        )

    await _serve(application, starting, stop, on_started, "deleteWebhook")


def _polling_failed(error: TelegramError, application: AnyApplication) -> None:
    """One line for a failed getUpdates (PTB retries it): an outage is not a crash, so no
    traceback."""
    detail = _redact(error.message, application)
    log.warning("getUpdates failed (%s: %s); trying again", type(error).__name__, detail)


async def run_webhook(
    application: AnyApplication,
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    on_started: Callable[[], object] | None = None,
) -> None:
    """Serve a webhook at ``settings.webhook_url`` until SIGINT/SIGTERM (or ``stop`` is set).

    ``on_started`` is called once updates are being received and handled.

    Telegram sends the secret token in a header of every request; PTB's server refuses
    requests without it (403). With no secret configured, a random one is made for this run
    (setWebhook registers it anew at every start).
    """
    if not settings.webhook_url:
        raise ValueError("METATUTOR_WEBHOOK_URL is not set")
    updater = application.updater
    assert updater is not None
    secret = (
        settings.webhook_secret.get_secret_value()
        if settings.webhook_secret
        else secrets.token_urlsafe(32)
    )
    path = urllib.parse.urlsplit(settings.webhook_url).path.lstrip("/")

    def starting() -> Awaitable[object]:
        return updater.start_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=path,
            webhook_url=settings.webhook_url,
            secret_token=secret,
            allowed_updates=ALLOWED_UPDATES,
        )

    await _serve(application, starting, stop, on_started, "setWebhook")


async def run_worker(
    application: AnyApplication,
    *,
    port: int,
    secret: str,
    stop: asyncio.Event | None = None,
    on_started: Callable[[], object] | None = None,
) -> None:
    """Serve as a worker of ``serve --workers N``: updates forwarded by the front on ``port``.

    Like :func:`run_webhook`, without ``setWebhook`` (the front registered it once).
    """
    from bot.worker_server import WorkerServer

    server = WorkerServer(application, port, secret)

    async def starting() -> None:
        server.start()

    async def stopping() -> None:
        await server.stop()

    await _serve(application, starting, stop, on_started, "listen", stopping)


async def serve_forever(
    application: AnyApplication,
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    on_started: Callable[[], object] | None = None,
) -> None:
    """Serve by webhook when ``settings.webhook_url`` is set, else by long polling."""
    if settings.webhook_url:
        await run_webhook(application, settings, stop=stop, on_started=on_started)
    else:
        await run_polling(application, stop=stop, on_started=on_started)


__all__ = [
    "LOCAL_TOKEN",
    "PerUserUpdateProcessor",
    "build_application",
    "command_menu",
    "on_error",
    "rate_limiter",
    "run_polling",
    "run_webhook",
    "run_worker",
    "serve_forever",
    "until_telegram_answers",
]
