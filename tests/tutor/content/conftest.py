"""Builders for deck files: real Anki packages (all three collection formats) and friends.

The packages are written once per test session: ``genanki`` writes ``collection.anki2``;
the ``anki`` package writes ``collection.anki21b`` (current format), ``collection.anki21``
(its legacy export), a ``.colpkg`` and a plain-text notes export.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

PNG = b"\x89PNG\r\n\x1a\n" + b"tiny test image"
PNG_NAME = "paris.png"


@dataclass(frozen=True)
class AnkiFiles:
    """Files exported from one Anki collection, and the GUIDs of its notes by role."""

    apkg: Path  # collection.anki21b
    apkg_legacy: Path  # collection.anki21
    colpkg: Path
    txt: Path
    guids: dict[str, str]
    note_ids: dict[str, int]


def _build_with_anki(folder: Path) -> AnkiFiles:
    from anki.collection import Collection
    from anki.decks import DeckId
    from anki.import_export_pb2 import ExportAnkiPackageOptions
    from anki.models import NotetypeDict

    col = Collection(str(folder / "collection.anki2"))
    models = col.models
    guids: dict[str, str] = {}
    note_ids: dict[str, int] = {}
    europe = col.decks.id("Geography::Europe")
    top = col.decks.id("Geography")
    assert europe is not None and top is not None

    def add(
        role: str,
        model: NotetypeDict,
        fields: dict[str, str],
        deck: DeckId,
        tags: tuple[str, ...] = (),
    ) -> None:
        note = col.new_note(model)
        for key, value in fields.items():
            note[key] = value
        note.tags = list(tags)
        col.add_note(note, deck)
        guids[role] = note.guid
        note_ids[role] = note.id

    image = folder / PNG_NAME
    image.write_bytes(PNG)
    assert col.media.add_file(str(image)) == PNG_NAME
    basic = models.by_name("Basic")
    assert basic is not None
    add(
        "basic",
        basic,
        {
            "Front": f'Capital of <b>France</b>?&nbsp;<img src="{PNG_NAME}">',
            "Back": "Paris [sound:p.mp3]",
        },
        europe,
        ("geo", "europe::west"),
    )
    add("basic_zh", basic, {"Front": "中国的首都？", "Back": "北京"}, top)
    add("basic_empty_back", basic, {"Front": "Unanswered", "Back": ""}, top)
    reversed_model = models.by_name("Basic (and reversed card)")
    assert reversed_model is not None
    add("reversed", reversed_model, {"Front": "hola", "Back": "hello"}, top)
    optional = models.by_name("Basic (optional reversed card)")
    assert optional is not None
    add("optional_on", optional, {"Front": "Rhine", "Back": "river", "Add Reverse": "y"}, top)
    add("optional_off", optional, {"Front": "Alps", "Back": "mountains"}, top)
    typed = models.by_name("Basic (type in the answer)")
    assert typed is not None
    add("typed", typed, {"Front": "Year of the Battle of Hastings", "Back": "1066"}, top)
    cloze = models.by_name("Cloze")
    assert cloze is not None
    add(
        "cloze",
        cloze,
        {
            "Text": "The {{c1::Magna Carta}} was sealed in {{c2::1215::year}}.{{c3:: }}",
            "Back Extra": "At Runnymede",
        },
        top,
    )
    custom = models.new("Vocabulary")
    for name in ("Word", "Meaning", "Example"):
        models.add_field(custom, models.new_field(name))
    template = models.new_template("Recognise")
    template["qfmt"] = "{{Word}}"
    template["afmt"] = "{{FrontSide}}<hr id=answer>{{Meaning}}<br>{{Example}}"
    models.add_template(custom, template)
    models.add(custom)
    vocab = models.by_name("Vocabulary")
    assert vocab is not None
    add("custom", vocab, {"Word": "serendipity", "Meaning": "happy chance", "Example": ""}, top)

    options = ExportAnkiPackageOptions(
        with_scheduling=False, with_deck_configs=False, with_media=True, legacy=False
    )
    apkg = folder / "new.apkg"
    col.export_anki_package(out_path=str(apkg), options=options, limit=None)
    legacy_options = ExportAnkiPackageOptions(
        with_scheduling=False, with_deck_configs=False, with_media=True, legacy=True
    )
    apkg_legacy = folder / "legacy.apkg"
    col.export_anki_package(out_path=str(apkg_legacy), options=legacy_options, limit=None)
    txt = folder / "notes.txt"
    col.export_note_csv(
        out_path=str(txt),
        limit=None,
        with_html=True,
        with_tags=True,
        with_deck=True,
        with_notetype=True,
        with_guid=True,
    )
    colpkg = folder / "whole.colpkg"
    col.export_collection_package(str(colpkg), include_media=True, legacy=False)  # closes col
    return AnkiFiles(apkg, apkg_legacy, colpkg, txt, guids, note_ids)


@pytest.fixture(scope="session")
def anki_files(tmp_path_factory: pytest.TempPathFactory) -> AnkiFiles:
    """Packages written by the real Anki library (built once per session)."""
    return _build_with_anki(tmp_path_factory.mktemp("anki"))


@dataclass(frozen=True)
class GenankiFile:
    """A genanki package and the GUIDs it used."""

    path: Path
    guids: dict[str, str]


@pytest.fixture(scope="session")
def genanki_apkg(tmp_path_factory: pytest.TempPathFactory) -> GenankiFile:
    """A ``collection.anki2`` package written by genanki (built once per session)."""
    import genanki

    folder = tmp_path_factory.mktemp("genanki")
    image = folder / PNG_NAME
    image.write_bytes(PNG)
    deck = genanki.Deck(2059400110, "History::Medieval")
    guids = {
        "basic": "gA1",
        "reversed": "gA2",
        "typed": "gA3",
        "cloze": "gA4",
        "optional_off": "gA5",
    }
    deck.add_note(
        genanki.Note(
            model=genanki.BASIC_MODEL,
            fields=[f'Who was crowned in 1066?<img src="{PNG_NAME}">', "William"],
            guid=guids["basic"],
            tags=["england", "kings::norman"],
        )
    )
    deck.add_note(
        genanki.Note(
            model=genanki.BASIC_AND_REVERSED_CARD_MODEL,
            fields=["Charlemagne", "King of the Franks"],
            guid=guids["reversed"],
        )
    )
    deck.add_note(
        genanki.Note(
            model=genanki.BASIC_TYPE_IN_THE_ANSWER_MODEL,
            fields=["Year of the fall of Constantinople", "1453"],
            guid=guids["typed"],
        )
    )
    deck.add_note(
        genanki.Note(
            model=genanki.CLOZE_MODEL,
            fields=["{{c1::Otto I}} was crowned in {{c2::962}}", ""],
            guid=guids["cloze"],
        )
    )
    deck.add_note(
        genanki.Note(
            model=genanki.BASIC_OPTIONAL_REVERSED_CARD_MODEL,
            fields=["Hanse", "trade league", ""],
            guid=guids["optional_off"],
        )
    )
    path = folder / "genanki.apkg"
    package = genanki.Package(deck)
    package.media_files = [str(image)]
    package.write_to_file(str(path), timestamp=1_700_000_000.0)
    return GenankiFile(path, guids)


def make_zip(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip archive holding ``members`` (names taken literally)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return buffer.getvalue()


def zip_members(path: Path) -> dict[str, bytes]:
    """All members of a zip file, by name."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}
