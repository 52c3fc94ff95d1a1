"""Stories of a student typing at a question that has buttons: a true/false question takes
"t", "no", "对" and the like as its answer; anything else, and a flashcard, is told which
words work or which button to tap."""

from __future__ import annotations

import pytest

from bot.fake_telegram.driver import ChatDriver
from bot.fake_telegram.objects import FakeUser, SentMessage
from bot.i18n import plain
from tests.bot.stories.conftest import ADA, LEI, onboard
from tutor.matching import true_false_word
from tutor.service import TutorService


async def _until(chat: ChatDriver, user: FakeUser, marker: str) -> SentMessage:
    """Answer questions (by button or with "Paris") until the one containing ``marker``."""
    for _ in range(10):
        question = chat.last(user)
        if marker in question.plain:
            return question
        data = [d for row in question.buttons for _, d in row]
        if not data:
            await chat.send(user, "Paris")
        elif data[0].startswith("r:"):
            await chat.press_data(user, question, data[0])
            grades = [d for row in question.buttons for _, d in row if d.startswith("g:")]
            await chat.press_data(user, question, grades[-1])
        else:
            await chat.press_data(user, question, data[0])
    raise AssertionError(f"no question with {marker!r} came up")


async def _attempts(tutor: TutorService) -> int:
    async with tutor.db.read() as conn, conn.execute("SELECT COUNT(*) FROM attempts") as cur:
        return int((await cur.fetchone())[0])  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "truth"),
    [
        ("true", True),
        (" TRUE! ", True),
        ("t", True),
        ("Yes.", True),
        ("对", True),
        ("是！", True),
        ("正确", True),
        ("False", False),
        ("f", False),
        ("no", False),
        ("错。", False),
        ("否", False),
        (" 错误 ", False),
        ("maybe", None),
        ("not true", None),
        ("", None),
    ],
)
def test_words_for_true_and_false(text: str, truth: bool | None) -> None:
    assert true_false_word(text) is truth


async def test_ada_types_true_at_a_true_false_question(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await onboard(chat, ADA)
    await chat.send(ADA, "/quiz 8")
    question = await _until(chat, ADA, "Water boils")
    before = await _attempts(tutor)
    true_data = question.buttons[0][0][1]
    turn = await chat.send(ADA, "something")
    assert turn.text == plain("en", "text.use_true_false")
    assert "true or false (t/f and yes/no work too)" in turn.text
    assert question.button_texts == ["True", "False"] and await _attempts(tutor) == before
    turn = await chat.send(ADA, " T. ")
    feedback = turn.new[0].plain
    assert feedback.startswith("Your answer: True\n✅ Correct!")
    assert "🗓 Comes back" in feedback or "🔁" in feedback
    assert question.buttons == []  # its buttons went, as on a press
    assert "Question " in chat.last(ADA).plain and chat.last(ADA) is not question
    assert await _attempts(tutor) == before + 1
    again = await chat.press_data(ADA, question, true_data)  # a press from an old client
    assert again.answer is not None and "Already answered" in (again.answer.text or "")
    assert await _attempts(tutor) == before + 1


async def test_lei_types_cuo_at_a_true_false_question(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await onboard(chat, LEI)
    await chat.send(LEI, "/quiz 8")
    question = await _until(chat, LEI, "Water boils")
    turn = await chat.send(LEI, "嗯")
    assert turn.text == plain("zh", "text.use_true_false")
    assert "对/错、是/否" in turn.text
    turn = await chat.send(LEI, "错！")
    feedback = turn.new[0].plain
    assert feedback.startswith("你的答案：错误\n❌ 不太对。")
    assert "正确答案：正确" in feedback
    assert question.buttons == []


async def test_typing_at_a_flashcard_says_to_tap_show_answer_then_to_rate(
    chat: ChatDriver,
) -> None:
    await onboard(chat, ADA)
    await chat.send(ADA, "/quiz 8")
    card = await _until(chat, ADA, "Mitochondria")
    turn = await chat.send(ADA, "the powerhouse")
    assert turn.text == plain("en", "text.use_show_answer")
    assert "tap Show answer" in turn.text and card.button_texts == ["Show answer"]
    await chat.press(ADA, "Show answer", message=card)
    turn = await chat.send(ADA, "good")
    assert turn.text == plain("en", "text.use_grades")
    assert "Again, Hard, Good or Easy" in turn.text
    await chat.send(ADA, "/quiz")  # "Carry on" shows the card anew, its answer hidden
    await chat.press(ADA, "▶️ Carry on")
    card = chat.last(ADA)
    assert card.button_texts == ["Show answer"]
    turn = await chat.send(ADA, "good")
    assert turn.text == plain("en", "text.use_show_answer")
    await chat.press(ADA, "Show answer", message=card)
    turn = await chat.press(ADA, "Good", message=card)
    assert "You rated it Good." in card.plain


async def test_lei_typing_at_a_flashcard_is_told_in_chinese(chat: ChatDriver) -> None:
    await onboard(chat, LEI)
    await chat.send(LEI, "/quiz 8")
    await _until(chat, LEI, "Mitochondria")
    turn = await chat.send(LEI, "线粒体")
    assert turn.text == plain("zh", "text.use_show_answer")
    assert "显示答案" in turn.text
