"""The webhook front: one student's updates to one worker, in order; 200 only once it took them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
import tornado.httpserver
import tornado.web

from bot import webhook_front
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.objects import FakeChat, FakeUser, SentMessage
from bot.webhook_front import SECRET_HEADER, WORKER_PATH, WebhookFront, user_of, worker_for
from bot.workers import free_ports

SECRET = "front-secret"
ADA, BEN = FakeUser(101, "Ada"), FakeUser(102, "Ben")


class StandIn:
    """A worker's endpoint that records updates, answers as told, and may be slow."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.updates: list[int] = []
        self.statuses: list[int] = []
        self.delay = 0.0
        self._server: tornado.httpserver.HTTPServer | None = None

    def start(self) -> None:
        this = self

        class Handler(tornado.web.RequestHandler):
            async def post(self) -> None:
                assert self.request.headers.get(SECRET_HEADER) == SECRET
                await asyncio.sleep(this.delay)
                status = this.statuses.pop(0) if this.statuses else 200
                if status == 200:
                    this.updates.append(json.loads(self.request.body)["update_id"])
                self.set_status(status)

        self._server = tornado.httpserver.HTTPServer(
            tornado.web.Application([(WORKER_PATH, Handler)], log_function=lambda _h: None)
        )
        self._server.listen(self.port, "127.0.0.1")

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


@pytest.fixture
async def front() -> AsyncIterator[tuple[list[StandIn], str]]:
    port, *ports = free_ports(3)
    stand_ins = [StandIn(p) for p in ports]
    for stand_in in stand_ins:
        stand_in.start()
    running = WebhookFront(
        listen="127.0.0.1", port=port, path="/hook", secret=SECRET, worker_ports=ports
    )
    await running.start()
    yield stand_ins, f"http://127.0.0.1:{port}/hook"
    await running.stop()
    for stand_in in stand_ins:
        stand_in.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=40)) as running:
        yield running


async def _post(client: httpx.AsyncClient, url: str, update: object, secret: str = SECRET) -> int:
    response = await client.post(url, content=json.dumps(update), headers={SECRET_HEADER: secret})
    return response.status_code


def test_each_kind_of_update_is_routed_by_its_user() -> None:
    fake = FakeBotApi(require_known_chat=False)
    message = fake.user_message(ADA, "hi")
    question = SentMessage(ADA.id, 5, "Q?", buttons=[[("A", "a:1:0")]])
    press = fake.user_callback(ADA, question, "a:1:0")
    poll_answer = {"update_id": 9, "poll_answer": {"poll_id": "7", "user": {"id": 101}}}
    group = fake.user_message(BEN, "/quiz", chat=FakeChat(-500, "Class"))
    assert [user_of(u) for u in (message, press, poll_answer, group)] == [101, 101, 101, 102]
    assert user_of({"update_id": 3}) is None
    # Stable: the same worker every time, spread over the workers, none for no user.
    assert worker_for(101, 2) == worker_for(101, 2) != worker_for(102, 2)
    assert worker_for(None, 4) == 0
    assert sorted({worker_for(user, 3) for user in range(1000, 1010)}) == [0, 1, 2]


async def test_a_students_updates_reach_one_worker_in_order(
    front: tuple[list[StandIn], str],
    client: httpx.AsyncClient,
) -> None:
    stand_ins, url = front
    students = [FakeUser(1000 + i, f"S{i}") for i in range(6)]
    fake = FakeBotApi(require_known_chat=False)
    updates = [fake.user_message(s, f"{n}") for n in range(5) for s in students]
    # Sent all at once, like Telegram with several connections: still in order per worker.
    stand_ins[0].delay = stand_ins[1].delay = 0.005
    statuses = await asyncio.gather(*(_post(client, url, u) for u in updates))
    assert set(statuses) == {200}
    for index, stand_in in enumerate(stand_ins):
        mine = [
            u["update_id"] for u in updates if worker_for(u["message"]["from"]["id"], 2) == index
        ]
        assert stand_in.updates == mine
    assert all(stand_in.updates for stand_in in stand_ins)


async def test_a_refused_update_is_a_503_and_so_are_those_waiting_behind_it(
    front: tuple[list[StandIn], str],
    client: httpx.AsyncClient,
) -> None:
    stand_ins, url = front
    fake = FakeBotApi(require_known_chat=False)
    worker = worker_for(ADA.id, 2)
    stand_ins[worker].statuses = [500]
    stand_ins[worker].delay = 0.05
    first, second = fake.user_message(ADA, "one"), fake.user_message(ADA, "two")
    one = asyncio.create_task(_post(client, url, first))
    await asyncio.sleep(0.02)  # "two" arrives while "one" is with the worker
    two = asyncio.create_task(_post(client, url, second))
    assert (await one, await two) == (503, 503)  # "two" must not overtake the redelivery
    assert stand_ins[worker].updates == []
    # Redelivered in order, both are taken.
    assert [await _post(client, url, first), await _post(client, url, second)] == [200, 200]
    assert stand_ins[worker].updates == [first["update_id"], second["update_id"]]


async def test_a_worker_that_is_down_gets_its_update_when_back_or_telegram_gets_503(
    front: tuple[list[StandIn], str],
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stand_ins, url = front
    monkeypatch.setattr(webhook_front, "WORKER_WAIT", 0.5)
    fake = FakeBotApi(require_known_chat=False)
    worker = stand_ins[worker_for(ADA.id, 2)]
    worker.stop()
    assert await _post(client, url, fake.user_message(ADA, "lost for now")) == 503
    late = fake.user_message(ADA, "back soon")
    sending = asyncio.create_task(_post(client, url, late))
    await asyncio.sleep(0.2)
    worker.start()  # restarted within the wait: the update is handed over, 200
    assert await sending == 200
    assert worker.updates == [late["update_id"]]


async def test_a_wrong_secret_or_a_body_that_is_no_json_is_refused(
    front: tuple[list[StandIn], str],
    client: httpx.AsyncClient,
) -> None:
    stand_ins, url = front
    update = FakeBotApi(require_known_chat=False).user_message(ADA, "hi")
    assert await _post(client, url, update, secret="guess") == 403
    response = await client.post(url, content=b"{nope", headers={SECRET_HEADER: SECRET})
    assert response.status_code == 400
    assert all(not stand_in.updates for stand_in in stand_ins)
