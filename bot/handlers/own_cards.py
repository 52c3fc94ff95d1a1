"""Students' own cards: /new, ``front | back`` lines, photos, /mycards, /cancel, /export.

A card being added or edited is a draft kept in the database (``tutor.card_drafts``), so a
restart or another worker goes on with it. A typed answer is
never taken for a card: a draft gives way to a typed question asked after it, and a
``front | back`` line while a typed question waits is that question's answer (the student
is told how to add a card instead).
"""

from __future__ import annotations

import dataclasses
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, PhotoSize, Update
from telegram.error import TelegramError

from bot import callbacks
from bot.callbacks import OwnCardPress
from bot.handlers import admin_io
from bot.handlers.admin_common import IMPORT_WAIT, is_admin
from bot.handlers.common import (
    Context,
    drop_buttons,
    error_plain,
    error_text,
    guarded,
    language_of,
    reply,
    service_of,
    started_student,
    student_of,
    toast,
    user_data,
)
from bot.handlers.delivery import redraw, send_file
from bot.i18n import Html, plain, t
from tutor.card_drafts import CardDraft, CardDrafts, DraftStep
from tutor.card_sounds import CardSound
from tutor.content.export import FORMATS
from tutor.errors import TutorError
from tutor.items import Item, ItemKind
from tutor.own_cards import (
    PAGE_SIZE,
    CardText,
    OwnCards,
    PictureTooLarge,
    card_line,
    parse_line,
    parse_sides,
    sound_side,
)
from tutor.students import Student

log = logging.getLogger("bot.own_cards")

COMMANDS: tuple[str, ...] = ("new", "mycards", "cancel", "export")
"""In the command menu and /help (an admin's ``/export DECK`` goes to bot.handlers.admin_io)."""
EXPORT_FORMATS = ("csv", "json", "apkg")
_PAGE = "own_cards_page"
_SHOWN = 60  # characters of a side shown in lists and confirmations


def cards_of(context: Context) -> OwnCards:
    return OwnCards(service_of(context))


def drafts_of(context: Context) -> CardDrafts:
    return CardDrafts(service_of(context))


def short(text: str) -> str:
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _back(item: Item) -> str:
    return "; ".join(item.accepted) if item.kind is ItemKind.TYPED else item.answer


def cancel_keyboard(lang: str) -> InlineKeyboardMarkup:
    label = plain(lang, "button.own_cancel")
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=callbacks.cancel_card())]]
    )


async def _open_typed_question(context: Context, student: Student) -> int | None:
    """The id of the typed (or cloze) question shown and waiting for an answer, if any."""
    question = await service_of(context).open_question(student.id)
    if question is None or not question.shown:
        return None
    if question.item.kind not in (ItemKind.TYPED, ItemKind.CLOZE):
        return None
    return question.id


async def _start_draft(context: Context, student: Student, draft: CardDraft) -> None:
    # The typed question open now (if any) was asked before the draft: the draft wins for it.
    question = await _open_typed_question(context, student)
    await drafts_of(context).put(student.id, dataclasses.replace(draft, question_id=question))


async def drafting(context: Context, student: Student) -> bool:
    """Whether the student is writing a card now (/new, or an edit from /mycards)."""
    return await current_draft(context, student) is not None


async def current_draft(context: Context, student: Student) -> CardDraft | None:
    """The card being written, unless a typed question was asked since (then it is dropped)."""
    draft = await drafts_of(context).get(student.id)
    if draft is None:
        return None
    waiting = await _open_typed_question(context, student)
    if waiting is not None and waiting != draft.question_id:
        await drafts_of(context).drop(student.id)
        return None
    return draft


# -- adding ------------------------------------------------------------------------------------


async def _fetch(context: Context, file_id: str | None) -> bytes | None:
    if file_id is None:
        return None
    file = await context.bot.get_file(file_id)
    return bytes(await file.download_as_bytearray())


