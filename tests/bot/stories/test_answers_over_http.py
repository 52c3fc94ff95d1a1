"""A newcomer's first quiz, one story per kind of question and per language, with the real
bot serving by long polling over HTTP: what they read after answering (right or wrong, the
correct answer, a cloze's sentence filled in) and the question that follows."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest

from bot.fake_telegram.objects import FakeUser
from bot.i18n import plain
from tests.bot.http_chat import HttpChat, http_chat
from tests.conftest import ServiceFactory

ADA = FakeUser(101, "Ada", language_code="en-GB")
LEI = FakeUser(202, "李雷", language_code="zh-hans")


@dataclass(frozen=True)
class Content:
    """A deck's worth of questions in one language."""

    deck: str
    items: dict[str, dict[str, Any]]


CONTENT = {
    "en": Content(
        "First steps",
        {
            "mc": {
                "type": "multiple_choice",
                "question": "Which planet is known as the Red Planet?",
                "options": ["Mercury", "Venus", "Mars"],
                "answer": "Mars",
                "explanation": "Iron oxide in its dust makes Mars look red.",
            },
            "tf": {"type": "true_false", "question": "The Sun is a star.", "answer": True},
            "typed": {"type": "typed", "question": "Capital of Japan?", "answer": ["Tokyo"]},
            "card": {"type": "flashcard", "question": "H₂O", "answer": "Water"},
            "cloze": {"type": "cloze", "question": "The {{c1::Magna Carta}} was sealed in 1215."},
            "cloze2": {"type": "cloze", "question": "{{c1::Constantinople}} fell in 1453."},
            "next": {
                "type": "true_false",
                "question": "Water boils at 100 °C at sea level.",
                "answer": True,
            },
        },
    ),
    "zh": Content(
        "入门练习",
        {
            "mc": {
                "type": "multiple_choice",
                "question": "哪颗行星被称为红色星球？",
                "options": ["水星", "金星", "火星"],
                "answer": "火星",
                "explanation": "火星表面的氧化铁让它看起来是红色的。",
            },
            "tf": {"type": "true_false", "question": "太阳是一颗恒星。", "answer": True},
            "typed": {"type": "typed", "question": "日本的首都是哪里？", "answer": ["东京"]},
            "card": {"type": "flashcard", "question": "H₂O", "answer": "水"},
            "cloze": {"type": "cloze", "question": "公元前221年，{{c1::秦}}统一了中国。"},
            "cloze2": {"type": "cloze", "question": "{{c1::郑和}}曾七次下西洋。"},
            "next": {"type": "true_false", "question": "水在海平面的沸点是100°C。", "answer": True},
        },
    ),
}
USERS = {"en": ADA, "zh": LEI}
#: Which items each story's deck holds, in order: the kind under test first.
DECKS = {
    "multiple_choice": ["mc", "next"],
    "true_false": ["tf", "next"],
    "typed": ["typed", "next"],
    "flashcard": ["card", "next"],
    "cloze_typed": ["cloze", "cloze2", "next"],
    "cloze_revealed": ["cloze", "next"],
}


def _deck_file(lang: str, story: str) -> bytes:
    content = CONTENT[lang]
    items = [{"id": key, **content.items[key]} for key in DECKS[story]]
    deck = {"slug": f"first-{lang}", "name": content.deck, "language": lang}
    return json.dumps({"metatutor": 1, "deck": deck, "items": items}).encode()


async def _onboard(chat: HttpChat, user: FakeUser, deck: str) -> None:
    """/start: the preselected language, the deck, UTC, no daily quiz, no exam."""
    await chat.send(user, "/start")
    [preselected] = [label for label in chat.buttons(user) if label.startswith("✓")]
    await chat.press(user, preselected)
    await chat.press(user, f"➕ {deck}")
    await chat.press(user, "o:deck:done")
    await chat.press(user, "UTC")
    await chat.press(user, "o:time:none")
    await chat.press(user, "o:exam:skip")


STORIES = [(story, lang) for story in DECKS for lang in ("en", "zh")]


@pytest.mark.parametrize(("story", "lang"), STORIES)
async def test_a_first_quiz_over_http(
    service_factory: ServiceFactory, story: str, lang: str
) -> None:
    service = await service_factory()
    await service.import_file(_deck_file(lang, story), f"first-{lang}.json")
    user = USERS[lang]
    deck = CONTENT[lang].deck
    total = len(DECKS[story])
    async with http_chat(service) as chat:
        await _onboard(chat, user, deck)
        turn = await chat.send(user, f"/quiz {total}")
        question = turn.new[-1]
        assert _text(lang, "quiz.header", number=1, total=total, deck=deck) in question.plain
        steps = STEPS[story]
        last = await steps(chat, user, lang)
        # The next question follows the feedback, numbered on.
        header = _text(lang, "quiz.header", number=total, total=total, deck=deck)
        assert last.new[-1].plain.startswith(header)
        assert CONTENT[lang].items["next"]["question"] in last.new[-1].plain
        assert chat.errors == []
        assert chat.server.requests > 10  # all of it went over the wire


