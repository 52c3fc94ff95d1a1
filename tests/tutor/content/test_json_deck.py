"""JSON decks: the documented schema and its validation messages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tutor.content import ContentError, parse_json
from tutor.items import ItemKind


def _doc(items: list[dict[str, Any]], **deck: Any) -> bytes:
    header = {"slug": "world-history", "name": "World History", "language": "en"} | deck
    return json.dumps({"metatutor": 1, "deck": header, "items": items}).encode()


ITEMS: list[dict[str, Any]] = [
    {
        "id": "wh-001",
        "type": "multiple_choice",
        "question": "Which empire built the Colosseum?",
        "options": ["Greek", "Roman", "Persian", "Egyptian"],
        "answer": "Roman",
        "explanation": "Built under the Flavian emperors.",
        "tags": ["ancient::rome"],
        "image": "colosseum.png",
    },
    {"id": "wh-002", "type": "true_false", "question": "Carthage was in Africa.", "answer": True},
    {"id": "wh-003", "type": "true_false", "question": "Sparta was in Egypt.", "answer": "false"},
    {"id": "wh-004", "type": "typed", "question": "Hastings?", "answer": ["1066"]},
    {"id": "wh-005", "type": "typed", "question": "Waterloo?", "answer": "1815"},
    {"id": "wh-006", "type": "flashcard", "question": "front text", "answer": "back text"},
    {"id": "wh-007", "type": "cloze", "question": "The {{c1::Magna Carta}} in {{c2::1215}}."},
]


def test_json_all_types() -> None:
    parsed = parse_json(_doc(ITEMS, description="Dates and empires"), filename="wh.json")
    assert parsed.deck.slug == "world-history"
    assert parsed.deck.name == "World History"
    assert parsed.deck.description == "Dates and empires"
    items = {i.external_id: i for i in parsed.items}
    assert items["wh-001"].correct_option == 1
    assert items["wh-001"].image == "colosseum.png"
    assert items["wh-001"].tags == ("ancient::rome",)
    assert items["wh-002"].correct_option == 0
    assert items["wh-003"].correct_option == 1
    assert items["wh-004"].accepted == ("1066",)
    assert items["wh-005"].accepted == ("1815",)
    assert items["wh-006"].kind is ItemKind.FLASHCARD
    assert items["wh-007::c2"].prompt == "The Magna Carta in [...]."
    assert len(parsed.items) == 8


def test_deck_name_argument_and_detected_language() -> None:
    data = json.dumps(
        {
            "metatutor": 1,
            "items": [{"id": "a", "question": "秦朝建立于哪一年？", "answer": "前221年"}],
        }
    ).encode()
    parsed = parse_json(data, filename="qin.json", deck_name="中国历史")
    assert parsed.deck.name == "中国历史"
    assert parsed.deck.language == "zh"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "d.json is empty"),
        (b"\xff\xfe{}", "not UTF-8 text: byte 0xff at offset 0"),
        (b"{", r"line 1, column 2: d.json is not valid JSON: a name in double quotes"),
        (b"[]", "must hold a JSON object"),
        (b'{"items": []}', r'must start with "metatutor": 1'),
        (b'{"metatutor": 1, "items": []}', "d.json has no items"),
        (_doc([{"question": "q", "answer": "a"}]), "item 1: field 'id' is missing"),
        (
            _doc([{"id": "a", "question": "q", "answer": "a"}, {"id": "b", "answer": "x"}]),
            r"item 2 \(id 'b'\): field 'question' is missing",
        ),
        (
            _doc(
                [
                    {
                        "id": "a",
                        "type": "multiple_choice",
                        "question": "q",
                        "options": ["x", "y"],
                        "answer": "z",
                    }
                ]
            ),
            r"item 1 \(id 'a'\): answer 'z' is not among the options \(x \| y\)",
        ),
        (
            _doc(
                [
                    {"id": "a", "question": "q", "answer": "x"},
                    {"id": "a", "question": "r", "answer": "y"},
                ]
            ),
            r"item 2 \(id 'a'\): duplicate id 'a' \(first used at item 1 \(id 'a'\)\)",
        ),
        (_doc([{"id": "a", "question": "q", "answer": 3}]), "'answer' must be a string"),
        (_doc([{"id": "a", "question": "q", "answer": "x", "tags": "t"}]), "'tags' must be a list"),
        (_doc([{"id": "a", "question": "q", "answer": "x", "hint": "h"}]), "unknown field"),
        (_doc(ITEMS, slug="Bad Slug"), "slug 'Bad Slug' must use only lowercase"),
        (_doc(ITEMS, language="fr"), "language 'fr' must be one of en, zh"),
        (
            _doc([{"id": "a", "type": "typed", "question": "q", "answer": []}]),
            "typed needs at least one accepted answer",
        ),
    ],
)
def test_bad_json(data: bytes, message: str) -> None:
    with pytest.raises(ContentError, match=message):
        parse_json(data, filename="d.json")