async def _fetch_media(
    update: Update, context: Context, lang: str, media: CardDraft
) -> tuple[bytes | None, CardSound | None] | None:
    """The draft's picture and sound from Telegram; None (said to the student) if either
    could not be fetched."""
    try:
        picture = await _fetch(context, media.picture)
    except TelegramError as error:
        log.info("card picture not fetched: %s", error.message)
        await reply(update, t(lang, "own.picture_failed"))
        return None
    try:
        data = await _fetch(context, media.sound)
    except TelegramError as error:
        log.info("card sound not fetched: %s", error.message)
        await reply(update, t(lang, "own.sound_failed"))
        return None
    sound = None if data is None else CardSound(data, media.sound_type, media.sound_side)
    return picture, sound


def sound_note(lang: str, item: Item) -> str:
    """The line saying where the card's sound plays ("" without one)."""
    side = sound_side(item)
    if side is None:
        return ""
    return "\n" + t(lang, f"own.sound_plays_{side.value}")


async def _save(
    update: Update, context: Context, student: Student, card: CardText, media: CardDraft
) -> None:
    """Store the card (fetching its picture and sound) and confirm; errors are replied, the
    draft kept."""
    lang = student.language
    fetched = await _fetch_media(update, context, lang, media)
    if fetched is None:
        return
    picture, sound = fetched
    try:
        item = await cards_of(context).add(student.id, card, picture, sound)
    except TutorError as error:
        await reply(update, error_text(lang, error))
        return
    await drafts_of(context).drop(student.id)
    count = await cards_of(context).count(student.id)
    key = "own.added_typed" if item.kind is ItemKind.TYPED else "own.added"
    limit = service_of(context).config.max_own_cards
    text = t(
        lang,
        key,
        front=short(item.prompt),
        back=short(_back(item)),
        n=count,
        limit=limit,
        picture=plain(lang, "own.with_picture") if item.image else "",
        sound=plain(lang, "own.with_sound") if sound_side(item) else "",
    )
    await reply(update, Html(text + sound_note(lang, item)))


async def add_line(
    update: Update,
    context: Context,
    student: Student,
    text: str,
    media: CardDraft | None = None,
) -> None:
    """Add the card ``front | back`` in ``text``, with the picture and sound in ``media``."""
    try:
        card = parse_line(text)
    except TutorError as error:
        await reply(update, error_text(student.language, error))
        return
    await _save(update, context, student, card, media or CardDraft(DraftStep.FRONT))


@guarded
async def new_command(update: Update, context: Context) -> None:
    """/new: ask for a card's front, then its back (``/new front | back`` adds it at once)."""
    student = await started_student(update, context)
    if student is None:
        return
    lang = student.language
    if not student.onboarded:  # the setup's steps take the next texts
        await reply(update, t(lang, "own.finish_setup_first"))
        return
    line = " ".join(context.args or [])
    if line:
        await add_line(update, context, student, line)
        return
    await _start_draft(context, student, CardDraft(DraftStep.FRONT))
    await reply(update, t(lang, "own.new_front"), cancel_keyboard(lang))


async def draft_text(
    update: Update, context: Context, student: Student, draft: CardDraft, text: str
) -> None:
    lang = student.language
    if draft.step is DraftStep.EDIT:
        await edit_card(update, context, student, draft.item_id or 0, text)
        return
    if draft.step is DraftStep.FRONT:
        if "|" in text:
            await add_line(update, context, student, text, draft)
            return
        front = text.strip()
        try:
            parse_sides(front, "-")  # the front's own checks, before asking for the back
        except TutorError as error:
            await reply(update, error_text(lang, error))
            return
        back_next = dataclasses.replace(draft, step=DraftStep.BACK, front=front)
        await drafts_of(context).put(student.id, back_next)
        await reply(update, t(lang, "own.new_back", front=short(front)), cancel_keyboard(lang))
        return
    try:
        card = parse_sides(draft.front, text)
    except TutorError as error:
        await reply(update, error_text(lang, error))
        return
    await _save(update, context, student, card, draft)


async def card_text(update: Update, context: Context, student: Student, text: str) -> bool:
    """A draft's next step or a ``front | back`` line (True); a typed answer's is not (False)."""
    draft = await current_draft(context, student)
    if draft is not None:
        await draft_text(update, context, student, draft, text)
        return True
    if "|" not in text:
        return False
    if await _open_typed_question(context, student) is not None:
        await reply(update, t(student.language, "own.taken_as_answer"))
        return False
    await add_line(update, context, student, text)
    return True


