"""CPU per answer over HTTP: the bot with the tutor and the learner model, next to a minimal bot.

    .venv/bin/python -m benchmarks.generate_db --scale 10k --out /tmp/mt-10k.sqlite
    cp /tmp/mt-10k.sqlite /tmp/copy.sqlite && cp /tmp/mt-10k.sqlite.json /tmp/copy.sqlite.json
    .venv/bin/python -m benchmarks.end_to_end --http --db /tmp/copy.sqlite --levels 1 \\
        --min-answers 300 --json out.json

Both bots run in this process and talk over HTTP to the fake Bot API served by a child
process (:class:`bot.fake_telegram.http_server.HttpBotApi`), as a production process talks to
Telegram: the tutor through the Bot API client it runs with
(:class:`bot.telegram_http.KeepAliveRequest`; ``--tutor-client httpx``: PTB's
``HTTPXRequest``, as behind a proxy), the minimal bot through PTB's default ``HTTPXRequest``
(what a plain PTB bot pays). Updates are handed to the application directly, as a long poll
would deliver them. In the same run:

* **the tutor**: the real application (:func:`bot.app.build_application`) over the service
  with the learner model on the generated database. Its simulated students find their open
  question through the service (their own work, charged to the driver) and build the
  updates Telegram would send: a button press on the question's message (with its photo
  when it has one), "Show answer" then a self-grade, or a typed answer.
* **the minimal bot**: PTB with the bot's builder (outgoing limiter, per-user ordering) and
  handlers that put the same calls per answer on the wire (acknowledge, edit the question
  into its feedback, ask the next question) and commit one SQLite row per update (aiosqlite,
  WAL, as the bot's database). What any PTB bot that stores what it receives pays.

The figure that counts is the bot process's CPU per answer (the driver's share taken out) of
the tutor against the minimal bot's: their ratio, measured in the same run on the same
machine under the same load.
"""

from __future__ import annotations

import multiprocessing
import random
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
from telegram import Update
from telegram.ext import TypeHandler
from telegram.request import HTTPXRequest

from benchmarks.bot_ceiling import FIRST_USER, ceiling_application
from benchmarks.bot_ceiling_http import WirePresser, _serve
from benchmarks.common import peak_rss_mb, table
from benchmarks.cpu_split import CpuSplit
from benchmarks.simulated_traffic import DRIVER, Driver, drive, meter_service
from bot import callbacks
from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.settings import Settings
from storage import Database
from tutor.items import Grade, ItemKind
from tutor.learner import MemoryModel
from tutor.service import TutorService
from tutor.views import Question


@dataclass
class Served:
    """The fake Bot API in a child process: its address and the pipe that reports on it."""

    base_url: str
    token: str
    pipe: Any

    def start(self) -> None:
        """Start counting the server's CPU."""
        self.pipe.send("start")

    def calls(self) -> tuple[int, int]:
        """Calls answered so far, and how many of them failed."""
        self.pipe.send("calls")
        calls, failed = self.pipe.recv()
        return int(calls), int(failed)


