"""Admin commands: content, numbers, announcements. Only ``METATUTOR_ADMIN_IDS`` may use them.

Anyone else gets the same reply as for an unknown command (nothing is revealed) and the
attempt is written to the audit log as ``denied``. The handlers run in :data:`ADMIN_GROUP`,
before the student handlers, and stop an update they consumed. Admin buttons use callback
data starting with ``x:``. Admin texts are English (operators' language).
"""

from __future__ import annotations

import asyncio
import functools
import html
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import Document, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
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
from bot.handlers.common import Context, language_of, reply, service_of, toast, user_data
from bot.i18n import Html, plain, t
from bot.reminders import build_runner
from bot.settings import Settings
from tutor.admin import AdminService, AnnouncementGone, ItemInfo
from tutor.errors import TutorError
from tutor.items import ItemKind
from tutor.quick_add import USAGE
from tutor.reminder_queue import announcement_slot
from tutor.reminders import ReminderKind

log = logging.getLogger("bot.admin")

ADMIN_GROUP = -50
ADMIN_KEY = "admin"
COMMANDS: tuple[str, ...] = (
    "admin",
    "import",
    "admin_decks",
    "deck_rename",
    "deck_delete",
    "item",
    "add",
    "export",
    "users",
    "admin_stats",
    "announce",
)
_IMPORT_WAIT = "admin_import_waiting"  # user_data: deck name (or "") for the next document
_EDIT_WAIT = "admin_edit_item"  # user_data: item id whose new text comes next
LARGE_FILE = 1024 * 1024
_BUTTON = re.compile(r"^x:([a-z]{2}):(\d{1,18})$")


@dataclass
class AdminConfig:
    """What the admin handlers need besides the service."""

    settings: Settings
    admin: AdminService

    def is_admin(self, user_id: int | None) -> bool:
        """True for the configured admin ids."""
        return user_id is not None and user_id in self.settings.admin_ids


def config_of(context: Context) -> AdminConfig:
    """The admin configuration stored at registration."""
    found = context.bot_data[ADMIN_KEY]
    assert isinstance(found, AdminConfig)
    return found


def _h(text: object) -> str:
    return html.escape(str(text), quote=False)


async def _send(
    update: Update, text: str, keyboard: InlineKeyboardMarkup | None = None
) -> Message | None:
    return await reply(update, Html(text), keyboard)


async def _refuse(update: Update, context: Context, what: str) -> None:
    """The unknown-command reply, and a ``denied`` audit row."""
    user = update.effective_user
    await config_of(context).admin.denied(user.id if user else None, what)
    log.warning("refused %s for user %s", what, user.id if user else None)
    if update.callback_query is not None:
        await toast(update.callback_query, plain(language_of(update, None), "callback.invalid"))
    else:
        await reply(update, t(language_of(update, None), "unknown_command"))


AdminHandler = Callable[[Update, Context, int], Awaitable[None]]


Callback = Callable[[Update, Context], Coroutine[Any, Any, None]]


def admin_only(name: str) -> Callable[[AdminHandler], Callback]:
    """Run the handler for admins only; service errors become a short reply; always stop."""

    def wrap(handler: AdminHandler) -> Callback:
        @functools.wraps(handler)
        async def run(update: Update, context: Context) -> None:
            user = update.effective_user
            if not config_of(context).is_admin(user.id if user else None):
                await _refuse(update, context, name)
                raise ApplicationHandlerStop
            assert user is not None
            try:
                await handler(update, context, user.id)
            except TutorError as error:
                message = f"⚠️ {_h(error)}"
                if update.callback_query is not None:
                    await toast(update.callback_query, str(error)[:190])
                else:
                    await _send(update, message)
            raise ApplicationHandlerStop

        return run

    return wrap


def _rest(update: Update) -> str:
    """The command's text after the command word (newlines kept)."""
    message = update.effective_message
    text = (message.text or message.caption or "") if message else ""
    parts = text.split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def _buttons(*row: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row]]
    )


# -- help, decks, items ------------------------------------------------------------------------


@admin_only("admin")
async def admin_help(update: Update, context: Context, admin_id: int) -> None:
    """/admin: the admin commands."""
    await _send(
        update,
        "<b>Admin commands</b>\n"
        "/import [deck name] (as a file caption, or then send the file)\n"
        "/admin_decks, /deck_rename DECK | NEW NAME, /deck_delete DECK\n"
        "/item ID, /add LINE, /export DECK [csv|json]\n"
        "/users, /admin_stats, /announce [deck:DECK] TEXT\n\n"
        f"<b>/add syntax</b>\n<code>{_h(USAGE)}</code>",
    )


