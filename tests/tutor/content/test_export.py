"""Exports import back to exactly the same deck and items."""

from __future__ import annotations

import dataclasses

import pytest

from tests.tutor.content.conftest import AnkiFiles
from tests.tutor.content.test_json_deck import ITEMS, _doc
from tests.tutor.content.test_tabular import GOOD_CSV
from tutor.content import ContentError, export_deck, parse_deck_file
from tutor.items import Deck, Item, ItemKind, ParsedDeck


def _round_trip(parsed: ParsedDeck, fmt: str) -> ParsedDeck:
    data = export_deck(parsed.deck, parsed.items, fmt)  # type: ignore[arg-type]
    return parse_deck_file(data, f"{parsed.deck.slug}.{fmt}", deck_name=parsed.deck.name)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_csv_and_json_decks_round_trip(fmt: str) -> None:
    for parsed in (
        parse_deck_file(GOOD_CSV.encode(), "World History.csv"),
        parse_deck_file(_doc(ITEMS, description="Dates"), "wh.json"),
    ):
        again = _round_trip(parsed, fmt)
        assert again.items == parsed.items
        assert again.deck.name == parsed.deck.name
        assert again.deck.language == parsed.deck.language


def test_json_keeps_deck_metadata_without_deck_name() -> None:
    parsed = parse_deck_file(_doc(ITEMS, description="Dates", slug="wh"), "x.json")
    data = export_deck(parsed.deck, parsed.items, "json")
    assert parse_deck_file(data, "other-name.json").deck == parsed.deck


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_anki_import_round_trips(anki_files: AnkiFiles, fmt: str) -> None:
    parsed = parse_deck_file(anki_files.apkg.read_bytes(), "new.apkg")
    assert {i.kind for i in parsed.items} == {ItemKind.FLASHCARD, ItemKind.TYPED, ItemKind.CLOZE}
    again = _round_trip(parsed, fmt)
    assert again.items == parsed.items


def test_stored_items_with_database_ids_round_trip() -> None:
    parsed = parse_deck_file(GOOD_CSV.encode(), "wh.csv")
    stored = [dataclasses.replace(i, id=n + 1, deck_id=7) for n, i in enumerate(parsed.items)]
    deck = dataclasses.replace(parsed.deck, id=7)
    data = export_deck(deck, stored, "json")
    assert parse_deck_file(data, "wh.json").items == parsed.items


@pytest.mark.parametrize(
    "text",
    [
        "{{c1::Qin}} and {{c2::Han}}; {{c1::Qin}} came first.",  # one number, two gaps
        "Literal [...] stays, [a] too; {{c1::gap::hint}} and {{c2::[x]}}.",
        "{{c1::Paris, France}} is a city.",  # an answer with a comma
        "汉朝由{{c1::刘邦}}建立，定都{{c2::长安::城市}}。",
    ],
)
def test_tricky_clozes_round_trip(text: str) -> None:
    parsed = parse_deck_file(
        _doc([{"id": "z", "type": "cloze", "question": text, "tags": ["t"]}]), "z.json"
    )
    assert len(parsed.items) >= 1
    for fmt in ("csv", "json"):
        assert _round_trip(parsed, fmt).items == parsed.items


def test_csv_refuses_what_it_cannot_carry_but_json_can() -> None:
    item = Item(
        kind=ItemKind.MULTIPLE_CHOICE,
        prompt="Pick one",
        external_id="p",
        options=("a|b", "c"),
        correct_option=0,
    )
    deck = Deck(slug="d", name="D")
    with pytest.raises(ContentError, match=r"item 'p': an option contains '\|'; export JSON"):
        export_deck(deck, [item], "csv")
    again = parse_deck_file(export_deck(deck, [item], "json"), "d.json")
    assert again.items == [item]


def test_unexportable_cloze_and_unknown_format() -> None:
    odd = Item(kind=ItemKind.CLOZE, prompt="no gap here", external_id="x::c1", answer="y")
    deck = Deck(slug="d", name="D")
    with pytest.raises(ContentError, match="cloze item 'x::c1' cannot be written back"):
        export_deck(deck, [odd], "json")
    with pytest.raises(ContentError, match="unknown export format 'xml'"):
        export_deck(deck, [], "xml")  # type: ignore[arg-type]
