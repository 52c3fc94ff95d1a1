"""Group chats: joining and leaving, /group_settings for the group's admins, /quiz as quiz
polls, /stop, /top, members' poll answers, and a group's upgrade to a supergroup.

Who may change a group's settings is Telegram's word: the chat's administrators, asked with
``getChatMember`` at every change. Handlers run in :data:`GROUPS_GROUP`, before the student
handlers' catch-all pointer to the private chat, and stop there.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Coroutine
from datetime import time
from typing import Any

from telegram import (
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    PollAnswerHandler,
    filters,
)

from bot import callbacks, timezones
from bot.callbacks import GroupSettingPress
from bot.group_quizzes import group_runner
from bot.group_text import settings_text, top_text, zone_line
from bot.handlers.common import Context, error_plain, error_text, log, service_of
from bot.i18n import Html, language_for, plain, t
from bot.times import parse_date, parse_time
from tutor.errors import InvalidSetting, TutorError, UnknownDeck
from tutor.groups import MAX_GROUP_QUIZ, Group
from tutor.service import TutorService
from tutor.students import Student

GROUPS_GROUP = -30  # after the privacy handlers (-40), before the student handlers (0)
COMMANDS = ("quiz", "top", "stop", "group_settings", "help")
_REGISTERED = "group_handlers"
_IN = (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER, ChatMember.RESTRICTED)
TIMES = ("0700", "1200", "1800", "2000", "off")
LENGTHS = ("3", "5", "10")
SECONDS = ("15", "30", "60")
MAX_DECK_BUTTONS = 8

# A typed setting's name → the setting a mistake in it is reported for (group.invalid.*).
SETTING_OF = {
    "time": "daily_quiz_time",
    "daily": "daily_quiz_time",
    "tz": "timezone",
    "timezone": "timezone",
    "exam": "exam_date",
    "length": "daily_length",
    "questions": "daily_length",
    "seconds": "question_seconds",
    "time_per_question": "question_seconds",
    "lang": "language",
    "language": "language",
}
INVALID_KEYS = frozenset({*SETTING_OF.values(), "members_start"})

GroupHandler = Callable[[Update, Context], Coroutine[Any, Any, None]]


def _in_group(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


def topic_of(update: Update) -> int | None:
    """The forum topic the update was sent in (None: the main chat, or not a forum)."""
    message = update.effective_message
    if message is None or not message.is_topic_message:
        return None
    return message.message_thread_id


async def reply(update: Update, text: Html, keyboard: InlineKeyboardMarkup | None = None) -> None:
    """Send HTML text to the group, in the topic it was asked in (refusals are logged)."""
    chat = update.effective_chat
    assert chat is not None
    try:
        await chat.send_message(
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard,
            message_thread_id=topic_of(update),
        )
    except TelegramError as error:
        log.info("group %s: reply not sent: %s", chat.id, error.message)


async def _onboarded(service: TutorService, user_id: int) -> Student | None:
    """The user as a student who chose their language and zone (not one who only answered
    polls, whose settings are the defaults)."""
    student = await service.student(user_id)
    return student if student is not None and student.onboarded else None


async def current_group(update: Update, context: Context) -> Group:
    """The group the update comes from; one the bot was in before group study started (no
    ``my_chat_member`` seen) is recorded now, in the language of whoever wrote."""
    chat = update.effective_chat
    assert chat is not None
    service = service_of(context)
    found = await service.groups.group(chat.id)
    if found is not None and found.active:
        return found
    user = update.effective_user
    writer = await _onboarded(service, user.id) if user else None
    lang = writer.language if writer else language_for(user.language_code if user else None)
    group, _ = await service.groups.joined(
        chat.id, chat.title or "", lang, writer.timezone if writer else None
    )
    return group


class AdminCheckFailed(Exception):
    """Telegram could not say now whether the sender is one of the chat's administrators."""


async def is_admin(update: Update, context: Context) -> bool:
    """True if the sender is one of the chat's administrators, as Telegram says now.

    Raises AdminCheckFailed when Telegram cannot be asked: an admin must not be told they
    are not one because of a network error.
    """
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    assert chat is not None
    if isinstance(message, Message) and message.sender_chat is not None:
        return message.sender_chat.id == chat.id  # an anonymous admin writes as the group
    if user is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError as error:
        log.info("group %s: admin check failed: %s", chat.id, error.message)
        raise AdminCheckFailed from error
    return member.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR)


