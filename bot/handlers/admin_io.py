"""Admin commands that move content in or out: /import (documents), /export, /announce."""

from __future__ import annotations

import asyncio

from telegram import Document, Message, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.handlers.admin_common import (
    IMPORT_WAIT,
    admin_error,
    admin_language,
    admin_only,
    buttons,
    config_of,
    h,
    log,
    refuse,
    rest,
    usage,
)
from bot.handlers.common import Context, reply, user_data
from bot.handlers.delivery import (
    fetch_failure_reason,
    finish_progress,
    send_file,
    start_progress,
    step_progress,
)
from bot.i18n import Html, listed, plain, size_text, t
from bot.import_text import refusal_text, skipped_text
from bot.reminders import build_runner
from tutor.admin import AdminService
from tutor.content.export import FORMATS
from tutor.errors import TutorError, UnknownDeck
from tutor.reminder_queue import announcement_slot
from tutor.reminders import ReminderKind

LARGE_FILE = 1024 * 1024


@admin_only("export")
async def export_command(update: Update, context: Context, admin_id: int) -> None:
    """/export DECK [csv|tsv|json|apkg]: the deck as a file."""
    words = rest(update).split()
    fmt = "csv"
    if words and words[-1].lower() in FORMATS:
        fmt = words.pop().lower()
    lang = await admin_language(update, context)
    if not words:
        await reply(update, usage(lang, "export"))
        return
    admin = config_of(context).admin
    try:
        name, data = await admin.export_deck(admin_id, " ".join(words), fmt)
    except UnknownDeck:
        # "/export rome xml": a deck followed by a format we do not write, not a deck name
        if len(words) < 2 or not await _is_deck(admin, " ".join(words[:-1])):
            raise
        formats = listed(lang, FORMATS)
        deck = " ".join(words[:-1])
        await reply(
            update, t(lang, "admin.export_bad_format", fmt=words[-1], formats=formats, deck=deck)
        )
        return
    await send_file(
        update,
        lang,
        "document",
        data,
        filename=name,
        caption=plain(lang, "admin.export_caption", file=name, size=size_text(lang, len(data))),
        parse_mode=None,
        failed="send_failed.export",
        file=name,
    )


async def _is_deck(admin: AdminService, ref: str) -> bool:
    try:
        await admin.service.find_deck(ref)
    except UnknownDeck:
        return False
    return True


# -- import ------------------------------------------------------------------------------------


@admin_only("import")
async def import_command(update: Update, context: Context, admin_id: int) -> None:
    """/import [deck name]: the next document is imported."""
    user_data(context)[IMPORT_WAIT] = rest(update)
    await reply(update, t(await admin_language(update, context), "admin.import_send_file"))


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
    if not captioned and waiting is None:  # most likely a deck file: say how to import it
        name = message.document.file_name or "upload"
        lang = await admin_language(update, context)
        await reply(update, t(lang, "admin.import_caption_missing", file=name))
        raise ApplicationHandlerStop
    user_data(context).pop(IMPORT_WAIT, None)
    deck_name = rest(update) if captioned else str(waiting)
    try:
        await _import(update, context, user.id, message.document, deck_name or None)
    except TutorError as error:
        await reply(update, admin_error(await admin_language(update, context), error, "import"))
    raise ApplicationHandlerStop


async def _import(
    update: Update, context: Context, admin_id: int, document: Document, deck_name: str | None
) -> None:
    config = config_of(context)
    lang = await admin_language(update, context)
    filename = document.file_name or "upload"
    limit = config.settings.max_import_mb * 1024 * 1024
    if document.file_size and document.file_size > limit:
        mb = config.settings.max_import_mb
        await reply(update, t(lang, "admin.import_too_large", file=filename, mb=mb))
        return
    status = await start_progress(update, t(lang, "admin.import_progress", file=filename))
    # Whatever fails from here on, the progress message ends saying what became of the file.
    try:
        outcome = await _download_and_import(
            context, admin_id, document, filename, deck_name, status, lang
        )
    except TelegramError as error:  # getFile or the download itself
        log.warning("import of %s: the file could not be fetched: %s", filename, error.message)
        reason = fetch_failure_reason(lang, error)
        outcome = t(lang, "import.download_failed", file=filename, reason=reason)
    except Exception:
        log.exception("import of %s by user %s failed", filename, admin_id)
        outcome = t(lang, "import.crashed", file=filename)
    await finish_progress(update, status, outcome)