@admin_only("admin_decks")
async def admin_decks(update: Update, context: Context, admin_id: int) -> None:
    """/admin_decks: every deck with item and student counts."""
    infos = await config_of(context).admin.decks()
    if not infos:
        await _send(update, "No decks yet. Send a file with the caption /import.")
        return
    lines = ["<b>Decks</b> (id · slug · items · students)"]
    for info in infos:
        deck = info.deck
        lines.append(
            f"{deck.id} · <code>{_h(deck.slug)}</code> · {info.n_items} · {info.n_students}"
            f" — {_h(deck.name)}{' (bundled)' if deck.bundled else ''}"
        )
    await _send(update, "\n".join(lines))


@admin_only("deck_rename")
async def deck_rename(update: Update, context: Context, admin_id: int) -> None:
    """/deck_rename DECK | NEW NAME."""
    ref, sep, name = _rest(update).partition("|")
    if not sep or not ref.strip() or not name.strip():
        await _send(update, "Usage: /deck_rename DECK | NEW NAME")
        return
    deck = await config_of(context).admin.rename_deck(admin_id, ref.strip(), name.strip())
    await _send(update, f"Renamed: <b>{_h(deck.name)}</b> (id {deck.id}).")


@admin_only("deck_delete")
async def deck_delete(update: Update, context: Context, admin_id: int) -> None:
    """/deck_delete DECK: asks for confirmation."""
    ref = _rest(update)
    if not ref:
        await _send(update, "Usage: /deck_delete DECK")
        return
    service = service_of(context)
    deck = await service.find_deck(ref)
    info = next(i for i in await service.decks() if i.deck.id == deck.id)
    await _send(
        update,
        f"Delete <b>{_h(deck.name)}</b>? {info.n_items} items, {info.n_students} students"
        " enrolled. Students' answers are kept.",
        _buttons(("🗑 Delete", f"x:dd:{deck.id}"), ("Cancel", "x:no:0")),
    )


def _item_text(info: ItemInfo) -> str:
    item = info.item
    lines = [f"<b>Item {item.id}</b> · {_h(info.deck_name)} · {item.kind.value}", _h(item.prompt)]
    if item.kind is ItemKind.MULTIPLE_CHOICE:
        lines += [
            f"{'✅' if i == item.correct_option else '▫️'} {_h(o)}"
            for i, o in enumerate(item.options)
        ]
    else:
        lines.append(f"Answer: {_h(item.correct_text)}")
    accuracy = f"{info.accuracy:.0%}" if info.accuracy is not None else "–"
    lines.append(
        f"\nAttempts: {info.attempts} by {info.learners} students · accuracy {accuracy}"
        f" · difficulty {info.difficulty:.2f}"
    )
    return "\n".join(lines)


@admin_only("item")
async def item_command(update: Update, context: Context, admin_id: int) -> None:
    """/item ID: the item with its numbers, and edit/delete buttons."""
    ref = _rest(update)
    if not ref.isdigit():
        await _send(update, "Usage: /item ID")
        return
    info = await config_of(context).admin.item_info(int(ref))
    await _send(
        update,
        _item_text(info),
        _buttons(("✏️ Edit", f"x:ie:{info.item.id}"), ("🗑 Delete", f"x:id:{info.item.id}")),
    )


@admin_only("add")
async def add_command(update: Update, context: Context, admin_id: int) -> None:
    """/add DECK | QUESTION | ANSWER [| WRONG; WRONG]."""
    line = _rest(update)
    if not line:
        await _send(update, f"Usage:\n<code>/add {_h(USAGE)}</code>")
        return
    deck, item = await config_of(context).admin.add_item(admin_id, line)
    await _send(update, f"Added item {item.id} ({item.kind.value}) to <b>{_h(deck.name)}</b>.")


@admin_only("export")
async def export_command(update: Update, context: Context, admin_id: int) -> None:
    """/export DECK [csv|json]: the deck as a file."""
    words = _rest(update).split()
    fmt = "csv"
    if words and words[-1].lower() in ("csv", "json"):
        fmt = words.pop().lower()
    if not words:
        await _send(update, "Usage: /export DECK [csv|json]")
        return
    name, data = await config_of(context).admin.export_deck(admin_id, " ".join(words), fmt)
    chat = update.effective_chat
    assert chat is not None
    await chat.send_document(data, filename=name, caption=f"{name}: {len(data)} bytes")


# -- import ------------------------------------------------------------------------------------


@admin_only("import")
async def import_command(update: Update, context: Context, admin_id: int) -> None:
    """/import [deck name]: the next document is imported."""
    user_data(context)[_IMPORT_WAIT] = _rest(update)
    await _send(update, "Send the deck file now (CSV, TSV, JSON, .apkg, .colpkg or Anki .txt).")


