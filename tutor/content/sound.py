"""Sounds in decks: which files Telegram can play, and whether a file is one of them."""

from __future__ import annotations

from tutor.content.common import extension
from tutor.content.messages import Reason, Size, reason

SOUND_TYPES = {
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "ogg": "audio/ogg",
    "oga": "audio/ogg",
    "opus": "audio/ogg",
}
"""Extensions Telegram plays in the chat (sendAudio: MP3, M4A; sendVoice: OGG/Opus)."""

VOICE_EXTENSIONS = frozenset({"ogg", "oga", "opus"})
MAX_SOUND_BYTES = 20 * 1024 * 1024
"""Largest sound kept: Telegram takes up to 50 MB from bots, but a deck's sound is a word or a
sentence, and every student's question carries it."""


def is_sound_name(name: str) -> bool:
    """True when the file name has an extension Telegram plays."""
    return extension(name) in SOUND_TYPES


def is_voice(name: str) -> bool:
    """True for OGG/Opus files, which Telegram shows as a voice message."""
    return extension(name) in VOICE_EXTENSIONS


def _looks_like(kind: str, data: bytes) -> bool:
    if kind == "mp3":
        # An ID3 tag, or straight into an MPEG audio frame (11 sync bits set).
        return data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF and data[1] >= 0xE0)
    if kind == "m4a":
        return data[4:8] == b"ftyp"
    return data.startswith(b"OggS")


def unsupported_reason(name: str) -> Reason:
    """Why a sound of this name is left out (its extension is not one Telegram plays)."""
    kinds = tuple(sorted(ext.upper() for ext in SOUND_TYPES))
    return reason("sound_unsupported", name=name, kinds=kinds)


def sound_problem(name: str, data: bytes) -> Reason | None:
    """Why these bytes cannot be sent as the sound ``name`` (None when they can)."""
    kind = extension(name)
    if kind not in SOUND_TYPES:
        return unsupported_reason(name)
    if not data:
        return reason("sound_empty", name=name)
    if len(data) > MAX_SOUND_BYTES:
        return reason(
            "sound_too_large",
            name=name,
            size=Size(len(data)),
            limit=Size(MAX_SOUND_BYTES),
        )
    if not _looks_like(kind, data):
        return reason("sound_damaged", name=name, kind=kind.upper())
    return None
