"""Write a deck as an Anki package (``.apkg``), pictures and sounds included.

The package is a legacy ``collection.anki2`` written by genanki, which every Anki version
since 2.1 imports. Each item becomes one note of the metatutor note types
(:mod:`tutor.content.anki_fields`); its GUID is derived from the deck's slug and the item's
id, so exporting again and importing into Anki updates the same notes. Every note is checked
by reading it back with the importer's own code, so the package imports back to the very
same items or the export says which item it cannot carry.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tutor.content.anki_fields import (
    CLOZE_FIELDS,
    CLOZE_NOTETYPE,
    ITEM_FIELDS,
    ITEM_NOTETYPE,
    fields_record,
    record_fields,
)
from tutor.content.errors import ContentError
from tutor.content.export import item_record
from tutor.content.records import record_items
from tutor.items import Deck, Item

_CSS = ".card { font-family: sans-serif; font-size: 20px; text-align: center; }"
_ITEM_FRONT = (
    "{{Question}}{{#Options}}<br><br>{{Options}}{{/Options}}"
    "{{#Picture}}<br>{{Picture}}{{/Picture}}{{Sound}}"
)
_BACK_EXTRA = "{{#Explanation}}<br><br>{{Explanation}}{{/Explanation}}{{Answer sound}}"


@functools.cache
def _models() -> dict[str, Any]:
    """The two note types (genanki is imported on the first export: it is slow to load)."""
    import genanki

    return {
        ITEM_NOTETYPE: genanki.Model(
            1740160001,
            ITEM_NOTETYPE,
            fields=[{"name": name} for name in ITEM_FIELDS],
            templates=[
                {
                    "name": "Question",
                    "qfmt": _ITEM_FRONT,
                    "afmt": "{{FrontSide}}<hr id=answer>{{Answer}}" + _BACK_EXTRA,
                }
            ],
            css=_CSS,
        ),
        CLOZE_NOTETYPE: genanki.Model(
            1740160002,
            CLOZE_NOTETYPE,
            fields=[{"name": name} for name in CLOZE_FIELDS],
            templates=[
                {
                    "name": "Cloze",
                    "qfmt": "{{cloze:Text}}{{#Picture}}<br>{{Picture}}{{/Picture}}{{Sound}}",
                    "afmt": "{{cloze:Text}}" + _BACK_EXTRA,
                }
            ],
            css=_CSS,
            model_type=genanki.Model.CLOZE,
        ),
    }


def _deck_id(slug: str) -> int:
    """A stable Anki deck id for the deck (Anki ids are positive 63-bit integers)."""
    return int.from_bytes(hashlib.sha256(f"metatutor-deck:{slug}".encode()).digest()[:7], "big")


def _note(deck: Deck, item: Item) -> Any:
    """The item's note, checked to import back to the same item."""
    record = item_record(item)
    notetype, fields = record_fields(record)
    names = ITEM_FIELDS if notetype == ITEM_NOTETYPE else CLOZE_FIELDS
    media = {"image": item.image, "audio": item.audio, "answer_audio": item.answer_audio}
    back = fields_record(
        notetype,
        dict(zip(names, fields, strict=True)),
        where=record.where,
        tags=item.tags,
        media=media,
    )
    try:
        rebuilt, _ = record_items(back)
    except ContentError:
        rebuilt = []
    if rebuilt != [dataclasses.replace(item, id=0, deck_id=0)]:
        raise ContentError("item_not_exportable", id=item.external_id)
    import genanki

    return genanki.Note(
        model=_models()[notetype],
        fields=fields,
        tags=list(item.tags),
        guid=genanki.guid_for(deck.slug, item.external_id),
    )


def export_package(
    deck: Deck,
    items: Sequence[Item],
    media: Mapping[str, bytes],
    *,
    timestamp: float | None = None,
) -> bytes:
    """The deck as ``.apkg`` bytes, with the pictures and sounds its items use from ``media``.

    Raises:
        ContentError: an item the package cannot carry unchanged (e.g. a tag with a space).
    """
    import genanki

    package_deck = genanki.Deck(_deck_id(deck.slug), deck.name, description=deck.description)
    for item in items:
        if any(not tag or any(c.isspace() for c in tag) for tag in item.tags):
            raise ContentError("anki_tag_space", id=item.external_id)
        package_deck.add_note(_note(deck, item))
    used = sorted(
        {n for i in items for n in (i.image, i.audio, i.answer_audio) if n and n in media}
    )
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="metatutor-export-") as tmp:
        paths = []
        for name in used:
            path = Path(tmp) / name
            path.write_bytes(media[name])
            paths.append(str(path))
        genanki.Package(package_deck, media_files=paths).write_to_file(buffer, timestamp=timestamp)
    return buffer.getvalue()
