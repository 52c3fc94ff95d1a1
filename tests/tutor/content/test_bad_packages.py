"""Hostile or damaged packages: zip bombs, odd member names, corrupt SQLite."""

from __future__ import annotations

import struct
import tempfile
import zipfile
from pathlib import Path

import pytest
import zstandard

from tests.tutor.content.conftest import AnkiFiles, GenankiFile, make_zip, zip_members
from tutor.content import (
    ContentError,
    ImportLimits,
    anki_collection,
    anki_package,
    parse_anki_package,
    parse_deck_file,
)

SMALL = ImportLimits(max_uncompressed_bytes=1024 * 1024)


def test_declared_size_over_limit_is_refused_before_reading() -> None:
    data = make_zip({"collection.anki2": b"\0" * (2 * 1024 * 1024)})
    assert len(data) < 10_000
    with pytest.raises(ContentError, match=r"bomb.apkg expands to more than 1.0 MB"):
        parse_anki_package(data, filename="bomb.apkg", limits=SMALL)


def test_zstd_bomb_inside_a_small_member_is_capped_while_streaming() -> None:
    # 2 MB of zeros compress to a few bytes: the zip's declared size is tiny, the content not.
    bomb = zstandard.ZstdCompressor().compress(b"\0" * (2 * 1024 * 1024))
    data = make_zip({"collection.anki21b": bomb, "collection.anki2": b"x"})
    with pytest.raises(ContentError, match=r"bomb.apkg expands to more than 1.0 MB"):
        parse_anki_package(data, filename="bomb.apkg", limits=SMALL)


def _lie_about_sizes(data: bytes, name: bytes, size: int) -> bytes:
    """Rewrite a member's uncompressed size in both zip headers."""
    out = bytearray(data)
    local = out.index(b"PK\x03\x04" + out[4:6])  # first local header
    assert out[local + 30 : local + 30 + len(name)] == name
    struct.pack_into("<I", out, local + 22, size)
    central = out.index(b"PK\x01\x02")
    struct.pack_into("<I", out, central + 24, size)
    return bytes(out)


def test_lying_declared_size_never_yields_more_than_declared() -> None:
    data = make_zip({"collection.anki2": b"\0" * (2 * 1024 * 1024)})
    forged = _lie_about_sizes(data, b"collection.anki2", 1000)
    with zipfile.ZipFile(__import__("io").BytesIO(forged)) as z:
        assert z.infolist()[0].file_size == 1000
    with pytest.raises(ContentError, match=r"bomb\.apkg: 'collection\.anki2' is damaged"):
        parse_anki_package(forged, filename="bomb.apkg", limits=SMALL)


def test_too_many_members() -> None:
    data = make_zip({str(i): b"x" for i in range(30)})
    with pytest.raises(ContentError, match="has 30 files inside, more than the limit of 20"):
        parse_anki_package(data, filename="many.apkg", limits=ImportLimits(max_members=20))


@pytest.mark.parametrize("name", ["../../x", "/etc/passwd", "media\\..\\x", "C:evil", "a/../../b"])
def test_odd_member_names_are_refused(anki_files: AnkiFiles, name: str) -> None:
    members = zip_members(anki_files.apkg) | {name: b"payload"}
    with pytest.raises(ContentError, match=r"odd\.apkg contains a file named .* not allowed"):
        parse_anki_package(make_zip(members), filename="odd.apkg")


def test_unsafe_media_names_never_become_item_media(genanki_apkg: GenankiFile) -> None:
    members = zip_members(genanki_apkg.path)
    members["media"] = b'{"0": "../paris.png"}'
    parsed = parse_anki_package(make_zip(members), filename="m.apkg")
    assert parsed.media == {}
    assert all(item.image is None for item in parsed.items)


def test_corrupt_sqlite_in_new_package(anki_files: AnkiFiles) -> None:
    members = zip_members(anki_files.apkg)
    members["collection.anki21b"] = zstandard.ZstdCompressor().compress(b"garbage " * 1000)
    with pytest.raises(ContentError, match=r"broken.apkg: the collection is corrupt"):
        parse_anki_package(make_zip(members), filename="broken.apkg")


def test_truncated_sqlite_in_old_package(genanki_apkg: GenankiFile) -> None:
    members = zip_members(genanki_apkg.path)
    collection = members["collection.anki2"]
    members["collection.anki2"] = collection[: len(collection) // 3]
    with pytest.raises(ContentError, match=r"broken.apkg: the collection is corrupt"):
        parse_anki_package(make_zip(members), filename="broken.apkg")


def test_damaged_zstd_stream(anki_files: AnkiFiles) -> None:
    members = zip_members(anki_files.apkg)
    members["collection.anki21b"] = members["collection.anki21b"][:-40]
    # A cut-off zstd frame yields a cut-off database, reported as corrupt.
    with pytest.raises(ContentError, match=r"broken\.apkg: .*(corrupt|damaged)"):
        parse_anki_package(make_zip(members), filename="broken.apkg")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "x.apkg is empty"),
        (b"not a zip at all", "x.apkg is not a valid zip archive"),
        (make_zip({"readme.txt": b"hi"}), "x.apkg is not an Anki package"),
    ],
)
def test_not_a_package(data: bytes, message: str) -> None:
    with pytest.raises(ContentError, match=message):
        parse_deck_file(data, "x.apkg")


def test_package_over_file_size_limit(anki_files: AnkiFiles) -> None:
    data = anki_files.apkg.read_bytes()
    with pytest.raises(ContentError, match="over the limit of 1,000 bytes"):
        parse_deck_file(data, "x.apkg", limits=ImportLimits(max_file_bytes=1000))


def test_collection_goes_to_a_private_temp_dir_that_is_removed(
    anki_files: AnkiFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seen: list[Path] = []
    real = anki_collection.read_collection

    def spy(path: Path, max_notes: int) -> anki_collection.Collection:
        seen.append(path)
        assert path.parent.parent == tmp_path
        assert path.name == "collection.sqlite"  # our name, not the archive's
        assert path.parent.stat().st_mode & 0o077 == 0  # private to this user
        return real(path, max_notes)

    monkeypatch.setattr(anki_package, "read_collection", spy)
    assert parse_anki_package(anki_files.apkg.read_bytes(), filename="a.apkg").items
    assert len(seen) == 1
    assert list(tmp_path.iterdir()) == []
