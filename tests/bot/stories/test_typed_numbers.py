"""Stories of students typing a number into an open /settings menu: the daily goal, the quiz
length and the target recall. (Typed there, "25" used to be answered "No question is waiting
for an answer", as if it were a quiz answer.)"""

from __future__ import annotations

from bot.fake_telegram.driver import ChatDriver
from tests.bot.stories.conftest import ADA, LEI, onboard
from tutor.service import TutorService


async def test_ada_types_her_daily_goal_quiz_length_and_target_recall(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await onboard(chat, ADA)
    await chat.send(ADA, "/settings")
    turn = await chat.press(ADA, "Daily goal")
    assert "Tap one, or type a number from 1 to 500, like 25." in turn.edited[-1].plain
    turn = await chat.send(ADA, "25")
    assert "Daily goal: 25 answers" in turn.text and "No question is waiting" not in turn.text

    await chat.press(ADA, "Quiz length")
    turn = await chat.send(ADA, "lots")
    assert turn.text == (
        "I cannot use “lots” as a quiz length. Type a number of questions from 1 to 50,"
        " like 12, or tap one of the buttons."
    )
    turn = await chat.send(ADA, "51")
    assert turn.text.startswith("I cannot use “51” as a quiz length.")
    turn = await chat.send(ADA, "12")
    assert "Quiz length: 12 questions" in turn.text

    await chat.press(ADA, "Target recall")
    turn = await chat.send(ADA, "99%")
    assert turn.text.startswith("I cannot use “99%” as a target recall.")
    turn = await chat.send(ADA, "88 %")
    assert "Target recall: 88%" in turn.text
    student = await tutor.student(ADA.id)
    assert student is not None
    assert (student.daily_goal, student.quiz_length) == (25, 12)
    assert round(student.target_retention * 100) == 88

    # The menu is done: a number typed now is not taken as a setting.
    turn = await chat.send(ADA, "30")
    assert "No question is waiting" in turn.text
    student = await tutor.student(ADA.id)
    assert student is not None and student.daily_goal == 25


async def test_li_lei_types_a_full_width_number_in_chinese(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await onboard(chat, LEI)
    await chat.send(LEI, "/settings")
    turn = await chat.press(LEI, "每日目标")
    assert "点一个，或输入 1 到 500 之间的数字" in turn.edited[-1].plain
    turn = await chat.send(LEI, "零")
    assert turn.text.startswith("“零”不能用作每日目标。请输入 1 到 500 之间的答题数")
    turn = await chat.send(LEI, "４０")  # a Chinese keyboard's full-width digits
    assert "每日目标：40 题" in turn.text
    student = await tutor.student(LEI.id)
    assert student is not None and student.daily_goal == 40
