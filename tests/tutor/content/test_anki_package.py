"""Anki packages in all three collection formats, from real Anki and genanki."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.tutor.content.conftest import PNG, PNG_NAME, AnkiFiles, GenankiFile, zip_members
from tutor.content import parse_anki_package, parse_deck_file
from tutor.items import Item, ItemKind, ParsedDeck


def _parse(path: Path, deck_name: str | None = None) -> ParsedDeck:
    return parse_deck_file(path.read_bytes(), path.name, deck_name=deck_name)


def _by_id(parsed: ParsedDeck) -> dict[str, Item]:
    return {item.external_id: item for item in parsed.items}


def test_packages_hold_the_formats_we_mean_to_test(
    anki_files: AnkiFiles, genanki_apkg: GenankiFile
) -> None:
    with zipfile.ZipFile(anki_files.apkg) as z:
        assert {"collection.anki21b", "collection.anki2"} <= set(z.namelist())
    with zipfile.ZipFile(anki_files.apkg_legacy) as z:
        assert "collection.anki21" in z.namelist()
        assert "collection.anki21b" not in z.namelist()
    with zipfile.ZipFile(anki_files.colpkg) as z:
        assert "collection.anki21b" in z.namelist()
    with zipfile.ZipFile(genanki_apkg.path) as z:
        assert set(z.namelist()) & {"collection.anki2", "collection.anki21"} == {"collection.anki2"}


@pytest.mark.parametrize("which", ["apkg", "apkg_legacy", "colpkg"])
def test_anki_formats_map_note_types_to_item_kinds(anki_files: AnkiFiles, which: str) -> None:
    parsed = _parse(getattr(anki_files, which))
    g = anki_files.guids
    items = _by_id(parsed)
    assert parsed.deck.name == "Geography"
    assert parsed.deck.slug == "geography"

    basic = items[f"{g['basic']}::0"]
    assert basic.kind is ItemKind.FLASHCARD
    assert basic.prompt == "Capital of France?"
    assert basic.answer == "Paris"
    assert basic.image == PNG_NAME
    assert parsed.media == {PNG_NAME: PNG}
    assert basic.tags == ("europe::west", "geo", "deck::Geography::Europe")

    assert items[f"{g['basic_zh']}::0"].answer == "北京"
    assert items[f"{g['basic_zh']}::0"].tags == ()

    forward, backward = items[f"{g['reversed']}::0"], items[f"{g['reversed']}::1"]
    assert (forward.prompt, forward.answer) == ("hola", "hello")
    assert (backward.prompt, backward.answer) == ("hello", "hola")

    assert items[f"{g['optional_on']}::1"].prompt == "river"
    assert f"{g['optional_off']}::0" in items
    assert f"{g['optional_off']}::1" not in items

    typed = items[f"{g['typed']}::0"]
    assert typed.kind is ItemKind.TYPED
    assert typed.prompt == "Year of the Battle of Hastings"
    assert typed.accepted == ("1066",)

    c1, c2 = items[f"{g['cloze']}::c1"], items[f"{g['cloze']}::c2"]
    assert c1.kind is c2.kind is ItemKind.CLOZE
    assert c1.prompt == "The [...] was sealed in 1215."
    assert (c1.answer, c1.accepted) == ("Magna Carta", ("Magna Carta",))
    assert c2.prompt == "The Magna Carta was sealed in [year]."
    assert c2.answer == "1215"
    assert c1.explanation == "At Runnymede"
    assert f"{g['cloze']}::c3" not in items

    custom = items[f"{g['custom']}::0"]
    assert (custom.kind, custom.prompt, custom.answer) == (
        ItemKind.FLASHCARD,
        "serendipity",
        "happy chance",
    )

    assert len(parsed.items) == 11
    skipped = {(s.where, s.reason) for s in parsed.skipped}
    ids = anki_files.note_ids
    assert (f"note {ids['basic_empty_back']}", "card 'Card 1': the answer side is empty") in skipped
    assert (f"note {ids['cloze']}", "cloze c3 is empty") in skipped
    # The basic note's back names a sound the package does not carry: the card stays.
    missing = "sound 'p.mp3' is missing from the file; the note is kept without it"
    assert (f"note {ids['basic']}", missing) in skipped
    assert len(parsed.skipped) == 3


def test_new_package_prefers_anki21b_over_the_dummy_anki2(anki_files: AnkiFiles) -> None:
    members = zip_members(anki_files.apkg)
    # The dummy collection alone only asks to update Anki.
    from tests.tutor.content.conftest import make_zip

    dummy_only = make_zip({"collection.anki2": members["collection.anki2"]})
    dummy = parse_anki_package(dummy_only, filename="dummy.apkg")
    assert all("update" in item.prompt.lower() for item in dummy.items)
    assert len(_parse(anki_files.apkg).items) == 11


def test_ids_are_stable_across_formats_and_reimports(anki_files: AnkiFiles) -> None:
    first = _parse(anki_files.apkg)
    again = _parse(anki_files.apkg)
    assert first.items == again.items
    for other in (anki_files.apkg_legacy, anki_files.colpkg, anki_files.txt):
        assert {i.external_id for i in _parse(other).items} == {i.external_id for i in first.items}


def test_deck_name_argument_overrides_and_keeps_subdeck_tags(anki_files: AnkiFiles) -> None:
    parsed = _parse(anki_files.apkg, deck_name="Maps")
    assert parsed.deck.name == "Maps"
    tags = {t for item in parsed.items for t in item.tags}
    assert {"deck::Geography", "deck::Geography::Europe"} <= tags


def test_genanki_anki2_package(genanki_apkg: GenankiFile) -> None:
    parsed = _parse(genanki_apkg.path)
    g = genanki_apkg.guids
    items = _by_id(parsed)
    assert parsed.deck.name == "History"
    basic = items[f"{g['basic']}::0"]
    assert (basic.prompt, basic.answer, basic.image) == (
        "Who was crowned in 1066?",
        "William",
        PNG_NAME,
    )
    assert basic.tags == ("england", "kings::norman", "deck::History::Medieval")
    assert parsed.media == {PNG_NAME: PNG}
    assert items[f"{g['reversed']}::1"].prompt == "King of the Franks"
    assert items[f"{g['typed']}::0"].accepted == ("1453",)
    assert items[f"{g['cloze']}::c2"].prompt == "Otto I was crowned in [...]"
    assert f"{g['optional_off']}::1" not in items
    assert len(parsed.items) == 7
