"""Anki packages (``.apkg`` decks and ``.colpkg`` whole collections).

A package is a zip holding one collection (``collection.anki21b``, zstd-compressed, in
current packages; ``collection.anki21`` or ``collection.anki2`` in older ones), a
``media`` map (JSON ``{"0": "name.png"}`` in older packages, zstd-compressed protobuf in
new ones) and the media files under numeric member names (zstd-compressed in new ones).
New packages also carry a ``collection.anki2`` whose only note asks to update Anki, so
the newest collection present is read.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from urllib.parse import quote

from tutor.content.anki_collection import Collection, read_collection
from tutor.content.anki_notes import NoteContext, note_items
from tutor.content.anki_proto import parse_media_entries
from tutor.content.archive import SafeArchive
from tutor.content.common import make_deck, name_from_filename, safe_media_name
from tutor.content.errors import (
    DEFAULT_LIMITS,
    ContentError,
    ImportLimits,
    check_file_size,
    check_item_count,
)
from tutor.content.messages import in_file, skipped
from tutor.content.sound import sound_problem
from tutor.items import Item, ParsedDeck

COLLECTION_MEMBERS = ("collection.anki21b", "collection.anki21", "collection.anki2")
_DEFAULT_DECK = "Default"


def _media_map(archive: SafeArchive) -> dict[str, str]:
    """Media file name -> zip member name."""
    if "media" not in archive.names():
        return {}
    raw = archive.read("media", zstd=None)
    if not raw.strip():
        return {}
    if raw.lstrip()[:1] == b"{":
        try:
            mapping = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ContentError(
                "media_list_damaged_detail", where=in_file(archive.filename), detail=str(exc)
            ) from None
        if not isinstance(mapping, dict):
            raise ContentError("media_list_damaged", where=in_file(archive.filename))
        return {str(name): str(member) for member, name in mapping.items()}
    try:
        entries = parse_media_entries(raw)
    except ContentError as exc:
        raise ContentError(
            "media_list_damaged_detail", where=in_file(archive.filename), detail=exc.reason
        ) from None
    return {e.name: e.member for e in entries if e.name}


def _deck_name(col: Collection, fallback: str) -> str:
    """The single top-level deck holding the package's cards, else ``fallback``."""
    tops = {col.decks[d].split("::")[0] for d in set(col.card_decks.values()) if d in col.decks}
    if len(tops) > 1:
        tops.discard(_DEFAULT_DECK)
    return tops.pop() if len(tops) == 1 else fallback


def _items_from_collection(
    col: Collection,
    archive: SafeArchive,
    media: dict[str, str],
    deck_name: str | None,
    limits: ImportLimits,
) -> ParsedDeck:
    name = deck_name or _deck_name(col, name_from_filename(archive.filename))
    first_card_deck: dict[int, int] = {}
    for (note_id, _), did in col.card_decks.items():
        first_card_deck.setdefault(note_id, did)

    def card_deck(note_id: int, ordinal: int) -> str | None:
        did = col.card_decks.get((note_id, ordinal), first_card_deck.get(note_id))
        return col.decks.get(did) if did is not None else None

    # Fields may name a file as stored or percent-encoded ("my%20map.png").
    names = {quote(m): m for m in media} | {m: m for m in media}
    read: dict[str, bytes] = {}

    def media_bytes(media_name: str) -> bytes:
        if media_name not in read:
            read[media_name] = archive.read(media[media_name], zstd=None)
        return read[media_name]

    ctx = NoteContext(
        deck_name=name,
        card_deck=card_deck,
        media_names=names,
        sound_problem=lambda sound: sound_problem(sound, media_bytes(sound)),
    )
    items: list[Item] = []
    seen: set[str] = set()
    for note in col.notes:
        for item in note_items(note, col.notetypes.get(note.notetype_id), ctx):
            if item.external_id in seen:
                ctx.skipped.append(skipped(note.where, "duplicate_id", id=item.external_id))
                continue
            seen.add(item.external_id)
            items.append(item)
        check_item_count(len(items), limits)
    files = {m: media_bytes(m) for m in sorted(ctx.used_media)}
    return ParsedDeck(
        deck=make_deck(name, items), items=items, media=files, skipped=list(ctx.skipped)
    )


def parse_anki_package(
    data: bytes,
    *,
    filename: str,
    deck_name: str | None = None,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> ParsedDeck:
    """Parse an ``.apkg`` or ``.colpkg`` file in any of the three collection formats."""
    check_file_size(data, filename, limits)
    archive = SafeArchive(data, filename, limits)
    names = archive.names()
    member = next((m for m in COLLECTION_MEMBERS if m in names), None)
    if member is None:
        raise ContentError("not_anki_package", file=filename)
    all_media = _media_map(archive)
    # Only media that are plain file names and really present can become item images.
    media = {
        name: member_name
        for name, member_name in all_media.items()
        if safe_media_name(name) and member_name in names
    }
    with tempfile.TemporaryDirectory(prefix="metatutor-import-") as tmp:
        path = Path(tmp) / "collection.sqlite"
        archive.extract_to(member, path, zstd=member.endswith("b"))
        try:
            col = read_collection(path, max_notes=limits.max_items)
        except ContentError as exc:
            raise ContentError.of(exc.reason, where=in_file(filename)) from None
    if not col.notes:
        raise ContentError("no_notes", file=filename)
    return _items_from_collection(col, archive, media, deck_name, limits)
