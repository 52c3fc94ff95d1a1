"""Choose the importer for a file by its extension, sniffing the content when unsure."""

from __future__ import annotations

from collections.abc import Callable

from tutor.content.anki_package import parse_anki_package
from tutor.content.anki_text import parse_anki_text
from tutor.content.common import extension
from tutor.content.errors import DEFAULT_LIMITS, ContentError, ImportLimits, check_file_size
from tutor.content.json_deck import parse_json
from tutor.content.messages import reason
from tutor.content.tabular import parse_csv, parse_tsv
from tutor.items import ParsedDeck

Parser = Callable[..., ParsedDeck]
ZIP_MAGIC = b"PK\x03\x04"
SUPPORTED = ("csv", "tsv", "json", "apkg", "colpkg", "txt")


def _first_line(data: bytes) -> str:
    head = data[:4096].decode("utf-8-sig", "replace")
    return head.lstrip().split("\n", 1)[0].lower()


def _looks_tabular(line: str) -> tuple[bool, str]:
    """Whether a first line is a metatutor header row, and its delimiter."""
    for delimiter in ("\t", ","):
        cells = {c.strip().strip('"') for c in line.split(delimiter)}
        if {"question", "answer"} <= cells:
            return True, delimiter
    return False, ""


def _sniff(data: bytes) -> Parser:
    if data.startswith(ZIP_MAGIC):
        return parse_anki_package
    line = _first_line(data)
    if line.startswith("{"):
        return parse_json
    if line.startswith("#"):
        return parse_anki_text
    tabular, delimiter = _looks_tabular(line)
    if tabular:
        return parse_tsv if delimiter == "\t" else parse_csv
    return parse_anki_text


def choose_parser(data: bytes, filename: str) -> Parser:
    """The parser for ``filename``: by extension, sniffed for ``.txt`` and unknown ones."""
    ext = extension(filename)
    if data.startswith(ZIP_MAGIC) and ext in ("csv", "tsv", "json", "txt"):
        raise ContentError("zip_not_type", file=filename, ext=ext)
    if ext in ("apkg", "colpkg"):
        return parse_anki_package
    if ext == "csv":
        return parse_csv
    if ext == "tsv":
        return parse_tsv
    if ext == "json":
        return parse_json
    if ext == "txt":
        tabular, delimiter = _looks_tabular(_first_line(data))
        if tabular:
            return parse_tsv if delimiter == "\t" else parse_csv
        return parse_anki_text
    if ext in ("zip",):
        return parse_anki_package
    parser = _sniff(data)
    if parser is parse_anki_text and ext:
        supported = tuple(f".{e}" for e in SUPPORTED)
        raise ContentError("unsupported_type", file=filename, ext=ext, supported=supported)
    return parser


def parse_deck_file(
    data: bytes,
    filename: str,
    deck_name: str | None = None,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> ParsedDeck:
    """Parse any supported deck file (.csv, .tsv, .json, .apkg, .colpkg, .txt).

    Raises:
        ContentError: with a message naming the problem (and line, item or note).
    """
    check_file_size(data, filename, limits)
    parser = choose_parser(data, filename)
    parsed = parser(data, filename=filename, deck_name=deck_name, limits=limits)
    if not parsed.items:
        raise _nothing_to_import(parsed, data, filename, parser)
    return parsed


def _nothing_to_import(
    parsed: ParsedDeck, data: bytes, filename: str, parser: Parser
) -> ContentError:
    """Why a file that parsed yields no question, with the likely cause."""
    skipped = parsed.skipped
    if skipped:
        first = skipped[0]
        found = reason(
            "all_skipped",
            count=len(skipped),
            where=first.place or first.where,
            reason=first.detail or first.reason,
        )
    else:
        found = reason("no_entries")
    if parser is parse_anki_text and not _first_line(data).startswith("#"):
        return ContentError(
            "no_questions_not_anki_notes", file=filename, found=found, cause="not_anki_notes"
        )
    if parser is parse_anki_package:
        return ContentError(
            "no_questions_anki", file=filename, found=found, cause="no_readable_notes"
        )
    return ContentError("no_questions", file=filename, found=found, cause="no_items")
