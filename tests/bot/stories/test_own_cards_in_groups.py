"""A student's own cards stay out of their class group's quizzes and settings."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver
from tests.bot.stories.conftest import onboard
from tests.bot.stories.test_groups import (
    ADA,
    BO,
    CAPITALS,
    CLASS,
    TEACHER,
    group_bot,
    polls,
    right_option,
    runner,
)
from tests.conftest import FakeClock
from tutor.service import TutorService


@pytest.fixture
async def tutor(service_factory: Any) -> TutorService:
    service: TutorService = await service_factory()
    await service.import_file(json.dumps(CAPITALS).encode(), "capitals.json")
    return service


@pytest.fixture
def fake(clock: FakeClock) -> FakeBotApi:
    return FakeBotApi(clock=clock)


@pytest.fixture
async def chat(
    tutor: TutorService, fake: FakeBotApi, clock: FakeClock
) -> AsyncIterator[ChatDriver]:
    async with ChatDriver(group_bot(tutor, fake, clock)) as driver:
        yield driver


async def test_own_cards_are_never_a_groups_deck_nor_its_questions(
    chat: ChatDriver, tutor: TutorService, clock: FakeClock
) -> None:
    # Ada studies Capitals privately and writes cards a group could ask as polls
    await onboard(chat, ADA, deck="Capitals")
    await chat.send(ADA, "Capital of Atlantis | Poseidonia;")
    await chat.send(ADA, "Capital of Lilliput | Mildendo;")
    async with (
        tutor.db.read() as conn,
        conn.execute("SELECT id FROM decks WHERE owner_id = ?", (ADA.id,)) as cur,
    ):
        row = await cur.fetchone()
    assert row is not None
    personal = int(row[0])
    # the class: its admin's deck buttons and typed deck names never reach Ada's deck
    chat.fake.set_member(CLASS, TEACHER, "creator")
    for member in (ADA, BO):
        chat.fake.set_member(CLASS, member)
    await chat.feed(chat.fake.bot_added(CLASS, TEACHER))
    turn = await chat.send(TEACHER, "/group_settings", chat=CLASS)
    labels = turn.new[0].button_texts
    assert "➕ Capitals" in labels and not any("My cards" in label for label in labels)
    await chat.press(TEACHER, "➕ Capitals", chat=CLASS)
    for ref in (f"own.{ADA.id}", str(personal), "My cards"):
        turn = await chat.send(TEACHER, f"/group_settings deck {ref}", chat=CLASS)
        assert turn.text.startswith(f"I do not know the deck “{ref}”."), turn.text
    settings_message = chat.message_with_button(CLASS, "c:len:10")
    turn = await chat.press_data(TEACHER, settings_message, f"c:deck:{personal}")
    assert turn.answer is not None
    assert (
        turn.answer.text
        == f"I do not know the deck “{personal}”. /group_settings shows the decks as buttons."
    )
    group = await tutor.groups.group(CLASS.id)
    assert group is not None and personal not in group.deck_ids
    # a quiz longer than the deck: every poll is one of the deck's, never Ada's cards
    await chat.send(BO, "/quiz 8", chat=CLASS)
    for _ in range(10):
        last = polls(chat)[-1]
        await chat.feed(chat.fake.user_poll_answer(ADA, last, right_option(last)))
        clock.advance(seconds=32)
        turn = await chat.run(runner(chat).tick())
        if "Quiz over" in turn.text:
            break
    questions = [m.poll.question for m in polls(chat) if m.poll is not None]
    assert questions and all("What is the capital of" in q for q in questions), questions
    assert not any("Atlantis" in q or "Lilliput" in q for q in questions)
