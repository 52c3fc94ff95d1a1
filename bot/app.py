"""The Telegram application: builder, rate limits, command menus and errors.

Updates run through :class:`bot.update_order.PerUserUpdateProcessor` (concurrent across
users, in order within one); :mod:`bot.serving` runs the application.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import traceback
from collections.abc import Callable, Coroutine
from typing import Any, TypeAlias

from telegram import Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
)
from telegram.request import BaseRequest

from bot import handlers
from bot.apology import apology, apology_toast
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
from bot.i18n import t
from bot.menus import command_menu, publish_menus
from bot.outgoing import ChatRateLimiter
from bot.reminders import schedule_reminders
from bot.settings import Settings
from bot.telegram_http import KeepAliveRequest
from bot.update_order import PerUserUpdateProcessor
from storage import DatabaseUnreachable
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


def redact(text: str, application: AnyApplication) -> str:
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
    if isinstance(failure, Forbidden):
        # The student blocked the bot (or a group removed it): an apology would be refused
        # too, and nothing is wrong on this side; one line, no stack.
        log.warning(
            "update %s (user %s): Telegram refused the reply (%s); nothing more is sent there",
            update_id,
            user_id,
            redact(detail, context.application),
        )
        return
    if isinstance(failure, DatabaseUnreachable):
        # The database is down: one line saying so, not a stack every run of every job.
        log.error("update %s (user %s) failed: %s; %s", update_id, user_id, failure, failure.hint)
    else:
        stack = "".join(traceback.format_tb(failure.__traceback__))
        log.error(
            "update %s (user %s) failed with %s %s%s\n%s",
            update_id,
            user_id,
            type(failure).__name__,
            redact(detail, context.application),
            f" ({lost.key})" if lost else "",
            redact(stack, context.application),
        )
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    # Telegram failed a call: most likely the reply, after the handler had done its work.
    reply_lost = isinstance(failure, TelegramError)
    if update.effective_chat.type != update.effective_chat.PRIVATE:
        await _apologise_in_group(update, context, reply_lost=reply_lost)
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
                await update.callback_query.answer(apology_toast(lang, reply_lost=reply_lost))
                return
            except TelegramError:
                pass  # already answered (the failure came later): say it in the chat
        text = apology(lang, update, reply_lost=reply_lost)
        await update.effective_chat.send_message(text, parse_mode="HTML")


async def _apologise_in_group(update: Update, context: Context, *, reply_lost: bool) -> None:
    """A failed group command gets the apology in the group's language, as a reply to it (so
    in its topic); anything else that failed there (a poll answer, chatter) stays silent."""
    from bot.handlers.common import command_of, language_of, service_of

    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or command_of(update) is None:
        return
    try:
        group = await service_of(context).groups.group(chat.id)
    except Exception:  # the database may be what failed
        group = None
    lang = group.language if group is not None else language_of(update, None)
    with contextlib.suppress(Exception):  # the bot may have been removed meanwhile
        await message.reply_text(apology(lang, update, reply_lost=reply_lost), parse_mode="HTML")


__all__ = [
    "ALLOWED_UPDATES",
    "LOCAL_TOKEN",
    "MAX_CONCURRENT_UPDATES",
    "AnyApplication",
    "build_application",
    "command_menu",
    "on_error",
    "rate_limiter",
    "redact",
]