def _text(lang: str, key: str, **params: Any) -> str:
    """A catalog text as the user reads it (no markup)."""
    return re.sub(r"<[^>]+>", "", plain(lang, key, **params))


async def _multiple_choice(chat: HttpChat, user: FakeUser, lang: str) -> Any:
    item = CONTENT[lang].items["mc"]
    assert sorted(chat.buttons(user)) == sorted(item["options"])
    wrong = item["options"][0]
    turn = await chat.press(user, wrong)
    [edited] = turn.edited  # the question, turned into its feedback
    assert edited.buttons == [] and item["question"] in edited.plain
    feedback = edited.plain
    assert _text(lang, "feedback.your_answer", given=wrong) in feedback
    assert _text(lang, "feedback.wrong") in feedback
    assert _text(lang, "feedback.correct_answer", answer=item["answer"]) in feedback
    assert item["explanation"] in feedback
    return turn


async def _true_false(chat: HttpChat, user: FakeUser, lang: str) -> Any:
    assert chat.buttons(user) == [plain(lang, "button.true"), plain(lang, "button.false")]
    turn = await chat.press(user, plain(lang, "button.true"))
    [edited] = turn.edited
    feedback = edited.plain
    assert _text(lang, "feedback.correct") in feedback
    assert _text(lang, "feedback.wrong") not in feedback
    return turn


async def _typed(chat: HttpChat, user: FakeUser, lang: str) -> Any:
    assert chat.last(user).buttons == []
    assert _text(lang, "quiz.type_answer") in chat.last(user).plain
    typo = "Osaka" if lang == "en" else "大阪"
    turn = await chat.send(user, typo)
    feedback = turn.new[0].plain
    assert _text(lang, "feedback.wrong") in feedback
    assert _text(lang, "feedback.your_answer", given=typo) in feedback
    answer = CONTENT[lang].items["typed"]["answer"][0]
    assert _text(lang, "feedback.correct_answer", answer=answer) in feedback
    return turn


async def _flashcard(chat: HttpChat, user: FakeUser, lang: str) -> Any:
    back = CONTENT[lang].items["card"]["answer"]
    assert chat.buttons(user) == [plain(lang, "button.show_answer")]
    shown = await chat.press(user, plain(lang, "button.show_answer"))
    [revealed] = shown.edited
    assert _text(lang, "quiz.answer_is", answer=back) in revealed.plain
    assert revealed.button_texts == [plain(lang, f"button.grade_{g}") for g in (1, 2, 3, 4)]
    turn = await chat.press(user, plain(lang, "button.grade_3"))
    [edited] = turn.edited
    assert _text(lang, "feedback.graded", grade=plain(lang, "button.grade_3")) in edited.plain
    assert _text(lang, "quiz.answer_is", answer=back) in edited.plain and not edited.buttons
    return turn


async def _cloze_typed(chat: HttpChat, user: FakeUser, lang: str) -> Any:
    asked = chat.last(user).plain
    assert _text(lang, "quiz.cloze_type_or_reveal") in asked
    assert chat.buttons(user) == [plain(lang, "button.show_answer")]
    # Wrong: marked wrong, their answer, the sentence as it should read.
    wrong = "Domesday Book" if lang == "en" else "汉"
    turn = await chat.send(user, wrong)
    feedback = turn.new[0].plain
    assert _text(lang, "feedback.wrong") in feedback
    assert _text(lang, "feedback.your_answer", given=wrong) in feedback
    sentence = (
        "The Magna Carta was sealed in 1215." if lang == "en" else "公元前221年，秦统一了中国。"
    )
    assert _text(lang, "feedback.cloze_filled", sentence=sentence) in feedback
    assert "rated" not in feedback and "评价" not in feedback
    assert chat.messages(user)[-3].buttons == []  # its "Show answer" is gone
    # Right: marked right, with the whole sentence.
    right = "constantinople" if lang == "en" else "郑和"
    turn = await chat.send(user, right)
    feedback = turn.new[0].plain
    assert _text(lang, "feedback.correct") in feedback
    sentence = "Constantinople fell in 1453." if lang == "en" else "郑和曾七次下西洋。"
    assert _text(lang, "feedback.cloze_filled", sentence=sentence) in feedback
    return turn


async def _cloze_revealed(chat: HttpChat, user: FakeUser, lang: str) -> Any:
    shown = await chat.press(user, plain(lang, "button.show_answer"))
    [revealed] = shown.edited
    answer = "Magna Carta" if lang == "en" else "秦"
    assert _text(lang, "quiz.answer_is", answer=answer) in revealed.plain
    turn = await chat.press(user, plain(lang, "button.grade_2"))
    [edited] = turn.edited
    assert _text(lang, "feedback.graded", grade=plain(lang, "button.grade_2")) in edited.plain
    return turn


STEPS = {
    "multiple_choice": _multiple_choice,
    "true_false": _true_false,
    "typed": _typed,
    "flashcard": _flashcard,
    "cloze_typed": _cloze_typed,
    "cloze_revealed": _cloze_revealed,
}