async def _download_and_import(
    context: Context,
    admin_id: int,
    document: Document,
    filename: str,
    deck_name: str | None,
    status: Message | None,
    lang: str,
) -> Html:
    """Fetch the file from Telegram and import it; the outcome for the progress message."""
    config = config_of(context)
    tg_file = await context.bot.get_file(document.file_id)
    data = bytes(await tg_file.download_as_bytearray())
    if len(data) >= LARGE_FILE:
        size = size_text(lang, len(data))
        await step_progress(status, t(lang, "admin.import_downloaded", size=size, file=filename))
    try:
        report = await config.admin.import_file(admin_id, data, filename, deck_name)
    except TutorError as error:
        return t(lang, "admin.import_rejected", file=filename, reason=refusal_text(lang, error))
    counts = t(
        lang,
        "admin.import_counts",
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        skipped=len(report.skipped),
    )
    if report.media:
        pictures = t(lang, "admin.import_pictures", n=report.media)
        if report.media == 1:
            pictures = t(lang, "admin.import_picture")
        counts = Html(counts + pictures)
    deck = report.deck
    lines: list[str] = [
        t(lang, "admin.import_done", deck=deck.name, id=deck.id, slug=deck.slug),
        counts,
    ]
    for entry in report.skipped[:5]:
        lines.append(f"• {h(skipped_text(lang, entry))}")
    if len(report.skipped) > 5:
        lines.append(t(lang, "admin.import_more_skipped", n=len(report.skipped) - 5))
    # What now: where students find the deck, and a link that enrols them straight in.
    lines.append(t(lang, "admin.import_next", bot=context.bot.username, id=deck.id))
    return Html("\n".join(lines))


# -- announcements -----------------------------------------------------------------------------


@admin_only("announce")
async def announce_command(update: Update, context: Context, admin_id: int) -> None:
    """/announce [deck:DECK] TEXT: a draft and a confirmation button."""
    lang = await admin_language(update, context)
    text = rest(update)
    deck_ref = None
    if text.startswith("deck:"):
        first, _, text = text.partition(" ")
        deck_ref = first[len("deck:") :]
    if not text.strip():
        await reply(update, usage(lang, "announce"))
        return
    admin = config_of(context).admin
    draft = await admin.draft_announcement(admin_id, text, deck_ref)
    if draft.recipients == 0:  # nothing to confirm: say so and drop the draft
        await admin.cancel_announcement(admin_id, draft.id)
        if draft.deck:
            await reply(update, t(lang, "admin.announce_nobody_deck", deck=draft.deck.name))
        else:
            await reply(update, t(lang, "admin.announce_nobody"))
        return
    audience = (
        t(lang, "admin.announce_deck", deck=draft.deck.name)
        if draft.deck
        else t(lang, "admin.announce_everyone")
    )
    await reply(
        update,
        t(lang, "admin.announce_confirm", audience=audience, n=draft.recipients, text=draft.text),
        buttons(
            (plain(lang, "admin.button_send"), f"x:ay:{draft.id}"),
            (plain(lang, "admin.button_cancel"), f"x:an:{draft.id}"),
        ),
    )


async def deliver_announcement(
    context: Context, announcement_id: int, chat_id: int, message_id: int, lang: str = "en"
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
    text = plain(
        lang,
        "admin.announce_done",
        id=announcement_id,
        delivered=result.delivered,
        blocked=result.blocked,
        failed=result.failed,
    )
    if result.skipped:
        text += plain(lang, "admin.announce_not_sent", n=result.skipped)
    if result.waiting:
        text += plain(lang, "admin.announce_waiting", n=result.waiting)
    await context.bot.send_message(chat_id, text, reply_to_message_id=message_id)