def _largest_fitting(sizes: tuple[PhotoSize, ...], limit: int) -> PhotoSize | None:
    """The largest size of a photo within ``limit`` bytes (sizes without a size count)."""
    fitting = [size for size in sizes if (size.file_size or 0) <= limit]
    return max(fitting, key=lambda size: size.width * size.height, default=None)


@guarded
async def photo_message(update: Update, context: Context) -> None:
    """A photo: the picture of the card being written, or a card with caption ``front | back``."""
    message = update.effective_message
    assert message is not None
    student = await started_student(update, context)
    if student is None:
        return
    lang = student.language
    limit = service_of(context).config.max_card_picture_bytes
    size = _largest_fitting(tuple(message.photo), limit)
    if size is None:
        error = PictureTooLarge("", limit_kb=-(-limit // 1024))
        await reply(update, error_text(lang, error))
        return
    caption = (message.caption or "").strip()
    draft = await current_draft(context, student)
    if draft is not None and draft.step is not DraftStep.EDIT:
        draft = dataclasses.replace(draft, picture=size.file_id)
        await drafts_of(context).put(student.id, draft)
        if caption:
            await draft_text(update, context, student, draft, caption)
        elif draft.step is DraftStep.FRONT:
            await reply(update, t(lang, "own.picture_kept"), cancel_keyboard(lang))
        else:
            front = short(draft.front)
            await reply(update, t(lang, "own.picture_kept_back", front=front))
        return
    if draft is not None:  # an edit changes the text only
        await reply(update, t(lang, "own.edit_text_only"), cancel_keyboard(lang))
        return
    if "|" in caption:
        media = CardDraft(DraftStep.FRONT, picture=size.file_id)
        await add_line(update, context, student, caption, media)
        return
    await reply(update, t(lang, "own.photo_hint"))


@guarded
async def cancel_command(update: Update, context: Context) -> None:
    """/cancel: drop the card being added or edited, or an admin's /import waiting for its
    file."""
    if user_data(context).pop(IMPORT_WAIT, None) is not None:  # only an admin's /import
        lang = language_of(update, await student_of(update, context))
        await reply(update, t(lang, "admin.import_cancelled"))
        return
    student = await started_student(update, context)
    if student is None:
        return
    dropped = await drafts_of(context).drop(student.id)
    key = "own.cancelled" if dropped else "own.nothing_to_cancel"
    await reply(update, t(student.language, key))


# -- listing, editing, deleting ----------------------------------------------------------------


async def _page_message(
    context: Context, student: Student, page: int
) -> tuple[Html, InlineKeyboardMarkup | None]:
    lang = student.language
    shown = await cards_of(context).page(student.id, page)
    user_data(context)[_PAGE] = shown.page
    if shown.total == 0:
        return t(lang, "own.list_empty"), None
    lines: list[str] = [
        t(lang, "own.list_title", total=shown.total, page=shown.page + 1, pages=shown.pages)
    ]
    rows: list[list[InlineKeyboardButton]] = []
    for offset, item in enumerate(shown.cards):
        number = shown.page * PAGE_SIZE + offset + 1
        mark = (" 🖼" if item.image else "") + (" 🔊" if sound_side(item) else "")
        lines.append(
            t(lang, "own.list_line", n=number, front=short(item.prompt), back=short(_back(item)))
            + mark
        )
        rows.append(
            [
                InlineKeyboardButton(
                    plain(lang, "button.own_edit", n=number),
                    callback_data=callbacks.own_card("e", item.id),
                ),
                InlineKeyboardButton(
                    plain(lang, "button.own_delete", n=number),
                    callback_data=callbacks.own_card("d", item.id),
                ),
            ]
        )
    nav = []
    if shown.page > 0:
        nav.append(
            InlineKeyboardButton(
                plain(lang, "button.own_prev"),
                callback_data=callbacks.own_cards_page(shown.page - 1),
            )
        )
    if shown.page + 1 < shown.pages:
        nav.append(
            InlineKeyboardButton(
                plain(lang, "button.own_next"),
                callback_data=callbacks.own_cards_page(shown.page + 1),
            )
        )
    if nav:
        rows.append(nav)
    return Html("\n".join(lines)), InlineKeyboardMarkup(rows)


@guarded
async def mycards_command(update: Update, context: Context) -> None:
    """/mycards: the student's cards, a page at a time, with edit and delete buttons."""
    student = await started_student(update, context)
    if student is None:
        return
    await reply(update, *await _page_message(context, student, 0))


async def edit_card(
    update: Update,
    context: Context,
    student: Student,
    item_id: int,
    text: str,
    *,
    new_sound: bool = False,
) -> None:
    """Replace the card's text by ``text`` and confirm (``new_sound``: its sound was just
    replaced too, and the confirmation says so)."""
    lang = student.language
    try:
        item = await cards_of(context).edit(student.id, item_id, parse_line(text))
    except TutorError as error:
        await reply(update, error_text(lang, error))
        if error.code == "card_gone":
            await drafts_of(context).drop(student.id)
        return
    await drafts_of(context).drop(student.id)
    text = t(lang, "own.edited", front=short(item.prompt), back=short(_back(item)))
    side = sound_side(item)
    if new_sound and side is not None:
        text = Html(text + "\n" + t(lang, f"own.new_sound_plays_{side.value}"))
    await reply(update, text)


async def own_card_press(update: Update, context: Context, press: OwnCardPress) -> None:
    """A /mycards button (page, edit, delete) or Cancel under a card being written."""
    query = update.callback_query
    assert query is not None
    student = await student_of(update, context)
    lang = language_of(update, student)
    if student is None:
        await toast(query, plain(lang, "please_start"))
        return
    if press.action == "x":
        dropped = await drafts_of(context).drop(student.id)
        await toast(query)
        await drop_buttons(query)
        await reply(update, t(lang, "own.cancelled" if dropped else "own.nothing_to_cancel"))
        return
    if press.action == "p":
        await toast(query)
        text, keyboard = await _page_message(context, student, press.value)
        await redraw(update, query, text, keyboard)
        return
    try:
        item = await cards_of(context).card(student.id, press.value)
    except TutorError as error:
        await toast(query, error_plain(lang, error))
        return
    if press.action == "e":
        await toast(query)
        await _start_draft(context, student, CardDraft(DraftStep.EDIT, item_id=item.id))
        await reply(update, t(lang, "own.edit_prompt", line=card_line(item)), cancel_keyboard(lang))
        return
    try:
        await cards_of(context).delete(student.id, item.id)
    except TutorError as error:  # a second press that overtook this one
        await toast(query, error_plain(lang, error))
        return
    await toast(query, plain(lang, "own.deleted", front=short(item.prompt)))
    page = user_data(context).get(_PAGE, 0)
    text, keyboard = await _page_message(context, student, int(page))
    # Deleted: a 5xx is tried again, never answered by "try again" (the card is gone).
    await redraw(update, query, text, keyboard)


# -- export ------------------------------------------------------------------------------------


@guarded
async def export_command(update: Update, context: Context) -> None:
    """/export [csv|json|apkg]: the sender's own cards (an admin's /export DECK: the deck)."""
    words = [word.lower() for word in context.args or []]
    user = update.effective_user
    names_a_deck = len(words) > 1 or (bool(words) and words[0] not in FORMATS)
    if names_a_deck and is_admin(context, user.id if user else None):
        await admin_io.export_command(update, context)
        return
    student = await started_student(update, context)
    if student is None:
        return
    lang = student.language
    if len(words) > 1 or (words and words[0] not in EXPORT_FORMATS):
        await reply(update, t(lang, "own.export_formats"))
        return
    fmt = words[0] if words else "csv"
    try:
        name, data = await cards_of(context).export(student.id, fmt)
    except TutorError as error:
        await reply(update, error_text(lang, error))
        return
    count = await cards_of(context).count(student.id)
    caption = t(lang, "own.export_caption", n=count)
    if fmt != "apkg" and await cards_of(context).with_media(student.id):
        caption = Html(caption + "\n" + t(lang, "own.export_media_named"))
    await send_file(
        update,
        lang,
        "document",
        data,
        filename=name,
        caption=caption,
        failed="send_failed.export",
        file=name,
    )
