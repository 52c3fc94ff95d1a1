"""Admin commands: content, numbers, announcements. Only ``METATUTOR_ADMIN_IDS`` may use them.

Anyone else gets the same reply as for an unknown command (nothing is revealed) and the
attempt is written to the audit log as ``denied``. The handlers run in :data:`ADMIN_GROUP`,
before the student handlers, and stop an update they consumed. Admin buttons use callback
data starting with ``x:``. Admin texts follow the admin's language, like students'.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from telegram import CallbackQuery, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.admin_charts import admin_chart
from bot.bot_data import SERVICE_KEY
from bot.group_text import group_lines
from bot.handlers import admin_io
from bot.handlers.admin_common import (
    ADMIN_KEY,
    COMMANDS,
    EDIT_WAIT,
    AdminConfig,
    Callback,
    add_forms,
    admin_error,
    admin_language,
    admin_only,
    buttons,
    config_of,
    h,
    log,
    reason_of,
    rest,
    usage,
)
from bot.handlers.common import (
    Context,
    reply,
    service_of,
    toast,
    user_data,
)
from bot.handlers.delivery import send_file, tell
from bot.i18n import Html, counted, plain, t
from bot.menus import publish_admin_menu
from bot.settings import Settings
from tutor.admin import AdminService, AnnouncementGone, ItemInfo
from tutor.errors import TutorError, UnknownItem
from tutor.items import ItemKind
from tutor.service import TutorService

ADMIN_GROUP = -50
_BUTTON = re.compile(r"^x:([a-z]{2}):(\d{1,18})$")

__all__ = ["ADMIN_GROUP", "COMMANDS", "register_admin_handlers"]

# -- help, decks, items ------------------------------------------------------------------------


@admin_only("admin")
async def admin_help(update: Update, context: Context, admin_id: int) -> None:
    """/admin: the admin commands."""
    lang = await admin_language(update, context)
    forms = t(lang, "admin.help_add", usage=add_forms(lang))
    await reply(update, Html(f"{t(lang, 'help.admin')}\n\n{forms}"))


@admin_only("admin_decks")
async def admin_decks(update: Update, context: Context, admin_id: int) -> None:
    """/admin_decks: every deck with item and student counts."""
    lang = await admin_language(update, context)
    infos = await config_of(context).admin.decks()
    if not infos:
        await reply(update, t(lang, "admin.no_decks"))
        return
    lines = [t(lang, "admin.decks_header")]
    for info in infos:
        deck = info.deck
        bundled = plain(lang, "admin.bundled") if deck.bundled else ""
        lines.append(
            t(
                lang,
                "admin.deck_line",
                id=deck.id,
                slug=deck.slug,
                items=info.n_items,
                students=info.n_students,
                name=deck.name + bundled,
            )
        )
    await reply(update, Html("\n".join(lines)))


@admin_only("deck_rename")
async def deck_rename(update: Update, context: Context, admin_id: int) -> None:
    """/deck_rename DECK | NEW NAME."""
    lang = await admin_language(update, context)
    ref, sep, name = rest(update).partition("|")
    if not sep or not ref.strip() or not name.strip():
        await reply(update, usage(lang, "deck_rename"))
        return
    deck = await config_of(context).admin.rename_deck(admin_id, ref.strip(), name.strip())
    await reply(update, t(lang, "admin.renamed", name=deck.name, id=deck.id))


@admin_only("deck_delete")
async def deck_delete(update: Update, context: Context, admin_id: int) -> None:
    """/deck_delete DECK: asks for confirmation."""
    lang = await admin_language(update, context)
    ref = rest(update)
    if not ref:
        await reply(update, usage(lang, "deck_delete"))
        return
    service = service_of(context)
    deck = await service.find_deck(ref)
    info = next(i for i in await service.decks() if i.deck.id == deck.id)
    await reply(
        update,
        t(
            lang,
            "admin.delete_confirm",
            name=deck.name,
            items=info.n_items,
            students=info.n_students,
        ),
        buttons(
            (plain(lang, "admin.button_delete"), f"x:dd:{deck.id}"),
            (plain(lang, "admin.button_cancel"), "x:no:0"),
        ),
    )


def _item_text(lang: str, info: ItemInfo) -> Html:
    item = info.item
    lines = [
        t(
            lang,
            "admin.item_header",
            id=item.id,
            deck=info.deck_name,
            kind=plain(lang, f"admin.kind.{item.kind.value}"),
        ),
        h(item.prompt),
    ]
    if item.kind is ItemKind.MULTIPLE_CHOICE:
        lines += [
            f"{'✅' if i == item.correct_option else '▫️'} {h(o)}"
            for i, o in enumerate(item.options)
        ]
    else:
        lines.append(t(lang, "admin.item_answer", answer=item.correct_text))
    accuracy = f"{info.accuracy:.0%}" if info.accuracy is not None else "–"
    numbers = t(
        lang,
        counted("admin.item_numbers", info.learners),
        attempts=info.attempts,
        learners=info.learners,
        accuracy=accuracy,
        difficulty=f"{info.difficulty:.2f}",
    )
    lines.append(f"\n{numbers}")
    return Html("\n".join(lines))


@admin_only("item")
async def item_command(update: Update, context: Context, admin_id: int) -> None:
    """/item ID: the item with its numbers, and edit/delete buttons."""
    lang = await admin_language(update, context)
    ref = rest(update)
    if not ref.isdigit():
        await reply(update, usage(lang, "item"))
        return
    info = await config_of(context).admin.item_info(int(ref))
    await reply(
        update,
        _item_text(lang, info),
        buttons(
            (plain(lang, "admin.button_edit"), f"x:ie:{info.item.id}"),
            (plain(lang, "admin.button_delete"), f"x:id:{info.item.id}"),
        ),
    )


@admin_only("add")
async def add_command(update: Update, context: Context, admin_id: int) -> None:
    """/add DECK | QUESTION | ANSWER [| WRONG; WRONG]."""
    lang = await admin_language(update, context)
    line = rest(update)
    if not line:
        await reply(update, usage(lang, "add"))
        return
    known = {info.deck.id for info in await service_of(context).decks()}
    deck, item = await config_of(context).admin.add_item(admin_id, line)
    text = t(
        lang,
        "admin.item_added",
        id=item.id,
        kind=plain(lang, f"admin.kind.{item.kind.value}"),
        deck=deck.name,
    )
    if deck.id not in known:  # a mistyped deck name must not go unnoticed
        text = Html(f"{text}\n{t(lang, 'admin.item_added_new_deck', deck=deck.name)}")
    await reply(update, text)


# -- numbers -----------------------------------------------------------------------------------


@admin_only("users")
async def users_command(update: Update, context: Context, admin_id: int) -> None:
    """/users: totals, active today and this week, blocked."""
    lang = await admin_language(update, context)
    config = config_of(context)
    s = await config.admin.users_summary(config.settings.timezone)
    await reply(
        update,
        t(
            lang,
            "admin.users",
            total=s.total,
            active=s.active,
            paused=s.paused,
            blocked=s.blocked,
            seen_today=s.active_today,
            seen_week=s.active_week,
            answered_today=s.answered_today,
            answered_week=s.answered_week,
        ),
    )


@admin_only("admin_stats")
async def admin_stats(update: Update, context: Context, admin_id: int) -> None:
    """/admin_stats: answers per day, accuracy per deck, hardest items, and a chart."""
    lang = await admin_language(update, context)
    config = config_of(context)
    stats = await config.admin.stats(config.settings.timezone)
    total = sum(d.answers for d in stats.per_day)
    lines: list[str] = [t(lang, "admin.stats_answers", days=len(stats.per_day), total=total)]
    lines += [f"{d.day:%m-%d}: {d.answers}" for d in stats.per_day if d.answers]
    lines.append("\n" + t(lang, "admin.stats_per_deck"))
    lines += [
        t(lang, "admin.stats_deck_line", deck=name, accuracy=f"{c / n:.0%}", answers=n)
        for name, n, c in stats.per_deck
    ] or ["–"]
    lines.append("\n" + t(lang, "admin.stats_hardest"))
    lines += [
        f"/item {hard.item_id}: {hard.correct}/{hard.attempts} · {h(hard.prompt[:60])}"
        for hard in stats.hardest
    ] or ["–"]
    students = stats.own_card_students
    own = t(lang, counted("admin.stats_own_cards", students), n=stats.own_cards, students=students)
    lines.append(f"\n{own}")
    groups = await service_of(context).groups.overview()
    lines.append("\n" + t(lang, "admin.stats_groups"))
    lines += [h(line) for line in group_lines(groups, lang=lang)] or ["–"]
    await reply(update, Html("\n".join(lines)))
    try:
        png = await asyncio.to_thread(admin_chart, stats, lang)
    except Exception:  # the numbers were already sent
        log.exception("admin chart failed for user %s", admin_id)
        await tell(update, t(lang, "stats.chart_failed"))
        return
    caption = t(lang, "admin_chart.caption")
    await send_file(update, lang, "photo", png, caption=caption, failed="send_failed.admin_chart")


async def admin_start(update: Update, context: Context) -> None:
    """/start by an admin also (re)publishes their menu: at start-up Telegram refuses a
    chat-scoped menu for an admin who never wrote to the bot. Onboarding then runs as usual."""
    user = update.effective_user
    if user is not None and config_of(context).is_admin(user.id):
        await publish_admin_menu(context.bot, user.id)


# -- buttons and follow-up text ----------------------------------------------------------------


async def _drop_buttons(query: CallbackQuery) -> None:
    """Remove the pressed message's buttons, best effort: what the press did (cancelled,
    deleted, sent) is said next either way, so a failed edit must not hide it behind an
    apology."""
    try:
        await query.edit_message_reply_markup(None)
    except TelegramError as error:
        log.info("admin buttons not removed: %s", error.message)


@admin_only("button")
async def admin_button(update: Update, context: Context, admin_id: int) -> None:
    """Every ``x:`` button."""
    query = update.callback_query
    assert query is not None
    lang = await admin_language(update, context)
    match = _BUTTON.match(query.data or "")
    if match is None:
        await toast(query, plain(lang, "callback.invalid"))
        return
    op, number = match.group(1), int(match.group(2))
    admin = config_of(context).admin
    await toast(query)
    if op == "no":
        await _drop_buttons(query)
        await reply(update, t(lang, "admin.cancelled"))
    elif op == "dd":
        deck = await admin.delete_deck(admin_id, number)
        await _drop_buttons(query)
        await reply(update, t(lang, "admin.deck_deleted", name=deck.name))
    elif op == "ie":
        user_data(context)[EDIT_WAIT] = number
        await reply(update, t(lang, "admin.edit_prompt", id=number))
    elif op == "id":
        await query.edit_message_reply_markup(
            buttons(
                (plain(lang, "admin.button_yes_delete"), f"x:iy:{number}"),
                (plain(lang, "admin.button_cancel"), "x:no:0"),
            )
        )
    elif op == "iy":
        await admin.delete_item(admin_id, number)
        await _drop_buttons(query)
        await reply(update, t(lang, "admin.item_deleted", id=number))
    elif op == "ay":
        try:
            count = await admin.confirm_announcement(admin_id, number)
        except AnnouncementGone:
            await reply(update, t(lang, "admin.announce_gone"))
            return
        await _drop_buttons(query)
        status = await reply(update, t(lang, counted("admin.announce_sending", count), n=count))
        assert status is not None
        context.application.create_task(
            admin_io.deliver_announcement(context, number, status.chat_id, status.message_id, lang),
            update=update,
        )
    elif op == "an":
        try:
            await admin.cancel_announcement(admin_id, number)
        except AnnouncementGone:
            await reply(update, t(lang, "admin.announce_gone"))
            return
        await _drop_buttons(query)
        await reply(update, t(lang, "admin.announce_cancelled"))
    else:
        await reply(update, t(lang, "callback.invalid"))


async def admin_text(update: Update, context: Context) -> None:
    """The line that replaces an item after its Edit button (admins only; others pass)."""
    user = update.effective_user
    message = update.effective_message
    if user is None or message is None or not message.text:
        return
    if not config_of(context).is_admin(user.id) or EDIT_WAIT not in user_data(context):
        return
    lang = await admin_language(update, context)
    item_id = int(user_data(context).pop(EDIT_WAIT))
    try:
        item = await config_of(context).admin.edit_item(user.id, item_id, message.text)
    except UnknownItem as error:  # deleted meanwhile: nothing left to edit
        await reply(update, admin_error(lang, error, "item"))
    except TutorError as error:
        user_data(context)[EDIT_WAIT] = item_id
        await reply(
            update, t(lang, "admin.edit_rejected", id=item_id, reason=reason_of(lang, error))
        )
    else:
        await reply(
            update,
            t(
                lang,
                "admin.item_saved",
                id=item.id,
                kind=plain(lang, f"admin.kind.{item.kind.value}"),
            ),
        )
    raise ApplicationHandlerStop


# -- registration ------------------------------------------------------------------------------

_COMMAND_CALLBACKS: dict[str, Callback] = {
    "admin": admin_help,
    "import": admin_io.import_command,
    "admin_decks": admin_decks,
    "deck_rename": deck_rename,
    "deck_delete": deck_delete,
    "item": item_command,
    "add": add_command,
    "export": admin_io.export_command,
    "users": users_command,
    "admin_stats": admin_stats,
    "announce": admin_io.announce_command,
}


def register_admin_handlers(
    application: Application[Any, Any, Any, Any, Any, Any], settings: Settings
) -> None:
    """Add the admin handlers (group :data:`ADMIN_GROUP`, before the student handlers)."""

    service = application.bot_data[SERVICE_KEY]
    assert isinstance(service, TutorService)
    registered = ADMIN_KEY in application.bot_data
    application.bot_data[ADMIN_KEY] = AdminConfig(settings, AdminService(service))
    if registered:
        return  # handlers are in place; only the settings were refreshed
    private = filters.ChatType.PRIVATE
    for name in COMMANDS:
        application.add_handler(
            CommandHandler(name, _COMMAND_CALLBACKS[name], filters=private), group=ADMIN_GROUP
        )
    application.add_handler(
        CommandHandler("start", admin_start, filters=private), group=ADMIN_GROUP
    )
    application.add_handler(
        MessageHandler(private & filters.Document.ALL, admin_io.document_upload), group=ADMIN_GROUP
    )
    application.add_handler(
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, admin_text), group=ADMIN_GROUP
    )
    application.add_handler(CallbackQueryHandler(admin_button, pattern=r"^x:"), group=ADMIN_GROUP)
