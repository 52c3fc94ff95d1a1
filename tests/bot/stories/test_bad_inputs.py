"""The bad-input corpus (tests/data/bad_inputs): each input gets a clear answer, changes nothing.

Chat texts, forged and replayed button presses, commands in groups, deck content with markup
in it, and bad files uploaded by an admin. Large inputs (a 100,000-row CSV, a zip bomb, an
oversized upload, a 100 kB message) are generated here rather than stored.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver, Turn
from bot.fake_telegram.objects import FakeChat, FakeUser
from bot.handlers.admin import register_admin_handlers
from bot.settings import Settings
from tests.bot.flood_helpers import unlimited
from tests.bot.stories.conftest import ADA, EVE, onboard
from tutor.service import TutorService

CORPUS = Path(__file__).resolve().parents[2] / "data" / "bad_inputs"
MESSAGES = json.loads((CORPUS / "messages.json").read_text("utf-8"))
ADMIN = FakeUser(9001, "Root", language_code="en")
LIMIT_MB = 5
TABLES = (
    "users",
    "enrolments",
    "attempts",
    "questions",
    "quiz_sessions",
    "decks",
    "items",
    "memory",
    "reminders",
    "learner_state",
)


@pytest.fixture
async def chat(tutor: TutorService, fake: FakeBotApi) -> AsyncIterator[ChatDriver]:
    """The student bot plus the admin commands, with a small import limit."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token=None,
        admin_ids=frozenset({ADMIN.id}),
        max_import_mb=LIMIT_MB,
        chat_rate=0,  # stories press faster than people
    )
    application = build_application(settings, tutor, request=fake)
    unlimited(application)  # stories press faster than people; floods are tested apart
    register_admin_handlers(application, settings)
    async with ChatDriver(application) as driver:
        yield driver


async def _snapshot(tutor: TutorService) -> dict[str, Any]:
    """Row counts and every student's settings (what a bad input must not change)."""
    result: dict[str, Any] = {}
    async with tutor.db.read() as conn:
        for table in TABLES:
            async with conn.execute(f"SELECT COUNT(*) FROM {table}") as cursor:
                row = await cursor.fetchone()
            result[table] = row[0] if row else 0
        async with conn.execute(
            "SELECT id, language, timezone, daily_quiz_time, quiet_hours, daily_goal,"
            " quiz_length, status, onboarded FROM users ORDER BY id"
        ) as cursor:
            result["user_rows"] = [tuple(row) for row in await cursor.fetchall()]
        async with conn.execute(
            "SELECT user_id, deck_id, exam_date, active FROM enrolments ORDER BY 1, 2"
        ) as cursor:
            result["enrolment_rows"] = [tuple(row) for row in await cursor.fetchall()]
    return result


def _answered(turn: Turn) -> bool:
    """The user saw something: a message, an edit, or a toast."""
    return bool(turn.new or turn.edited or (turn.answer is not None and turn.answer.text))


@pytest.mark.parametrize("case", MESSAGES["texts"], ids=[c["name"] for c in MESSAGES["texts"]])
async def test_chat_text_gets_an_answer_and_changes_nothing(
    chat: ChatDriver, tutor: TutorService, case: dict[str, str]
) -> None:
    await onboard(chat, ADA)
    before = await _snapshot(tutor)
    turn = await chat.send(ADA, case["text"])
    assert _answered(turn), case["name"]
    # Every reply passed Telegram's HTML check (the fake refuses broken markup), and user
    # text never comes back as live markup.
    for message in turn.new:
        assert "<script>" not in (message.text or "")
    assert await _snapshot(tutor) == before


@pytest.mark.parametrize(
    "text",
    ["x" * 100_000, "\x00" * 5000, bytes(range(256)).decode("latin-1") * 20],
    ids=["100kB", "nul_bytes", "all_bytes"],
)
async def test_oversized_and_binary_messages(
    chat: ChatDriver, tutor: TutorService, text: str
) -> None:
    await onboard(chat, ADA)
    await chat.send(ADA, "/quiz 3")
    before = await _snapshot(tutor)
    turn = await chat.send(ADA, text)
    assert len(turn.new) == 1 and len(turn.new[0].plain) < 500
    assert await _snapshot(tutor) == before


@pytest.mark.parametrize("data", MESSAGES["callbacks"])
async def test_forged_callback_data_is_refused_quietly(
    chat: ChatDriver, tutor: TutorService, data: str
) -> None:
    await onboard(chat, ADA)
    await chat.send(ADA, "/quiz 3")
    before = await _snapshot(tutor)
    message = chat.last(ADA)
    turn = await chat.press_data(ADA, message, data)
    assert turn.answer is not None  # the spinner stops, with a notice
    assert chat.fake.unanswered_callbacks() == []
    assert await _snapshot(tutor) == before


