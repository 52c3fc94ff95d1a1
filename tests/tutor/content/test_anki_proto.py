"""The hand-written protobuf reader against Anki's media list and config messages."""

from __future__ import annotations

import pytest
import zstandard

from tests.tutor.content.conftest import AnkiFiles, make_zip, zip_members
from tutor.content import ContentError, parse_anki_package
from tutor.content.anki_proto import first_int, first_str, iter_fields, parse_media_entries


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, value: int | bytes) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _entry(name: str, size: int, legacy: int | None = None) -> bytes:
    body = _field(1, name.encode()) + _field(2, size) + _field(3, b"\x01" * 20)
    if legacy is not None:
        body += _field(255, legacy)
    return _field(1, body)


def test_media_entries_with_and_without_legacy_names() -> None:
    data = _entry("a.png", 10) + _entry("北京.jpg", 300, legacy=7) + _entry("c.gif", 1)
    entries = parse_media_entries(data)
    assert [(e.name, e.member, e.size) for e in entries] == [
        ("a.png", "0", 10),
        ("北京.jpg", "7", 300),
        ("c.gif", "2", 1),
    ]


def test_scalar_helpers_skip_fixed_width_fields() -> None:
    data = _field(1, 1) + b"\x11" + b"\0" * 8 + b"\x1d" + b"\0" * 4 + _field(2, b"{{Front}}")
    assert [n for n, _ in iter_fields(data)] == [1, 2]
    assert first_int(data, 1) == 1
    assert first_str(data, 2) == "{{Front}}"
    assert first_int(b"", 1, default=5) == 5


@pytest.mark.parametrize("data", [b"\x0a\x05ab", b"\x08", b"\x08\xff", b"\x0b"])
def test_malformed_protobuf(data: bytes) -> None:
    with pytest.raises(ContentError, match="malformed protobuf"):
        list(iter_fields(data))


def test_damaged_media_list_in_package(anki_files: AnkiFiles) -> None:
    members = zip_members(anki_files.apkg)
    members["media"] = zstandard.ZstdCompressor().compress(b"\x0a\x50short")
    with pytest.raises(ContentError, match=r"m\.apkg: the media list is damaged"):
        parse_anki_package(make_zip(members), filename="m.apkg")
