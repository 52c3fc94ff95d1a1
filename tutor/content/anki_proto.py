"""A minimal protobuf wire-format reader for the few Anki messages we need.

Only varint (wire type 0) and length-delimited (wire type 2) values are returned; fixed
32/64-bit values are skipped. Anything malformed raises :class:`ContentError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tutor.content.errors import ContentError

_VARINT = 0
_FIXED64 = 1
_LENGTH = 2
_FIXED32 = 5


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode a varint at ``pos``; return (value, next position)."""
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ContentError("protobuf_varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def iter_fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    """Yield ``(field number, value)`` for varint and length-delimited fields."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, pos = _varint(buf, pos)
            yield number, value
        elif wire == _LENGTH:
            length, pos = _varint(buf, pos)
            if pos + length > len(buf):
                raise ContentError("protobuf_truncated")
            yield number, buf[pos : pos + length]
            pos += length
        elif wire == _FIXED64:
            pos += 8
        elif wire == _FIXED32:
            pos += 4
        else:
            raise ContentError("protobuf_wire", wire=wire)
    if pos != len(buf):
        raise ContentError("protobuf_truncated")


def first_int(buf: bytes, number: int, default: int = 0) -> int:
    """The last varint value of field ``number`` (protobuf's rule), or ``default``."""
    found = default
    for field_number, value in iter_fields(buf):
        if field_number == number and isinstance(value, int):
            found = value
    return found


def first_str(buf: bytes, number: int) -> str:
    """The last string value of field ``number``, or ``""``."""
    found = ""
    for field_number, value in iter_fields(buf):
        if field_number == number and isinstance(value, bytes):
            found = value.decode("utf-8", "replace")
    return found


@dataclass(frozen=True, slots=True)
class MediaEntry:
    """One media file of a new-style package: its real name and its zip member name."""

    name: str
    member: str
    size: int


def parse_media_entries(buf: bytes) -> list[MediaEntry]:
    """Decode Anki's ``MediaEntries`` message (the ``media`` member, once decompressed).

    ``MediaEntries { repeated MediaEntry entries = 1; }`` and ``MediaEntry { string name = 1;
    uint32 size = 2; bytes sha1 = 3; optional uint32 legacy_zip_filename = 255; }``. The zip
    member of entry *i* is named ``str(i)`` unless ``legacy_zip_filename`` says otherwise.
    """
    entries: list[MediaEntry] = []
    for number, value in iter_fields(buf):
        if number != 1 or not isinstance(value, bytes):
            continue
        name, size, member = "", 0, str(len(entries))
        for sub_number, sub_value in iter_fields(value):
            if sub_number == 1 and isinstance(sub_value, bytes):
                name = sub_value.decode("utf-8", "replace")
            elif sub_number == 2 and isinstance(sub_value, int):
                size = sub_value
            elif sub_number == 255 and isinstance(sub_value, int):
                member = str(sub_value)
        entries.append(MediaEntry(name=name, member=member, size=size))
    return entries
