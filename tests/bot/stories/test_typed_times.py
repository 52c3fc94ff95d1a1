"""Stories of students typing a time of day: at onboarding, in /settings, and into their
own quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, time

from bot.fake_telegram.driver import ChatDriver
from tests.bot.stories.conftest import ADA, LEI, onboard
from tests.conftest import FakeClock
from tutor.reminders import ReminderProfile, next_daily_slot
from tutor.service import TutorService


async def test_ada_types_her_daily_quiz_time_at_onboarding(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await chat.send(ADA, "/start")
    await chat.press(ADA, "✓ English")
    await chat.press(ADA, "➕ Test <Deck> & Co")
    await chat.press(ADA, "Continue ➡️")
    turn = await chat.press(ADA, "UTC")
    step = turn.edited[-1]
    assert "Tap a time, or type one like 19:45 or 7:45pm." in step.plain
    assert "07:00" in step.button_texts  # the buttons stay for a quick tap

    # Something that is not a time: said so, with the buttons again; nothing else changes.
    turn = await chat.send(ADA, "after dinner")
    assert turn.text.startswith("I could not read “after dinner” as a time of day.")
    assert "07:00" in turn.new[-1].button_texts
    # Not sent back to "Which language should I speak?".
    assert "Which language" not in turn.text

    turn = await chat.send(ADA, "7:45pm")
    assert "Daily quiz at 19:45 (your local time)." in turn.text
    assert "Do you have an exam coming up?" in turn.text
    turn = await chat.press(ADA, "Skip")
    assert "All set!" in turn.edited[-1].plain
    student = await tutor.student(ADA.id)
    assert student is not None and student.daily_quiz_time == time(19, 45)


async def test_li_lei_types_his_time_the_chinese_way(chat: ChatDriver, tutor: TutorService) -> None:
    await chat.send(LEI, "/start")
    await chat.press(LEI, "✓ 简体中文")
    await chat.press(LEI, "➕ Test <Deck> & Co")
    await chat.press(LEI, "继续 ➡️")
    turn = await chat.press(LEI, "UTC")
    assert "或直接输入，例如 19:45 或 下午7:45" in turn.edited[-1].plain
    turn = await chat.send(LEI, "晚上7点半")
    assert "每日测验时间：19:30（当地时间）。" in turn.text
    student = await tutor.student(LEI.id)
    assert student is not None and student.daily_quiz_time == time(19, 30)


async def test_a_time_typed_in_settings_is_saved(chat: ChatDriver, tutor: TutorService) -> None:
    await onboard(chat, ADA)
    await chat.send(ADA, "/settings")
    turn = await chat.press(ADA, "Daily quiz time")
    assert "Tap a time, or type one like 19:45 or 7:45pm." in turn.edited[-1].plain
    turn = await chat.send(ADA, "six-ish")
    assert turn.text.startswith("I could not read “six-ish” as a time of day.")
    turn = await chat.send(ADA, "19.05")
    assert "Daily quiz: 19:05" in turn.text
    assert "No question is waiting" not in turn.text
    student = await tutor.student(ADA.id)
    assert student is not None and student.daily_quiz_time == time(19, 5)
    # Once saved, a time typed out of the blue is not taken as a setting, but answered
    # with where it would go (say the menu was open before the bot restarted).
    turn = await chat.send(ADA, "8pm")
    assert turn.text == (
        "20:00 looks like a time, but no question is waiting for one. To get your daily quiz"
        " at 20:00, open /settings, tap “Daily quiz time” and type it there."
    )
    student = await tutor.student(ADA.id)
    assert student is not None and student.daily_quiz_time == time(19, 5)


async def test_a_menu_left_open_overnight_no_longer_takes_typed_text(
    chat: ChatDriver, tutor: TutorService, clock: FakeClock
) -> None:
    await onboard(chat, ADA)
    await chat.send(ADA, "/settings")
    await chat.press(ADA, "Daily quiz time")
    clock.advance(hours=14)  # Ada closed the app; the next morning she types a time
    turn = await chat.send(ADA, "8pm")
    assert turn.text.startswith("20:00 looks like a time, but no question is waiting for one.")
    student = await tutor.student(ADA.id)
    assert student is not None and student.daily_quiz_time != time(20, 0)
    # Within half an hour of opening it, the menu still takes its value.
    await chat.send(ADA, "/settings")
    await chat.press(ADA, "Daily quiz time")
    clock.advance(minutes=25)
    turn = await chat.send(ADA, "8pm")
    assert "Daily quiz: 20:00" in turn.text


async def test_a_quiz_time_inside_quiet_hours_is_accepted_with_a_warning(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await onboard(chat, ADA)
    await chat.send(ADA, "/settings")
    turn = await chat.press(ADA, "Quiet hours")
    assert "type a start and an end like 22:30-06:30" in turn.edited[-1].plain
    turn = await chat.send(ADA, "9pm-7am")
    assert "Quiet hours: 21:00–07:00" in turn.text  # as the warning writes it
    assert "⚠️" not in turn.text  # no daily quiz yet: nothing to warn about

    await chat.press(ADA, "Daily quiz time")
    turn = await chat.send(ADA, "21:30")
    warning = (
        "⚠️ 21:30 falls in your quiet hours (21:00–07:00), when I send no reminders, so your"
        " daily quiz will come at 07:00, when they end. To change that, open /settings and"
        " pick another daily quiz time or other quiet hours."
    )
    assert warning in turn.text
    assert "Daily quiz: 21:30" in turn.text  # accepted as typed
    # What the warning says is what the reminders do: the next daily quiz is at 07:00.
    student = await tutor.student(ADA.id)
    assert student is not None and student.daily_quiz_time == time(21, 30)
    slot = next_daily_slot(ReminderProfile.of(student), tutor.now())
    assert slot is not None and slot.due == datetime(2026, 3, 3, 7, 0, tzinfo=UTC)

    # A tapped time in the quiet hours gets the same warning; one outside them none.
    await chat.press(ADA, "Daily quiz time")
    turn = await chat.press(ADA, "s:time:0700")
    assert "⚠️" not in turn.edited[-1].plain
    await chat.press(ADA, "Daily quiz time")
    turn = await chat.press(ADA, "s:time:2100")
    assert "⚠️ 21:00 falls in your quiet hours (21:00–07:00)" in turn.edited[-1].plain

    # Moving the quiet hours away from the quiz time clears the warning.
    await chat.press(ADA, "Quiet hours")
    turn = await chat.send(ADA, "23:00-06:00")
    assert "⚠️" not in turn.text and "Quiet hours: 23:00–06:00" in turn.text


async def test_the_warning_in_chinese(chat: ChatDriver, tutor: TutorService) -> None:
    await onboard(chat, LEI)
    await chat.send(LEI, "/settings")
    await chat.press(LEI, "免打扰时段")
    await chat.send(LEI, "晚上10点到早上7点")
    await chat.press(LEI, "每日测验时间")
    turn = await chat.send(LEI, "早上6点")
    assert "⚠️ 06:00 在你的免打扰时段（22:00–07:00）内" in turn.text
    assert "所以每日测验会在免打扰结束时的 07:00 发送" in turn.text


async def test_wrong_quiet_hours_are_asked_again(chat: ChatDriver, tutor: TutorService) -> None:
    await onboard(chat, ADA)
    await chat.send(ADA, "/settings")
    await chat.press(ADA, "Quiet hours")
    turn = await chat.send(ADA, "whenever")
    assert turn.text == (
        "I could not read “whenever” as quiet hours. Type a start and an end like"
        " 22:30-06:30, or tap one of the buttons."
    )
    student = await tutor.student(ADA.id)
    assert student is not None and student.quiet_hours is None
    # Still asked: the next try is taken as quiet hours.
    turn = await chat.send(ADA, "22:00-06:00")
    assert "Quiet hours: 22:00–06:00" in turn.text

    await onboard(chat, LEI)
    await chat.send(LEI, "/settings")
    await chat.press(LEI, "免打扰时段")
    turn = await chat.send(LEI, "随便")
    assert turn.text.startswith("我没能把“随便”识别为免打扰时段。")


async def test_an_answer_typed_into_an_open_time_menu_says_how_to_answer_the_question(
    chat: ChatDriver, tutor: TutorService
) -> None:
    """Mid-quiz, Li Lei opens the daily quiz time menu, then types his answer to the open
    question: it is not a time, and the reply says how to answer question 1 instead."""
    await onboard(chat, LEI)
    await chat.send(LEI, "/quiz 2")
    await chat.send(LEI, "/settings")
    await chat.press(LEI, "每日测验时间")
    turn = await chat.send(LEI, "366")
    assert turn.text == (
        "我没能把“366”识别为时间。请输入例如 19:45 或 下午7:45，或点击下方按钮。\n"
        "测验的第 1 题还在等你作答：要回答它，请先在设置里点 ⬅️ 返回。"
    )
    turn = await chat.press(LEI, "⬅️ 返回")
    student = await tutor.student(LEI.id)
    assert student is not None and student.daily_quiz_time is None
