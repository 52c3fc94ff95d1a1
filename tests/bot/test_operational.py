"""install_operations adds the flood guard, /mydata, /forget and the heartbeat in one call."""

from __future__ import annotations

from pathlib import Path

from bot.app import build_application
from bot.conversation import ChatDriver
from bot.fake_api import FakeBotApi
from bot.fake_types import FakeUser
from bot.flood import FLOOD_GROUP
from bot.handlers.privacy import PRIVACY_GROUP
from bot.operational import install_operations
from bot.settings import Settings
from tutor.service import TutorService


async def test_everything_is_registered_and_works(service: TutorService, tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, telegram_bot_token=None, database=tmp_path / "m.sqlite3"
    )
    fake = FakeBotApi()
    application = build_application(settings, service, request=fake)
    guard = install_operations(application, settings, burst=3, per_second=0.001)
    assert FLOOD_GROUP in application.handlers and PRIVACY_GROUP in application.handlers
    user = FakeUser(5, "Kim")
    async with ChatDriver(application) as chat:
        turn = await chat.send(user, "/mydata")
        assert turn.new[0].plain == "I have nothing stored about you."
        for _ in range(5):
            await chat.send(user, "/help")
    assert guard.dropped == {user.id: 3}
