"""Anki's plain-text notes export (``.txt``): ``#key:value`` header lines, then rows.

Understood headers: ``#separator:`` (``tab``, ``comma``, ``semicolon``, ``space``,
``pipe``, ``colon`` or a single character), ``#html:true|false`` (guessed from the
content when absent), ``#notetype:``, ``#deck:``, ``#tags:`` (added to every note), and
``#tags column:``, ``#guid column:``, ``#notetype column:``, ``#deck column:`` (1-based).
Other headers are ignored. The note type is known by name only, so the stock Anki note
types are rebuilt from their names (see :func:`stock_notetype`; with no note type given,
"Cloze" when the first field has cloze markup, else "Basic"); other names fall back to
the first two non-empty fields. Without a GUID column, a note's id is a hash of its
first field.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re

from tutor.content.anki_collection import Note, NoteType, Template
from tutor.content.anki_notes import NoteContext, note_items
from tutor.content.common import make_deck, name_from_filename
from tutor.content.errors import (
    DEFAULT_LIMITS,
    ContentError,
    ImportLimits,
    check_file_size,
    check_item_count,
)
from tutor.content.messages import HEADER, line, skipped
from tutor.content.tabular import decode_utf8, malformed
from tutor.items import Item, ParsedDeck

_SEPARATORS = {
    "tab": "\t",
    "comma": ",",
    "semicolon": ";",
    "space": " ",
    "pipe": "|",
    "colon": ":",
}
_HTML_HINT = re.compile(r"<(?:br|div|p|b|i|u|img|span|sup|sub)\b[^>]*>|&(?:nbsp|amp|lt|gt);", re.I)
_CLOZE_MARK = re.compile(r"\{\{c\d+::")
_ANSWER = "{{FrontSide}}\n\n<hr id=answer>\n\n"


def stock_notetype(name: str) -> NoteType | None:
    """Anki's built-in note types, rebuilt from their (English) names; None if unknown."""
    key = name.strip().lower() or "basic"
    basic = Template("Card 1", 0, "{{Front}}", _ANSWER + "{{Back}}")
    if key == "basic":
        return NoteType(0, name, False, ("Front", "Back"), (basic,))
    if key == "basic (and reversed card)":
        reverse = Template("Card 2", 1, "{{Back}}", _ANSWER + "{{Front}}")
        return NoteType(0, name, False, ("Front", "Back"), (basic, reverse))
    if key == "basic (optional reversed card)":
        reverse = Template(
            "Card 2", 1, "{{#Add Reverse}}{{Back}}{{/Add Reverse}}", _ANSWER + "{{Front}}"
        )
        return NoteType(0, name, False, ("Front", "Back", "Add Reverse"), (basic, reverse))
    if key == "basic (type in the answer)":
        typed = Template("Card 1", 0, "{{Front}}\n\n{{type:Back}}", "{{Front}}{{type:Back}}")
        return NoteType(0, name, False, ("Front", "Back"), (typed,))
    if key == "cloze" or key.startswith("cloze"):
        cloze = Template("Cloze", 0, "{{cloze:Text}}", "{{cloze:Text}}<br>{{Back Extra}}")
        return NoteType(0, name, True, ("Text", "Back Extra"), (cloze,))
    return None


def _headers(lines: list[str]) -> tuple[dict[str, str], int]:
    """Header key/values and the index of the first data line."""
    headers: dict[str, str] = {}
    index = 0
    while index < len(lines) and lines[index].startswith("#"):
        key, sep, value = lines[index][1:].partition(":")
        if sep:
            headers[key.strip().lower()] = value.strip()
        index += 1
    return headers, index


def _separator(headers: dict[str, str], first_row: str) -> str:
    value = headers.get("separator")
    if value is None:
        return next((s for s in ("\t", ";", ",") if s in first_row), "\t")
    if value.lower() in _SEPARATORS:
        return _SEPARATORS[value.lower()]
    if len(value) == 1:
        return value
    raise ContentError("unknown_separator", where=HEADER, value=value)


def _column(headers: dict[str, str], name: str) -> int | None:
    value = headers.get(f"{name} column")
    if value is None:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ContentError("column_not_number", name=name, value=value)
    return int(value) - 1


def parse_anki_text(
    data: bytes,
    *,
    filename: str,
    deck_name: str | None = None,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> ParsedDeck:
    """Parse an Anki plain-text notes export."""
    check_file_size(data, filename, limits)
    text = decode_utf8(data, filename)
    lines = text.splitlines()
    headers, first = _headers(lines)
    body = "\n".join(lines[first:])
    if not body.strip():
        raise ContentError("no_notes", file=filename)
    separator = _separator(headers, lines[first])
    html_header = headers.get("html")
    if html_header is None:  # like Anki: guess from the content
        is_html = bool(_HTML_HINT.search(body))
    else:
        is_html = html_header.lower() == "true"
    special = {name: _column(headers, name) for name in ("tags", "guid", "notetype", "deck")}
    special_columns = {c for c in special.values() if c is not None}
    default_type = headers.get("notetype", "")
    default_deck = headers.get("deck", "")
    extra_tags = tuple(headers.get("tags", "").split())

    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=separator, strict=True)
    next_line = first + 1
    try:
        for row in reader:
            start, next_line = next_line, first + reader.line_num + 1
            if any(cell.strip() for cell in row):
                rows.append((start, row))
    except csv.Error as exc:
        raise malformed(exc, line(next_line)) from None  # where the refused row began

    row_decks: dict[int, str] = {}
    notes: list[tuple[Note, NoteType | None]] = []
    for number, (line_no, row) in enumerate(rows):

        def cell(column: int | None, row: list[str] = row) -> str:
            return row[column].strip() if column is not None and column < len(row) else ""

        fields = [c for i, c in enumerate(row) if i not in special_columns]
        if not is_html:
            fields = [html.escape(f, quote=False) for f in fields]
        notetype_name = cell(special["notetype"]) or default_type
        if not notetype_name and fields and _CLOZE_MARK.search(fields[0]):
            notetype_name = "Cloze"
        guid = (
            cell(special["guid"])
            or "txt-" + hashlib.sha1((fields[0] if fields else "").encode("utf-8")).hexdigest()[:12]
        )
        row_decks[number] = cell(special["deck"]) or default_deck
        note = Note(
            id=number,
            guid=guid,
            notetype_id=0,
            fields=tuple(fields),
            tags=tuple(dict.fromkeys((*cell(special["tags"]).split(), *extra_tags))),
            label=line(line_no),
        )
        notes.append((note, stock_notetype(notetype_name)))

    tops = {d.split("::")[0] for d in row_decks.values() if d}
    name = deck_name or (tops.pop() if len(tops) == 1 else name_from_filename(filename))
    ctx = NoteContext(deck_name=name, card_deck=lambda nid, _ord: row_decks.get(nid) or None)
    items: list[Item] = []
    seen: set[str] = set()
    for note, notetype in notes:
        for item in note_items(note, notetype, ctx):
            if item.external_id in seen:
                ctx.skipped.append(skipped(note.where, "duplicate_id", id=item.external_id))
                continue
            seen.add(item.external_id)
            items.append(item)
        check_item_count(len(items), limits)
    return ParsedDeck(deck=make_deck(name, items), items=items, skipped=list(ctx.skipped))
