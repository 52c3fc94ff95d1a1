"""CSV and TSV decks: a header row, then one entry per row (see docs deck_format)."""

from __future__ import annotations

import csv
import io

from tutor.content.common import check_image_name, derived_id, make_deck, name_from_filename
from tutor.content.errors import DEFAULT_LIMITS, ContentError, ImportLimits, check_file_size
from tutor.content.records import Record, build_items
from tutor.items import ParsedDeck

COLUMNS = (
    "id",
    "type",
    "question",
    "answer",
    "options",
    "explanation",
    "tags",
    "image",
    "audio",
    "answer_audio",
    "deck",
)
REQUIRED = ("question", "answer")
DECK_COLUMN = "deck"
"""Optional: the deck the rows belong to (one name for the whole file; exports write it)."""


def decode_utf8(data: bytes, filename: str) -> str:
    """Decode UTF-8 (a BOM is dropped); say where the first bad byte is if it is not."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        raise ContentError(
            f"{filename} is not UTF-8 text: byte 0x{bad} at offset {exc.start} cannot be "
            "decoded (save the file as UTF-8)"
        ) from None


def _header(row: list[str], delimiter: str) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, raw in enumerate(row):
        name = raw.strip().lower()
        if not name:
            continue
        if name in columns:
            raise ContentError(f"column {name!r} appears twice in the header", where="line 1")
        columns[name] = index
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        found = ", ".join(repr(c) for c in columns) or "none"
        other = "\t" if delimiter == "," else ","
        hint = ""
        if any(other in c for c in columns):
            hint = "; the file looks " + ("tab-separated" if other == "\t" else "comma-separated")
        raise ContentError(
            f"missing required column(s): {', '.join(missing)} (found: {found}){hint}",
            where="line 1",
            cause=f"no_{missing[0]}_column",
        )
    return columns


def _record(row: list[str], columns: dict[str, int], line: int) -> Record:
    where = f"line {line}"

    def get(name: str) -> str:
        index = columns.get(name)
        return row[index] if index is not None and index < len(row) else ""

    question = get("question").strip()
    entry_id = get("id").strip() or derived_id(question)
    options_text = get("options").strip()
    image = get("image").strip()
    audio, answer_audio = get("audio").strip(), get("answer_audio").strip()
    return Record(
        where=where,
        id=entry_id,
        type=get("type").strip(),
        question=question,
        answer=get("answer"),
        options=options_text.split("|") if options_text else [],
        explanation=get("explanation"),
        tags=tuple(dict.fromkeys(get("tags").split())),
        image=check_image_name(image, where) if image else None,
        audio=check_image_name(audio, where, "audio") if audio else None,
        answer_audio=check_image_name(answer_audio, where, "answer_audio")
        if answer_audio
        else None,
    )


def parse_table(
    data: bytes,
    *,
    filename: str,
    delimiter: str,
    deck_name: str | None = None,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> ParsedDeck:
    """Parse a delimited deck file; ``delimiter`` is ``","`` or ``"\\t"``."""
    check_file_size(data, filename, limits)
    text = decode_utf8(data, filename)
    if not text.strip():
        raise ContentError(f"{filename} is empty")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[Record] = []
    deck_names: dict[str, str] = {}  # name -> where first named
    columns: dict[str, int] | None = None
    width = 0
    line = 1
    try:
        for row in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            if columns is None:
                columns = _header(row, delimiter)
                width = len(row)
                continue
            if not any(cell.strip() for cell in row[width:]):
                row = row[:width]  # trailing empty cells, as spreadsheets sometimes write
            if len(row) > width or len(row) <= max(columns[c] for c in REQUIRED):
                raise ContentError(
                    f"row has {len(row)} fields but the header has {width}"
                    " (check quoting and the delimiter)",
                    where=f"line {start}",
                )
            records.append(_record(row, columns, start))
            named = _deck_cell(row, columns)
            if named:
                deck_names.setdefault(named, f"line {start}")
    except csv.Error as exc:
        raise ContentError(f"malformed row: {exc}", where=f"line {reader.line_num}") from None
    if columns is None:
        raise ContentError(f"{filename} is empty")
    if not records:
        raise ContentError(f"{filename} has a header but no entries")
    if len(deck_names) > 1:
        listed = ", ".join(f"{name!r} ({where})" for name, where in list(deck_names.items())[:3])
        raise ContentError(
            f"the {DECK_COLUMN!r} column names {len(deck_names)} decks: {listed}; a file imports"
            f" into one deck (split the file, or empty the {DECK_COLUMN!r} column)",
            cause="several_decks",
        )
    items, skipped = build_items(records, limits)
    named = next(iter(deck_names), "")
    deck = make_deck(deck_name or named or name_from_filename(filename), items)
    return ParsedDeck(deck=deck, items=items, skipped=skipped)


def _deck_cell(row: list[str], columns: dict[str, int]) -> str:
    index = columns.get(DECK_COLUMN)
    return row[index].strip() if index is not None and index < len(row) else ""


def parse_csv(
    data: bytes,
    *,
    filename: str,
    deck_name: str | None = None,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> ParsedDeck:
    """Parse a comma-separated deck file."""
    return parse_table(data, filename=filename, delimiter=",", deck_name=deck_name, limits=limits)


def parse_tsv(
    data: bytes,
    *,
    filename: str,
    deck_name: str | None = None,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> ParsedDeck:
    """Parse a tab-separated deck file."""
    return parse_table(data, filename=filename, delimiter="\t", deck_name=deck_name, limits=limits)
