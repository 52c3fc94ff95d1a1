"""``metatutor serve`` in process against the HTTP Bot API fake: polling before the model."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot import operations
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.http_server import HttpBotApi
from bot.fake_telegram.objects import FakeUser
from bot.preflight import StartupError
from bot.settings import Settings
from tutor.learner import ModelMemory

TOKEN = "5550001:" + "ServeTest" * 3
ADA = FakeUser(101, "Ada")


def _settings(server: HttpBotApi, tmp_path: Path, model: Path | None) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token=SecretStr(TOKEN),
        telegram_api_base_url=server.base_url,
        telegram_api_file_base_url=server.file_base_url,
        database=tmp_path / "bot.sqlite3",
        model_path=model,
    )


async def test_serve_answers_before_the_model_loads_and_stops_when_it_cannot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()

    def load(self: ModelMemory) -> object:
        assert release.wait(30)
        raise ValueError("cannot read weights\nfrom a damaged file")

    monkeypatch.setattr(ModelMemory, "load", load)
    weights = tmp_path / "weights.pt"
    fake = FakeBotApi()
    fake.token = TOKEN
    fake.register_user(ADA)
    fake.queue_update(fake.user_command(ADA, "/help"))
    async with HttpBotApi(fake) as server:
        serving = asyncio.create_task(operations.serve(_settings(server, tmp_path, weights)))
        for _ in range(1000):
            if fake.messages(ADA.id) or serving.done():
                break
            await asyncio.sleep(0.02)
        assert not serving.done()
        assert "How it works" in fake.messages(ADA.id)[0].plain  # /help needs no model
        release.set()  # the load now fails: serving stops
        with pytest.raises(StartupError) as caught:
            await asyncio.wait_for(serving, 30)
    message = str(caught.value)
    assert message == (
        f"the learner model cannot be loaded from {weights}: cannot read weights from a"
        " damaged file; check METATUTOR_MODEL"
    )
