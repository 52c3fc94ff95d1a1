"""Right after a start: students answer while the learner model is still loading.

``metatutor serve`` polls before torch and the weights are loaded (``BackgroundModel``). Here
the load is held by an event the test controls, so the story runs in a fixed order: every
step below happens while the load has not finished, which no wall clock could promise.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver, Turn
from bot.fake_telegram.objects import SentMessage
from bot.preflight import BackgroundModel
from storage import Database
from tests.bot.stories.conftest import ADA, LEI, onboard, story_settings
from tests.conftest import FakeClock
from tutor.learner import ModelMemory
from tutor.model.state import LearnerState
from tutor.service import TutorService

DECK = {
    "metatutor": 1,
    "deck": {"slug": "loading", "name": "Loading", "language": "en"},
    "items": [
        {
            "id": f"q{i}",
            "type": "multiple_choice",
            "question": f"Pick {i}",
            "options": [f"right{i}", f"wrong{i}"],
            "answer": f"right{i}",
        }
        for i in range(6)
    ],
}


class HeldModel(ModelMemory):
    """The real learner model, whose first load waits until the test lets it go on."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()
        self.started = threading.Event()

    def load(self) -> Any:
        if self._model is None:
            self.started.set()
            assert self.go.wait(60), "the test never let the load finish"
        return super().load()


@pytest.fixture
def held() -> HeldModel:
    return HeldModel()


@pytest.fixture
async def background(held: HeldModel) -> BackgroundModel:
    return BackgroundModel(story_settings(), memory=held)


@pytest.fixture
async def tutor(db: Database, clock: FakeClock, background: BackgroundModel) -> TutorService:
    service = TutorService(db, clock=clock, seed=7, memory=background)
    await service.import_file(json.dumps(DECK).encode(), "loading.json")
    return service


@pytest.fixture
async def chat(tutor: TutorService, held: HeldModel) -> AsyncIterator[ChatDriver]:
    application = build_application(story_settings(), tutor, request=FakeBotApi())
    try:
        async with ChatDriver(application) as driver:
            yield driver
    finally:
        held.go.set()  # never leave the loading thread waiting


def _question(chat: ChatDriver, user_id: int) -> SentMessage:
    for message in reversed(chat.messages(user_id)):
        if any(d.startswith("a:") for row in message.buttons for _, d in row):
            return message
    raise AssertionError("no open question")


async def _answer_right(chat: ChatDriver, user: Any) -> Turn:
    question = _question(chat, user.id)
    label = next(text for row in question.buttons for text, _ in row if text.startswith("right"))
    return await chat.press(user, label, message=question)


async def _learned(tutor: TutorService, user_id: int) -> int | None:
    """How many answers the student's stored learner state has learned (None: no state)."""
    async with tutor.db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT state FROM learner_state WHERE user_id = ?", (user_id,)
        )
    rows = list(rows)
    return LearnerState.from_bytes(bytes(rows[0][0])).step if rows else None


def _read(turn: Turn) -> str:
    """What the student reads after a press: the question edited into its feedback, then
    the new messages."""
    return "\n".join(m.plain for m in [*turn.edited, *turn.new])


async def test_students_are_served_while_the_model_loads_and_it_learns_their_answers_later(
    chat: ChatDriver, tutor: TutorService, background: BackgroundModel, held: HeldModel
) -> None:
    await onboard(chat, ADA, deck="Loading")
    await onboard(chat, LEI, deck="Loading")
    loading = background.start()
    assert await asyncio.to_thread(held.started.wait, 30)  # the load is under way, and held
    # Ada and Lei each start a quiz and answer: questions, feedback and the next question
    # all come while the model is still loading (the rules choose and schedule meanwhile).
    for user, right, second in ((ADA, "Correct!", "Question 2/3"), (LEI, "答对了", "第 2/3 题")):
        await chat.send(user, "/quiz 3")
        turn = await _answer_right(chat, user)
        assert right in _read(turn) and second in turn.text
    # A write from elsewhere (the command line's import, an admin) is not held up either.
    async with tutor.db.transaction() as conn:
        await conn.execute("UPDATE users SET daily_goal = daily_goal WHERE id = ?", (ADA.id,))
    assert not loading.done() and not background.loaded and not held.go.is_set()
    assert await _learned(tutor, ADA.id) is None  # nothing learned yet: no model
    # The load finishes; Ada's next answer is learned together with the one she gave
    # before (from the log), Lei's state waits for her next answer.
    held.go.set()
    await loading
    turn = await _answer_right(chat, ADA)
    assert "Correct!" in _read(turn) and "Question 3/3" in turn.text
    assert await _learned(tutor, ADA.id) == 2
    assert await _learned(tutor, LEI.id) is None
    turn = await _answer_right(chat, LEI)
    assert await _learned(tutor, LEI.id) == 2
    # From then on each answer is learned once: nothing is caught up twice.
    turn = await _answer_right(chat, ADA)
    assert "Session done" in turn.text
    assert await _learned(tutor, ADA.id) == 3
