"""Sounds on students' own cards: which ones a card takes, and on which side they play.

A student sends a voice note (OGG Opus) or an audio file (MP3, M4A, OGG Opus) while writing a
card. It is stored like a deck's sound (``Item.audio``: played just before the question;
``Item.answer_audio``: played after the answer), so the quiz plays it as it plays any deck's.
A sound sent for the card's back plays with the answer (a word to say, heard only once it is
answered); any other plays with the question.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from tutor.content.sound import sound_problem
from tutor.errors import TutorError

MAX_SOUND_BYTES = 1024 * 1024
"""The largest sound on a card: a minute of speech is far less (voice notes ~250 KB)."""
MAX_SOUND_SECONDS = 60
"""The longest sound on a card: a word or a sentence, not a lecture."""
SOUND_KINDS = ("MP3", "M4A", "OGG Opus")
"""What a card's sound may be, as the student is told (voice notes are OGG Opus)."""
_OPUS_HEAD = b"OpusHead"
"""How an OGG file's first packet begins when it holds Opus (RFC 7845), the only OGG
Telegram plays: an OGG Vorbis file would not play in the chat."""

_BY_MIME = {
    "audio/ogg": "ogg",
    "audio/opus": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/mp4": "m4a",
    "audio/m4a": "m4a",
    "audio/x-m4a": "m4a",
}
_BY_SUFFIX = {"ogg": "ogg", "oga": "ogg", "opus": "ogg", "mp3": "mp3", "m4a": "m4a"}


class SoundSide(enum.StrEnum):
    """Where a card's sound plays."""

    QUESTION = "question"
    ANSWER = "answer"


class SoundTooLarge(TutorError):
    """The sound is larger than :data:`MAX_SOUND_BYTES`; ``params['limit_kb']``."""

    code = "sound_too_large"


class SoundTooLong(TutorError):
    """The sound lasts longer than :data:`MAX_SOUND_SECONDS`; ``params['limit']``."""

    code = "sound_too_long"


class SoundNotPlayable(TutorError):
    """Not a sound Telegram plays in the chat (or its bytes are not what it says);
    ``params['kinds']``."""

    code = "sound_not_playable"


@dataclass(frozen=True, slots=True)
class CardSound:
    """A sound for a card: its bytes, its file type (``ogg``, ``mp3``, ``m4a``) and side."""

    data: bytes
    suffix: str
    side: SoundSide = SoundSide.QUESTION


def sound_suffix(mime_type: str | None, file_name: str | None) -> str | None:
    """The file type of a sound Telegram described (None: not one a card takes)."""
    if mime_type and mime_type.lower() in _BY_MIME:
        return _BY_MIME[mime_type.lower()]
    if file_name and "." in file_name:
        return _BY_SUFFIX.get(file_name.rsplit(".", 1)[1].lower())
    return None


def _not_playable(what: str) -> SoundNotPlayable:
    return SoundNotPlayable(what, kinds="/".join(SOUND_KINDS))


def check_sound(suffix: str | None, size: int | None, seconds: int | None) -> str:
    """The sound's file type if a card may carry it, by what Telegram says of it (before it
    is fetched); raises SoundNotPlayable, SoundTooLarge or SoundTooLong."""
    if suffix is None:
        raise _not_playable("unknown type")
    if size is not None and size > MAX_SOUND_BYTES:
        raise SoundTooLarge(str(size), limit_kb=MAX_SOUND_BYTES // 1024)
    if seconds is not None and seconds > MAX_SOUND_SECONDS:
        raise SoundTooLong(str(seconds), limit=MAX_SOUND_SECONDS)
    return suffix


def check_sound_data(sound: CardSound) -> None:
    """Raise SoundTooLarge or SoundNotPlayable unless the fetched bytes can be played."""
    if len(sound.data) > MAX_SOUND_BYTES:
        raise SoundTooLarge(str(len(sound.data)), limit_kb=MAX_SOUND_BYTES // 1024)
    if sound.suffix not in _BY_SUFFIX or sound_problem(f"x.{sound.suffix}", sound.data):
        raise _not_playable(sound.suffix)
    if sound.suffix == "ogg" and _OPUS_HEAD not in sound.data[:512]:
        raise _not_playable("ogg without opus")


def sound_name(external_id: str, sound: CardSound) -> str:
    """The media name of a card's sound (its side in the name: a new side, a new name)."""
    return f"{external_id}-{sound.side.value}.{sound.suffix}"
