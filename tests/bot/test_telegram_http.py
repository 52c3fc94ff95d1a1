"""The bot's own Bot API client fails and recovers exactly as PTB's ``HTTPXRequest`` does.

Every fault test runs against both classes over a real socket (the HTTP fake): the same PTB
error for a timeout, a 429 with its retry_after, a 502, a dropped connection, a refused
connection and a full pool; and after each, the next call gets its own answer (never the late
answer of the call that failed). The wire details a real server may use (chunked bodies,
``Connection: close``, an idle connection closed by the server) are checked on a raw socket.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import BaseRequest, HTTPXRequest

from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.http_server import HttpBotApi
from bot.fake_telegram.objects import FakeUser
from bot.settings import Settings
from bot.telegram_http import POOL_TIMEOUT_MESSAGE, KeepAliveRequest
from storage import Database
from tutor.service import TutorService

TOKEN = "5550001:" + "KeepAlive1" * 3
ADA = FakeUser(101, "Ada")
Maker = Callable[..., BaseRequest]
CLASSES = [pytest.param(KeepAliveRequest, id="keep-alive"), pytest.param(HTTPXRequest, id="httpx")]


@pytest.fixture
async def server() -> AsyncIterator[HttpBotApi]:
    fake = FakeBotApi()
    fake.token = TOKEN
    fake.register_user(ADA)
    async with HttpBotApi(fake) as running:
        yield running


def _bot(base_url: str, request: BaseRequest) -> Bot:
    return Bot(TOKEN, base_url=base_url, request=request, get_updates_request=request)


async def _sends_its_own(bot: Bot, text: str) -> None:
    """The next call is answered with its own result (no late answer left on the line)."""
    assert (await bot.send_message(ADA.id, text)).text == text


@pytest.mark.parametrize("make", CLASSES)
async def test_a_timeout_is_timed_out_and_the_late_answer_is_never_taken(
    server: HttpBotApi, make: Maker
) -> None:
    async with _bot(server.base_url, make(read_timeout=0.3, connect_timeout=2)) as bot:
        await _sends_its_own(bot, "warm")  # a kept-alive connection is what the hang hits
        server.hang_next("sendMessage", 0.6)
        with pytest.raises(TimedOut):
            await bot.send_message(ADA.id, "slow")
        await asyncio.sleep(0.5)  # the hung call's answer is now ready on its old line
        await _sends_its_own(bot, "next")
        await _sends_its_own(bot, "and the one after")


@pytest.mark.parametrize("make", CLASSES)
async def test_a_429_is_retry_after_with_telegrams_wait(server: HttpBotApi, make: Maker) -> None:
    async with _bot(server.base_url, make()) as bot:
        server.fake.fail_next("sendMessage", 429, retry_after=7)
        with pytest.raises(RetryAfter) as flood:
            await bot.send_message(ADA.id, "x")
        assert flood.value.retry_after in (7, timedelta(seconds=7))
        await _sends_its_own(bot, "after the flood wait")


@pytest.mark.parametrize("make", CLASSES)
async def test_a_502_is_a_network_error_and_the_line_is_kept(
    server: HttpBotApi, make: Maker
) -> None:
    async with _bot(server.base_url, make()) as bot:
        server.fake.fail_next("sendMessage", 502)
        with pytest.raises(NetworkError) as failure:
            await bot.send_message(ADA.id, "x")
        assert type(failure.value) is NetworkError and "Bad Gateway" in failure.value.message
        server.fake.fail_next("sendMessage", 403)
        with pytest.raises(Forbidden):
            await bot.send_message(ADA.id, "x")
        server.fake.fail_next("sendMessage", 400)
        with pytest.raises(BadRequest):
            await bot.send_message(ADA.id, "x")
        await _sends_its_own(bot, "after a 502")


@pytest.mark.parametrize("make", CLASSES)
async def test_a_dropped_connection_is_a_network_error_not_a_timeout(
    server: HttpBotApi, make: Maker
) -> None:
    async with _bot(server.base_url, make(read_timeout=5)) as bot:
        await _sends_its_own(bot, "warm")
        server.drop_next("sendMessage")
        with pytest.raises(NetworkError) as failure:
            await bot.send_message(ADA.id, "x")
        assert not isinstance(failure.value, TimedOut)
        assert server.dropped == 1
        await _sends_its_own(bot, "after the drop")
        sent = [m.plain for m in server.fake.messages(ADA.id)]
        assert sent == ["warm", "after the drop"]  # the dropped call was not sent again


@pytest.mark.parametrize("make", CLASSES)
async def test_a_refused_connection_is_a_network_error(make: Maker) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = make(connect_timeout=2)
    try:
        with pytest.raises(NetworkError) as failure:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
        assert not isinstance(failure.value, TimedOut)
    finally:
        await request.shutdown()


@pytest.mark.parametrize("make", CLASSES)
async def test_a_full_pool_times_out_without_sending(server: HttpBotApi, make: Maker) -> None:
    async with _bot(server.base_url, make(connection_pool_size=1, pool_timeout=0.2)) as bot:
        server.hang_next("sendMessage", 1.0)
        slow = asyncio.create_task(bot.send_message(ADA.id, "slow"))
        await asyncio.sleep(0.1)
        with pytest.raises(TimedOut) as waited:
            await bot.send_message(ADA.id, "not sent")
        assert waited.value.message == POOL_TIMEOUT_MESSAGE
        assert (await slow).text == "slow"
        assert [m.plain for m in server.fake.messages(ADA.id)] == ["slow"]


@pytest.mark.parametrize("make", CLASSES)
async def test_long_polls_and_downloads(server: HttpBotApi, make: Maker) -> None:
    bot = Bot(
        TOKEN,
        base_url=server.base_url,
        base_file_url=server.file_base_url,
        request=make(read_timeout=1),
        get_updates_request=make(read_timeout=1, connection_pool_size=1),
    )
    async with bot:
        polling = asyncio.create_task(bot.get_updates(timeout=2))  # longer than read_timeout
        await asyncio.sleep(1.3)
        server.fake.queue_update(server.fake.user_message(ADA, "hello"))
        updates = await polling
        assert [u.message.text for u in updates if u.message] == ["hello"]
        update = server.fake.user_document(ADA, b"\x00\x01payload" * 5000, "deck.apkg")
        file = await bot.get_file(update["message"]["document"]["file_id"])
        assert bytes(await file.download_as_bytearray()) == b"\x00\x01payload" * 5000
        await bot.send_document(ADA.id, b"id,question\n1,x\n", filename="deck.csv")
        assert server.fake.last_message(ADA.id).document == b"id,question\n1,x\n"


# -- the wire, on a raw socket ------------------------------------------------------------

_OK = b'{"ok":true,"result":true}'


async def _raw_server(
    answers: list[bytes], *, close_after_each: bool = False
) -> tuple[asyncio.Server, list[int]]:
    """Answers each request with the next of ``answers``; counts connections."""
    connections: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            while answers:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                await reader.readexactly(length)
                writer.write(answers.pop(0))
                await writer.drain()
                if close_after_each:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, connections


async def test_chunked_gzip_and_connection_close_answers_are_read() -> None:
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"".join(
        f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (_OK[:5], _OK[5:])
    )
    zipped = gzip.compress(_OK)
    answers = [
        chunked + b"0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: "
        + str(len(zipped)).encode()
        + b"\r\n\r\n"
        + zipped,
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 25\r\n\r\n" + _OK,
        b"HTTP/1.0 200 OK\r\n\r\n" + _OK,  # no length: the body runs to the end
    ]
    server, connections = await _raw_server(answers)
    port = server.sockets[0].getsockname()[1]
    request = KeepAliveRequest()
    try:
        for _ in range(4):
            assert await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/x") is True
        assert len(connections) == 2  # kept alive until the server said close
    finally:
        await request.shutdown()
        server.close()


async def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 25\r\n\r\n" + _OK
    server, connections = await _raw_server([answer, answer], close_after_each=True)
    port = server.sockets[0].getsockname()[1]
    request = KeepAliveRequest()
    try:
        assert await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/x") is True
        await asyncio.sleep(0.1)  # the server hangs up on the idle line
        assert await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/x") is True
        assert len(connections) == 2
    finally:
        await request.shutdown()
        server.close()


async def test_a_connection_idle_past_the_keepalive_expiry_is_not_reused() -> None:
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 25\r\n\r\n" + _OK
    server, connections = await _raw_server([answer] * 4)
    port = server.sockets[0].getsockname()[1]
    request = KeepAliveRequest(keepalive_expiry=0.2)
    try:
        for pause in (0.0, 0.4):  # kept for the first, too old for the second
            await asyncio.sleep(pause)
            assert await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/x") is True
            assert await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/x") is True
        assert len(connections) == 2
    finally:
        await request.shutdown()
        server.close()


# -- which request the bot uses -----------------------------------------------------------


async def test_the_bot_uses_the_keep_alive_client_unless_a_proxy_is_set(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.sqlite3")
    try:
        service = TutorService(db)
        direct = Settings(_env_file=None, telegram_bot_token=SecretStr(TOKEN))  # type: ignore[call-arg]
        app = build_application(direct, service)
        assert isinstance(app.bot.request, KeepAliveRequest)
        proxied = direct.model_copy(update={"telegram_proxy": "http://127.0.0.1:3128"})
        app = build_application(proxied, service)
        assert isinstance(app.bot.request, HTTPXRequest)
    finally:
        await db.close()
