"""A voice note or an audio file for a student's own card (see bot.handlers.own_cards).

While a card is written (``/new``) the sound waits in the draft, like a photo, and is fetched
when the card is saved: sent at the front step (or with the caption ``front | back``) it plays
with the question, sent at the back step with the answer. While a card is edited from
``/mycards`` it replaces the card's sound at once and ends the edit (a caption is the card's
new text; without one the text stays).
What Telegram says of the sound (its type, size and length) is checked before anything is
kept; a sound kept for a later step is fetched and its bytes checked at once (so a file that
is no playable sound is refused when sent, not after the card's text), and fetched again when
the card is saved.
"""

from __future__ import annotations

import dataclasses
import logging

from telegram import Audio, Update, Voice
from telegram.error import TelegramError

from bot.handlers.common import Context, error_text, guarded, reply, started_student
from bot.handlers.own_cards import (
    add_line,
    cancel_keyboard,
    cards_of,
    current_draft,
    draft_text,
    drafts_of,
    edit_card,
    short,
    sound_note,
)
from bot.i18n import Html, t
from tutor.card_drafts import CardDraft, DraftStep
from tutor.card_sounds import CardSound, SoundSide, check_sound, check_sound_data, sound_suffix
from tutor.errors import TutorError
from tutor.students import Student

log = logging.getLogger("bot.own_cards")


def _suffix(sent: Voice | Audio) -> str | None:
    """The sound's file type by Telegram's description (a voice note is OGG/Opus)."""
    name = sent.file_name if isinstance(sent, Audio) else None
    suffix = sound_suffix(sent.mime_type, name)
    if suffix is None and isinstance(sent, Voice) and not sent.mime_type:
        return "ogg"
    return suffix


def _seconds(sent: Voice | Audio) -> int:
    """How long the sound lasts, in seconds, as Telegram said (read from the object's Bot API
    form: its ``duration`` attribute changes type in python-telegram-bot's next version)."""
    duration = sent.to_dict().get("duration", 0)
    return int(duration.total_seconds()) if hasattr(duration, "total_seconds") else int(duration)


async def _fetched(
    update: Update, context: Context, lang: str, draft: CardDraft
) -> CardSound | None:
    """The draft's sound, fetched from Telegram and checked; None when it could not be
    fetched or cannot be played (the student is told which)."""
    try:
        file = await context.bot.get_file(draft.sound or "")
        data = bytes(await file.download_as_bytearray())
    except TelegramError as error:
        log.info("card sound not fetched: %s", error.message)
        await reply(update, t(lang, "own.sound_failed"))
        return None
    sound = CardSound(data, draft.sound_type, draft.sound_side)
    try:
        check_sound_data(sound)
    except TutorError as error:
        await reply(update, error_text(lang, error))
        return None
    return sound


async def _replace_sound(
    update: Update, context: Context, student: Student, draft: CardDraft, caption: str
) -> None:
    """An edit's sound: it replaces the card's at once; a caption is the card's new text."""
    lang = student.language
    sound = await _fetched(update, context, lang, draft)
    if sound is None:
        return
    try:
        item = await cards_of(context).set_sound(student.id, draft.item_id or 0, sound)
    except TutorError as error:
        await reply(update, error_text(lang, error))
        if error.code == "card_gone":
            await drafts_of(context).drop(student.id)
        return
    if caption:
        await edit_card(update, context, student, item.id, caption, new_sound=True)
        return
    await drafts_of(context).drop(student.id)  # the edit is done: its text stays
    text = t(lang, "own.sound_replaced", front=short(item.prompt))
    await reply(update, Html(text + sound_note(lang, item)))


@guarded
async def sound_message(update: Update, context: Context) -> None:
    """A voice note or an audio file: the sound of the card being written or edited, or a
    card of its own with the caption ``front | back``."""
    message = update.effective_message
    assert message is not None
    sent = message.voice or message.audio
    assert sent is not None
    student = await started_student(update, context)
    if student is None:
        return
    lang = student.language
    if not student.onboarded:  # the setup's steps take the next texts: no card yet
        await reply(update, t(lang, "own.finish_setup_first"))
        return
    try:
        suffix = check_sound(_suffix(sent), sent.file_size, _seconds(sent))
    except TutorError as error:
        await reply(update, error_text(lang, error))
        return
    caption = (message.caption or "").strip()
    draft = await current_draft(context, student)
    if draft is None:
        if "|" in caption:
            media = CardDraft(DraftStep.FRONT, sound=sent.file_id, sound_type=suffix)
            await add_line(update, context, student, caption, media)
        else:
            await reply(update, t(lang, "own.sound_hint"))
        return
    side = SoundSide.ANSWER if draft.step is DraftStep.BACK else SoundSide.QUESTION
    draft = dataclasses.replace(draft, sound=sent.file_id, sound_type=suffix, sound_side=side)
    if draft.step is DraftStep.EDIT:
        await _replace_sound(update, context, student, draft, caption)
        return
    if caption:
        await drafts_of(context).put(student.id, draft)
        await draft_text(update, context, student, draft, caption)
        return
    # Kept for later: its bytes are checked now, not once the card's text has been typed.
    if await _fetched(update, context, lang, draft) is None:
        return
    await drafts_of(context).put(student.id, draft)
    if draft.step is DraftStep.FRONT:
        await reply(update, t(lang, "own.sound_kept"), cancel_keyboard(lang))
    else:
        front = short(draft.front)
        await reply(update, t(lang, "own.sound_kept_back", front=front), cancel_keyboard(lang))