def group_command(handler: GroupHandler) -> GroupHandler:
    """Run a group handler, answer service errors in the group's language, then stop."""

    @functools.wraps(handler)
    async def wrapper(update: Update, context: Context) -> None:
        try:
            await handler(update, context)
        except (TutorError, AdminCheckFailed) as error:
            chat = update.effective_chat
            assert chat is not None
            group = await service_of(context).groups.group(chat.id)
            lang = group.language if group else "en"
            # A service error's message names what it is about (e.g. the deck).
            if isinstance(error, UnknownDeck):
                value = str(error.params.get("deck") or error)[:40]
                toast_text = plain(lang, "group.invalid.deck", value=value)
                text = t(lang, "group.invalid.deck", value=value)
            elif isinstance(error, TutorError):
                toast_text, text = error_plain(lang, error), error_text(lang, error)
            else:
                toast_text = plain(lang, "group.admin_check_failed")
                text = t(lang, "group.admin_check_failed")
            if update.callback_query is not None:
                with contextlib.suppress(BadRequest):
                    await update.callback_query.answer(toast_text)
            else:
                await reply(update, text)
        raise ApplicationHandlerStop

    return wrapper


# -- the bot joins and leaves ------------------------------------------------------------------


async def membership_changed(update: Update, context: Context) -> None:
    """The bot was added to a group (it says hello, once) or removed (everything stops)."""
    change = update.my_chat_member
    if change is None or not _in_group(update):
        return
    service = service_of(context)
    chat = change.chat
    was_in = change.old_chat_member.status in _IN
    now_in = change.new_chat_member.status in _IN
    if now_in and not was_in:
        # A teacher who studies with the tutor gives the group their language and zone.
        adder = await _onboarded(service, change.from_user.id)
        lang = adder.language if adder else language_for(change.from_user.language_code)
        group, new = await service.groups.joined(
            chat.id, chat.title or "", lang, adder.timezone if adder else None
        )
        log.info("group %s: bot added", chat.id)
        from_adder = adder.first_name if adder and adder.timezone == group.timezone else None
        hello = t(group.language, "group.hello", title=group.title)
        line = zone_line(group.language, group, service.now(), new=new, adder=from_adder)
        await reply(update, Html(f"{hello}\n{line}"))
    elif was_in and not now_in:
        log.info("group %s: bot removed", chat.id)
        await service.groups.left(chat.id)
    raise ApplicationHandlerStop


async def migrated(update: Update, context: Context) -> None:
    """Telegram upgraded the group to a supergroup: settings, history and schedule move."""
    message = update.effective_message
    assert message is not None
    groups = service_of(context).groups
    if message.migrate_to_chat_id:
        await groups.migrated(message.chat.id, message.migrate_to_chat_id)
    elif message.migrate_from_chat_id:
        await groups.migrated(message.migrate_from_chat_id, message.chat.id)
    raise ApplicationHandlerStop


# -- quizzes ------------------------------------------------------------------------------------


@group_command
async def quiz_command(update: Update, context: Context) -> None:
    """/quiz [n] in a group: n questions as quiz polls (members may, unless admins said no)."""
    group = await current_group(update, context)
    lang = group.language
    args = context.args or []
    length: int | None = None
    if args:
        if len(args) > 1 or not args[0].isdigit() or not 1 <= int(args[0]) <= MAX_GROUP_QUIZ:
            await reply(update, t(lang, "group.quiz_usage", max=MAX_GROUP_QUIZ))
            return
        length = int(args[0])
    if not group.members_start and not await is_admin(update, context):
        await reply(update, t(lang, "group.members_cannot_start"))
        return
    started = await service_of(context).group_quizzes.start(
        group.chat_id, length, topic_id=topic_of(update)
    )
    runner = group_runner(context.application)
    if runner is not None:
        # In its own task: sending waits for the group's turn, and this member's next
        # updates (their answers) must not wait behind it.
        context.application.create_task(runner.run_step(started.quiz_id), update=update)


@group_command
async def stop_command(update: Update, context: Context) -> None:
    """/stop in a group: the group's admins end the running quiz."""
    group = await current_group(update, context)
    if not await is_admin(update, context):
        await reply(update, t(group.language, "group.admins_only"))
        return
    stopped = await service_of(context).group_quizzes.stop(group.chat_id)
    await reply(update, t(group.language, "group.stopped" if stopped else "group.no_quiz"))


