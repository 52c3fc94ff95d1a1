"""Large imports in a worker process: the same report, the same errors, nothing parsed here."""

from __future__ import annotations

import pytest

from tests.conftest import ServiceFactory
from tutor import library
from tutor.errors import ContentRejected, UnknownDeck
from tutor.service import TutorService


@pytest.fixture
async def via_worker(
    service_factory: ServiceFactory, monkeypatch: pytest.MonkeyPatch
) -> TutorService:
    """A service that hands every file to a worker process (and cannot parse one itself)."""

    def not_here(*args: object) -> None:
        raise AssertionError("parsed in the bot's process")

    monkeypatch.setattr(library, "parse_upload", not_here)
    return await service_factory(worker_import_bytes=1)


async def test_a_worker_imports_updates_and_audits_like_the_service(
    via_worker: TutorService,
) -> None:
    rows = "".join(f"w{k},Question {k}?,answer {k},Workers\n" for k in range(50))
    data = ("id,question,answer,deck\n" + rows).encode()
    report = await via_worker.import_file(data, "workers.csv", actor_id=7)
    assert (report.deck.name, report.added, report.updated) == ("Workers", 50, 0)
    (info,) = await via_worker.decks()
    assert (info.deck.id, info.n_items) == (report.deck.id, 50)
    again = await via_worker.import_file(data.replace(b"answer 3,", b"answer three,"), "w.csv")
    assert (again.deck.id, again.added, again.updated, again.unchanged) == (info.deck.id, 0, 1, 49)
    async with via_worker.db.read() as conn:
        rows_ = await conn.execute_fetchall("SELECT actor_id, action FROM audit_log")
    assert [tuple(row) for row in rows_] == [(7, "import")]


async def test_a_workers_errors_arrive_whole(via_worker: TutorService) -> None:
    with pytest.raises(ContentRejected) as refused:
        await via_worker.import_file(b"Which planet is red? Mars\n", "long.txt")
    assert refused.value.params["cause"] == "not_anki_notes"
    assert refused.value.params["filename"] == "long.txt"
    assert "does not look like an Anki notes export" in str(refused.value)
    with pytest.raises(UnknownDeck) as unknown:
        await via_worker.import_file(b"question,answer\nA?,a\n", "a.csv", deck_name="deck_42")
    assert unknown.value.params["deck"] == "deck_42"
    assert await via_worker.decks() == []
