"""Stories of a keen student: past today's new questions, they are offered more instead of
practising what they saw minutes ago; and the demo deck shows every kind of question early."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.fake_telegram.driver import ChatDriver
from bot.fake_telegram.objects import SentMessage
from tests.bot.stories.conftest import ADA, LEI, onboard
from tutor.service import TutorService

CAPITALS = {
    "metatutor": 1,
    "deck": {"slug": "capitals", "name": "Capitals", "language": "en"},
    "items": [
        {
            "id": f"cap{i}",
            "type": "true_false",
            "question": f"{city} is the capital of {country}.",
            "answer": True,
        }
        for i, (city, country) in enumerate(
            [
                ("Paris", "France"),
                ("Rome", "Italy"),
                ("Madrid", "Spain"),
                ("Lisbon", "Portugal"),
                ("Berlin", "Germany"),
                ("Vienna", "Austria"),
                ("Prague", "Czechia"),
                ("Warsaw", "Poland"),
                ("Oslo", "Norway"),
                ("Dublin", "Ireland"),
                ("Athens", "Greece"),
                ("Bern", "Switzerland"),
            ]
        )
    ],
}


def _statement(message: SentMessage) -> str:
    return next(line for line in message.plain.splitlines() if "is the capital of" in line)


async def _answer_true(chat: ChatDriver, count: int) -> list[str]:
    """Answer ``count`` questions with True; the statements asked, in order."""
    asked = []
    for _ in range(count):
        question = chat.message_with_button(ADA, "True")
        asked.append(_statement(question))
        await chat.press(ADA, "True", message=question)
    return asked


async def test_past_todays_new_questions_ada_asks_for_more(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await tutor.import_file(json.dumps(CAPITALS).encode(), "capitals.json")
    await onboard(chat, ADA, deck="Capitals")
    # The default goal (20 answers a day) brings 5 new questions a day.
    await chat.send(ADA, "/quiz 5")
    first = await _answer_true(chat, 5)
    assert len(set(first)) == 5
    assert "Session done:" in chat.last(ADA).plain

    # Another quiz the same day: the quota is used, so it would be practice of those five,
    # seen minutes ago. It says so, and offers new questions instead.
    turn = await chat.send(ADA, "/quiz 5")
    practice = turn.new[-1]
    assert "🎯 practice" in practice.plain and _statement(practice) in first
    assert "You have met today's new questions, so this one is practice." in practice.plain
    assert practice.button_texts == ["True", "False", "➕ 5 more new questions today"]

    turn = await chat.press(ADA, "➕ 5 more new questions today")
    [replaced] = turn.edited
    assert replaced.message_id == practice.message_id and replaced.buttons == []
    assert replaced.plain == "➕ New questions instead of this practice one: here comes the first."
    assert "Question 1/5" in turn.new[-1].plain and "🆕 new" in turn.new[-1].plain
    more = await _answer_true(chat, 5)
    assert not set(more) & set(first) and len(set(more)) == 5  # five new ones, no repeats

    # Two are left: the next practice question offers those.
    turn = await chat.send(ADA, "/quiz 3")
    practice = turn.new[-1]
    assert practice.button_texts[-1] == "➕ 2 more new questions today"
    # Answering the practice question instead takes the offer away with its buttons.
    offer = practice.button_data[-1]
    await chat.press(ADA, "True", message=practice)
    assert practice.buttons == []
    stale = await chat.press_data(ADA, practice, offer)
    assert stale.answer is not None
    assert stale.answer.text == (
        "This button has expired. The offer comes back with the next practice question."
    )


async def test_the_offer_in_chinese(chat: ChatDriver, tutor: TutorService) -> None:
    await tutor.import_file(json.dumps(CAPITALS).encode(), "capitals.json")
    await onboard(chat, LEI, deck="Capitals")
    await chat.send(LEI, "/quiz 5")
    for _ in range(5):
        await chat.press(LEI, "正确")
    turn = await chat.send(LEI, "/quiz 5")
    assert "今天的新题已经学完了，所以这道是练习题。" in turn.new[-1].plain
    assert turn.new[-1].button_texts[-1] == "➕ 今天再学 5 道新题"
    turn = await chat.press(LEI, "➕ 今天再学 5 道新题")
    assert "🆕 新题" in turn.new[-1].plain


DEMO = json.loads(
    (Path(__file__).resolve().parents[3] / "tutor" / "decks" / "demo.json").read_text("utf-8")
)
KINDS = {"multiple_choice", "true_false", "typed", "flashcard", "cloze"}


def _demo_item(message: SentMessage) -> dict[str, Any]:
    """The demo deck's entry a question message shows."""
    text = message.plain
    for item in DEMO["items"]:
        prompt = item["question"]
        if item["type"] == "cloze":
            prompt = prompt.split("{{")[0] or prompt.split("}}")[-1]
        if prompt.strip() and prompt.strip() in text:
            return dict(item)
    raise LookupError(text)


async def test_the_demo_deck_shows_every_kind_in_its_first_five_answers(
    service_factory: Any, fake: Any
) -> None:
    """Five: the default goal (20 a day) allows five new questions before anything else,
    and the deck has five kinds, so one of each must be among them (for a student who
    answers right; a wrong answer's relearning would come fifth)."""
    from bot.app import build_application
    from tests.bot.stories.conftest import story_settings

    service = await service_factory(bundled=True)
    async with ChatDriver(build_application(story_settings(), service, request=fake)) as chat:
        await onboard(chat, ADA, deck="Demo: quick tour")
        await chat.send(ADA, "/quiz 5")
        kinds = []
        for _ in range(5):
            question = chat.last(ADA)
            item = _demo_item(question)
            kinds.append(item["type"])
            if item["type"] == "multiple_choice":
                await chat.press(ADA, item["answer"])
            elif item["type"] == "true_false":
                await chat.press(ADA, "True" if item["answer"] else "False")
            elif item["type"] == "typed":
                await chat.send(ADA, item["answer"][0])
            else:
                await chat.press(ADA, "Show answer")
                await chat.press(ADA, "Good")
        assert set(kinds) == KINDS, kinds
        assert "5 of 5 correct" in chat.last(ADA).plain
