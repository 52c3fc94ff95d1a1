"""Fixtures for bot tests: the offline Bot API fake, an application on it, a chat driver.

Tests of the real bot override ``application`` (in their module or a nearer conftest) with
the metatutor application built on ``fake_api``; ``chat`` then drives that one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application

from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver
from bot.fake_telegram.objects import FakeChat, FakeUser
from tests.bot.demo_bot import build_demo_application
from tests.conftest import FakeClock


@pytest.fixture
def fake_api(clock: FakeClock) -> FakeBotApi:
    """A fresh offline Bot API on the test clock."""
    return FakeBotApi(clock=clock)


@pytest.fixture
def application(fake_api: FakeBotApi) -> Application[Any, Any, Any, Any, Any, Any]:
    """The demo bot; override this fixture to drive the real one."""
    return build_demo_application(fake_api)


@pytest.fixture
async def chat(application: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[ChatDriver]:
    """A running application and a driver to talk to it."""
    async with ChatDriver(application) as driver:
        yield driver


@pytest.fixture
def alice() -> FakeUser:
    """An English-speaking student."""
    return FakeUser(101, "Alice", language_code="en")


@pytest.fixture
def li() -> FakeUser:
    """A student whose Telegram app is in Simplified Chinese."""
    return FakeUser(102, "李雷", language_code="zh-hans")


@pytest.fixture
def group() -> FakeChat:
    """A group chat."""
    return FakeChat(-100200300, "History class")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An operator's working directory with the database setting pointing into it (the
    command-line tests; tests/bot/test_cli_commands.py has its own, with the schema made)."""
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "METATUTOR_TIMEZONE", "METATUTOR_ADMIN_IDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("METATUTOR_DATABASE", str(tmp_path / "tutor.sqlite3"))
    return tmp_path
