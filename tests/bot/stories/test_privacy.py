"""/mydata sends a student their answers; /forget erases them after a confirmation tap."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import pytest

from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver
from bot.handlers.privacy import register_privacy_handlers
from storage import audit as audit_rows
from storage.privacy import tables_referencing_users
from tests.bot.flood_helpers import unlimited
from tests.bot.stories.conftest import ADA, EVE, LEI, onboard, story_settings
from tutor.service import TutorService


@pytest.fixture
async def chat(tutor: TutorService, fake: FakeBotApi) -> AsyncIterator[ChatDriver]:
    application = build_application(story_settings(), tutor, request=fake)
    unlimited(application)  # stories press faster than people; floods are tested apart
    register_privacy_handlers(application)
    async with ChatDriver(application) as driver:
        yield driver


async def _answer_some(chat: ChatDriver, user: object, n: int = 3) -> None:
    await chat.send(user, f"/quiz {n}")  # type: ignore[arg-type]
    for _ in range(n):
        message = chat.last(user)  # type: ignore[arg-type]
        presses = [d for row in message.buttons for _, d in row]
        if any(d.startswith("r:") for d in presses):
            await chat.press_data(user, message, presses[0])  # type: ignore[arg-type]
            message = chat.last(user)  # type: ignore[arg-type]
            presses = [d for row in message.buttons for _, d in row]
        if presses:
            await chat.press_data(user, message, presses[0])  # type: ignore[arg-type]
        else:
            await chat.send(user, '=HYPERLINK("http://x")')  # type: ignore[arg-type]


async def _counts(tutor: TutorService, user_id: int) -> dict[str, int]:
    async with tutor.db.read() as conn:
        counts = {}
        for table, column in [*await tables_referencing_users(conn), ("users", "id")]:
            async with conn.execute(
                f"SELECT COUNT(*) FROM {table} WHERE {column} = ?", (user_id,)
            ) as cursor:
                row = await cursor.fetchone()
            counts[f"{table}.{column}"] = row[0] if row else 0
    return counts


async def _audit(tutor: TutorService) -> list[tuple[int | None, str, str, str]]:
    async with tutor.db.read() as conn:
        rows = await audit_rows.recent(conn, 100)
    return [(r.actor_id, r.action, r.target, r.detail) for r in reversed(rows)]


async def test_mydata_sends_the_answer_history_as_csv(
    chat: ChatDriver, tutor: TutorService
) -> None:
    turn = await chat.send(ADA, "/mydata")
    assert turn.new[0].plain == "I have nothing stored about you."
    await onboard(chat, ADA)
    await _answer_some(chat, ADA, 5)
    turn = await chat.send(ADA, "/mydata")
    [document] = [m for m in turn.new if m.document is not None]
    assert document.filename == f"metatutor-answers-{ADA.id}.csv"
    text = document.document.decode("utf-8-sig")  # type: ignore[union-attr]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 5
    assert rows[0]["deck"] == "Test <Deck> & Co"
    assert all(r["answered_at_utc"].endswith("+00:00") for r in rows)
    assert {r["correct"] for r in rows} <= {"yes", "no"}
    typed = [r for r in rows if r["type"] in ("typed", "cloze")]
    assert typed
    for row in typed:  # a formula typed as an answer stays text in a spreadsheet
        assert row["your_answer"].startswith("'=")
    assert document.plain == "Your 5 answers, as a CSV file."
    entry = (await _audit(tutor))[-1]
    assert entry == (ADA.id, "privacy.export", f"user {ADA.id}", "5 answers")


async def test_forget_needs_the_button_and_erases_everything(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await onboard(chat, ADA)
    await onboard(chat, EVE)
    await _answer_some(chat, ADA)
    await _answer_some(chat, EVE)
    eve_before = await _counts(tutor, EVE.id)
    ada_before = await _counts(tutor, ADA.id)
    assert ada_before["attempts.user_id"] == 3 and ada_before["memory.user_id"] > 0

    turn = await chat.send(ADA, "/forget")
    assert turn.new[0].button_texts == ["Erase everything", "Keep my data"]
    await chat.press(ADA, "Keep my data", message=turn.new[0])
    assert await _counts(tutor, ADA.id) == ada_before

    # A forged confirmation (no /forget before it) erases nothing.
    forged = await chat.press_data(ADA, chat.last(ADA), "p:forget:guessed")
    assert forged.answer is not None and "expired" in (forged.answer.text or "")
    assert await _counts(tutor, ADA.id) == ada_before

    turn = await chat.send(ADA, "/forget")
    confirm = turn.new[0]
    data = confirm.buttons[0][0][1]
    done = await chat.press(ADA, "Erase everything", message=confirm)
    assert "everything about you is erased" in done.edited[-1].plain
    assert set((await _counts(tutor, ADA.id)).values()) == {0}
    assert await _counts(tutor, EVE.id) == eve_before  # nobody else's data
    actor, action, target, detail = (await _audit(tutor))[-1]
    assert (actor, action, target) == (ADA.id, "privacy.forget", f"user {ADA.id}")
    assert "attempts 3" in detail and "users 1" in detail
    assert "Ada" not in detail  # counts only, never the data

    # Replaying the confirmation does nothing more; /start begins anew.
    replay = await chat.press_data(ADA, confirm, data)
    assert replay.answer is not None
    await chat.send(ADA, "/start")
    assert (await _counts(tutor, ADA.id))["users.id"] == 1
    assert (await _counts(tutor, ADA.id))["attempts.user_id"] == 0


async def test_privacy_commands_in_a_group_do_nothing(
    chat: ChatDriver, tutor: TutorService
) -> None:
    from bot.fake_telegram.objects import FakeChat

    await onboard(chat, ADA)
    before = await _counts(tutor, ADA.id)
    group = FakeChat(-100555, "Class")
    for command in ("/mydata", "/forget"):
        turn = await chat.send(ADA, command, chat=group)
        assert all(m.document is None and not m.buttons for m in turn.new)
    assert await _counts(tutor, ADA.id) == before


async def test_privacy_speaks_the_students_chosen_language(
    chat: ChatDriver, tutor: TutorService
) -> None:
    from bot.i18n import plain

    # A stranger is answered in Telegram's language.
    turn = await chat.send(LEI, "/forget")
    assert turn.new[0].plain == plain("zh", "privacy.nothing")
    # A student is answered in the language they chose, whatever Telegram says.
    await onboard(chat, ADA)
    await tutor.update_settings(ADA.id, language="zh")
    turn = await chat.send(ADA, "/forget")
    assert turn.new[0].plain == plain("zh", "privacy.ask")
    assert turn.new[0].button_texts == [plain("zh", "privacy.yes"), plain("zh", "privacy.no")]
    kept = await chat.press(ADA, plain("zh", "privacy.no"), message=turn.new[0])
    assert kept.edited[-1].plain == plain("zh", "privacy.kept")
