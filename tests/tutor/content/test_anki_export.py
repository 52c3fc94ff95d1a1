"""Decks out as Anki packages: Anki imports them, media included, and they import back to the
very same items."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from tests.tutor.content.conftest import PNG, AnkiFiles
from tests.tutor.content.test_sounds import MP3, OGG
from tutor.content import ContentError, parse_deck_file
from tutor.content.anki_export import export_package
from tutor.items import ItemKind, ParsedDeck

DECK = {
    "metatutor": 1,
    "deck": {"slug": "french", "name": "French words", "language": "en"},
    "items": [
        {
            "id": "mc",
            "type": "multiple_choice",
            "question": 'Which word means <cat> & "dog"?',
            "options": ["chat & chien", "oiseau", "poisson"],
            "answer": "chat & chien",
            "explanation": "Two lines:\nchat, chien.",
            "tags": ["animals", "fr::nouns"],
            "image": "cat.png",
        },
        {"id": "tf", "type": "true_false", "question": "« Merci » means thanks.", "answer": True},
        {
            "id": "typed",
            "type": "typed",
            "question": "",
            "answer": ["hello", "good morning"],
            "audio": "bonjour.mp3",
            "answer_audio": "hello.ogg",
        },
        {
            "id": "card",
            "type": "flashcard",
            "question": "le chat",
            "answer": "the cat\n(masculine)",
            "audio": "bonjour.mp3",
        },
        {
            "id": "cloze",
            "type": "cloze",
            "question": "Le {{c1::chat}} dort sur le {{c2::lit::meuble}}.",
            "explanation": "The cat sleeps on the bed.",
            "answer_audio": "hello.ogg",
        },
    ],
}
MEDIA = {"cat.png": PNG, "bonjour.mp3": MP3, "hello.ogg": OGG}


def _french() -> ParsedDeck:
    parsed = parse_deck_file(json.dumps(DECK).encode(), "french.json")
    parsed.media.update(MEDIA)
    return parsed


def test_a_package_imports_back_to_the_same_items_and_media() -> None:
    parsed = _french()
    data = export_package(parsed.deck, parsed.items, parsed.media)
    again = parse_deck_file(data, "anything.apkg")
    assert again.items == parsed.items
    assert {i.kind for i in again.items} == set(ItemKind)
    assert again.media == MEDIA
    assert again.deck.name == "French words"
    assert again.skipped == []


def test_anki_made_packages_go_out_and_back_unchanged(anki_files: AnkiFiles) -> None:
    parsed = parse_deck_file(anki_files.apkg.read_bytes(), "new.apkg")
    assert any(item.image for item in parsed.items)
    data = export_package(parsed.deck, parsed.items, parsed.media)
    again = parse_deck_file(data, "new-again.apkg")
    assert again.items == parsed.items
    assert again.media == parsed.media


def test_the_package_opens_in_ankis_own_collection_code(tmp_path: Path) -> None:
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    parsed = _french()
    path = tmp_path / "french.apkg"
    path.write_bytes(export_package(parsed.deck, parsed.items, parsed.media))
    col = Collection(str(tmp_path / "collection.anki2"))
    try:
        col.import_anki_package(
            ImportAnkiPackageRequest(
                package_path=str(path), options=ImportAnkiPackageOptions(with_scheduling=False)
            )
        )
        # One note per item: each gap of the cloze is a note holding only its own deletion.
        assert col.note_count() == 6
        assert col.card_count() == 6
        media_dir = Path(col.media.dir())
        assert {name: (media_dir / name).read_bytes() for name in MEDIA} == MEDIA
        deck_id = col.decks.id_for_name("French words")
        assert deck_id is not None
        cards = [col.get_card(cid) for cid in col.find_cards("")]
        questions = [card.question() for card in cards]
        assert any("Which word means &lt;cat&gt;" in q and "cat.png" in q for q in questions)
        # Anki plays each sound on its own side.
        front = {getattr(t, "filename", "") for card in cards for t in card.question_av_tags()}
        back = {getattr(t, "filename", "") for card in cards for t in card.answer_av_tags()}
        assert "bonjour.mp3" in front and "hello.ogg" not in front
        assert "hello.ogg" in back
        answers = [col.get_card(cid).answer() for cid in col.find_cards("tag:fr::nouns")]
        assert answers and "chat &amp; chien" in answers[0]
        # Anki exports it again (current format), and that imports to the same items.
        again_path = tmp_path / "from-anki.apkg"
        col.export_anki_package(out_path=str(again_path), options=_export_options(), limit=None)
    finally:
        col.close()
    again = parse_deck_file(again_path.read_bytes(), "from-anki.apkg")
    assert again.items == parsed.items
    assert again.media == MEDIA


def _export_options() -> object:
    from anki.import_export_pb2 import ExportAnkiPackageOptions

    return ExportAnkiPackageOptions(
        with_scheduling=False, with_deck_configs=False, with_media=True, legacy=False
    )


def test_an_item_anki_cannot_carry_is_named() -> None:
    parsed = _french()
    spaced = dataclasses.replace(parsed.items[0], tags=("two words",))
    with pytest.raises(ContentError, match="'mc': Anki tags cannot contain spaces"):
        export_package(parsed.deck, [spaced], parsed.media)


def test_media_the_deck_lacks_are_left_out() -> None:
    parsed = _french()
    data = export_package(parsed.deck, parsed.items, {"cat.png": PNG})
    again = parse_deck_file(data, "french.apkg")
    assert again.media == {"cat.png": PNG}
    assert all(item.audio is None and item.answer_audio is None for item in again.items)
    # The notes stay without their sounds, except the one whose question was only a sound.
    assert [i.external_id for i in again.items] == ["mc", "tf", "card", "cloze::c1", "cloze::c2"]
    assert {entry.reason for entry in again.skipped} == {
        "sound 'bonjour.mp3' is missing from the file; the note is kept without it",
        "sound 'hello.ogg' is missing from the file; the note is kept without it",
        "question is empty",
    }