@asynccontextmanager
async def served() -> AsyncIterator[Served]:
    """Serve the fake Bot API from a child process for the duration."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    server = context.Process(target=_serve, args=(theirs,), daemon=True)
    server.start()
    try:
        base_url, token = ours.recv()
        yield Served(base_url, token, ours)
    finally:
        ours.send("stop")
        ours.recv()
        server.join(timeout=10)
        if server.is_alive():
            server.kill()


def wired(settings: Settings, server: Served) -> Settings:
    """``settings`` pointing at ``server`` (token included)."""
    from pydantic import SecretStr

    return settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(server.token),
            "telegram_api_base_url": server.base_url,
            "telegram_api_file_base_url": server.base_url,
        }
    )


class WireStudent(Driver):
    """A student of the tutor who builds the updates Telegram would send."""

    _ids = iter(range(900_000_001, 2_000_000_000))

    def __init__(self, app: Any, service: TutorService, user_id: int, split: CpuSplit) -> None:
        super().__init__(app, FakeBotApi(), user_id, split)
        self.service = service
        self.rng = random.Random(user_id)
        self.chat = {"id": user_id, "type": "private", "first_name": "Student"}

    def _message(self, text: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": self.chat,
            "from": self.user.to_json(),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"update_id": next(self._ids), "message": message}

    async def _press(self, question: Question, message_id: int, data: str) -> None:
        shown: dict[str, Any] = {"message_id": message_id, "date": int(time.time())}
        shown["chat"] = self.chat
        if question.image is not None:  # a photo question: its caption is edited
            shown["photo"] = [
                {"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1, "file_size": 1}
            ]
            shown["caption"] = "question"
        else:
            shown["text"] = "question"
        query = {
            "id": str(next(self._ids)),
            "from": self.user.to_json(),
            "message": shown,
            "chat_instance": str(-self.user.id),
            "data": data,
        }
        await self.feed({"update_id": next(self._ids), "callback_query": query})

    async def _message_id(self, question_id: int) -> int | None:
        async with (
            self.service.db.read() as conn,
            conn.execute("SELECT message_id FROM questions WHERE id = ?", (question_id,)) as cur,
        ):
            row = await cur.fetchone()
        return None if row is None or row[0] is None else int(row[0])

    async def run(self, answers: int) -> None:
        """Answer ``answers`` questions, in quizzes of its own (started with /quiz)."""
        with self.split.region(DRIVER):
            await self.feed(self._message("/quiz"))
            while self.answers < answers:
                question = await self.service.open_question(self.user.id)
                message_id = None if question is None else await self._message_id(question.id)
                if question is None or message_id is None:
                    await self.feed(self._message("/quiz"))
                    if await self.service.open_question(self.user.id) is None:
                        return  # nothing to study
                    continue
                kind = question.item.kind
                if kind in (ItemKind.MULTIPLE_CHOICE, ItemKind.TRUE_FALSE):
                    pick = self.rng.randrange(len(question.choices))
                    await self._press(question, message_id, callbacks.answer(question.id, pick))
                elif kind.self_graded:
                    await self._press(question, message_id, callbacks.reveal(question.id))
                    grade = self.rng.choice([Grade.AGAIN, Grade.GOOD, Grade.EASY])
                    await self._press(question, message_id, callbacks.grade(question.id, grade))
                else:
                    text = self.rng.choice([question.item.correct_text, "not sure"])
                    await self.feed(self._message(text))
                self.answers += 1


async def run_tutor_level(
    db_path: Path,
    users: list[int],
    answers: int,
    memory: MemoryModel,
    settings: Settings,
    client: str = "own",
) -> dict[str, Any]:
    """``users`` answering at once through the real bot, the Bot API over HTTP (``client``:
    the bot's own Bot API client, as it runs, or "httpx": PTB's, as behind a proxy)."""
    import json

    meta = json.loads(Path(f"{db_path}.json").read_text())
    start = datetime.fromtimestamp(meta["now_ms"] / 1000, UTC) + timedelta(days=1)
    offset = time.time() - start.timestamp()
    db = await Database.open(db_path)
    service = TutorService(
        db, memory=memory, clock=lambda: datetime.fromtimestamp(time.time() - offset, UTC)
    )
    split = CpuSplit()
    meter_service(service, split)
    try:
        async with served() as server:
            requests: dict[str, Any] = {}
            if client == "httpx":
                requests["request"] = HTTPXRequest()
                requests["get_updates_request"] = HTTPXRequest(connection_pool_size=1)
            app = build_application(wired(settings, server), service, **requests)
            students = [WireStudent(app, service, uid, split) for uid in users]
            await app.initialize()
            before, _ = server.calls()
            try:
                server.start()
                measured = await drive(split, students, [s.run(answers) for s in students])
            finally:
                await app.shutdown()
            calls, failed = server.calls()
    finally:
        await db.close()
    result = _result("tutor", memory.name, len(users), measured, calls - before, failed)
    return {**result, "client": type(app.bot.request).__name__}


_STORE = "CREATE TABLE IF NOT EXISTS received (update_id INTEGER PRIMARY KEY, at REAL NOT NULL)"


async def run_minimal_level(students: int, answers: int, settings: Settings) -> dict[str, Any]:
    """The minimal bot: the same calls per answer, one committed SQLite row per update."""
    with tempfile.TemporaryDirectory() as tmp:
        conn = await aiosqlite.connect(Path(tmp) / "minimal.sqlite3")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute(_STORE)
        await conn.commit()

        async def store(update: Update, _context: Any) -> None:
            row = (update.update_id, time.time())
            await conn.execute("INSERT INTO received (update_id, at) VALUES (?, ?)", row)
            await conn.commit()

        try:
            async with served() as server:
                split = CpuSplit()
                app = ceiling_application(wired(settings, server), None, token=server.token)
                app.add_handler(TypeHandler(Update, store), group=-1)
                drivers = [
                    WirePresser(app, FakeBotApi(), FIRST_USER + k, split) for k in range(students)
                ]
                await app.initialize()
                before, _ = server.calls()
                try:
                    server.start()
                    measured = await drive(split, drivers, [d.run(answers) for d in drivers])
                finally:
                    await app.shutdown()
                calls, failed = server.calls()
            async with conn.execute("SELECT COUNT(*) FROM received") as cursor:
                row = await cursor.fetchone()
            assert row is not None and row[0] == measured["updates"], "one row per update"
        finally:
            await conn.close()
    result = _result("minimal PTB bot", "none", students, measured, calls - before, failed)
    return {**result, "client": type(app.bot.request).__name__}


def _result(
    bot: str, memory: str, students: int, measured: dict[str, Any], calls: int, failed: int
) -> dict[str, Any]:
    answers = max(measured["answers"], 1)
    return {
        "bot": bot,
        "memory": memory,
        "students": students,
        "limiter": True,
        "transport": "http",
        **measured,
        "bot_process_cpu_ms_per_answer": measured["process_cpu_ms_per_answer"]
        - measured["driver_cpu_ms_per_answer"],
        # Each student's first question (its /quiz) is not an answer's call.
        "calls_per_answer": (calls - students) / answers,
        "failed_calls": failed,
        "peak_rss_mb": peak_rss_mb(),
    }


async def run_http(
    db_path: Path,
    users_by_level: dict[int, list[int]],
    min_answers: int,
    answers: int,
    memory: MemoryModel,
    settings: Settings,
    clients: Sequence[str] = ("own",),
) -> list[dict[str, Any]]:
    """Each level: the tutor (once per Bot API client in ``clients``), then the minimal bot,
    with the ratio of each tutor's CPU per answer to the minimal bot's."""
    results = []
    for level, users in users_by_level.items():
        per_student = max(min_answers // level, answers)
        tutors = []
        for client in clients:
            async with _fresh_copy(db_path, len(clients) > 1) as path:
                tutors.append(
                    await run_tutor_level(path, users, per_student, memory, settings, client)
                )
        minimal = await run_minimal_level(level, per_student, settings)
        for tutor in tutors:
            tutor["ratio_to_minimal"] = (
                tutor["bot_process_cpu_ms_per_answer"] / minimal["bot_process_cpu_ms_per_answer"]
            )
        minimal["ratio_to_minimal"] = 1.0
        results += [*tutors, minimal]
    return results


@asynccontextmanager
async def _fresh_copy(db_path: Path, copy: bool) -> AsyncIterator[Path]:
    """``db_path`` itself, or (``copy``) a copy of it for one run, so that every tutor run
    starts from the same students' state."""
    if not copy:
        yield db_path
        return
    with tempfile.TemporaryDirectory(dir=db_path.parent) as tmp:
        path = Path(tmp) / db_path.name
        shutil.copyfile(db_path, path)
        shutil.copyfile(f"{db_path}.json", f"{path}.json")
        yield path


def http_table(results: list[dict[str, Any]]) -> str:
    """The bot process's CPU per answer, the calls per answer, and the ratio to the minimal
    bot of the same level."""
    columns = {
        "calls/answer": "calls_per_answer",
        "bot process CPU ms/answer": "bot_process_cpu_ms_per_answer",
        "bot (PTB, handlers, HTTP)": "bot_cpu_ms_per_answer",
        "event loop": "loop_cpu_ms_per_answer",
        "service": "service_cpu_ms_per_answer",
        "other threads (SQLite)": "other_threads_cpu_ms_per_answer",
        "driver (left out)": "driver_cpu_ms_per_answer",
        "× minimal": "ratio_to_minimal",
    }
    return table(
        ["bot", "Bot API client", "memory", "students", "answers", *columns],
        [
            [r["bot"], r.get("client", ""), r["memory"], r["students"], r["answers"]]
            + [r[key] for key in columns.values()]
            for r in results
        ],
    )