async def document_upload(update: Update, context: Context) -> None:
    """A document: imported if captioned /import or announced by /import; else not ours."""
    message = update.effective_message
    user = update.effective_user
    if message is None or message.document is None or user is None:
        return
    caption = (message.caption or "").strip()
    captioned = caption.split(maxsplit=1)[0].split("@")[0] == "/import" if caption else False
    waiting = user_data(context).get(_IMPORT_WAIT)
    config = config_of(context)
    if not config.is_admin(user.id):
        if captioned:
            await _refuse(update, context, "import")
            raise ApplicationHandlerStop
        return  # a student's file: the student handlers answer it
    if not captioned and waiting is None:
        return
    user_data(context).pop(_IMPORT_WAIT, None)
    deck_name = _rest(update) if captioned else str(waiting)
    try:
        await _import(update, context, user.id, message.document, deck_name or None)
    except TutorError as error:
        await _send(update, f"⚠️ Not imported: {_h(error)}")
    raise ApplicationHandlerStop


async def _import(
    update: Update, context: Context, admin_id: int, document: Document, deck_name: str | None
) -> None:
    config = config_of(context)
    filename = document.file_name or "upload"
    limit = config.settings.max_import_mb * 1024 * 1024
    if document.file_size and document.file_size > limit:
        await _send(update, f"⚠️ {_h(filename)} is larger than {config.settings.max_import_mb} MB.")
        return
    status = await _send(update, f"⏳ Importing <b>{_h(filename)}</b>…")
    assert status is not None
    tg_file = await context.bot.get_file(document.file_id)
    data = bytes(await tg_file.download_as_bytearray())
    if len(data) >= LARGE_FILE:
        await _edit(
            status, f"⏳ Downloaded {len(data) / 1e6:.1f} MB; reading <b>{_h(filename)}</b>…"
        )
    try:
        report = await config.admin.import_file(admin_id, data, filename, deck_name)
    except TutorError as error:
        await _edit(status, f"⚠️ {_h(filename)} was not imported: {_h(error)}")
        return
    lines = [
        f"✅ <b>{_h(report.deck.name)}</b>"
        f" (id {report.deck.id}, <code>{_h(report.deck.slug)}</code>)",
        f"added {report.added} · updated {report.updated} · skipped {len(report.skipped)}"
        + (f" · {report.media} pictures" if report.media else ""),
    ]
    for entry in report.skipped[:5]:
        lines.append(f"• {_h(entry.where)}: {_h(entry.reason)}")
    if len(report.skipped) > 5:
        lines.append(f"… and {len(report.skipped) - 5} more")
    await _edit(status, "\n".join(lines))


async def _edit(message: Message, text: str) -> None:
    try:
        await message.edit_text(text, parse_mode=ParseMode.HTML)
    except TelegramError as error:
        log.info("could not update the progress message: %s", error)


# -- numbers -----------------------------------------------------------------------------------


