"""What an answer costs in Bot API calls, and what the student reads after it.

A button answer is acknowledged, the pressed question is edited into its feedback (its
buttons go in the same edit; a picture question's caption is edited), and the next question
is sent: three calls, whatever the kind of question. A typed answer cannot edit the
student's message: the feedback is a reply, then the next question: two calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.fake_telegram.driver import ChatDriver, Turn
from bot.fake_telegram.objects import SentMessage
from bot.i18n import plain
from storage import users as user_rows
from tests.bot.demo_bot import tiny_png
from tests.bot.stories.conftest import ADA, onboard
from tutor.service import TutorService

SHOW = plain("en", "button.show_answer")


def _question(chat: ChatDriver) -> SentMessage:
    """The newest question in Ada's chat."""
    for message in reversed(chat.messages(ADA)):
        if "Question " in message.plain and message.buttons:
            return message
    raise AssertionError("no open question with buttons")


def _methods(turn: Turn) -> list[str]:
    return sorted(call.method for call in turn.calls)


async def _answer_by_button(chat: ChatDriver, question: SentMessage, label: str) -> Turn:
    """Press ``label``; the answer costs three calls and the question now reads as feedback."""
    asked = question.plain
    turn = await chat.press(ADA, label, message=question)
    assert turn.answer is not None and turn.answer.text is None  # acknowledged, no toast
    assert len(turn.calls) <= 3, _methods(turn)
    edit = "editMessageCaption" if question.photo is not None else "editMessageText"
    assert [m.message_id for m in turn.edited] == [question.message_id]
    assert any(call.method == edit for call in turn.calls)
    assert not any(call.method == "editMessageReplyMarkup" for call in turn.calls)
    assert question.buttons == []  # gone with the same edit
    # The question stays readable above its feedback.
    assert asked.split("\n")[0] in question.plain
    return turn


async def test_every_kind_of_button_answer_costs_three_calls(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await onboard(chat, ADA)
    await chat.send(ADA, "/quiz 8")
    kinds: set[str] = set()
    for number in range(1, 9):
        question = _question(chat) if chat.last(ADA).buttons else chat.last(ADA)
        text = question.plain
        assert f"Question {number}/8" in text
        if "brave" in text:
            kinds.add("multiple_choice")
            turn = await _answer_by_button(chat, question, "Mouse")
            told = question.plain
            assert "Which is <b>bold</b> & brave?" in told
            assert "Your answer: Mouse" in told
            assert "❌ Not quite." in told and "Correct answer: Lion <king>" in told
            assert "💡 Lions & tigers." in told and f"{number}/8 · " in told
        elif "Water boils" in text:
            kinds.add("true_false")
            turn = await _answer_by_button(chat, question, "True")
            assert "Your answer: True" in question.plain and "✅ Correct!" in question.plain
        elif "Mitochondria" in text or "[...]" in text:
            kinds.add("flashcard" if "Mitochondria" in text else "cloze")
            await chat.press(ADA, SHOW, message=question)
            turn = await _answer_by_button(chat, question, "Good")
            told = question.plain
            assert "You rated it Good." in told and "🗓 Comes back" in told
            answer = "The powerhouse of the cell" if "Mitochondria" in text else "Magna Carta"
            assert f"Answer: {answer}" in told
        else:
            kinds.add("typed")
            assert "Capital of France?" in text and question.buttons == []
            turn = await chat.send(ADA, "Lyon")
            # The student's message cannot be edited: the feedback is a reply.
            assert len(turn.calls) <= 2, _methods(turn)
            assert "❌ Not quite." in turn.new[0].plain
            assert "Your answer: Lyon" in turn.new[0].plain
        if number < 8:
            assert "Question " in turn.new[-1].plain  # the next question, in the same turn
    assert "Session done:" in turn.new[-1].plain
    assert kinds == {"multiple_choice", "true_false", "flashcard", "cloze", "typed"}


async def test_a_picture_question_is_edited_in_its_caption(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await tutor.install_bundled_decks()
    await onboard(chat, ADA, deck="Demo: quick tour")
    await chat.send(ADA, "/quiz 12")
    pictures = 0
    for _ in range(12):
        question = chat.last(ADA)
        if "Session done" in question.plain:
            break
        if question.photo is not None and question.button_texts[0] != SHOW:
            pictures += 1
            await _answer_by_button(chat, question, question.button_texts[0])
            assert question.photo is not None  # the picture stays, its caption tells
            assert "Correct!" in question.plain or "Not quite." in question.plain
        elif question.buttons and question.button_texts[0] == SHOW:
            await chat.press(ADA, SHOW, message=question)
            await _answer_by_button(chat, question, "Good")
        elif question.buttons:
            await _answer_by_button(chat, question, question.button_texts[0])
        else:
            await chat.send(ADA, "no idea")
    assert pictures, "the demo deck's picture questions were never asked"


async def test_a_picture_flashcard_costs_three_calls(
    chat: ChatDriver, tutor: TutorService, tmp_path: Path
) -> None:
    import genanki

    deck = genanki.Deck(2059400223, "Flags")
    deck.add_note(
        genanki.Note(
            model=genanki.BASIC_MODEL, fields=['<img src="flag.png">Which flag?', "France"]
        )
    )
    (tmp_path / "flag.png").write_bytes(tiny_png())
    package = genanki.Package(deck, media_files=[str(tmp_path / "flag.png")])
    package.write_to_file(str(tmp_path / "flags.apkg"))
    await tutor.import_file((tmp_path / "flags.apkg").read_bytes(), "flags.apkg", deck_name="Flags")
    await onboard(chat, ADA, deck="Flags")
    await chat.send(ADA, "/quiz 1")
    card = chat.message_with_button(ADA, SHOW)
    assert card.photo is not None
    await chat.press(ADA, SHOW, message=card)
    turn = await _answer_by_button(chat, card, "Easy")
    assert "Which flag?" in card.plain and "Answer: France" in card.plain
    assert "You rated it Easy." in card.plain
    assert "Session done:" in turn.new[-1].plain


async def test_an_answer_reads_the_student_once(
    chat: ChatDriver, tutor: TutorService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The press handler reads the student; grading and the next question reuse it."""
    await onboard(chat, ADA)
    await chat.send(ADA, "/quiz 8")
    reads: list[int] = []
    original = user_rows.get_user

    async def counted(conn: Any, user_id: int) -> Any:
        reads.append(user_id)
        return await original(conn, user_id)

    monkeypatch.setattr(user_rows, "get_user", counted)
    answered = 0
    while answered < 4:
        question = _question(chat) if chat.last(ADA).buttons else chat.last(ADA)
        reads.clear()
        if question.buttons and question.button_texts[0] == SHOW:
            await chat.press(ADA, SHOW, message=question)
            reads.clear()  # the reveal is not an answer
            await chat.press(ADA, "Good", message=question)
        elif question.buttons:
            await chat.press(ADA, question.button_texts[0], message=question)
        else:
            await chat.send(ADA, "Lyon")
        assert reads == [ADA.id], question.plain
        answered += 1