@group_command
async def top_command(update: Update, context: Context) -> None:
    """/top: this week's and the all-time ranking, first names only."""
    group = await current_group(update, context)
    ranking = await service_of(context).groups.ranking(group.chat_id)
    await reply(update, top_text(group.language, ranking))


@group_command
async def help_command(update: Update, context: Context) -> None:
    """/help in a group."""
    group = await current_group(update, context)
    await reply(update, t(group.language, "group.help"))


async def poll_answer(update: Update, context: Context) -> None:
    """A member's answer to a group poll: logged as their own attempt (nothing is sent)."""
    answer = update.poll_answer
    if answer is None or answer.user is None:
        return  # an anonymous admin votes as the chat: not a member's answer
    user = answer.user
    outcome = await service_of(context).group_quizzes.answer(
        answer.poll_id,
        user.id,
        user.first_name,
        language_for(user.language_code),
        list(answer.option_ids),
    )
    log.info("poll %s: answer of user %s %s", answer.poll_id, user.id, outcome.value)
    raise ApplicationHandlerStop


# -- settings -----------------------------------------------------------------------------------


async def _settings_view(context: Context, group: Group) -> tuple[Html, InlineKeyboardMarkup]:
    lang = group.language
    decks = await service_of(context).decks()
    names = [info.deck.name for info in decks if info.deck.id in group.deck_ids]
    rows: list[list[InlineKeyboardButton]] = []
    for info in decks[:MAX_DECK_BUTTONS]:
        mark = "✅" if info.deck.id in group.deck_ids else "➕"
        data = callbacks.group_setting("deck", str(info.deck.id))
        rows.append([InlineKeyboardButton(f"{mark} {info.deck.name}"[:60], callback_data=data)])

    def row(setting: str, values: tuple[str, ...], label: Callable[[str], str]) -> None:
        rows.append(
            [
                InlineKeyboardButton(label(v), callback_data=callbacks.group_setting(setting, v))
                for v in values
            ]
        )

    row("time", TIMES, lambda v: plain(lang, "group.off") if v == "off" else f"🕒 {v[:2]}:{v[2:]}")
    row("len", LENGTHS, lambda v: plain(lang, "group.button_length", n=v))
    row("secs", SECONDS, lambda v: plain(lang, "group.button_seconds", n=v))
    members = "off" if group.members_start else "on"
    row("members", (members,), lambda v: plain(lang, f"group.button_members_{v}"))
    other = "zh" if lang == "en" else "en"
    row("lang", (other,), lambda v: plain(lang, f"language.{v}"))
    return settings_text(lang, group, names), InlineKeyboardMarkup(rows)


@group_command
async def group_settings_command(update: Update, context: Context) -> None:
    """/group_settings [setting value]: the group's admins see and change its settings."""
    group = await current_group(update, context)
    if not await is_admin(update, context):
        await reply(update, t(group.language, "group.admins_only"))
        return
    await service_of(context).groups.remember_topic(group.chat_id, topic_of(update))
    args = context.args or []
    if args:
        if len(args) < 2:
            await reply(update, t(group.language, "group.settings_usage"))
            return
        value = " ".join(args[1:])
        try:
            group = await _apply_typed(context, group, args[0].lower(), value)
        except InvalidSetting as error:
            setting = str(error.params.get("setting", ""))
            key = setting if setting in INVALID_KEYS else "unknown"
            await reply(update, t(group.language, f"group.invalid.{key}", value=value[:40]))
            return
        except UnknownDeck:
            await reply(update, t(group.language, "group.invalid.deck", value=value[:40]))
            return
    text, keyboard = await _settings_view(context, group)
    await reply(update, text, keyboard)


