"""Write a deck as CSV or JSON that imports back to the very same items.

Every exported entry is checked by re-building it with the importer's own code, so an
export either round-trips exactly or says why it cannot. Cloze items were expanded from
one cloze text into one item per number; each is written back as a cloze entry holding
only its own deletion (``id`` without the ``::cN`` suffix, question with ``{{cN::...}}``
in place of its gap), which imports to the same external id, prompt and answer. Several
entries may then share an ``id``: the importer only requires the expanded ids to be unique.

CSV and TSV carry the deck's name in a ``deck`` column of every row, so a re-import finds
the same deck whatever the file is called. JSON carries the deck's slug, name, description
and language.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import json
import re
from collections.abc import Sequence
from typing import Any, Literal

from tutor.content.errors import ContentError
from tutor.content.json_deck import FORMAT_VERSION
from tutor.content.messages import place
from tutor.content.records import Record, record_items
from tutor.content.tabular import COLUMNS, DECK_COLUMN
from tutor.items import Deck, Item, ItemKind

_CLOZE_ID = re.compile(r"^(.+)::c(\d+)$")
_GAP = re.compile(r"\[[^\[\]\n]*\]")
_MAX_TRIES = 200


def _bare(item: Item) -> Item:
    return dataclasses.replace(item, id=0, deck_id=0)


def _rebuilds(record: Record, item: Item) -> bool:
    """True when importing ``record`` yields exactly ``item``."""
    try:
        items, _ = record_items(record)
    except ContentError:
        return False
    return len(items) == 1 and items[0] == _bare(item)


def _cloze_sources(item: Item, number: int) -> list[str]:
    """Candidate cloze texts that put the answer back into the prompt's gaps."""
    gaps = list(_GAP.finditer(item.prompt))
    splits = [[item.answer]]
    parts = item.answer.split(", ")
    if len(parts) > 1:
        splits.append(parts)
    sources: list[str] = []
    for texts in splits:
        for chosen in itertools.islice(itertools.combinations(gaps, len(texts)), _MAX_TRIES):
            out, last = [], 0
            for gap, text in zip(chosen, texts, strict=True):
                hint = gap.group()[1:-1]
                deletion = f"{{{{c{number}::{text}}}}}"
                if hint != "...":
                    deletion = f"{{{{c{number}::{text}::{hint}}}}}"
                out.append(item.prompt[last : gap.start()])
                out.append(deletion)
                last = gap.end()
            out.append(item.prompt[last:])
            sources.append("".join(out))
    return sources


def _record(item: Item) -> Record:
    base: dict[str, Any] = {
        "where": place("item_ref", id=item.external_id),
        "id": item.external_id,
        "type": item.kind.value,
        "question": item.prompt,
        "explanation": item.explanation,
        "tags": item.tags,
        "image": item.image,
        "audio": item.audio,
        "answer_audio": item.answer_audio,
    }
    if item.kind is ItemKind.CLOZE:
        match = _CLOZE_ID.match(item.external_id)
        if match:
            for source in _cloze_sources(item, int(match.group(2))):
                record = Record(**(base | {"id": match.group(1), "question": source}), answer=None)
                if _rebuilds(record, item):
                    return record
        raise ContentError("cloze_not_exportable", id=item.external_id)
    answer: str | bool | list[str]
    options: list[str] = []
    if item.kind is ItemKind.MULTIPLE_CHOICE:
        options = list(item.options)
        answer = item.correct_text
    elif item.kind is ItemKind.TRUE_FALSE:
        answer = item.correct_option == 0
    elif item.kind is ItemKind.TYPED:
        answer = list(item.accepted)
    else:
        answer = item.answer
    record = Record(**base, answer=answer, options=options)
    if not _rebuilds(record, item):
        raise ContentError("item_not_exportable", id=item.external_id)
    return record


def _json_entry(record: Record) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": record.id, "type": record.type, "question": record.question}
    if record.options:
        entry["options"] = record.options
    if record.answer is not None:
        entry["answer"] = record.answer
    if record.explanation:
        entry["explanation"] = record.explanation
    if record.tags:
        entry["tags"] = list(record.tags)
    if record.image:
        entry["image"] = record.image
    if record.audio:
        entry["audio"] = record.audio
    if record.answer_audio:
        entry["answer_audio"] = record.answer_audio
    return entry


def _csv_row(record: Record, deck_name: str) -> list[str]:
    answer = record.answer
    if isinstance(answer, list):
        if any("|" in a for a in answer):
            raise ContentError("export_pipe_accepted", where=record.where)
        answer_text = "|".join(answer)
    elif isinstance(answer, bool):
        answer_text = "true" if answer else "false"
    else:
        answer_text = answer or ""
    if any("|" in o for o in record.options):
        raise ContentError("export_pipe_option", where=record.where)
    if any(not t or any(c.isspace() for c in t) for t in record.tags):
        raise ContentError("export_tag_space", where=record.where)
    values = {
        "id": record.id,
        "type": record.type,
        "question": record.question,
        "answer": answer_text,
        "options": "|".join(record.options),
        "explanation": record.explanation,
        "tags": " ".join(record.tags),
        "image": record.image or "",
        "audio": record.audio or "",
        "answer_audio": record.answer_audio or "",
        DECK_COLUMN: deck_name,
    }
    return [values[c] for c in COLUMNS]


ExportFormat = Literal["csv", "tsv", "json", "apkg"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "tsv", "json", "apkg")
"""Every export format; ``apkg`` (with media) is written by :mod:`tutor.content.anki_export`."""
TEXT_FORMATS: tuple[ExportFormat, ...] = ("csv", "tsv", "json")


def item_record(item: Item) -> Record:
    """The file entry that imports back to exactly ``item`` (ContentError if none does)."""
    return _record(item)


def export_deck(deck: Deck, items: Sequence[Item], fmt: ExportFormat) -> bytes:
    """The deck as UTF-8 ``csv``, ``tsv`` or ``json`` bytes that import back to the same items.

    Raises:
        ContentError: for an unknown format, or an item that the format cannot carry
            unchanged (e.g. ``|`` inside an option in CSV).
    """
    if fmt not in TEXT_FORMATS:
        raise ContentError("unknown_export_format", format=fmt)
    records = [_record(item) for item in items]
    if fmt == "json":
        document = {
            "metatutor": FORMAT_VERSION,
            "deck": {
                "slug": deck.slug,
                "name": deck.name,
                "description": deck.description,
                "language": deck.language,
            },
            "items": [_json_entry(r) for r in records],
        }
        return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(_csv_row(r, deck.name) for r in records)
    return buffer.getvalue().encode("utf-8")
