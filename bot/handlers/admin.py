"""Admin commands: content, numbers, announcements. Only ``METATUTOR_ADMIN_IDS`` may use them.

Anyone else gets the same reply as for an unknown command (nothing is revealed) and the
attempt is written to the audit log as ``denied``. The handlers run in :data:`ADMIN_GROUP`,
before the student handlers, and stop an update they consumed. Admin buttons use callback
data starting with ``x:``. Admin texts are English (operators' language).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.admin_charts import admin_chart
from bot.group_text import group_lines
from bot.handlers import admin_io
from bot.handlers.admin_common import (
    ADMIN_KEY,
    COMMANDS,
    EDIT_WAIT,
    AdminConfig,
    Callback,
    admin_error,
    admin_only,
    buttons,
    config_of,
    h,
    log,
    rest,
    send,
)
from bot.handlers.common import (
    SERVICE_KEY,
    Context,
    language_of,
    service_of,
    student_of,
    toast,
    user_data,
)
from bot.handlers.delivery import send_file, tell
from bot.i18n import t
from bot.menus import publish_admin_menu
from bot.settings import Settings
from tutor.admin import AdminService, AnnouncementGone, ItemInfo
from tutor.errors import TutorError, UnknownItem
from tutor.items import ItemKind
from tutor.quick_add import USAGE
from tutor.service import TutorService

ADMIN_GROUP = -50
_BUTTON = re.compile(r"^x:([a-z]{2}):(\d{1,18})$")

__all__ = ["ADMIN_GROUP", "COMMANDS", "register_admin_handlers"]

# -- help, decks, items ------------------------------------------------------------------------


@admin_only("admin")
async def admin_help(update: Update, context: Context, admin_id: int) -> None:
    """/admin: the admin commands."""
    await send(
        update,
        "<b>Admin commands</b>\n"
        "/import [deck name] (as a file caption, or then send the file)\n"
        "/admin_decks, /deck_rename DECK | NEW NAME, /deck_delete DECK\n"
        "/item ID, /add LINE, /export DECK [csv|tsv|json]\n"
        "/users, /admin_stats, /announce [deck:DECK] TEXT\n\n"
        f"<b>/add syntax</b>\n<code>{h(USAGE)}</code>",
    )


@admin_only("admin_decks")
async def admin_decks(update: Update, context: Context, admin_id: int) -> None:
    """/admin_decks: every deck with item and student counts."""
    infos = await config_of(context).admin.decks()
    if not infos:
        await send(update, "No decks yet. Send a file with the caption /import.")
        return
    lines = ["<b>Decks</b> (id · slug · items · students)"]
    for info in infos:
        deck = info.deck
        lines.append(
            f"{deck.id} · <code>{h(deck.slug)}</code> · {info.n_items} · {info.n_students}"
            f" — {h(deck.name)}{' (bundled)' if deck.bundled else ''}"
        )
    await send(update, "\n".join(lines))


@admin_only("deck_rename")
async def deck_rename(update: Update, context: Context, admin_id: int) -> None:
    """/deck_rename DECK | NEW NAME."""
    ref, sep, name = rest(update).partition("|")
    if not sep or not ref.strip() or not name.strip():
        await send(update, "Usage: /deck_rename DECK | NEW NAME")
        return
    deck = await config_of(context).admin.rename_deck(admin_id, ref.strip(), name.strip())
    await send(update, f"Renamed: <b>{h(deck.name)}</b> (id {deck.id}).")


@admin_only("deck_delete")
async def deck_delete(update: Update, context: Context, admin_id: int) -> None:
    """/deck_delete DECK: asks for confirmation."""
    ref = rest(update)
    if not ref:
        await send(update, "Usage: /deck_delete DECK")
        return
    service = service_of(context)
    deck = await service.find_deck(ref)
    info = next(i for i in await service.decks() if i.deck.id == deck.id)
    await send(
        update,
        f"Delete <b>{h(deck.name)}</b>? {info.n_items} items, {info.n_students} students"
        " enrolled. Students' answers are kept.",
        buttons(("🗑 Delete", f"x:dd:{deck.id}"), ("Cancel", "x:no:0")),
    )


def _item_text(info: ItemInfo) -> str:
    item = info.item
    lines = [f"<b>Item {item.id}</b> · {h(info.deck_name)} · {item.kind.value}", h(item.prompt)]
    if item.kind is ItemKind.MULTIPLE_CHOICE:
        lines += [
            f"{'✅' if i == item.correct_option else '▫️'} {h(o)}"
            for i, o in enumerate(item.options)
        ]
    else:
        lines.append(f"Answer: {h(item.correct_text)}")
    accuracy = f"{info.accuracy:.0%}" if info.accuracy is not None else "–"
    lines.append(
        f"\nAttempts: {info.attempts} by {info.learners} students · accuracy {accuracy}"
        f" · difficulty {info.difficulty:.2f}"
    )
    return "\n".join(lines)


@admin_only("item")
async def item_command(update: Update, context: Context, admin_id: int) -> None:
    """/item ID: the item with its numbers, and edit/delete buttons."""
    ref = rest(update)
    if not ref.isdigit():
        await send(update, "Usage: /item ID")
        return
    info = await config_of(context).admin.item_info(int(ref))
    await send(
        update,
        _item_text(info),
        buttons(("✏️ Edit", f"x:ie:{info.item.id}"), ("🗑 Delete", f"x:id:{info.item.id}")),
    )


@admin_only("add")
async def add_command(update: Update, context: Context, admin_id: int) -> None:
    """/add DECK | QUESTION | ANSWER [| WRONG; WRONG]."""
    line = rest(update)
    if not line:
        await send(update, f"Usage:\n<code>/add {h(USAGE)}</code>")
        return
    deck, item = await config_of(context).admin.add_item(admin_id, line)
    await send(update, f"Added item {item.id} ({item.kind.value}) to <b>{h(deck.name)}</b>.")


# -- numbers -----------------------------------------------------------------------------------


@admin_only("users")
async def users_command(update: Update, context: Context, admin_id: int) -> None:
    """/users: totals, active today and this week, blocked."""
    config = config_of(context)
    s = await config.admin.users_summary(config.settings.timezone)
    await send(
        update,
        f"<b>Students</b>: {s.total} in all — {s.active} active, {s.paused} paused,"
        f" {s.blocked} blocked\n"
        f"Seen today: {s.active_today} · this week: {s.active_week}\n"
        f"Answered today: {s.answered_today} · this week: {s.answered_week}",
    )


@admin_only("admin_stats")
async def admin_stats(update: Update, context: Context, admin_id: int) -> None:
    """/admin_stats: answers per day, accuracy per deck, hardest items, and a chart."""
    config = config_of(context)
    stats = await config.admin.stats(config.settings.timezone)
    total = sum(d.answers for d in stats.per_day)
    lines = [f"<b>Answers, last {len(stats.per_day)} days</b>: {total}"]
    lines += [f"{d.day:%m-%d}: {d.answers}" for d in stats.per_day if d.answers]
    lines.append("\n<b>Accuracy per deck</b>")
    lines += [f"{h(name)}: {c / n:.0%} of {n}" for name, n, c in stats.per_deck] or ["–"]
    lines.append("\n<b>Hardest items</b>")
    lines += [
        f"/item {hard.item_id}: {hard.correct}/{hard.attempts} · {h(hard.prompt[:60])}"
        for hard in stats.hardest
    ] or ["–"]
    lines.append(
        f"\n<b>Students' own cards</b>: {stats.own_cards} from {stats.own_card_students}"
        " students (private: counts only)"
    )
    groups = await service_of(context).groups.overview()
    lines.append("\n<b>Groups</b> (this week)")
    lines += [h(line) for line in group_lines(groups)] or ["–"]
    await send(update, "\n".join(lines))
    lang = language_of(update, await student_of(update, context))
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


@admin_only("button")
async def admin_button(update: Update, context: Context, admin_id: int) -> None:
    """Every ``x:`` button."""
    query = update.callback_query
    assert query is not None
    match = _BUTTON.match(query.data or "")
    if match is None:
        await toast(query, "This button no longer works.")
        return
    op, number = match.group(1), int(match.group(2))
    admin = config_of(context).admin
    await toast(query)
    if op == "no":
        await query.edit_message_reply_markup(None)
        await send(update, "Cancelled.")
    elif op == "dd":
        deck = await admin.delete_deck(admin_id, number)
        await query.edit_message_reply_markup(None)
        await send(update, f"Deleted <b>{h(deck.name)}</b>. Students' answers are kept.")
    elif op == "ie":
        user_data(context)[EDIT_WAIT] = number
        await send(
            update,
            f"Send the new version of item {number} in one line:\n"
            "<code>QUESTION | ANSWER | WRONG1; WRONG2</code>"
            " (or <code>QUESTION | ANSWER1; ANSWER2</code>)",
        )
    elif op == "id":
        await query.edit_message_reply_markup(
            buttons(("🗑 Yes, delete", f"x:iy:{number}"), ("Cancel", "x:no:0"))
        )
    elif op == "iy":
        await admin.delete_item(admin_id, number)
        await query.edit_message_reply_markup(None)
        await send(update, f"Deleted item {number}. Students' answers are kept.")
    elif op == "ay":
        try:
            count = await admin.confirm_announcement(admin_id, number)
        except AnnouncementGone:
            await send(update, "This announcement was already sent or cancelled.")
            return
        await query.edit_message_reply_markup(None)
        status = await send(update, f"📣 Sending to {count} students…")
        assert status is not None
        context.application.create_task(
            admin_io.deliver_announcement(context, number, status.chat_id, status.message_id),
            update=update,
        )
    elif op == "an":
        try:
            await admin.cancel_announcement(admin_id, number)
        except AnnouncementGone:
            await send(update, "This announcement was already sent or cancelled.")
            return
        await query.edit_message_reply_markup(None)
        await send(update, "Announcement cancelled.")
    else:
        await send(update, "This button no longer works.")


async def admin_text(update: Update, context: Context) -> None:
    """The line that replaces an item after its Edit button (admins only; others pass)."""
    user = update.effective_user
    message = update.effective_message
    if user is None or message is None or not message.text:
        return
    if not config_of(context).is_admin(user.id) or EDIT_WAIT not in user_data(context):
        return
    item_id = int(user_data(context).pop(EDIT_WAIT))
    try:
        item = await config_of(context).admin.edit_item(user.id, item_id, message.text)
    except UnknownItem as error:  # deleted meanwhile: nothing left to edit
        await send(update, admin_error(error, "item"))
    except TutorError as error:
        user_data(context)[EDIT_WAIT] = item_id
        reason = str(error).rstrip(".")
        if reason.startswith("expected:"):
            reason = "the line does not have the fields of any form"
        await send(
            update,
            f"⚠️ Item {item_id} was not changed: {h(reason)}.\nSend the new version again as"
            " <code>QUESTION | ANSWER | WRONG1; WRONG2</code>"
            " (or <code>QUESTION | ANSWER1; ANSWER2</code>).",
        )
    else:
        await send(update, f"Saved item {item.id} ({item.kind.value}).")
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
