"""Admin commands that move content in or out: /import (documents), /export, /announce."""

from __future__ import annotations

import asyncio

from telegram import Document, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.handlers.admin_common import (
    IMPORT_WAIT,
    admin_only,
    buttons,
    config_of,
    h,
    log,
    refuse,
    rest,
    send,
)
from bot.handlers.common import Context, user_data
from bot.reminders import build_runner
from tutor.content.export import FORMATS
from tutor.errors import TutorError
from tutor.reminder_queue import announcement_slot
from tutor.reminders import ReminderKind

LARGE_FILE = 1024 * 1024


@admin_only("export")
async def export_command(update: Update, context: Context, admin_id: int) -> None:
    """/export DECK [csv|tsv|json]: the deck as a file."""
    words = rest(update).split()
    fmt = "csv"
    if words and words[-1].lower() in FORMATS:
        fmt = words.pop().lower()
    if not words:
        await send(update, "Usage: /export DECK [csv|tsv|json]")
        return
    name, data = await config_of(context).admin.export_deck(admin_id, " ".join(words), fmt)
    chat = update.effective_chat
    assert chat is not None
    await chat.send_document(data, filename=name, caption=f"{name}: {len(data)} bytes")


# -- import ------------------------------------------------------------------------------------


@admin_only("import")
async def import_command(update: Update, context: Context, admin_id: int) -> None:
    """/import [deck name]: the next document is imported."""
    user_data(context)[IMPORT_WAIT] = rest(update)
    await send(update, "Send the deck file now (CSV, TSV, JSON, .apkg, .colpkg or Anki .txt).")


async def document_upload(update: Update, context: Context) -> None:
    """A document: imported if captioned /import or announced by /import; else not ours."""
    message = update.effective_message
    user = update.effective_user
    if message is None or message.document is None or user is None:
        return
    caption = (message.caption or "").strip()
    captioned = caption.split(maxsplit=1)[0].split("@")[0] == "/import" if caption else False
    waiting = user_data(context).get(IMPORT_WAIT)
    config = config_of(context)
    if not config.is_admin(user.id):
        if captioned:
            await refuse(update, context, "import")
            raise ApplicationHandlerStop
        return  # a student's file: the student handlers answer it
    if not captioned and waiting is None:
        return
    user_data(context).pop(IMPORT_WAIT, None)
    deck_name = rest(update) if captioned else str(waiting)
    try:
        await _import(update, context, user.id, message.document, deck_name or None)
    except TutorError as error:
        await send(update, f"⚠️ Not imported: {h(error)}")
    raise ApplicationHandlerStop


async def _import(
    update: Update, context: Context, admin_id: int, document: Document, deck_name: str | None
) -> None:
    config = config_of(context)
    filename = document.file_name or "upload"
    limit = config.settings.max_import_mb * 1024 * 1024
    if document.file_size and document.file_size > limit:
        await send(update, f"⚠️ {h(filename)} is larger than {config.settings.max_import_mb} MB.")
        return
    status = await send(update, f"⏳ Importing <b>{h(filename)}</b>…")
    assert status is not None
    tg_file = await context.bot.get_file(document.file_id)
    data = bytes(await tg_file.download_as_bytearray())
    if len(data) >= LARGE_FILE:
        await _edit(
            status, f"⏳ Downloaded {len(data) / 1e6:.1f} MB; reading <b>{h(filename)}</b>…"
        )
    try:
        report = await config.admin.import_file(admin_id, data, filename, deck_name)
    except TutorError as error:
        await _edit(status, f"⚠️ {h(filename)} was not imported: {h(error)}")
        return
    lines = [
        f"✅ <b>{h(report.deck.name)}</b>"
        f" (id {report.deck.id}, <code>{h(report.deck.slug)}</code>)",
        f"added {report.added} · updated {report.updated} · unchanged {report.unchanged}"
        f" · skipped {len(report.skipped)}"
        + (f" · {report.media} pictures" if report.media else ""),
    ]
    for entry in report.skipped[:5]:
        lines.append(f"• {h(entry.where)}: {h(entry.reason)}")
    if len(report.skipped) > 5:
        lines.append(f"… and {len(report.skipped) - 5} more")
    await _edit(status, "\n".join(lines))


async def _edit(message: Message, text: str) -> None:
    try:
        await message.edit_text(text, parse_mode=ParseMode.HTML)
    except TelegramError as error:
        log.info("could not update the progress message: %s", error)


# -- announcements -----------------------------------------------------------------------------


@admin_only("announce")
async def announce_command(update: Update, context: Context, admin_id: int) -> None:
    """/announce [deck:DECK] TEXT: a draft and a confirmation button."""
    text = rest(update)
    deck_ref = None
    if text.startswith("deck:"):
        first, _, text = text.partition(" ")
        deck_ref = first[len("deck:") :]
    if not text.strip():
        await send(update, "Usage: /announce [deck:DECK] TEXT")
        return
    draft = await config_of(context).admin.draft_announcement(admin_id, text, deck_ref)
    audience = f"the students of <b>{h(draft.deck.name)}</b>" if draft.deck else "every student"
    await send(
        update,
        f"Send this to {audience} ({draft.recipients})?\n\n{h(draft.text)}",
        buttons(("📣 Send", f"x:ay:{draft.id}"), ("Cancel", f"x:an:{draft.id}")),
    )


async def deliver_announcement(
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
