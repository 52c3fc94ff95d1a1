"""The application around the handlers: building, rate limits, ordering, serving, stopping."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
from typing import Any

import httpx
import pytest
from telegram import Update

from bot import serving as serving_module
from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver
from bot.fake_telegram.objects import FakeUser
from bot.serving import run_polling, run_webhook, serve_forever
from bot.settings import Settings
from bot.update_order import PerUserUpdateProcessor
from tutor.service import TutorService

ADA = FakeUser(101, "Ada")
BOB = FakeUser(102, "Bob")
TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ_abc"


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **{"telegram_bot_token": None, **values})  # type: ignore[call-arg]


async def _until(condition: Any) -> None:
    async with asyncio.timeout(10):
        while not condition():  # noqa: ASYNC110 - the fake has no event to wait on
            await asyncio.sleep(0.02)


def test_no_token_and_no_offline_api_is_refused(service: TutorService) -> None:
    with pytest.raises(ValueError, match="no bot token"):
        build_application(_settings(), service)


def test_base_urls_come_from_the_settings(service: TutorService) -> None:
    settings = _settings(
        telegram_bot_token=TOKEN,
        telegram_api_base_url="http://127.0.0.1:8081/bot",
        telegram_api_file_base_url="http://127.0.0.1:8081/file/bot",
    )
    application = build_application(settings, service)
    assert application.bot.base_url == f"http://127.0.0.1:8081/bot{TOKEN}"
    assert application.bot.base_file_url == f"http://127.0.0.1:8081/file/bot{TOKEN}"
    assert isinstance(application.update_processor, PerUserUpdateProcessor)
    assert application.update_processor.max_concurrent_updates > 1


async def test_flood_control_is_retried(service: TutorService) -> None:
    fake = FakeBotApi()
    async with ChatDriver(build_application(_settings(), service, request=fake)) as chat:
        fake.fail_next("sendMessage", 429, retry_after=1)
        turn = await chat.send(ADA, "/help")
    assert [c.error for c in turn.failed] == ["Too Many Requests: retry after 1"]
    assert len(turn.new) == 1 and "How it works" in turn.new[0].plain


async def test_replies_to_different_chats_are_not_capped_together(service: TutorService) -> None:
    fake = FakeBotApi()
    async with ChatDriver(build_application(_settings(), service, request=fake)) as chat:
        for n in range(60):
            fake.register_user(FakeUser(1000 + n, f"S{n}"))
        bot = chat.application.bot
        started = asyncio.get_running_loop().time()
        await asyncio.gather(*(bot.send_message(1000 + n, "hi") for n in range(60)))
        elapsed = asyncio.get_running_loop().time() - started
    assert len(fake.calls_of("sendMessage")) == 60
    assert elapsed < 1.8  # 60 chats at once: no bot-wide bucket (25/s took over 2.2 s)


async def test_one_chat_gets_its_burst_then_its_rate(service: TutorService) -> None:
    fake = FakeBotApi()
    fake.register_user(ADA)
    settings = _settings(chat_rate=5.0, chat_burst=3)
    async with ChatDriver(build_application(settings, service, request=fake)) as chat:
        bot = chat.application.bot
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.gather(*(bot.send_message(ADA.id, f"m{k}") for k in range(5)))
        elapsed = loop.time() - started
    assert [m.plain for m in fake.messages(ADA.id)] == [f"m{k}" for k in range(5)]  # in order
    assert 0.35 <= elapsed < 1.5  # three at once, then two more 0.2 s apart


async def test_users_run_concurrently_but_each_in_order() -> None:
    processor = PerUserUpdateProcessor(8)
    fake = FakeBotApi()
    finished: list[str] = []

    async def work(name: str, delay: float) -> None:
        await asyncio.sleep(delay)
        finished.append(name)

    def update(user: FakeUser) -> Update:
        return Update.de_json(fake.user_message(user, "x"), None)

    await asyncio.gather(
        processor.process_update(update(ADA), work("ada-1", 0.05)),
        processor.process_update(update(ADA), work("ada-2", 0.0)),
        processor.process_update(update(BOB), work("bob-1", 0.01)),
    )
    assert finished == ["bob-1", "ada-1", "ada-2"]
    assert processor._locks == {}  # no lock left behind per user


async def test_a_third_update_waits_for_the_second_even_right_after_the_first_ends() -> None:
    processor = PerUserUpdateProcessor(8)
    fake = FakeBotApi()
    log: list[str] = []
    first_may_end, second_may_end = asyncio.Event(), asyncio.Event()

    async def work(name: str, until: asyncio.Event | None = None) -> None:
        log.append(f"{name} starts")
        if until is not None:
            await until.wait()
        log.append(f"{name} ends")

    def update() -> Update:
        return Update.de_json(fake.user_message(ADA, "x"), None)

    first = asyncio.create_task(processor.process_update(update(), work("1", first_may_end)))
    second = asyncio.create_task(processor.process_update(update(), work("2", second_may_end)))
    await asyncio.sleep(0.01)
    first_may_end.set()
    await asyncio.sleep(0)  # the first ends; the second is woken but has not run yet
    third = asyncio.create_task(processor.process_update(update(), work("3")))
    await asyncio.sleep(0.05)
    assert "3 starts" not in log  # the second still runs
    second_may_end.set()
    await asyncio.gather(first, second, third)
    assert log == ["1 starts", "1 ends", "2 starts", "2 ends", "3 starts", "3 ends"]
    assert processor._locks == {}


async def test_polling_serves_and_stops(service: TutorService) -> None:
    fake = FakeBotApi()
    application = build_application(_settings(), service, request=fake)
    fake.queue_update(fake.user_message(ADA, "/help"))
    stop = asyncio.Event()
    serving = asyncio.create_task(serve_forever(application, _settings(), stop=stop))
    await _until(lambda: fake.calls_of("sendMessage"))
    assert "How it works" in fake.last_message(ADA.id).plain
    assert fake.commands_for("zh")  # post_init ran
    stop.set()
    await asyncio.wait_for(serving, 10)
    assert not application.running


async def test_a_failed_poll_is_one_warning_line_and_polling_goes_on(
    service: TutorService, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeBotApi()
    application = build_application(_settings(), service, request=fake)
    fake.fail_next("getUpdates", 502, after=1)  # Telegram's gateway fails one long poll
    stop = asyncio.Event()
    serving = asyncio.create_task(serve_forever(application, _settings(), stop=stop))
    fake.queue_update(fake.user_message(ADA, "/help"))
    await _until(lambda: fake.calls_of("sendMessage"))
    fake.queue_update(fake.user_message(ADA, "/help"))  # after the failed poll
    await _until(lambda: len(fake.calls_of("sendMessage")) == 2)
    stop.set()
    await asyncio.wait_for(serving, 10)
    failed = [r for r in caplog.records if "getUpdates failed" in r.getMessage()]
    assert len(failed) == 1 and failed[0].levelno == logging.WARNING
    assert failed[0].exc_info is None  # an outage, not a crash: no traceback
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_sigterm_stops_the_bot_cleanly(service: TutorService) -> None:
    fake = FakeBotApi()
    application = build_application(_settings(), service, request=fake)
    serving = asyncio.create_task(run_polling(application))
    await _until(lambda: application.running)
    # The loop owns SIGTERM now (without that, the signal would kill the test run).
    assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, signal.SIG_IGN, None)
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(serving, 10)
    assert not application.running
    assert application.updater is not None and not application.updater.running


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_requires_the_secret_token(service: TutorService) -> None:
    pytest.importorskip("tornado", reason="webhooks need python-telegram-bot[webhooks]")
    fake = FakeBotApi()
    port = _free_port()
    settings = _settings(
        webhook_url="https://bot.example.org/tg-hook",
        webhook_listen="127.0.0.1",
        webhook_port=port,
        webhook_secret="s3cret-Token_1",
    )
    application = build_application(settings, service, request=fake)
    stop = asyncio.Event()
    serving = asyncio.create_task(run_webhook(application, settings, stop=stop))
    try:
        await _until(lambda: application.running)
        [registered] = fake.calls_of("setWebhook")
        assert registered.params["url"] == "https://bot.example.org/tg-hook"
        assert registered.params["secret_token"] == "s3cret-Token_1"
        body = json.dumps(fake.user_message(ADA, "/help"))
        url = f"http://127.0.0.1:{port}/tg-hook"
        json_type = {"Content-Type": "application/json"}
        async with httpx.AsyncClient() as client:
            missing = await client.post(url, content=body, headers=json_type)
            wrong = await client.post(
                url, content=body, headers={**json_type, "X-Telegram-Bot-Api-Secret-Token": "no"}
            )
            assert (missing.status_code, wrong.status_code) == (403, 403)
            assert not fake.calls_of("sendMessage")
            right = await client.post(
                url,
                content=body,
                headers={**json_type, "X-Telegram-Bot-Api-Secret-Token": "s3cret-Token_1"},
            )
            assert right.status_code == 200
        await _until(lambda: fake.calls_of("sendMessage"))
        assert "How it works" in fake.last_message(ADA.id).plain
    finally:
        stop.set()
        await asyncio.wait_for(serving, 10)
    assert not application.running


async def test_a_webhook_telegram_fails_to_register_is_registered_a_moment_later(
    service: TutorService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """setWebhook fails at start-up (502): the bot tries again instead of stopping, then
    serves the webhook."""
    pytest.importorskip("tornado", reason="webhooks need python-telegram-bot[webhooks]")
    monkeypatch.setattr(serving_module, "STARTUP_RETRY_DELAYS", (0.05,))
    fake = FakeBotApi()
    fake.fail_next("setWebhook", 502)
    port = _free_port()
    settings = _settings(
        webhook_url="https://bot.example.org/tg-hook",
        webhook_listen="127.0.0.1",
        webhook_port=port,
        webhook_secret="s3cret-Token_1",
    )
    application = build_application(settings, service, request=fake)
    stop = asyncio.Event()
    serving = asyncio.create_task(run_webhook(application, settings, stop=stop))
    try:
        await _until(lambda: application.running)
        assert [call.ok for call in fake.calls_of("setWebhook")] == [False, True]
        body = json.dumps(fake.user_message(ADA, "/help"))
        headers = {
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": "s3cret-Token_1",
        }
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                f"http://127.0.0.1:{port}/tg-hook", content=body, headers=headers
            )
        assert answer.status_code == 200
        await _until(lambda: fake.calls_of("sendMessage"))
    finally:
        stop.set()
        await asyncio.wait_for(serving, 10)


async def test_a_database_that_does_not_answer_is_logged_in_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """While PostgreSQL is down every job run fails to connect: one line each, not a stack."""
    from types import SimpleNamespace

    from bot.app import on_error
    from storage import DatabaseUnreachable

    error = DatabaseUnreachable(
        "postgresql://tutor:***@db/tutor", "Connection refused", "check it", setting_wrong=False
    )
    context: Any = SimpleNamespace(
        error=error, application=SimpleNamespace(bot=SimpleNamespace(token=TOKEN))
    )
    with caplog.at_level(logging.ERROR, logger="bot.app"):
        await on_error(None, context)
    assert [record.getMessage() for record in caplog.records] == [
        "update None (user None) failed: postgresql://tutor:***@db/tutor: cannot connect:"
        " Connection refused; check it"
    ]
