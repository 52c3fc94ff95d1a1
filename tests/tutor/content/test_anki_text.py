"""Anki's plain-text notes export."""

from __future__ import annotations

import pytest

from tests.tutor.content.conftest import AnkiFiles
from tutor.content import ContentError, parse_anki_text, parse_deck_file
from tutor.items import ItemKind


def test_real_anki_text_export(anki_files: AnkiFiles) -> None:
    data = anki_files.txt.read_bytes()
    assert data.startswith(b"#separator:tab\n#html:true\n")
    parsed = parse_deck_file(data, "notes.txt")
    g = anki_files.guids
    items = {i.external_id: i for i in parsed.items}
    assert parsed.deck.name == "Geography"
    basic = items[f"{g['basic']}::0"]
    assert (basic.prompt, basic.answer) == ("Capital of France?", "Paris")
    assert basic.image is None  # a text export carries no media
    assert basic.tags == ("europe::west", "geo", "deck::Geography::Europe")
    assert items[f"{g['reversed']}::1"].prompt == "hello"
    assert f"{g['optional_off']}::1" not in items
    assert items[f"{g['typed']}::0"].kind is ItemKind.TYPED
    assert items[f"{g['cloze']}::c2"].prompt == "The Magna Carta was sealed in [year]."
    # The custom note type is unknown by name: first two non-empty fields.
    assert items[f"{g['custom']}::0"].answer == "happy chance"
    assert len(parsed.items) == 11


def test_header_lines_without_guid_column() -> None:
    data = (
        b"#separator:semicolon\n#html:false\n#notetype:Basic (and reversed card)\n"
        b"#deck:Languages::Spanish\n#tags:spanish\n#tags column:3\n"
        b'perro;dog;animals\n"a; b";<c & d>;\n'
    )
    parsed = parse_anki_text(data, filename="es.txt")
    assert parsed.deck.name == "Languages"
    prompts = [(i.prompt, i.answer) for i in parsed.items]
    assert prompts == [("perro", "dog"), ("dog", "perro"), ("a; b", "<c & d>"), ("<c & d>", "a; b")]
    assert parsed.items[0].tags == ("animals", "spanish", "deck::Languages::Spanish")
    again = parse_anki_text(data, filename="es.txt")
    assert [i.external_id for i in again.items] == [i.external_id for i in parsed.items]
    assert parsed.items[0].external_id.endswith("::0")


def test_cloze_detected_without_notetype_and_empty_rows_counted() -> None:
    data = b"{{c1::Tang}} followed {{c2::Sui}}\t\nonly front\t\n"
    parsed = parse_anki_text(data, filename="t.txt")
    assert [i.kind for i in parsed.items] == [ItemKind.CLOZE, ItemKind.CLOZE]
    assert [(s.where, s.reason) for s in parsed.skipped] == [
        ("line 2", "card 'Card 1': the answer side is empty")
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "t.txt is empty"),
        (b"#separator:tab\n#html:true\n", "t.txt has no notes"),
        (b"#separator:weird\na\tb\n", "unknown #separator 'weird'"),
        (b"#guid column:x\na\tb\n", "#guid column must be a column number"),
        (b"a\t\xffb\n", "not UTF-8 text: byte 0xff at offset 2"),
    ],
)
def test_bad_text(data: bytes, message: str) -> None:
    with pytest.raises(ContentError, match=message):
        parse_anki_text(data, filename="t.txt")


def test_html_guessed_when_the_header_is_absent() -> None:
    html_rows = parse_anki_text(b"<b>bold</b>&nbsp;front\tback<br>two\n", filename="h.txt")
    assert (html_rows.items[0].prompt, html_rows.items[0].answer) == ("bold front", "back\ntwo")
    plain = parse_anki_text(b"x < y\ta & b\n", filename="p.txt")
    assert (plain.items[0].prompt, plain.items[0].answer) == ("x < y", "a & b")
