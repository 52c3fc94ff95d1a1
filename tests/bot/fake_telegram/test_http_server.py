"""The HTTP Bot API fake answers PTB over a real socket like the in-process fake."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.http_server import HttpBotApi, parse_form
from bot.fake_telegram.objects import FakeUser

TOKEN = "5550001:" + "A1b2C3d4E5" * 3
ADA = FakeUser(101, "Ada")


@pytest.fixture
async def server() -> AsyncIterator[HttpBotApi]:
    fake = FakeBotApi()
    fake.token = TOKEN
    async with HttpBotApi(fake) as running:
        yield running


def _bot(server: HttpBotApi, *, read_timeout: float = 5.0) -> Bot:
    return Bot(
        TOKEN,
        base_url=server.base_url,
        base_file_url=server.file_base_url,
        request=HTTPXRequest(read_timeout=read_timeout, connect_timeout=2),
        get_updates_request=HTTPXRequest(read_timeout=read_timeout, connect_timeout=2),
    )


async def test_messages_keyboards_documents_and_downloads(server: HttpBotApi) -> None:
    server.fake.register_user(ADA)
    async with _bot(server) as bot:
        me = await bot.get_me()
        assert me.username == server.fake.username
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="a:1:0")]])
        sent = await bot.send_message(
            ADA.id, "<b>Hi</b> 1 & 2", parse_mode="HTML", reply_markup=keyboard
        )
        assert sent.text == "Hi 1 & 2"
        stored = server.fake.last_message(ADA.id)
        assert stored.buttons == [[("Yes", "a:1:0")]]
        await bot.send_document(ADA.id, b"id,question\n1,x\n", filename="deck.csv")
        assert server.fake.last_message(ADA.id).document == b"id,question\n1,x\n"
        update = server.fake.user_document(ADA, b"\x00\x01payload", "deck.apkg")
        file = await bot.get_file(update["message"]["document"]["file_id"])
        assert bytes(await file.download_as_bytearray()) == b"\x00\x01payload"
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(ADA.id, "<b>unclosed", parse_mode="HTML")


async def test_text_that_looks_like_json_stays_text(server: HttpBotApi) -> None:
    server.fake.register_user(ADA)
    async with _bot(server) as bot:
        for text in ("123", "true", "[1, 2]", '{"a": 1}', "null"):
            message = await bot.send_message(ADA.id, text)
            assert message.text == text


async def test_long_polling_returns_when_an_update_arrives(server: HttpBotApi) -> None:
    async with _bot(server, read_timeout=10) as bot:
        loop = asyncio.get_running_loop()
        started = loop.time()
        polling = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.2)
        server.fake.queue_update(server.fake.user_message(ADA, "hello"))
        updates = await polling
        assert loop.time() - started < 2
        assert [u.message.text for u in updates if u.message] == ["hello"]
        again = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
        assert again == ()


async def test_api_faults_surface_as_ptb_errors(server: HttpBotApi) -> None:
    server.fake.register_user(ADA)
    async with _bot(server, read_timeout=0.5) as bot:
        server.fake.fail_next("sendMessage", 429, retry_after=7)
        with pytest.raises(RetryAfter) as flood:
            await bot.send_message(ADA.id, "x")
        assert "Retry in 7 seconds" in str(flood.value)
        server.fake.fail_next("sendMessage", 403)
        with pytest.raises(Forbidden):
            await bot.send_message(ADA.id, "x")
        server.fake.fail_next("sendMessage", 502)
        with pytest.raises(NetworkError):
            await bot.send_message(ADA.id, "x")
        server.drop_next("sendMessage")
        with pytest.raises(NetworkError):
            await bot.send_message(ADA.id, "x")
        server.hang_next("sendMessage", 2.0)
        with pytest.raises(TimedOut):
            await bot.send_message(ADA.id, "x")
        assert server.dropped == 1
        # and the connection pool recovers
        assert (await bot.send_message(ADA.id, "after")).text == "after"


async def test_wrong_token_is_unauthorized(server: HttpBotApi) -> None:
    bot = Bot("5550001:" + "Z" * 30, base_url=server.base_url, request=HTTPXRequest(read_timeout=2))
    from telegram.error import InvalidToken

    with pytest.raises(InvalidToken):
        async with bot:
            pass


def test_multipart_and_urlencoded_bodies() -> None:
    params, files = parse_form(
        "application/x-www-form-urlencoded",
        b"chat_id=5&text=%5B1%5D&reply_markup=%7B%22inline_keyboard%22%3A%5B%5D%7D&offset=3",
    )
    assert params == {
        "chat_id": 5,
        "text": "[1]",
        "reply_markup": {"inline_keyboard": []},
        "offset": 3,
    }
    body = (
        b'--xx\r\nContent-Disposition: form-data; name="chat_id"\r\n\r\n7\r\n'
        b'--xx\r\nContent-Disposition: form-data; name="document"; filename="a.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\na,b\r\n1,2\r\n--xx--\r\n"
    )
    params, files = parse_form("multipart/form-data; boundary=xx", body)
    assert params == {"chat_id": 7}
    assert files == {"document": ("a.csv", b"a,b\r\n1,2", "text/csv")}
