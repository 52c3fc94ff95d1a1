"""Deck content: importers for CSV/TSV, JSON, Anki packages and Anki text, and export.

Every importer takes the file's bytes and returns a :class:`~tutor.items.ParsedDeck`;
bad input raises :class:`~tutor.content.errors.ContentError` with a clear message.
"""

from tutor.content.anki_package import parse_anki_package
from tutor.content.anki_text import parse_anki_text
from tutor.content.dispatch import parse_deck_file
from tutor.content.errors import DEFAULT_LIMITS, ContentError, ImportLimits
from tutor.content.export import export_deck
from tutor.content.json_deck import parse_json
from tutor.content.tabular import parse_csv, parse_tsv

__all__ = [
    "DEFAULT_LIMITS",
    "ContentError",
    "ImportLimits",
    "export_deck",
    "parse_anki_package",
    "parse_anki_text",
    "parse_csv",
    "parse_deck_file",
    "parse_json",
    "parse_tsv",
]
