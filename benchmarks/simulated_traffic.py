"""Simulated traffic for the bot benchmarks: students who answer through the real Application,
a fake Bot API a round trip away, and the run that measures them with a CPU split.

Used by :mod:`benchmarks.end_to_end`, :mod:`benchmarks.end_to_end_http` and the ceiling
benchmarks (:mod:`benchmarks.bot_ceiling`, :mod:`benchmarks.bot_ceiling_http`).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from benchmarks.common import percentile
from benchmarks.cpu_split import BOT, LOOP, REGION, CpuSplit
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.objects import FakeUser
from tutor.items import ItemKind
from tutor.service import TutorService

SERVICE, FAKE, DRIVER = "service", "fake", "driver"
"""CPU regions besides the bot's own (the default) and the event loop's (:mod:`cpu_split`)."""


def meter_service(service: TutorService, split: CpuSplit) -> None:
    """Charge the CPU spent inside the service's public coroutines to :data:`SERVICE`.

    A service method calling another stays in the same region; tasks the service creates
    inherit it.
    """
    for name, method in inspect.getmembers(service, inspect.iscoroutinefunction):
        if name.startswith("_"):
            continue
        setattr(service, name, _metered(method, split))


def _metered(method: Callable[..., Awaitable[Any]], split: CpuSplit) -> Callable[..., Any]:
    @functools.wraps(method)
    async def timed(*args: Any, **kwargs: Any) -> Any:
        if REGION.get() in (SERVICE, DRIVER):  # nested, or the driver's own look-ups
            return await method(*args, **kwargs)
        with split.region(SERVICE):
            return await method(*args, **kwargs)

    return timed


class Driver:
    """A simulated user: its own work is charged to :data:`DRIVER`, the bot's to the bot."""

    def __init__(self, app: Any, fake: FakeBotApi, user_id: int, split: CpuSplit) -> None:
        self.app, self.fake, self.split = app, fake, split
        self.user = FakeUser(id=user_id, first_name="Student")
        fake.register_user(self.user)
        self.latencies: list[float] = []
        self.updates = 0
        self.answers = 0

    async def feed(self, update: dict[str, Any]) -> None:
        """Hand one update to the application as its update fetcher would; wait until done."""
        from telegram import Update

        with self.split.region(BOT):
            parsed = Update.de_json(update, self.app.bot)
            started = time.perf_counter()
            await self.app.update_processor.process_update(parsed, self.app.process_update(parsed))
            self.latencies.append((time.perf_counter() - started) * 1000)
        self.updates += 1


class Student(Driver):
    """One simulated student answering through the bot."""

    def __init__(
        self, app: Any, fake: FakeBotApi, service: TutorService, user_id: int, split: CpuSplit
    ) -> None:
        super().__init__(app, fake, user_id, split)
        self.service = service
        # Message ids go on from earlier runs on the same file, as Telegram's would: a typed
        # answer whose message id repeats is taken for a redelivery and not graded again.
        fake._chats[user_id].next_message_id = int(time.time() * 1000) % 2_000_000_000
        self.rng = random.Random(user_id)

    async def _open_question(self) -> Any:
        return await self.service.open_question(self.user.id)  # in DRIVER: not the bot's work

    async def run(self, answers: int, think: float = 0.0) -> None:
        """Answer ``answers`` questions (see :meth:`_run`), charging its own work to DRIVER."""
        with self.split.region(DRIVER):
            await self._run(answers, think)

    async def _run(self, answers: int, think: float = 0.0) -> None:
        """Answer ``answers`` questions, in quizzes of its own (started with /quiz).

        With ``think``, the student reads each question for a random time (exponential,
        ``think`` seconds on average) before answering, as people do; without, at once.
        """
        if think > 0:  # people do not all arrive in the same instant
            await asyncio.sleep(self.rng.uniform(0, think))
        await self.feed(self.fake.user_message(self.user, "/quiz"))
        while self.answers < answers:
            if think > 0:
                await asyncio.sleep(self.rng.expovariate(1 / think))
            question = await self._open_question()
            if question is None:
                await self.feed(self.fake.user_message(self.user, "/quiz"))
                if await self._open_question() is None:
                    return  # nothing to study
                continue
            message = self.fake.last_with_buttons(self.user.id)
            data = [d for row in (message.buttons if message else []) for _, d in row]
            picks = [d for d in data if d.startswith(("a:", "g:"))]
            reveal = [d for d in data if d.startswith("r:")]
            if picks and message is not None:
                await self.feed(self.fake.user_callback(self.user, message, self.rng.choice(picks)))
                self.answers += 1
            elif reveal and message is not None:
                await self.feed(self.fake.user_callback(self.user, message, reveal[0]))
            elif question.item.kind in (ItemKind.TYPED, ItemKind.CLOZE):
                text = self.rng.choice([question.item.correct_text, "not sure"])
                await self.feed(self.fake.user_message(self.user, text))
                self.answers += 1
            else:  # a question this chat never showed (it has no buttons here): start anew
                await self.feed(self.fake.user_message(self.user, "/quiz"))


class DistantBotApi(FakeBotApi):
    """The fake Bot API a round trip away: every call waits ``latency`` seconds first.

    Its own work (decoding the request, Telegram's rules, encoding the answer) is charged to
    :data:`FAKE` when a ``split`` is given; building the request and parsing the answer
    stay the bot's (PTB does both with a real server too).
    """

    def __init__(self, latency: float, split: CpuSplit | None = None) -> None:
        super().__init__(require_known_chat=False)
        self.latency = latency
        self.split = split

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        """Wait out the round trip, then answer."""
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        if self.split is None:
            return await super().do_request(*args, **kwargs)
        with self.split.region(FAKE):
            return await super().do_request(*args, **kwargs)


async def drive(
    split: CpuSplit, drivers: Sequence[Driver], runs: Sequence[Awaitable[None]]
) -> dict[str, Any]:
    """Run ``runs`` (the drivers' sessions) at once: throughput, latency, CPU per answer.

    CPU is split by region (:mod:`benchmarks.cpu_split`), exactly at any number of students:
    the bot (PTB, handlers, rendering, the limiter), the event loop itself, the service,
    the fake Bot API, the drivers (building updates, their look-ups), and other threads
    (aiosqlite's connection thread, where SQLite runs).
    """
    loop = asyncio.get_running_loop()
    split.install(loop)
    try:
        split.reset()
        began, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*runs)
        wall, cpu = time.perf_counter() - began, time.process_time() - cpu
        regions = split.snapshot()
    finally:
        loop.set_task_factory(None)
    latencies = [x for d in drivers for x in d.latencies]
    total = sum(d.answers for d in drivers)
    per = 1000 / max(total, 1)
    return {
        "answers": total,
        "updates": len(latencies),
        "wall_s": wall,
        "answers_per_s": total / wall,
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
        "split": split.active,
        "process_cpu_ms_per_answer": cpu * per,
        "bot_cpu_ms_per_answer": regions.get(BOT, 0.0) * per,
        "loop_cpu_ms_per_answer": regions.get(LOOP, 0.0) * per,
        "service_cpu_ms_per_answer": regions.get(SERVICE, 0.0) * per,
        "fake_api_cpu_ms_per_answer": regions.get(FAKE, 0.0) * per,
        "driver_cpu_ms_per_answer": regions.get(DRIVER, 0.0) * per,
        "other_threads_cpu_ms_per_answer": (cpu - sum(regions.values())) * per,
        "updates_per_answer": len(latencies) / max(total, 1),
    }
