"""Fixtures of the offline Bot API's own tests."""

from __future__ import annotations

import pytest
from telegram import Bot

from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver
from bot.fake_telegram.objects import FakeUser


@pytest.fixture
def bot(chat: ChatDriver, alice: FakeUser, fake_api: FakeBotApi) -> Bot:
    """The application's bot, with Alice's private chat known to Telegram."""
    fake_api.register_user(alice)
    bot: Bot = chat.application.bot
    return bot
