"""Faults while a student answers: Telegram errors, a locked database, a full disk.

Each test answers a question while something fails and checks the two things that matter:
the student is told something sensible (or nothing is lost by staying silent), and the
answer is in the database exactly once, or not at all when the failure came before the
commit, in which case pressing again records it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver, Turn
from bot.fake_telegram.objects import SentMessage
from bot.i18n import plain
from storage import Database
from tests.bot.flood_helpers import unlimited
from tests.bot.stories.conftest import ADA, LEI, onboard, story_settings
from tutor.service import TutorService

DECK = {
    "metatutor": 1,
    "deck": {"slug": "faults", "name": "Faults", "language": "en"},
    "items": [
        {
            "id": f"q{i}",
            "type": "multiple_choice",
            "question": f"Pick {i}",
            "options": [f"right{i}", f"wrong{i}"],
            "answer": f"right{i}",
        }
        for i in range(6)
    ],
}
GENERIC = plain("en", "apology.button")  # the notice over the chat after a failed press
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


@pytest.fixture
async def tutor(service_factory: Any) -> TutorService:
    service: TutorService = await service_factory()
    await service.import_file(json.dumps(DECK).encode(), "faults.json")
    return service


@pytest.fixture
async def chat(tutor: TutorService, fake: FakeBotApi) -> AsyncIterator[ChatDriver]:
    """The bot with errors reported to the error handler (as in production), not raised."""
    application = build_application(story_settings(), tutor, request=fake)
    unlimited(application)  # stories press faster than people; floods are tested apart
    async with ChatDriver(application, raise_errors=False) as driver:
        yield driver


async def _question(chat: ChatDriver) -> SentMessage:
    await onboard(chat, ADA, deck="Faults")
    await chat.send(ADA, "/quiz 5")
    return _open_question(chat)


def _open_question(chat: ChatDriver) -> SentMessage:
    for message in reversed(chat.messages(ADA)):
        if any(d.startswith("a:") for row in message.buttons for _, d in row):
            return message
    raise AssertionError("no open question")


def _right(message: SentMessage) -> str:
    return next(label for row in message.buttons for label, _ in row if label.startswith("right"))


async def _attempts(tutor: TutorService) -> list[tuple[str, int]]:
    async with (
        tutor.db.read() as conn,
        conn.execute("SELECT idempotency_key, correct FROM attempts ORDER BY id") as cursor,
    ):
        return [(row[0], row[1]) for row in await cursor.fetchall()]


def _feedback(turn: Turn) -> bool:
    """Whether the student read the feedback: the pressed question edited into it, or (a
    typed answer, a resumed quiz) a new message."""
    return any("Correct!" in m.plain for m in [*turn.edited, *turn.new])


async def test_flood_limit_429_is_waited_out(chat: ChatDriver, tutor: TutorService) -> None:
    question = await _question(chat)
    chat.fake.fail_next("editMessageText", 429, retry_after=1)  # the feedback
    loop = asyncio.get_running_loop()
    started = loop.time()
    turn = await chat.press(ADA, _right(question), message=question)
    assert loop.time() - started >= 1.0  # waited as Telegram asked
    assert _feedback(turn) and not turn.errors
    assert len(await _attempts(tutor)) == 1


async def test_blocked_by_the_student_403_keeps_the_answer(
    chat: ChatDriver, tutor: TutorService
) -> None:
    question = await _question(chat)
    chat.fake.fail_next("sendMessage", 403, times=5)
    turn = await chat.press(ADA, _right(question), message=question)
    assert [type(e).__name__ for e in turn.errors] == ["Forbidden"]
    assert len(await _attempts(tutor)) == 1


async def test_message_not_modified_counts_as_done(chat: ChatDriver, tutor: TutorService) -> None:
    question = await _question(chat)
    # The feedback's edit is refused as not modified (a timed-out edit that did arrive).
    chat.fake.fail_next("editMessageText", 400, description=NOT_MODIFIED)
    turn = await chat.press(ADA, _right(question), message=question)
    assert not turn.errors and not turn.new[:-1]  # no second copy of the feedback
    assert "Question 2/5" in turn.new[-1].plain
    assert len(await _attempts(tutor)) == 1


@pytest.mark.parametrize("fault", [502, "timeout", "network"])
async def test_lost_feedback_is_told_once_and_shown_again_on_the_next_press(
    chat: ChatDriver, tutor: TutorService, fault: int | str
) -> None:
    question = await _question(chat)
    right = _data(question, _right(question))
    # The feedback (the question's edit) fails after the answer was committed.
    chat.fake.fail_next("editMessageText", fault)
    turn = await chat.press(ADA, _right(question), message=question)
    assert len(turn.errors) == 1
    # The press was acknowledged (spinner stopped), the answer kept, and the student told,
    # once, what happened and what to do; no next question came after the lost feedback.
    assert turn.answer is not None and turn.answer.text is None
    assert [m.plain for m in turn.new] == [plain("en", "quiz.lost_feedback")]
    assert len(await _attempts(tutor)) == 1
    # The buttons are still there: pressing the same answer again shows the feedback, then
    # the next question; the answer is not recorded twice.
    shown = chat.fake.message(ADA.id, question.message_id)
    assert shown is not None
    again = await chat.press(ADA, _right(question), message=shown)
    assert _feedback(again) and not again.errors
    assert "Question 2/5" in again.new[-1].plain
    assert len(await _attempts(tutor)) == 1
    # A further press is a plain repeat now; the quiz carries on at question 2.
    shown = chat.fake.message(ADA.id, question.message_id)
    assert shown is not None and not shown.buttons
    repeat = await chat.press_data(ADA, question, right)
    assert repeat.answer is not None and not repeat.new
    assert repeat.answer.text == "Already answered. Question 2 of 5 is waiting below."
    follow = _open_question(chat)
    turn = await chat.press(ADA, _right(follow), message=follow)
    assert _feedback(turn) and "Question 3/5" in turn.new[-1].plain
    assert len(await _attempts(tutor)) == 2


async def test_quiz_carries_on_a_quiz_whose_next_question_never_arrived(
    chat: ChatDriver, tutor: TutorService
) -> None:
    question = await _question(chat)  # /quiz 5
    chat.fake.fail_next("sendMessage", 502)
    await chat.press(ADA, _right(question), message=question)
    assert len(await _attempts(tutor)) == 1
    # /quiz does not end the running quiz at 1/5: it says so, shows the lost feedback and
    # the question that never arrived.
    turn = await chat.send(ADA, "/quiz 3")
    texts = [m.plain for m in turn.new]
    assert texts[0] == plain("en", "quiz.resumed")
    assert "Correct!" in texts[1] and "1/5" in texts[1]
    assert "Question 2/5" in texts[2] and turn.new[2].buttons
    assert len(texts) == 3 and not turn.errors
    async with tutor.db.read() as conn:
        rows = await conn.execute_fetchall("SELECT COUNT(*) FROM quiz_sessions")
    assert next(iter(rows))[0] == 1  # still the same quiz
    # Once the question is on screen, /quiz asks first, and can start a new quiz.
    turn = await chat.send(ADA, "/quiz 3")
    assert "question 2 of 5 is waiting" in turn.new[-1].plain
    turn = await chat.press(ADA, "🔄 New quiz")
    assert "Question 1/3" in turn.new[-1].plain


async def test_a_lost_summary_comes_again_and_only_once(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await onboard(chat, ADA, deck="Faults")
    await chat.send(ADA, "/quiz 1")
    question = _open_question(chat)
    right = _data(question, _right(question))
    chat.fake.fail_next("editMessageText", "network")
    await chat.press(ADA, _right(question), message=question)
    # The answer ended the quiz; neither its feedback nor the summary arrived.
    shown = chat.fake.message(ADA.id, question.message_id)
    assert shown is not None
    again = await chat.press_data(ADA, shown, right)
    assert _feedback(again) and "Session done" in again.new[-1].plain
    repeat = await chat.press_data(ADA, shown, right)
    assert repeat.answer is not None and not repeat.new
    assert repeat.answer.text == (
        "Already answered, and this quiz is over. Send /quiz for a new one."
    )
    assert len(await _attempts(tutor)) == 1


async def test_an_answered_question_points_at_the_one_waiting_in_chinese(
    chat: ChatDriver, tutor: TutorService
) -> None:
    """A press on an old question's button says which question is waiting, in Chinese."""
    await onboard(chat, LEI, deck="Faults")
    await chat.send(LEI, "/quiz 3")
    first = next(m for m in reversed(chat.messages(LEI)) if m.buttons)
    data = next(d for row in first.buttons for _, d in row if d.startswith("a:"))
    await chat.press_data(LEI, first, data)
    repeat = await chat.press_data(LEI, first, data)
    assert repeat.answer is not None and not repeat.new
    assert repeat.answer.text == "这道题已经答过了。第 2/3 题在下面等你作答。"


