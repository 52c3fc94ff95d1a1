"""A real application on a real service and database, talked to through the offline Bot API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver
from bot.fake_telegram.faults import DOWNLOAD
from bot.fake_telegram.objects import FakeUser
from bot.settings import Settings
from tutor.service import TutorService

ADA = FakeUser(101, "Ada", language_code="en-GB", username="ada")
LEI = FakeUser(202, "李雷", language_code="zh-hans")
EVE = FakeUser(303, "Eve", language_code="en")

# One item of every kind; ids are stable so tests can find them.
TEST_DECK: dict[str, Any] = {
    "metatutor": 1,
    "deck": {"slug": "test-deck", "name": "Test <Deck> & Co", "language": "en"},
    "items": [
        {
            "id": "mc",
            "type": "multiple_choice",
            "question": "Which is <b>bold</b> & brave?",
            "options": ["Lion <king>", "Mouse", "Snail"],
            "answer": "Lion <king>",
            "explanation": "Lions & tigers.",
            "tags": ["animals"],
        },
        {
            "id": "tf",
            "type": "true_false",
            "question": "Water boils at 100 °C at sea level.",
            "answer": True,
            "tags": ["science"],
        },
        {
            "id": "typed",
            "type": "typed",
            "question": "Capital of France?",
            "answer": ["Paris"],
            "explanation": "Paris has been the capital since 987.",
            "tags": ["geography"],
        },
        {
            "id": "card",
            "type": "flashcard",
            "question": "Mitochondria",
            "answer": "The powerhouse of the cell",
            "tags": ["science"],
        },
        {
            "id": "cloze",
            "type": "cloze",
            "question": "The {{c1::Magna Carta}} was sealed in 1215.",
            "tags": ["history"],
        },
    ],
}


METHODS_SEEN: set[str] = set()
"""Every Bot API method (and ``DOWNLOAD``) the stories of this run made the fake answer."""


@pytest.fixture(autouse=True)
def _record_methods(monkeypatch: pytest.MonkeyPatch) -> None:
    """Note each method a story calls (test_each_method_fails_once checks its list by it)."""
    answer = FakeBotApi.do_request

    async def recording(self: FakeBotApi, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        METHODS_SEEN.add(DOWNLOAD if method == "GET" else url.rstrip("/").rsplit("/", 1)[-1])
        return await answer(self, url, method, *args, **kwargs)

    monkeypatch.setattr(FakeBotApi, "do_request", recording)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``after_stories`` run last: they read what the other stories did."""
    items.sort(key=lambda item: item.get_closest_marker("after_stories") is not None)


def story_settings() -> Settings:
    """Settings as an operator without a token would have them (no .env, no environment).

    The per-user flood limit and the per-chat outgoing limit are off: stories press buttons
    faster than any person (their own tests switch them on).
    """
    return Settings(  # type: ignore[call-arg]
        _env_file=None, telegram_bot_token=None, timezone="UTC", flood_burst=0, chat_rate=0
    )


@pytest.fixture
async def tutor(service_factory: Any) -> TutorService:
    """A service with the small test deck imported (and nothing else)."""
    service: TutorService = await service_factory()
    data = json.dumps(TEST_DECK).encode()
    await service.import_file(data, "test_deck.json")
    return service


@pytest.fixture
def fake() -> FakeBotApi:
    """The offline Bot API."""
    return FakeBotApi()


@pytest.fixture
async def chat(tutor: TutorService, fake: FakeBotApi) -> AsyncIterator[ChatDriver]:
    """The bot, running, with the test deck."""
    application = build_application(story_settings(), tutor, request=fake)
    async with ChatDriver(application) as driver:
        yield driver


async def onboard(chat: ChatDriver, user: FakeUser, deck: str = "Test <Deck> & Co") -> None:
    """Go through /start quickly: language as preselected, one deck, UTC, no daily quiz."""
    await chat.send(user, "/start")
    [preselected] = [label for label in chat.buttons(user) if label.startswith("✓")]
    await chat.press(user, preselected)
    await chat.press(user, f"➕ {deck}")
    await chat.press(user, "o:deck:done")
    await chat.press(user, "UTC")
    await chat.press(user, "o:time:none")
    await chat.press(user, "o:exam:skip")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Each test on a database runs on each backend (see tests/backends.py)."""
    from tests.backends import on_each_backend

    on_each_backend(metafunc)
