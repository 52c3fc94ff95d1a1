"""The ceiling with the fake Bot API in another process, over HTTP, as in production.

Same application and handlers as :mod:`benchmarks.bot_ceiling`, but its Bot API calls go
through PTB's own HTTP client (httpx, keep-alive connections) to
:class:`bot.fake_telegram.http_server.HttpBotApi` served by a child process. The bot process's CPU
per answer is then what a production process pays for the bot layer (building requests,
HTTP, parsing Telegram's answers), without Telegram's side. Updates are still handed to the
application directly (no ``getUpdates`` or webhook request per update: a long poll
returns up to 100 updates at once).

    .venv/bin/python -m benchmarks.end_to_end --ceiling --http --levels 1 100
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import time
from multiprocessing.connection import Connection
from typing import Any

from telegram import Message

from benchmarks.bot_ceiling import ASKED, CHOICES, FIRST_USER, ceiling_application
from benchmarks.common import peak_rss_mb
from benchmarks.cpu_split import CpuSplit
from benchmarks.simulated_traffic import DRIVER, Driver, drive
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.updates import _QueryState
from bot.settings import Settings


class _AnyQuery(dict[str, _QueryState]):
    """Callback queries of a fake that did not build the updates: any id is a fresh query."""

    def get(self, key: str, default: Any = None) -> _QueryState:
        """The query, created unanswered on first sight."""
        found = super().get(key)
        if found is None:
            found = self[key] = _QueryState(0, 0, 0, "")
        return found


def _serve(pipe: Connection) -> None:
    """Child process: serve a fake Bot API; report its CPU between "start" and "stop"."""
    asyncio.run(_serve_async(pipe))


async def _serve_async(pipe: Connection) -> None:
    from bot.fake_telegram.http_server import HttpBotApi

    fake = FakeBotApi(require_known_chat=False)
    fake._queries = _AnyQuery()
    loop = asyncio.get_running_loop()
    async with HttpBotApi(fake) as server:
        pipe.send((server.base_url, fake.token))
        began = 0.0
        while (message := await loop.run_in_executor(None, pipe.recv)) != "stop":
            if message == "start":
                began = time.process_time()
            elif message == "calls":
                pipe.send((len(fake.calls), sum(1 for c in fake.calls if not c.ok)))
        pipe.send(time.process_time() - began)


class WirePresser(Driver):
    """A student who presses a choice of every question; builds its updates itself."""

    _ids = itertools.count(800_000_001)

    async def run(self, answers: int) -> None:
        """Answer ``answers`` questions."""
        with self.split.region(DRIVER):
            user = self.user.to_json()
            chat = {"id": self.user.id, "type": "private", "first_name": self.user.first_name}
            quiz = {
                "message_id": 1,
                "date": int(time.time()),
                "chat": chat,
                "from": user,
                "text": "/quiz",
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            }
            await self.feed({"update_id": next(self._ids), "message": quiz})
            asked: dict[int, Message] = self.app.bot_data[ASKED]
            while self.answers < answers:
                message = asked[self.user.id]
                markup = message.reply_markup
                assert markup is not None
                pressed = markup.inline_keyboard[self.answers % CHOICES][0].callback_data
                query = {
                    "id": str(next(self._ids)),
                    "from": user,
                    "message": message.to_dict(),
                    "chat_instance": str(-self.user.id),
                    "data": pressed,
                }
                await self.feed({"update_id": next(self._ids), "callback_query": query})
                self.answers += 1


async def run_http_ceiling_level(
    students: int,
    answers: int,
    settings: Settings,
    split_cpu: bool = True,
    pool: int | None = None,
) -> dict[str, Any]:
    """``students`` pressing ``answers`` choices each, the fake Bot API in a child process."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    server = context.Process(target=_serve, args=(theirs,), daemon=True)
    server.start()
    try:
        base_url, token = ours.recv()
        wired = settings.model_copy(
            update={"telegram_api_base_url": base_url, "telegram_api_file_base_url": base_url}
        )
        split = CpuSplit(active=split_cpu)
        app = ceiling_application(wired, None, token=token, pool=pool)
        local = FakeBotApi()  # unused by the wire drivers; a Driver keeps one
        drivers = [WirePresser(app, local, FIRST_USER + k, split) for k in range(students)]
        await app.initialize()
        try:
            ours.send("start")
            measured = await drive(split, drivers, [d.run(answers) for d in drivers])
        finally:
            await app.shutdown()  # closes its connections before the server goes
        ours.send("calls")
        calls, failed = ours.recv()
        ours.send("stop")
        server_cpu = ours.recv()
    finally:
        server.join(timeout=10)
        if server.is_alive():
            server.kill()
    return {
        "students": students,
        "limiter": True,
        "transport": "http",
        "connection_pool": pool or "default",
        **measured,
        # getMe at start-up, and each student's first question, are not answers' calls.
        "calls_per_answer": (calls - 1 - students) / max(measured["answers"], 1),
        "failed_calls": failed,
        "server_cpu_ms_per_answer": server_cpu * 1000 / max(measured["answers"], 1),
        "peak_rss_mb": peak_rss_mb(),
    }
