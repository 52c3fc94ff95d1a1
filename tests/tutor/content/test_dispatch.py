"""Choosing the importer from the file name and content."""

from __future__ import annotations

import pytest

from tests.tutor.content.conftest import AnkiFiles
from tutor.content import ContentError, parse_deck_file
from tutor.content.anki_package import parse_anki_package
from tutor.content.anki_text import parse_anki_text
from tutor.content.dispatch import choose_parser
from tutor.content.json_deck import parse_json
from tutor.content.tabular import parse_csv, parse_tsv

CSV = b"question,answer\nq,a\n"
TSV = b"question\tanswer\nq\ta\n"
JSON = b'{"metatutor": 1, "items": [{"id": "a", "question": "q", "answer": "a"}]}'
ANKI_TXT = b"#separator:tab\nq\ta\n"


@pytest.mark.parametrize(
    ("data", "filename", "parser"),
    [
        (CSV, "d.csv", parse_csv),
        (TSV, "D.TSV", parse_tsv),
        (JSON, "d.json", parse_json),
        (b"PK\x03\x04", "d.apkg", parse_anki_package),
        (b"PK\x03\x04", "d.colpkg", parse_anki_package),
        (ANKI_TXT, "d.txt", parse_anki_text),
        (TSV, "d.txt", parse_tsv),  # a metatutor table saved as .txt
        (b"q\ta\n", "d.txt", parse_anki_text),
        (JSON, "upload", parse_json),  # no extension: sniffed
        (CSV, "upload", parse_csv),
        (b"PK\x03\x04", "upload", parse_anki_package),
    ],
)
def test_choose_parser(data: bytes, filename: str, parser: object) -> None:
    assert choose_parser(data, filename) is parser


def test_every_format_through_the_dispatcher(anki_files: AnkiFiles) -> None:
    for data, name in ((CSV, "a.csv"), (TSV, "a.tsv"), (JSON, "a.json"), (ANKI_TXT, "a.txt")):
        assert len(parse_deck_file(data, name).items) == 1
    for path in (anki_files.apkg, anki_files.apkg_legacy, anki_files.colpkg, anki_files.txt):
        assert len(parse_deck_file(path.read_bytes(), path.name).items) == 11


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"PK\x03\x04rest", "d.csv", "d.csv is a zip archive, not a .csv file"),
        (b"hello", "d.docx", r"d.docx: unsupported file type .docx"),
        (b"", "d.csv", "d.csv is empty"),
    ],
)
def test_dispatch_errors(data: bytes, filename: str, message: str) -> None:
    with pytest.raises(ContentError, match=message):
        parse_deck_file(data, filename)


@pytest.mark.parametrize(
    ("filename", "name", "slug"),
    [
        ("decks/ancient-rome.csv", "Ancient Rome", "ancient-rome"),
        ("world_history.tsv", "World History", "world-history"),
        ("My Deck.csv", "My Deck", "my-deck"),
        ("中国历史.csv", "中国历史", None),
    ],
)
def test_deck_names_from_file_names(filename: str, name: str, slug: str | None) -> None:
    deck = parse_deck_file(TSV if filename.endswith(".tsv") else CSV, filename).deck
    assert deck.name == name
    if slug is not None:
        assert deck.slug == slug
