"""The HTTP Bot API fake delivers updates to a webhook like Telegram: in order, redelivered."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import Conflict
from telegram.request import HTTPXRequest

from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.http_server import HttpBotApi
from bot.fake_telegram.objects import FakeUser

TOKEN = "5550001:" + "W3bh00kT3st" * 3
ADA = FakeUser(101, "Ada")


class Receiver:
    """A webhook endpoint that answers the statuses it is told to, then 200."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.refuse_once: set[int] = set()  # update ids refused (500) on first sight
        self.received: list[tuple[dict[str, object], str | None]] = []  # (update, secret)
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if ":" in line)
                }
                body = await reader.readexactly(int(headers["content-length"]))
                self.received.append(
                    (json.loads(body), headers.get("x-telegram-bot-api-secret-token"))
                )
                status = self.statuses.pop(0) if self.statuses else 200
                update_id = self.received[-1][0]["update_id"]
                if update_id in self.refuse_once:
                    self.refuse_once.discard(update_id)
                    status = 500
                writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


@pytest.fixture
async def server() -> AsyncIterator[HttpBotApi]:
    fake = FakeBotApi()
    fake.token = TOKEN
    fake.register_user(ADA)
    async with HttpBotApi(fake) as running:
        running.webhooks.first_retry = 0.01
        running.webhooks.max_retry = 0.05
        yield running


def _bot(server: HttpBotApi) -> Bot:
    return Bot(TOKEN, base_url=server.base_url, request=HTTPXRequest(connect_timeout=2))


async def _until(condition: object, seconds: float = 5.0) -> None:
    assert callable(condition)
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def test_updates_reach_the_webhook_in_order_with_the_secret(server: HttpBotApi) -> None:
    receiver = Receiver()
    await receiver.start()
    try:
        fake = server.fake
        first = fake.user_command(ADA, "/start")
        fake.queue_update(first)  # queued before the webhook: delivered once it is set
        async with _bot(server) as bot:
            await bot.set_webhook(receiver.url, secret_token="s3cret")
            with pytest.raises(Conflict):
                await bot.get_updates()  # as with Telegram: no polling while a webhook is set
            second = fake.user_message(ADA, "hello")
            fake.queue_update(second)
            await _until(lambda: len(receiver.received) == 2)
            info = await bot.get_webhook_info()
        assert [u["update_id"] for u, _ in receiver.received] == [
            first["update_id"],
            second["update_id"],
        ]
        assert {secret for _, secret in receiver.received} == {"s3cret"}
        assert receiver.received[1][0]["message"]["text"] == "hello"  # type: ignore[index]
        assert info.url == receiver.url and info.pending_update_count == 0
    finally:
        await receiver.close()


async def test_a_refused_update_is_redelivered_before_later_ones(server: HttpBotApi) -> None:
    receiver = Receiver([500, 503])
    await receiver.start()
    try:
        fake = server.fake
        async with _bot(server) as bot:
            await bot.set_webhook(receiver.url)
        updates = [fake.user_message(ADA, text) for text in ("one", "two")]
        for update in updates:
            fake.queue_update(update)
        await _until(lambda: len(server.webhooks.delivered()) == 2)
        ids = [u["update_id"] for u, _ in receiver.received]
        first, second = (u["update_id"] for u in updates)
        assert ids == [first, first, first, second]  # two refusals, then in order
        assert [a.outcome for a in server.webhooks.attempts] == [500, 503, 200, 200]
        assert receiver.received[0][1] is None  # no secret registered: no header
    finally:
        await receiver.close()


async def test_a_webhook_that_is_down_gets_the_update_once_it_is_up(server: HttpBotApi) -> None:
    receiver = Receiver()
    await receiver.start()
    port = receiver.port
    await receiver.close()  # nothing listens there now
    fake = server.fake
    async with _bot(server) as bot:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook")
    update = fake.user_message(ADA, "while down")
    fake.queue_update(update)
    await _until(lambda: len(server.webhooks.attempts) >= 2)
    assert not server.webhooks.delivered()
    assert all(isinstance(a.outcome, str) for a in server.webhooks.attempts)  # ConnectError
    await receiver.start(port)
    try:
        await _until(lambda: server.webhooks.delivered() == [update["update_id"]])
        assert [u["update_id"] for u, _ in receiver.received] == [update["update_id"]]
        assert fake._pending_updates == []
    finally:
        await receiver.close()


async def test_with_several_connections_only_the_failing_users_updates_wait(
    server: HttpBotApi,
) -> None:
    bea = FakeUser(102, "Bea")
    server.fake.register_user(bea)
    server.webhooks.connections = 40  # Telegram's default max_connections
    receiver = Receiver()
    await receiver.start()
    try:
        fake = server.fake
        async with _bot(server) as bot:
            await bot.set_webhook(receiver.url)
        ada_first, ada_second = fake.user_message(ADA, "a1"), fake.user_message(ADA, "a2")
        bea_first = fake.user_message(bea, "b1")
        receiver.refuse_once.add(ada_first["update_id"])
        server.webhooks.first_retry = 0.3  # Bea's update must not wait this long
        for update in (ada_first, ada_second, bea_first):
            fake.queue_update(update)
        await _until(lambda: len(server.webhooks.delivered()) == 3)
        order = [u["update_id"] for u, _ in receiver.received]
        ids = [u["update_id"] for u in (ada_first, ada_second, bea_first)]
        # Bea's went through while Ada's first waited to be retried; Ada's second only
        # after her first.
        assert order.index(ids[2]) < order.index(ids[0], 1)
        assert server.webhooks.delivered().index(ids[0]) < server.webhooks.delivered().index(ids[1])
        assert order.count(ids[1]) == 1
    finally:
        await receiver.close()
