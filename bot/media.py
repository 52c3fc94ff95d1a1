"""Deck pictures and sounds to Telegram, uploaded once per bot.

The first time a deck's file is sent it is uploaded, and the ``file_id`` Telegram returns is
stored with the file; from then on it is sent by that id, so each file crosses the network
once, not once per student and question. An id Telegram refuses (a 400: the bot's token
changed, or Telegram forgot the file) is replaced by uploading the file again.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Chat, InputFile, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.i18n import Html, t
from tutor.service import TutorService
from tutor.views import MediaFile, Question

log = logging.getLogger(__name__)


def _returned_id(message: Message) -> str | None:
    """The file id Telegram gave the picture or sound in ``message``."""
    if message.photo:
        return message.photo[-1].file_id
    sent = message.audio or message.voice or message.document
    return sent.file_id if sent is not None else None


async def _send(chat: Chat, kind: str, file: str | InputFile, **kwargs: Any) -> Message:
    if kind == "photo":
        return await chat.send_photo(file, **kwargs)
    if kind == "voice":
        return await chat.send_voice(file, **kwargs)
    return await chat.send_audio(file, **kwargs)


async def send_media(
    chat: Chat, service: TutorService, media: MediaFile, kind: str, **kwargs: Any
) -> Message:
    """Send a deck's file as ``kind`` (``photo``, ``audio`` or ``voice``): by its stored
    file id if it has one, else (or if Telegram refuses the id) by uploading it, storing
    the id Telegram then returns. Telegram's errors on the upload are raised."""
    if media.file_id:
        try:
            return await _send(chat, kind, media.file_id, **kwargs)
        except BadRequest as error:
            log.info("stored file id of %s refused (%s): uploading it again", media.name, error)
    upload = InputFile(media.data, filename=media.name)
    message = await _send(chat, kind, upload, **kwargs)
    file_id = _returned_id(message)
    if file_id and file_id != media.file_id:
        await service.remember_file_id(media, file_id)
    return message


async def send_picture(
    chat: Chat, service: TutorService, media: MediaFile, **kwargs: Any
) -> Message:
    """A deck's picture as a photo (see :func:`send_media`)."""
    return await send_media(chat, service, media, "photo", **kwargs)


async def send_sound(chat: Chat, service: TutorService, media: MediaFile) -> bool:
    """Play a deck's sound in the chat (a voice message for OGG/Opus, else an audio file).
    False when Telegram did not take it; the caller says so once and carries on (a student
    who blocked the bot is still an error)."""
    try:
        await send_media(chat, service, media, "voice" if media.voice else "audio")
    except Forbidden:
        raise
    except TelegramError as error:
        log.warning("sound %s not sent: %s", media.name, error.message)
        return False
    return True


async def question_sound(
    chat: Chat, service: TutorService, lang: str, question: Question
) -> Html | None:
    """Play the question's sound, if it has one; the line to add to the question when it
    could not be sent (None when all is well)."""
    if question.sound is None or await send_sound(chat, service, question.sound):
        return None
    return t(lang, "quiz.sound_missing")


async def answer_sound(chat: Chat, service: TutorService, lang: str, question: Question) -> None:
    """Play the answer's sound, if it has one; one short line when it could not be sent."""
    if question.answer_sound is None or await send_sound(chat, service, question.answer_sound):
        return
    try:
        await chat.send_message(t(lang, "quiz.answer_sound_missing"), parse_mode=ParseMode.HTML)
    except Forbidden:
        raise
    except TelegramError as error:
        log.info("the note on a missing sound was not sent either: %s", error.message)
