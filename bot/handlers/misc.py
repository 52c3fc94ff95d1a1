"""Help, pause/resume, and routing: button presses, free text, odd input, group chats."""

from __future__ import annotations

import unicodedata
from collections import OrderedDict

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot import callbacks
from bot.callbacks import (
    AnswerPress,
    DeckPress,
    GradePress,
    MoreNewPress,
    OnboardingPress,
    OwnCardPress,
    QuizPress,
    RevealPress,
    SettingPress,
)
from bot.handlers import decks, groups, new_items, onboarding, own_cards, quiz, settings
from bot.handlers.admin_common import IMPORT_WAIT, is_admin
from bot.handlers.common import (
    Context,
    guarded,
    language_of,
    log,
    reply,
    service_of,
    started_student,
    student_of,
    toast,
    unknown_command_text,
    user_data,
)
from bot.i18n import Html, plain, t
from bot.times import parse_time
from tutor.students import StudentStatus, format_hhmm

MAX_TEXT = 1000
SEEN_UPDATES = 2048
_SEEN_KEY = "seen_update_ids"


async def drop_redelivered(update: Update, context: Context) -> None:
    """Stop an update that was already processed (Telegram redelivers after timeouts)."""
    seen: OrderedDict[int, None] = context.bot_data.setdefault(_SEEN_KEY, OrderedDict())
    if update.update_id in seen:
        log.info("update %s delivered again: ignored", update.update_id)
        raise ApplicationHandlerStop
    seen[update.update_id] = None
    while len(seen) > SEEN_UPDATES:
        seen.popitem(last=False)


@guarded
async def help_command(update: Update, context: Context) -> None:
    """/help: every command this user may send (an admin's too, for admins only)."""
    student = await student_of(update, context)
    lang = language_of(update, student)
    text = Html(f"{t(lang, 'help')}\n\n{t(lang, 'help.own_cards')}")
    user = update.effective_user
    if is_admin(context, user.id if user else None):
        text = Html(f"{text}\n\n{t(lang, 'help.admin')}")
    await reply(update, text)


@guarded
async def pause_command(update: Update, context: Context) -> None:
    """/pause: no reminders until /resume."""
    await _set_status(update, context, StudentStatus.PAUSED, "paused")


@guarded
async def resume_command(update: Update, context: Context) -> None:
    """/resume: reminders back on."""
    await _set_status(update, context, StudentStatus.ACTIVE, "resumed")


async def _set_status(update: Update, context: Context, status: StudentStatus, key: str) -> None:
    student = await started_student(update, context)
    if student is None:
        return
    lang = student.language
    await service_of(context).set_status(student.id, status)
    await reply(update, t(lang, key))


async def unknown_command(update: Update, context: Context) -> None:
    """A command this bot does not have."""
    student = await student_of(update, context)
    await reply(update, unknown_command_text(update, language_of(update, student)))


async def group_message(update: Update, context: Context) -> None:
    """A command that is not a group command: say which are, and where the rest live; other
    messages in groups are ignored."""
    message = update.effective_message
    if message is None or not message.text or not message.text.startswith("/"):
        return
    bot_name = context.bot.username
    command = message.text.split()[0]
    if "@" in command and not command.endswith(f"@{bot_name}"):
        return  # addressed to another bot
    group = await service_of(context).groups.group(message.chat.id)
    lang = group.language if group is not None else language_of(update, None)
    name = command[1:].split("@")[0][:32]
    await groups.reply(update, t(lang, "group.not_a_group_command", command=name))


async def not_text(update: Update, context: Context) -> None:
    """Stickers, photos, voice notes and the like."""
    student = await student_of(update, context)
    lang = language_of(update, student)
    if student is not None and await own_cards.drafting(context, student):
        await reply(update, t(lang, "own.not_for_a_card"))  # a sound or a file for a card
        return
    await reply(update, t(lang, "text.not_text"))


def looks_binary(text: str) -> bool:
    """True for text that is mostly control characters, replacement marks or unassigned code."""
    if not text:
        return False
    odd = sum(
        1
        for ch in text
        if ch == "\ufffd"
        or (unicodedata.category(ch) in ("Cc", "Cn", "Co", "Cs") and ch not in "\n\t\r")
    )
    return odd / len(text) > 0.1


@guarded
async def text_message(update: Update, context: Context) -> None:
    """Free text: onboarding, a typed setting, an own card, a typed answer, or a hint."""
    message = update.effective_message
    assert message is not None and message.text is not None
    student = await student_of(update, context)
    lang = language_of(update, student)
    text = message.text
    if looks_binary(text):
        await reply(update, t(lang, "text.unreadable"))
        return
    if len(text) > MAX_TEXT:
        await reply(update, t(lang, "text.too_long"))
        return
    importing = user_data(context).get(IMPORT_WAIT) is not None  # an admin's /import awaits
    if student is None:
        await reply(update, t(lang, "admin.import_waiting" if importing else "please_start"))
        return
    # A value the settings menu just asked for comes first, even before the set-up ended.
    if await settings.settings_text(update, context, student, text):
        return
    if await onboarding.onboarding_text(update, context, student, text):
        return
    if await own_cards.card_text(update, context, student, text):
        return
    if await quiz.typed_answer(update, context, student, text):
        return
    if importing:  # a file, not text
        await reply(update, t(lang, "admin.import_waiting"))
        return
    typed_time = parse_time(text)
    if typed_time is not None:  # e.g. the /settings menu was open before a restart
        await reply(update, t(lang, "text.time_unasked", time=format_hhmm(typed_time)))
        return
    await reply(update, t(lang, "text.no_open_question"))


@guarded
async def button_press(update: Update, context: Context) -> None:
    """Every inline button: parse its data strictly, then hand it to its handler."""
    query = update.callback_query
    assert query is not None
    press = callbacks.parse(query.data)
    chat = update.effective_chat
    if press is None or (chat is not None and chat.type != chat.PRIVATE):
        student = await student_of(update, context)
        await toast(query, plain(language_of(update, student), "callback.invalid"))
        return
    if isinstance(press, AnswerPress):
        await quiz.answer_press(update, context, press)
    elif isinstance(press, RevealPress):
        await quiz.reveal_press(update, context, press)
    elif isinstance(press, GradePress):
        await quiz.grade_press(update, context, press)
    elif isinstance(press, MoreNewPress):
        await new_items.more_new_press(update, context, press)
    elif isinstance(press, SettingPress):
        await settings.setting_press(update, context, press)
    elif isinstance(press, DeckPress):
        await decks.deck_press(update, context, press)
    elif isinstance(press, OnboardingPress):
        await onboarding.onboarding_press(update, context, press)
    elif isinstance(press, QuizPress):
        await quiz.quiz_press(update, context, press)
    elif isinstance(press, OwnCardPress):
        await own_cards.own_card_press(update, context, press)
    else:  # a group's settings button has no business in a private chat
        await toast(
            query, plain(language_of(update, await student_of(update, context)), "callback.invalid")
        )