async def _apply_typed(context: Context, group: Group, name: str, value: str) -> Group:
    """One typed setting (``/group_settings time 19:45``); raises InvalidSetting."""
    groups = service_of(context).groups
    chat_id = group.chat_id
    off = value.lower() in ("off", "none", "-")
    try:
        if name in ("time", "daily"):
            if off:
                return await groups.update(chat_id, clear_daily_quiz_time=True)
            moment = parse_time(value)
            if moment is None:
                raise ValueError(value)
            return await groups.update(chat_id, daily_quiz_time=moment)
        if name in ("tz", "timezone"):
            zone = timezones.parse_zone(value)  # a city, as in private chats, or a zone name
            if zone is None:
                raise ValueError(value)
            return await groups.update(chat_id, timezone=zone)
        if name in ("exam",):
            if off:
                return await groups.update(chat_id, clear_exam_date=True)
            exam = parse_date(value)
            if exam is None:
                raise ValueError(value)
            return await groups.update(chat_id, exam_date=exam)
        if name in ("length", "questions"):
            return await groups.update(chat_id, daily_length=int(value))
        if name in ("seconds", "time_per_question"):
            return await groups.update(chat_id, question_seconds=int(value))
        if name in ("members",):
            if value.lower() not in ("on", "off", "yes", "no"):
                raise InvalidSetting(value[:40], setting="members_start")
            return await groups.update(chat_id, members_start=value.lower() in ("on", "yes"))
        if name in ("lang", "language"):
            return await groups.update(chat_id, language=value.strip().lower())
        if name == "deck":
            deck = await service_of(context).find_deck(value)
            group, _ = await groups.toggle_deck(chat_id, deck.id)
            return group
    except ValueError:
        raise InvalidSetting(value[:40], setting=SETTING_OF.get(name, name)) from None
    raise InvalidSetting(name[:40], setting="unknown")


@group_command
async def settings_press(update: Update, context: Context) -> None:
    """A settings button: only the group's admins; the message shows the new settings."""
    query = update.callback_query
    assert query is not None
    press = callbacks.parse(query.data)
    if not _in_group(update):
        await _toast(query, plain(language_for(query.from_user.language_code), "callback.invalid"))
        return
    group = await current_group(update, context)
    lang = group.language
    if not isinstance(press, GroupSettingPress):
        await _toast(query, plain(lang, "callback.invalid"))
        return
    if not await is_admin(update, context):
        await _toast(query, plain(lang, "group.admins_only_toast"))
        return
    groups = service_of(context).groups
    chat_id = group.chat_id
    value = press.value
    if press.setting == "deck":
        if not value.isdigit():
            raise UnknownDeck(value)
        group, _ = await groups.toggle_deck(chat_id, int(value))
    elif press.setting == "time":
        if value == "off":
            group = await groups.update(chat_id, clear_daily_quiz_time=True)
        elif value in TIMES:
            group = await groups.update(
                chat_id, daily_quiz_time=time(int(value[:2]), int(value[2:]))
            )
    elif press.setting == "len" and value in LENGTHS:
        group = await groups.update(chat_id, daily_length=int(value))
    elif press.setting == "secs" and value in SECONDS:
        group = await groups.update(chat_id, question_seconds=int(value))
    elif press.setting == "members" and value in ("on", "off"):
        group = await groups.update(chat_id, members_start=value == "on")
    elif press.setting == "lang" and value in ("en", "zh"):
        group = await groups.update(chat_id, language=value)
    await _toast(query, plain(group.language, "group.saved"))
    text, keyboard = await _settings_view(context, group)
    message = query.message
    if not isinstance(message, Message):
        return
    # Saved: a 5xx or a timeout is tried once more, so the panel shows the change (an unchanged
    # panel has the admin tap again, which undoes a deck).
    for _ in range(2):
        try:
            await message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
            return
        except (BadRequest, Forbidden):
            return  # not modified, too old, removed from the group: nothing to redraw
        except TelegramError as error:
            log.info("group settings panel not redrawn: %s", error.message)


async def _toast(query: Any, text: str) -> None:
    with contextlib.suppress(BadRequest):
        await query.answer(text)


# -- wiring -------------------------------------------------------------------------------------


def register_group_handlers(application: Any, *, group: int = GROUPS_GROUP) -> None:
    """Add the group handlers (once)."""
    if application.bot_data.get(_REGISTERED):
        return
    application.bot_data[_REGISTERED] = True
    in_groups = filters.ChatType.GROUPS & filters.UpdateType.MESSAGE
    application.add_handler(
        ChatMemberHandler(membership_changed, ChatMemberHandler.MY_CHAT_MEMBER), group=group
    )
    application.add_handler(PollAnswerHandler(poll_answer), group=group)
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, migrated), group=group)
    commands = {
        "quiz": quiz_command,
        "top": top_command,
        "stop": stop_command,
        "group_settings": group_settings_command,
        "help": help_command,
    }
    for name in COMMANDS:
        application.add_handler(
            CommandHandler(name, commands[name], filters=in_groups), group=group
        )
    application.add_handler(CallbackQueryHandler(settings_press, pattern=r"^c:"), group=group)


__all__ = [
    "COMMANDS",
    "GROUPS_GROUP",
    "is_admin",
    "register_group_handlers",
]
