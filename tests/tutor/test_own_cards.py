"""Own cards in the domain: the card syntax, limits, and a personal deck nobody else reaches."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ServiceFactory
from tutor.errors import UnknownDeck
from tutor.items import ItemKind
from tutor.own_cards import (
    BackTooLong,
    CardGone,
    CardIncomplete,
    CardText,
    FrontTooLong,
    NoOwnCards,
    OwnCards,
    PictureTooLarge,
    TooManyAnswers,
    TooManyCards,
    card_item,
    card_line,
    parse_line,
    parse_sides,
    picture_type,
)
from tutor.service import TutorService
from tutor.views import Answer

DECK = {
    "metatutor": 1,
    "deck": {"slug": "shared", "name": "Shared", "language": "en"},
    "items": [{"id": "q", "type": "typed", "question": "2+2?", "answer": ["4"]}],
}


def test_a_line_is_a_flashcard_and_semicolons_make_a_typed_card() -> None:
    assert parse_line(" Mitochondria |  powerhouse ") == CardText(
        ItemKind.FLASHCARD, "Mitochondria", back="powerhouse"
    )
    assert parse_line("Peru | Lima; Ciudad de los Reyes; lima") == CardText(
        ItemKind.TYPED, "Peru", answers=("Lima", "Ciudad de los Reyes", "lima")
    )
    assert parse_line("Jupiter? | Jupiter;").answers == ("Jupiter",)


@pytest.mark.parametrize("line", ["no bar", "a | b | c", " | back", "front | ", "front | ;;"])
def test_incomplete_lines_are_refused(line: str) -> None:
    with pytest.raises(CardIncomplete):
        parse_line(line)


def test_sides_have_limits() -> None:
    with pytest.raises(FrontTooLong) as front:
        parse_sides("x" * 501, "b")
    assert front.value.params == {"limit": 500}
    with pytest.raises(BackTooLong):
        parse_sides("f", "y" * 301)
    with pytest.raises(TooManyAnswers):
        parse_sides("f", ";".join(str(n) for n in range(11)))
    assert parse_sides("x" * 500, "y" * 300).kind is ItemKind.FLASHCARD


@pytest.mark.parametrize(
    "line", ["Mitochondria | powerhouse", "Peru | Lima; Cusco", "Jupiter? | Jupiter;"]
)
def test_a_cards_line_reads_back_as_the_same_card(line: str) -> None:
    card = parse_line(line)
    assert parse_line(card_line(card_item(card, "x"))) == card


def test_picture_types_by_their_first_bytes() -> None:
    assert picture_type(b"\xff\xd8\xff\xe0rest") == "jpg"
    assert picture_type(b"\x89PNG\r\n") == "png"
    assert picture_type(b"plain text") is None


async def _student(service: TutorService, user_id: int) -> None:
    await service.register(user_id, user_id, "N", "en")


async def test_cards_live_in_a_personal_deck_the_owner_studies(service: TutorService) -> None:
    await service.import_file(json.dumps(DECK).encode(), "shared.json")
    for user_id in (1, 2):
        await _student(service, user_id)
        await service.enrol(user_id, "shared")
    cards = OwnCards(service)
    item = await cards.add(1, parse_line("Peru | Lima;"), picture=b"\x89PNG\r\nxx")
    assert item.kind is ItemKind.TYPED and item.image == "card-1.png"
    # Ada's quiz can ask it; the deck is hers alone
    names = [info.deck.name for info in await service.decks(1)]
    assert names == ["Shared"]
    with pytest.raises(UnknownDeck):
        await service.find_deck(item.deck_id)
    with pytest.raises(UnknownDeck):
        await service.enrol(2, item.deck_id)
    with pytest.raises(UnknownDeck):
        await service.export_deck(item.deck_id)
    asked = set()
    question = await service.start_quiz(1, 2)
    while question is not None:
        asked.add(question.item.id)
        await service.answer(1, question.id, _typed("4" if "2+2" in question.item.prompt else "x"))
        question = await service.next_question(1)
    assert item.id in asked
    # Eve: her quiz never has it, nor her cards
    question = await service.start_quiz(2, 5)
    while question is not None:
        assert question.item.id != item.id
        await service.answer(2, question.id, _typed("4"))
        question = await service.next_question(2)
    assert (await cards.page(2, 0)).total == 0
    with pytest.raises(CardGone):
        await cards.card(2, item.id)
    with pytest.raises(CardGone):
        await cards.delete(2, item.id)
    with pytest.raises(CardGone):
        await cards.edit(2, item.id, parse_line("Peru | Cusco;"))
    assert await cards.private_owner(item.id) == 1
    assert await cards.totals() == (1, 1)


def _typed(text: str) -> Answer:
    return Answer(text=text)


async def test_limits_edit_delete_and_export(service_factory: ServiceFactory) -> None:
    service: TutorService = await service_factory(max_own_cards=2, max_card_picture_bytes=10)
    await _student(service, 1)
    cards = OwnCards(service)
    with pytest.raises(NoOwnCards):
        await cards.export(1)
    with pytest.raises(PictureTooLarge) as large:
        await cards.add(1, parse_line("a | b"), picture=b"\xff\xd8\xff" + b"x" * 20)
    assert large.value.params == {"limit_kb": 1}
    first = await cards.add(1, parse_line("a | b"))
    second = await cards.add(1, parse_line("c | d"))
    with pytest.raises(TooManyCards):
        await cards.add(1, parse_line("e | f"))
    edited = await cards.edit(1, first.id, parse_line("a | bee;"))
    assert edited.kind is ItemKind.TYPED and edited.accepted == ("bee",)
    await cards.delete(1, second.id)
    with pytest.raises(CardGone):
        await cards.delete(1, second.id)
    third = await cards.add(1, parse_line("e | f"))  # a deleted card frees its place
    assert third.external_id == "card-3"
    name, data = await cards.export(1, "json")
    assert name == "my-cards.json"
    assert [item["question"] for item in json.loads(data)["items"]] == ["a", "e"]
    page = await cards.page(1, 9)
    assert (page.page, page.pages, page.total) == (0, 1, 2)