@admin_only("users")
async def users_command(update: Update, context: Context, admin_id: int) -> None:
    """/users: totals, active today and this week, blocked."""
    config = config_of(context)
    s = await config.admin.users_summary(config.settings.timezone)
    await _send(
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
    lines += [f"{_h(name)}: {c / n:.0%} of {n}" for name, n, c in stats.per_deck] or ["–"]
    lines.append("\n<b>Hardest items</b>")
    lines += [
        f"/item {h.item_id}: {h.correct}/{h.attempts} · {_h(h.prompt[:60])}" for h in stats.hardest
    ] or ["–"]
    await _send(update, "\n".join(lines))
    png = await asyncio.to_thread(admin_chart, stats)
    chat = update.effective_chat
    assert chat is not None
    await chat.send_photo(png, caption="Answers per day and accuracy per deck")


# -- announcements -----------------------------------------------------------------------------


@admin_only("announce")
async def announce_command(update: Update, context: Context, admin_id: int) -> None:
    """/announce [deck:DECK] TEXT: a draft and a confirmation button."""
    text = _rest(update)
    deck_ref = None
    if text.startswith("deck:"):
        first, _, text = text.partition(" ")
        deck_ref = first[len("deck:") :]
    if not text.strip():
        await _send(update, "Usage: /announce [deck:DECK] TEXT")
        return
    draft = await config_of(context).admin.draft_announcement(admin_id, text, deck_ref)
    audience = f"the students of <b>{_h(draft.deck.name)}</b>" if draft.deck else "every student"
    await _send(
        update,
        f"Send this to {audience} ({draft.recipients})?\n\n{_h(draft.text)}",
        _buttons(("📣 Send", f"x:ay:{draft.id}"), ("Cancel", f"x:an:{draft.id}")),
    )


async def _deliver_announcement(
    context: Context, announcement_id: int, chat_id: int, message_id: int
) -> None:
    """Send the queued deliveries through the shared sender, then report the counts."""
    config = config_of(context)
    runner = build_runner(context.application, config.settings)
    slot = announcement_slot(announcement_id)
    await runner.send_slot(ReminderKind.ANNOUNCE, slot)
    result = await config.admin.announcement_result(announcement_id)
    for _ in range(60):  # rows a concurrent reminder run took may still be in flight
        if result.finished:
            break
        await asyncio.sleep(1)
        result = await config.admin.announcement_result(announcement_id)
    text = (
        f"📣 Announcement {announcement_id} done: delivered {result.delivered},"
        f" blocked {result.blocked}, failed {result.failed}"
        + (f", not sent {result.skipped}" if result.skipped else "")
        + (f", still waiting {result.waiting}" if result.waiting else "")
    )
    await context.bot.send_message(chat_id, text, reply_to_message_id=message_id)


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
        await _send(update, "Cancelled.")
    elif op == "dd":
        deck = await admin.delete_deck(admin_id, number)
        await query.edit_message_reply_markup(None)
        await _send(update, f"Deleted <b>{_h(deck.name)}</b>. Students' answers are kept.")
    elif op == "ie":
        user_data(context)[_EDIT_WAIT] = number
        await _send(
            update,
            f"Send the new version of item {number} in one line:\n"
            "<code>QUESTION | ANSWER | WRONG1; WRONG2</code>"
            " (or <code>QUESTION | ANSWER1; ANSWER2</code>)",
        )
    elif op == "id":
        await query.edit_message_reply_markup(
            _buttons(("🗑 Yes, delete", f"x:iy:{number}"), ("Cancel", "x:no:0"))
        )
    elif op == "iy":
        await admin.delete_item(admin_id, number)
        await query.edit_message_reply_markup(None)
        await _send(update, f"Deleted item {number}. Students' answers are kept.")
    elif op == "ay":
        try:
            count = await admin.confirm_announcement(admin_id, number)
        except AnnouncementGone:
            await _send(update, "This announcement was already sent or cancelled.")
            return
        await query.edit_message_reply_markup(None)
        status = await _send(update, f"📣 Sending to {count} students…")
        assert status is not None
        context.application.create_task(
            _deliver_announcement(context, number, status.chat_id, status.message_id),
            update=update,
        )
    elif op == "an":
        try:
            await admin.cancel_announcement(admin_id, number)
        except AnnouncementGone:
            await _send(update, "This announcement was already sent or cancelled.")
            return
        await query.edit_message_reply_markup(None)
        await _send(update, "Announcement cancelled.")
    else:
        await _send(update, "This button no longer works.")


async def admin_text(update: Update, context: Context) -> None:
    """The line that replaces an item after its Edit button (admins only; others pass)."""
    user = update.effective_user
    message = update.effective_message
    if user is None or message is None or not message.text:
        return
    if not config_of(context).is_admin(user.id) or _EDIT_WAIT not in user_data(context):
        return
    item_id = int(user_data(context).pop(_EDIT_WAIT))
    try:
        item = await config_of(context).admin.edit_item(user.id, item_id, message.text)
    except TutorError as error:
        user_data(context)[_EDIT_WAIT] = item_id
        await _send(update, f"⚠️ {_h(error)} — send the line again.")
    else:
        await _send(update, f"Saved item {item.id} ({item.kind.value}).")
    raise ApplicationHandlerStop


# -- registration ------------------------------------------------------------------------------

_COMMAND_CALLBACKS: dict[str, Callback] = {
    "admin": admin_help,
    "import": import_command,
    "admin_decks": admin_decks,
    "deck_rename": deck_rename,
    "deck_delete": deck_delete,
    "item": item_command,
    "add": add_command,
    "export": export_command,
    "users": users_command,
    "admin_stats": admin_stats,
    "announce": announce_command,
}


def register_admin_handlers(
    application: Application[Any, Any, Any, Any, Any, Any], settings: Settings
) -> None:
    """Add the admin handlers (group :data:`ADMIN_GROUP`, before the student handlers)."""
    from bot.handlers.common import SERVICE_KEY
    from tutor.service import TutorService

    service = application.bot_data[SERVICE_KEY]
    assert isinstance(service, TutorService)
    application.bot_data[ADMIN_KEY] = AdminConfig(settings, AdminService(service))
    private = filters.ChatType.PRIVATE
    for name in COMMANDS:
        application.add_handler(
            CommandHandler(name, _COMMAND_CALLBACKS[name], filters=private), group=ADMIN_GROUP
        )
    application.add_handler(
        MessageHandler(private & filters.Document.ALL, document_upload), group=ADMIN_GROUP
    )
    application.add_handler(
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, admin_text), group=ADMIN_GROUP
    )
    application.add_handler(CallbackQueryHandler(admin_button, pattern=r"^x:"), group=ADMIN_GROUP)