async def test_a_lost_next_question_is_told_and_quiz_shows_it(
    chat: ChatDriver, tutor: TutorService
) -> None:
    question = await _question(chat)  # /quiz 5
    chat.fake.fail_next("sendMessage", "timeout")  # the feedback (an edit) goes, not question 2
    right = _right(question)
    turn = await chat.press(ADA, right, message=question)
    assert "Correct!" in question.plain and not question.buttons
    assert [m.plain for m in turn.new] == [plain("en", "quiz.lost_question")]
    turn = await chat.send(ADA, "/quiz")
    texts = [m.plain for m in turn.new]
    assert texts[0] == plain("en", "quiz.resumed") and "Question 2/5" in texts[-1]
    # the feedback shown again says which choice was pressed, as its edit did
    assert texts[1].startswith(f"Your answer: {right}\n"), texts[1]
    assert len(await _attempts(tutor)) == 1


async def test_a_lost_summary_is_told_and_quiz_shows_it_before_a_new_round(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await onboard(chat, ADA, deck="Faults")
    await chat.send(ADA, "/quiz 1")
    question = _open_question(chat)
    chat.fake.fail_next("sendMessage", 502)  # the feedback (an edit) goes, not the summary
    turn = await chat.press(ADA, _right(question), message=question)
    assert "Correct!" in question.plain and not question.buttons
    assert [m.plain for m in turn.new] == [plain("en", "quiz.lost_summary")]
    turn = await chat.send(ADA, "/quiz")  # the end of the last quiz first...
    assert "Correct!" in turn.new[0].plain and "Session done" in turn.new[-1].plain
    turn = await chat.send(ADA, "/quiz")  # ...then a new one
    assert "Question 1/10" in turn.new[-1].plain


TYPED = {
    "metatutor": 1,
    "deck": {"slug": "typed-faults", "name": "Typed", "language": "en"},
    "items": [
        {"id": f"t{i}", "type": "typed", "question": f"Type {i}", "answer": [f"word{i}"]}
        for i in range(4)
    ],
}


def _typed_answer(question: str) -> str:
    found = re.search(r"Type (\d+)", question)
    assert found is not None, question
    return f"word{found.group(1)}"


async def test_a_typed_answer_is_never_marked_against_a_question_not_shown(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await tutor.import_file(json.dumps(TYPED).encode(), "typed.json")
    await onboard(chat, LEI, deck="Typed")
    await chat.send(LEI, "/quiz 3")
    word = _typed_answer(chat.messages(LEI)[-1].plain)
    chat.fake.fail_next("sendMessage", 502)
    turn = await chat.send(LEI, word)
    # Told right then, in Chinese, once: the answer is saved, /quiz shows the feedback.
    assert [m.plain for m in turn.new] == [plain("zh", "quiz.lost_feedback_typed")]
    assert len(await _attempts(tutor)) == 1
    # Lei types the answer again: it is not marked against question 2, which she never
    # saw; she gets the lost feedback, then question 2.
    turn = await chat.send(LEI, word)
    texts = [m.plain for m in turn.new]
    assert texts[0] == plain("zh", "quiz.resumed_typed")
    assert "答对了" in texts[1] and "第 2/3 题" in texts[2]
    assert len(await _attempts(tutor)) == 1
    # Now question 2 is on screen: the next text answers it.
    word = _typed_answer(texts[2])
    turn = await chat.send(LEI, word)
    assert "答对了" in turn.new[0].plain and "第 3/3 题" in turn.new[-1].plain
    assert len(await _attempts(tutor)) == 2


def _hold_write_lock(path: str, seconds: float) -> subprocess.Popen[str]:
    """Another process that takes SQLite's write lock and keeps it for ``seconds``."""
    code = (
        "import sqlite3, sys, time\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE')\n"
        "print('locked', flush=True)\n"
        "time.sleep(float(sys.argv[2]))\n"
        "c.execute('ROLLBACK')\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, path, str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "locked"
    return process


@pytest.mark.sqlite_only
async def test_briefly_locked_database_is_waited_for(chat: ChatDriver, tutor: TutorService) -> None:
    question = await _question(chat)
    assert tutor.db.path is not None
    holder = _hold_write_lock(str(tutor.db.path), 0.5)
    turn = await chat.press(ADA, _right(question), message=question)
    holder.wait(5)
    assert _feedback(turn) and not turn.errors
    assert len(await _attempts(tutor)) == 1


@pytest.mark.sqlite_only
async def test_database_locked_too_long_fails_cleanly_then_recovers(
    chat: ChatDriver, tutor: TutorService
) -> None:
    question = await _question(chat)
    assert tutor.db.path is not None
    async with tutor.db.read() as conn:
        await conn.execute("PRAGMA busy_timeout = 200")  # give up fast (default 5 s)
    holder = _hold_write_lock(str(tutor.db.path), 2.0)
    try:
        turn = await chat.press(ADA, _right(question), message=question)
    finally:
        holder.wait(10)
    assert [str(e) for e in turn.errors] == ["database is locked"]
    assert turn.answer is not None and turn.answer.text == GENERIC  # told to try again
    assert await _attempts(tutor) == []
    retry = await chat.press_data(ADA, question, _data(question, _right(question)))
    assert _feedback(retry) and not retry.errors
    assert len(await _attempts(tutor)) == 1


def _data(message: SentMessage, label: str) -> str:
    return next(d for row in message.buttons for text, d in row if text == label)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs (needs root to mount; skipped otherwise)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


async def test_disk_full_rolls_back_then_recovers(small_disk: Path, clock: Any) -> None:
    db = await Database.open(small_disk / "metatutor.sqlite3")
    try:
        tutor = TutorService(db, clock=clock)
        await tutor.import_file(json.dumps(DECK).encode(), "faults.json")
        fake = FakeBotApi(clock=clock)
        application = build_application(story_settings(), tutor, request=fake)
        unlimited(application)  # stories press faster than people; floods are tested apart
        async with ChatDriver(application, raise_errors=False) as chat:
            question = await _question(chat)
            data = _data(question, _right(question))
            async with db.read() as conn:
                # The WAL must grow. Closed: an open checkpoint statement would keep COMMIT
                # from committing ("SQL statements in progress") instead of finding the disk full.
                await (await conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")).close()
            filler = small_disk / "filler"
            with filler.open("wb", buffering=0) as sink, contextlib.suppress(OSError):
                while True:  # take every free block of the file system
                    sink.write(b"\0" * 4096)
            turn = await chat.press(ADA, _right(question), message=question)
            assert [str(e) for e in turn.errors] == ["database or disk is full"]
            assert turn.answer is not None and turn.answer.text == GENERIC
            filler.unlink()
            assert await _attempts(tutor) == []  # nothing half-written
            async with db.read() as conn, conn.execute("PRAGMA integrity_check") as cursor:
                assert (await cursor.fetchone())[0] == "ok"  # type: ignore[index]
            retry = await chat.press_data(ADA, question, data)
            assert _feedback(retry) and not retry.errors
            assert len(await _attempts(tutor)) == 1
    finally:
        await db.close()
