"""CSV and TSV decks: a header row, then one entry per row (see docs deck_format)."""

from __future__ import annotations

import csv
import io

from tutor.content.common import check_image_name, derived_id, make_deck, name_from_filename
from tutor.content.errors import DEFAULT_LIMITS, ContentError, ImportLimits, check_file_size
from tutor.content.messages import Place, line, reason
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
        raise ContentError("not_utf8", file=filename, byte=bad, offset=exc.start) from None


def read_text(data: bytes, filename: str, limits: ImportLimits) -> str:
    """A deck file's text: within the size limit, UTF-8, and not blank (else ContentError)."""
    check_file_size(data, filename, limits)
    text = decode_utf8(data, filename)
    if not text.strip():
        raise ContentError("file_empty", file=filename)
    return text


def _header(row: list[str], delimiter: str) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, raw in enumerate(row):
        name = raw.strip().lower()
        if not name:
            continue
        if name in columns:
            raise ContentError("duplicate_column", where=line(1), name=name)
        columns[name] = index
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        found: object = tuple(reason("column_name", name=c) for c in columns)
        found = found or reason("no_columns_found")
        other = "\t" if delimiter == "," else ","
        code = "missing_columns"
        if any(other in c for c in columns):
            code += "_looks_tsv" if other == "\t" else "_looks_csv"
        raise ContentError(
            code,
            where=line(1),
            cause=f"no_{missing[0]}_column",
            missing=tuple(missing),
            found=found,
        )
    return columns


def _record(row: list[str], columns: dict[str, int], number: int) -> Record:
    where = line(number)

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
    text = read_text(data, filename, limits)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[Record] = []
    deck_names: dict[str, Place] = {}  # name -> where first named
    columns: dict[str, int] | None = None
    width = 0
    next_line = 1
    try:
        for row in reader:
            start, next_line = next_line, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            if columns is None:
                columns = _header(row, delimiter)
                width = len(row)
                continue
            if not any(cell.strip() for cell in row[width:]):
                row = row[:width]  # trailing empty cells, as spreadsheets sometimes write
            if len(row) > width or len(row) <= max(columns[c] for c in REQUIRED):
                raise ContentError("row_width", where=line(start), count=len(row), width=width)
            records.append(_record(row, columns, start))
            named = _deck_cell(row, columns)
            if named:
                deck_names.setdefault(named, line(start))
    except csv.Error as exc:
        # the row the reader was in began on next_line (an open quote runs to the end)
        raise malformed(exc, line(next_line)) from None
    if columns is None:
        raise ContentError("file_empty", file=filename)
    if not records:
        raise ContentError("header_only", file=filename)
    if len(deck_names) > 1:
        listed = tuple(
            reason("deck_named_at", name=name, where=where)
            for name, where in list(deck_names.items())[:3]
        )
        raise ContentError(
            "several_decks",
            cause="several_decks",
            column=DECK_COLUMN,
            count=len(deck_names),
            listed=listed,
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


def malformed(error: csv.Error, where: Place) -> ContentError:
    """A row the CSV reader refused, as the reason a person can act on (the reader's own
    words only for a case not named here)."""
    text = str(error)
    if text.startswith("unexpected end of data"):
        return ContentError("unclosed_quote", where=where)
    if "expected after '\"'" in text:
        return ContentError("text_after_quote", where=where)
    if text.startswith("field larger than field limit"):
        return ContentError("cell_too_long", where=where, limit=csv.field_size_limit())
    return ContentError("malformed_row", where=where, detail=text)
