"""Serving the application: long polling, a webhook, or a worker of ``serve --workers N``.

Serving runs inside the caller's event loop, so the database the service holds stays on that
loop; SIGINT and SIGTERM stop it cleanly (updates in flight finish, then everything shuts down).
Telegram failing while the bot starts is waited out with backoff instead of stopping it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import urllib.parse
from collections.abc import Awaitable, Callable
from datetime import timedelta

from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from bot.app import ALLOWED_UPDATES, AnyApplication, redact
from bot.settings import Settings

log = logging.getLogger("bot.serving")


def stop_event(stop: asyncio.Event | None) -> tuple[asyncio.Event, list[signal.Signals]]:
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
    event, installed = stop_event(stop)
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
    detail = redact(error.message, application)
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
    "STARTUP_RETRY_DELAYS",
    "run_polling",
    "run_webhook",
    "run_worker",
    "serve_forever",
    "stop_event",
    "until_telegram_answers",
]