async def test_someone_elses_question_and_replays_record_nothing(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await onboard(chat, ADA)
    await onboard(chat, EVE)
    await chat.send(ADA, "/quiz 5")
    question = next(
        m
        for m in reversed(chat.messages(ADA))
        if any(d.startswith("a:") for r in m.buttons for _, d in r)
    )
    data = next(d for row in question.buttons for _, d in row if d.startswith("a:"))
    before = await _snapshot(tutor)
    # Eve forges Ada's button (same data, from her own chat).
    forged = await chat.press_data(EVE, chat.last(EVE), data)
    assert forged.answer is not None and forged.answer.text
    assert await _snapshot(tutor) == before
    # Ada answers, then the same press arrives twice more (double tap, redelivery).
    await chat.press_data(ADA, question, data)
    after = await _snapshot(tutor)
    assert after["attempts"] == before["attempts"] + 1
    update = chat.fake.user_callback(ADA, question, data)
    await chat.feed(update)
    await chat.redeliver(update)
    assert (await _snapshot(tutor))["attempts"] == after["attempts"]


@pytest.mark.parametrize(
    "command", ["/start", "/quiz", "/stats", "/forget", "/mydata", "/admin", "/import x"]
)
async def test_commands_in_a_group_touch_nothing(
    chat: ChatDriver, tutor: TutorService, command: str
) -> None:
    before = await _snapshot(tutor)
    group = FakeChat(-100123, "Study group")
    for user in (ADA, ADMIN):
        turn = await chat.send(user, command, chat=group)
        # At most a pointer to the private chat; never a question, a file or a confirmation.
        for message in turn.new:
            assert not message.buttons and message.document is None
    assert await _snapshot(tutor) == before


async def test_markup_in_deck_content_is_shown_literally(
    chat: ChatDriver, tutor: TutorService
) -> None:
    data = (CORPUS / "injection_deck.csv").read_bytes()
    turn = await chat.upload(ADMIN, data, "injection.csv", caption="/import Injection")
    assert "added 1" in turn.new[-1].plain or "added 1" in chat.last(ADMIN).plain
    await onboard(chat, ADA, deck="Injection")
    await chat.send(ADA, "/quiz 1")
    question = next(m for m in reversed(chat.messages(ADA)) if "Pick" in m.plain)
    assert "Pick <b>one</b> <script>x</script> & *two*" in question.plain
    assert sorted(question.button_texts) == sorted(["<i>A</i>", "B & C", "</code>"])
    await chat.press(ADA, "<i>A</i>", message=question)
    feedback = question.plain  # the question, edited into its feedback
    assert '<a href="http://x">see</a> {0} %s' in feedback


def _zip_bomb(expanded_mb: int) -> bytes:
    """A small .apkg whose collection expands to ``expanded_mb`` megabytes of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("collection.anki2", "w", force_zip64=True) as member:
            block = b"\0" * (1024 * 1024)
            for _ in range(expanded_mb):
                member.write(block)
        archive.writestr("media", "{}")
    return buffer.getvalue()


def _bad_files() -> list[tuple[str, bytes]]:
    stored = [
        (name, (CORPUS / name).read_bytes())
        for name in (
            "latin1.csv",
            "utf16.csv",
            "truncated.apkg",
            "not_a_zip.apkg",
            "binary.csv",
            "empty.csv",
            "bad_json.json",
        )
    ]
    return [
        *stored,
        ("bomb.apkg", _zip_bomb(LIMIT_MB * 8)),
        ("huge.csv", b"question,answer\n" + b"q,a\n" * (LIMIT_MB * 1024 * 1024 // 4 + 10)),
        ("deck.exe", b"MZ\x90\x00" + b"\0" * 100),
    ]


async def test_bad_files_are_refused_with_a_reason(chat: ChatDriver, tutor: TutorService) -> None:
    before = await _snapshot(tutor)
    for name, data in _bad_files():
        turn = await chat.upload(ADMIN, data, name, caption="/import")
        text = "\n".join(m.plain for m in [*turn.new, *turn.edited])
        assert f"{name} was not imported:" in text or f"{name} is larger than" in text, (
            name,
            text,
        )
        reason = text.split(":", 1)[-1].strip()
        assert reason and "Traceback" not in reason, name
    assert await _snapshot(tutor) == before


@pytest.mark.slow
async def test_a_100k_row_csv_is_imported_or_refused_in_one_piece(
    chat: ChatDriver, tutor: TutorService
) -> None:
    rows = "".join(f"r{i},Question number {i}?,Answer {i}\n" for i in range(100_000))
    data = ("id,question,answer\n" + rows).encode()
    assert len(data) < LIMIT_MB * 1024 * 1024
    before = await _snapshot(tutor)
    turn = await chat.upload(ADMIN, data, "big.csv", caption="/import Big")
    text = "\n".join(m.plain for m in [*turn.new, *turn.edited])
    after = await _snapshot(tutor)
    if "was not imported" in text:
        assert after == before  # all or nothing
    else:
        assert "added 100000" in text
        assert after["items"] == before["items"] + 100_000
