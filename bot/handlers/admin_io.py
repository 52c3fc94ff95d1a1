"""Admin commands that move content in or out: /import (documents), /export, /announce."""

from __future__ import annotations

import asyncio

from telegram import Document, Message, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.handlers.admin_common import (
    IMPORT_WAIT,
    admin_error,
    admin_only,
    buttons,
    config_of,
    h,
    log,
    refuse,
    rest,
    send,
)
from bot.handlers.common import Context, language_of, student_of, user_data
from bot.handlers.delivery import (
    failure_reason,
    finish_progress,
    send_file,
    start_progress,
    step_progress,
)
from bot.i18n import Html, t
from bot.reminders import build_runner
from tutor.content.export import FORMATS
from tutor.errors import TutorError
from tutor.reminder_queue import announcement_slot
from tutor.reminders import ReminderKind
from tutor.students import Student

LARGE_FILE = 1024 * 1024


@admin_only("export")
async def export_command(update: Update, context: Context, admin_id: int) -> None:
    """/export DECK [csv|tsv|json|apkg]: the deck as a file."""
    words = rest(update).split()
    fmt = "csv"
    if words and words[-1].lower() in FORMATS:
        fmt = words.pop().lower()
    if not words:
        await send(update, "Usage: /export DECK [csv|tsv|json|apkg]")
        return
    name, data = await config_of(context).admin.export_deck(admin_id, " ".join(words), fmt)
    lang = language_of(update, await student_of(update, context))
    await send_file(
        update,
        lang,
        "document",
        data,
        filename=name,
        caption=f"{name}: {len(data)} bytes",
        parse_mode=None,
        failed="send_failed.export",
        file=name,
    )


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
        await send(update, admin_error(error, "import"))
    raise ApplicationHandlerStop


async def _import(
    update: Update, context: Context, admin_id: int, document: Document, deck_name: str | None
) -> None:
    config = config_of(context)
    filename = document.file_name or "upload"
    limit = config.settings.max_import_mb * 1024 * 1024
    if document.file_size and document.file_size > limit:
        await send(
            update,
            f"⚠️ {h(filename)} was not imported: it is larger than"
            f" {config.settings.max_import_mb} MB. Split the deck into smaller files, or ask"
            " the operator to raise METATUTOR_MAX_IMPORT_MB.",
        )
        return
    status = await start_progress(update, Html(f"⏳ Importing <b>{h(filename)}</b>…"))
    # Whatever fails from here on, the progress message ends saying what became of the file.
    try:
        outcome = await _download_and_import(
            context, admin_id, document, filename, deck_name, status
        )
    except TelegramError as error:  # getFile or the download itself
        log.warning("import of %s: the file could not be fetched: %s", filename, error.message)
        lang = await _language(update, context)
        reason = failure_reason(lang, "document", error)
        outcome = t(lang, "import.download_failed", file=filename, reason=reason)
    except Exception:
        log.exception("import of %s by user %s failed", filename, admin_id)
        lang = await _language(update, context)
        outcome = t(lang, "import.crashed", file=filename)
    await finish_progress(update, status, outcome)


async def _download_and_import(
    context: Context,
    admin_id: int,
    document: Document,
    filename: str,
    deck_name: str | None,
    status: Message | None,
) -> Html:
    """Fetch the file from Telegram and import it; the outcome for the progress message."""
    config = config_of(context)
    tg_file = await context.bot.get_file(document.file_id)
    data = bytes(await tg_file.download_as_bytearray())
    if len(data) >= LARGE_FILE:
        await step_progress(
            status, Html(f"⏳ Downloaded {len(data) / 1e6:.1f} MB; reading <b>{h(filename)}</b>…")
        )
    try:
        report = await config.admin.import_file(admin_id, data, filename, deck_name)
    except TutorError as error:
        return Html(
            f"⚠️ {h(filename)} was not imported: {h(error)}\n"
            "Nothing was stored. Fix the file and send it again with the caption /import."
        )
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
    return Html("\n".join(lines))


async def _language(update: Update, context: Context) -> str:
    """The admin's language, even when the database is what failed."""
    student: Student | None
    try:
        student = await student_of(update, context)
    except Exception:
        student = None
    return language_of(update, student)


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
