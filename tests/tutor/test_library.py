"""Which deck a file goes into, exports that import back in place, bundled decks, empty files."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import Database
from tests.conftest import ServiceFactory
from tutor.errors import ContentRejected, UnknownDeck
from tutor.items import Item
from tutor.service import TutorService


async def _items(service: TutorService, deck_id: int) -> list[Item]:
    from storage import content as content_rows
    from tutor.convert import item_from_record

    async with service.db.read() as conn:
        return [item_from_record(r) for r in await content_rows.deck_items(conn, deck_id)]


async def _items_version(db: Database, deck_id: int) -> int:
    async with db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT items_version FROM decks WHERE id = ?", (deck_id,)
        )
    return int(next(iter(rows))[0])


async def _deck_count(db: Database) -> int:
    async with db.read() as conn:
        rows = await conn.execute_fetchall("SELECT COUNT(*) FROM decks")
    return int(next(iter(rows))[0])


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json"])
async def test_an_export_imports_back_into_the_same_deck_unchanged(
    studying: TutorService, fmt: str
) -> None:
    deck = await studying.find_deck("sample")
    before = await _items(studying, deck.id)
    version = await _items_version(studying.db, deck.id)
    # Saved under another name: the file itself says which deck it is.
    _, data = await studying.export_deck(deck.id, fmt)
    report = await studying.import_file(data, f"wh.{fmt}")
    assert report.deck.id == deck.id and report.deck.name == "Sample"
    assert (report.added, report.updated, report.unchanged) == (0, 0, len(before))
    assert await _items(studying, deck.id) == before
    assert await _items_version(studying.db, deck.id) == version  # nothing was written
    assert [info.deck.name for info in await studying.decks()] == ["Sample"]


async def test_an_export_updates_the_deck_after_it_was_renamed(studying: TutorService) -> None:
    from tutor.admin import AdminService

    _, data = await studying.export_deck("sample", "csv")
    edited = data.replace(b"Cusco lay at the heart", b"Cusco lay at the centre")
    await AdminService(studying).rename_deck(1, "sample", "Inca and friends")
    report = await studying.import_file(edited, "anything.csv")
    assert report.deck.slug == "sample" and report.deck.name == "Inca and friends"
    assert (report.added, report.updated, report.unchanged) == (0, 1, 5)
    assert len(await studying.decks()) == 1


async def test_an_explicit_deck_always_wins(studying: TutorService) -> None:
    _, data = await studying.export_deck("sample", "csv")
    report = await studying.import_file(data, "sample.csv", deck_name="Copy of sample")
    assert report.deck.name == "Copy of sample" and report.added == 6
    again = await studying.import_file(data, "sample.csv", deck_name="copy-of-sample")
    assert again.deck.id == report.deck.id and again.unchanged == 6
    with pytest.raises(UnknownDeck):
        await studying.import_file(data, "sample.csv", deck_name="deck_99")
    assert len(await studying.decks()) == 2


async def test_a_csv_naming_two_decks_is_refused(service: TutorService) -> None:
    csv = b"question,answer,deck\nA?,a,Rome\nB?,b,Egypt\n"
    with pytest.raises(ContentRejected) as refused:
        await service.import_file(csv, "mixed.csv")
    assert refused.value.params["cause"] == "several_decks"
    assert "'Rome' (line 2), 'Egypt' (line 3)" in str(refused.value)
    assert await service.decks() == []


def _flags_package(path: Path) -> bytes:
    import genanki

    deck = genanki.Deck(2059400222, "Flags: Europe")
    for number, (front, back) in enumerate(
        [("Red white red?", "Austria"), ("Tricolore?", "France")]
    ):
        deck.add_note(
            genanki.Note(model=genanki.BASIC_MODEL, fields=[front, back], guid=f"flag{number}")
        )
    genanki.Package(deck).write_to_file(str(path))
    return path.read_bytes()


async def test_an_anki_deck_keeps_its_name_through_reimports_and_exports(
    service: TutorService, tmp_path: Path
) -> None:
    data = _flags_package(tmp_path / "Flags Europe.apkg")
    first = await service.import_file(data, "Flags Europe.apkg")
    second = await service.import_file(data, "Flags_ Europe.apkg")
    assert first.deck.name == second.deck.name == "Flags: Europe"
    assert second.deck.id == first.deck.id and (second.added, second.unchanged) == (0, 2)
    for fmt in ("csv", "tsv", "json"):
        name, exported = await service.export_deck(first.deck.id, fmt)
        assert name == f"flags-europe.{fmt}"
        again = await service.import_file(exported, name)
        assert (again.deck.id, again.deck.name, again.unchanged) == (
            first.deck.id,
            "Flags: Europe",
            2,
        )
    assert [info.deck.name for info in await service.decks()] == ["Flags: Europe"]


TRIVIA = (
    "Which planet is known as the red planet? Mars\n"
    "What is the largest ocean on Earth? Pacific\n"
    "Who painted the Mona Lisa? Leonardo da Vinci\n"
)


@pytest.mark.parametrize(
    ("data", "filename", "cause", "says"),
    [
        (TRIVIA.encode(), "long.txt", "not_anki_notes", "does not look like an Anki notes export"),
        (b"prompt,reply\nA?,a\n", "quiz.csv", "no_question_column", "missing required column"),
        (
            b'{"metatutor": 1, "items": [{"id": "e", "type": "cloze", "question": "{{c1::}}"}]}',
            "empty.json",
            "no_items",
            "yields no questions: all 1 entries were skipped",
        ),
    ],
)
async def test_a_file_without_questions_creates_nothing_and_says_why(
    service: TutorService, data: bytes, filename: str, cause: str, says: str
) -> None:
    before = await _deck_count(service.db)
    with pytest.raises(ContentRejected) as refused:
        await service.import_file(data, filename)
    assert refused.value.params["cause"] == cause
    assert refused.value.params["filename"] == filename
    assert says in str(refused.value)
    assert await _deck_count(service.db) == before
    assert await service.decks() == []


async def test_bundled_decks_sync_only_when_their_content_changed(
    service_factory: ServiceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tutor import library

    service = await service_factory()
    first = await service.install_bundled_decks()
    assert {report.deck.slug for report in first} == {"demo", "world-history", "chinese-history"}
    decks = {info.deck.slug: info.deck.id for info in await service.decks()}
    versions = {slug: await _items_version(service.db, id_) for slug, id_ in decks.items()}
    async with service.db.read() as conn:
        changes = conn.total_changes
    assert await service.install_bundled_decks() == []
    async with service.db.read() as conn:
        assert conn.total_changes == changes
    assert {s: await _items_version(service.db, i) for s, i in decks.items()} == versions

    # An admin's import into a bundled deck is not undone by the next start.
    _, exported = await service.export_deck("world-history", "json")
    edited = exported.replace(b"Sumerian cities", b"The Sumerian cities", 1)
    assert (await service.import_file(edited, "wh.json")).updated == 1
    assert await service.install_bundled_decks() == []
    assert any(
        i.prompt.startswith("The Sumerian") for i in await _items(service, decks["world-history"])
    )
    versions["world-history"] = await _items_version(service.db, decks["world-history"])

    # A new package version changes one question of the demo deck: only that deck moves.
    files = library.bundled_deck_files()
    changed = [
        (name, data.replace(b"Which country's flag is shown?", b"Whose flag is this?"))
        if name == "demo.json"
        else (name, data)
        for name, data in files
    ]
    monkeypatch.setattr(library, "bundled_deck_files", lambda: changed)
    (report,) = await service.install_bundled_decks()
    assert (report.deck.slug, report.added, report.updated) == ("demo", 0, 1)
    assert await _items_version(service.db, decks["demo"]) > versions["demo"]
    assert await _items_version(service.db, decks["world-history"]) == versions["world-history"]
