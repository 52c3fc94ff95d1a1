"""Stories of a student's first minutes with the tutor."""

from __future__ import annotations

from datetime import time

from bot.fake_telegram.driver import ChatDriver
from bot.fake_telegram.objects import FakeUser
from bot.i18n import plain
from tests.bot.stories.conftest import ADA, LEI, onboard
from tutor.service import TutorService


async def test_ada_onboards_in_english(chat: ChatDriver, tutor: TutorService) -> None:
    # Ada opens the bot; Telegram says her language is en-GB, so English is preselected.
    turn = await chat.send(ADA, "/start")
    assert "Hi Ada!" in turn.text
    assert chat.buttons(ADA) == ["✓ English", "简体中文"]

    # She keeps English and sees the decks; the deck's name is shown, not interpreted.
    turn = await chat.press(ADA, "✓ English")
    step = turn.edited[-1]
    assert "What do you want to study?" in step.plain
    assert step.button_texts == ["➕ Test <Deck> & Co", "Continue ➡️"]

    # Enrolling ticks the deck; Continue moves on to the time zone.
    await chat.press(ADA, "➕ Test <Deck> & Co")
    assert chat.buttons(ADA)[0] == "✅ Test <Deck> & Co"
    turn = await chat.press(ADA, "Continue ➡️")
    assert "Which time zone" in turn.edited[-1].plain

    # Her zone is not among the common ones: she opens the offsets and picks UTC+1,
    # which is Etc/GMT-1 underneath; she never sees that inverted sign.
    turn = await chat.press(ADA, "Other UTC offset…")
    labels = turn.edited[-1].button_texts
    assert "UTC+1" in labels and "UTC-12" in labels and "UTC+14" in labels
    assert not any("GMT" in label for label in labels)
    turn = await chat.press(ADA, "UTC+1")
    assert "Time zone: UTC+1 (your local time is 10:00)" in turn.edited[-1].plain

    # Daily quiz at 07:00, then an exam date typed in the wrong format, then right.
    turn = await chat.press(ADA, "07:00")
    assert "exam" in turn.edited[-1].plain
    turn = await chat.send(ADA, "next friday")
    assert "YYYY-MM-DD" in turn.text
    turn = await chat.send(ADA, "2026-03-20")
    assert "All set!" in turn.text
    assert chat.buttons(ADA) == ["Start a quiz"]

    student = await tutor.student(ADA.id)
    assert student is not None
    assert student.onboarded and student.language == "en"
    assert student.timezone == "Etc/GMT-1"
    assert student.daily_quiz_time == time(7, 0)
    [info] = [d for d in await tutor.decks(ADA.id) if d.enrolled]
    assert info.exam_date is not None and info.exam_date.isoformat() == "2026-03-20"


async def test_li_lei_onboards_in_chinese(chat: ChatDriver, tutor: TutorService) -> None:
    # Li Lei's Telegram is in Chinese: the tutor greets him in Chinese.
    turn = await chat.send(LEI, "/start")
    assert "你好，李雷" in turn.text
    assert chat.buttons(LEI) == ["English", "✓ 简体中文"]
    turn = await chat.press(LEI, "✓ 简体中文")
    assert "你想学什么" in turn.edited[-1].plain
    await chat.press(LEI, "➕ Test <Deck> & Co")
    turn = await chat.press(LEI, "继续 ➡️")
    assert "时区" in turn.edited[-1].plain
    # The cities on the buttons are named in Chinese too.
    assert chat.buttons(LEI)[:6] == ["上海", "香港", "台北", "新加坡", "东京", "加尔各答"]
    assert chat.buttons(LEI)[14:16] == ["UTC", "其他 UTC 偏移…"]

    # He types his zone's name instead of tapping.
    turn = await chat.send(LEI, "asia/shanghai")
    assert "Asia/Shanghai" in turn.text and "17:00" in turn.text
    turn = await chat.press(LEI, "不需要每日测验")
    turn = await chat.press(LEI, "跳过")
    assert "设置完成" in turn.edited[-1].plain

    student = await tutor.student(LEI.id)
    assert student is not None
    assert (student.language, student.timezone, student.daily_quiz_time) == (
        "zh",
        "Asia/Shanghai",
        None,
    )
    # Telegram's command menu exists in both languages.
    assert [c for c, _ in chat.fake.commands_for("zh")][:2] == ["start", "quiz"]
    assert dict(chat.fake.commands_for(""))["quiz"].startswith("Take a quiz")
    assert dict(chat.fake.commands_for("zh"))["quiz"].startswith("开始测验")


async def test_switching_language_mid_onboarding(chat: ChatDriver) -> None:
    turn = await chat.send(ADA, "/start")
    turn = await chat.press(ADA, "简体中文")
    assert "你想学什么" in turn.edited[-1].plain


async def test_start_again_keeps_progress(chat: ChatDriver, tutor: TutorService) -> None:
    await onboard(chat, ADA)
    await chat.send(ADA, "/quiz 2")
    question = chat.fake.last_with_buttons(ADA.id)
    assert question is not None
    await chat.press(ADA, question.button_data[0], message=question)

    turn = await chat.send(ADA, "/start")
    assert "Welcome back, Ada!" in turn.text
    stats = await tutor.stats(ADA.id)
    assert stats.answers_today == 1
    student = await tutor.student(ADA.id)
    assert student is not None and student.onboarded


async def test_deep_link_enrols_straight_into_the_deck(
    chat: ChatDriver, tutor: TutorService
) -> None:
    [deck] = await tutor.decks()
    turn = await chat.send(ADA, f"/start deck_{deck.deck.id}")
    assert "You are enrolled in Test <Deck> & Co." in turn.text
    # Onboarding goes on, skipping the deck step.
    turn = await chat.press(ADA, "✓ English")
    assert "Which time zone" in turn.edited[-1].plain
    assert [d.enrolled for d in await tutor.decks(ADA.id)] == [True]

    # A link to a deck that does not exist is a short answer, not a crash.
    turn = await chat.send(ADA, "/start deck_999")
    assert "There is no deck “999”. /decks lists the decks" in turn.text


async def test_onboarding_survives_a_restart(chat: ChatDriver, tutor: TutorService) -> None:
    await chat.send(ADA, "/start")
    await chat.press(ADA, "✓ English")
    await chat.press(ADA, "o:deck:done")
    # The bot restarts: in-memory user data is gone.
    chat.application.drop_user_data(ADA.id)
    # Buttons still work, since each carries its step.
    turn = await chat.press(ADA, "UTC")
    assert "daily quiz" in turn.edited[-1].plain
    chat.application.drop_user_data(ADA.id)
    # Typed input is recognised for what it is.
    turn = await chat.send(ADA, "2026-04-01")
    assert "All set!" in turn.text
    student = await tutor.student(ADA.id)
    assert student is not None and student.onboarded


async def test_unrelated_text_during_onboarding_re_asks(chat: ChatDriver) -> None:
    await chat.send(ADA, "/start")
    chat.application.drop_user_data(ADA.id)
    turn = await chat.send(ADA, "hello?")
    assert "Which language" in turn.text


def _user(uid: int, code: str | None) -> FakeUser:
    return FakeUser(uid, "Kim", language_code=code)


async def test_unknown_language_code_gets_english(chat: ChatDriver) -> None:
    turn = await chat.send(_user(404, "ko"), "/start")
    assert "Which language should I speak?" in turn.text


async def test_a_leftover_step_button_after_setup_changes_nothing(
    chat: ChatDriver, tutor: TutorService
) -> None:
    # Ada types her quiz time instead of tapping one, so the time buttons stay on that step.
    await chat.send(ADA, "/start")
    await chat.press(ADA, "✓ English")
    await chat.press(ADA, "Continue ➡️")
    await chat.press(ADA, "London")
    time_step = chat.message_with_button(ADA, "07:00")
    turn = await chat.send(ADA, "19:45")
    assert "Daily quiz at 19:45" in turn.text
    await chat.press(ADA, "Skip")

    # Days later she taps 07:00 on that old message: setup is over, nothing changes.
    turn = await chat.press(ADA, "07:00", message=time_step)
    assert turn.answer is not None and turn.answer.text == plain("en", "onboarding.already_done")
    assert time_step.buttons == []
    student = await tutor.student(ADA.id)
    assert student is not None and student.daily_quiz_time == time(19, 45)


async def test_wrong_typed_zone_and_past_exam_date_are_asked_again(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await chat.send(ADA, "/start")
    await chat.press(ADA, "✓ English")
    await chat.press(ADA, "Continue ➡️")
    # A zone that does not exist: said so, with the zone buttons again; nothing saved.
    turn = await chat.send(ADA, "Atlantis/Poseidonia")
    assert turn.text == (
        "I do not know the time zone “Atlantis/Poseidonia”. Tap one of the buttons, or type a"
        " city or a zone name, like Berlin or Europe/Berlin."
    )
    assert "London" in chat.buttons(ADA) and "Other UTC offset…" in chat.buttons(ADA)
    turn = await chat.send(ADA, "Europe/London")
    assert "Time zone: Europe/London" in turn.text
    await chat.press(ADA, "No daily quiz")
    # An exam date already past (the clock says 2026-03-02): asked again, with the buttons.
    turn = await chat.send(ADA, "2026-01-05")
    assert turn.text == plain("en", "text.date_past")
    assert chat.buttons(ADA) == ["Skip"]
    student = await tutor.student(ADA.id)
    assert student is not None and not student.onboarded
    turn = await chat.send(ADA, "2026-04-01")
    assert "All set!" in turn.text


async def test_li_lei_types_a_wrong_zone_and_a_past_date_in_chinese(chat: ChatDriver) -> None:
    await chat.send(LEI, "/start")
    await chat.press(LEI, "✓ 简体中文")
    await chat.press(LEI, "继续 ➡️")
    turn = await chat.send(LEI, "火星/基地")
    assert turn.text == (
        "我不认识时区“火星/基地”。请点击按钮，或输入城市或时区名称，例如 上海 或 Asia/Shanghai。"
    )
    await chat.send(LEI, "Asia/Shanghai")
    await chat.press(LEI, "不需要每日测验")
    turn = await chat.send(LEI, "2020-01-01")
    assert turn.text == plain("zh", "text.date_past") == "请输入今天以后的日期。"


async def test_a_day_the_calendar_lacks_is_named_as_such(
    chat: ChatDriver, tutor: TutorService
) -> None:
    """An exam date written right but not in the calendar (30 February) is called that,
    at onboarding and with /exam, in the student's language; a word is still shown the
    usage."""
    await chat.send(ADA, "/start")
    await chat.press(ADA, "✓ English")
    await chat.press(ADA, "➕ Test <Deck> & Co")
    await chat.press(ADA, "Continue ➡️")
    await chat.press(ADA, "UTC")
    await chat.press(ADA, "No daily quiz")
    turn = await chat.send(ADA, "2027-02-30")
    assert turn.text.startswith("There is no 2027-02-30 in the calendar. Type a real date")
    assert turn.new[-1].button_texts == ["Skip"]
    await onboard(chat, LEI)
    turn = await chat.send(LEI, "/exam 2027-13-01")
    assert turn.text.startswith("日历上没有 2027-13-01 这一天。")
    turn = await chat.send(LEI, "/exam soon")
    assert turn.text.startswith("用法：/exam YYYY-MM-DD")


async def test_the_exam_date_typed_at_onboarding_is_confirmed_or_said_lost(
    chat: ChatDriver, tutor: TutorService
) -> None:
    """Ada types her exam date: "All set!" says it was kept and for which deck. Li Lei, who
    joined no deck, is told the date was not kept and how to set it later."""
    await chat.send(ADA, "/start")
    await chat.press(ADA, "✓ English")
    await chat.press(ADA, "➕ Test <Deck> & Co")
    await chat.press(ADA, "Continue ➡️")
    await chat.press(ADA, "UTC")
    await chat.press(ADA, "No daily quiz")
    turn = await chat.send(ADA, "2027-06-30")
    assert turn.text.startswith("Exam date set to 2027-06-30 (")
    assert "days from today) for: Test <Deck> & Co.\n\nAll set!" in turn.text
    await chat.send(LEI, "/start")
    await chat.press(LEI, "✓ 简体中文")
    await chat.press(LEI, "继续 ➡️")
    await chat.press(LEI, "UTC")
    await chat.press(LEI, "不需要每日测验")
    turn = await chat.send(LEI, "2027-06-30")
    assert turn.text.startswith("考试日期没有保存：你还没有加入题库。")
    assert "设置完成！" in turn.text


async def test_li_lei_types_his_exam_date_the_chinese_way(
    chat: ChatDriver, tutor: TutorService
) -> None:
    """A date typed "2027年1月20日", as a Chinese student writes it, was answered "请按 YYYY-MM-DD
    格式输入日期" at onboarding and in /exam."""
    await chat.send(LEI, "/start")
    await chat.press(LEI, "✓ 简体中文")
    await chat.press(LEI, "➕ Test <Deck> & Co")
    turn = await chat.press(LEI, "继续 ➡️")
    assert "或输入城市或时区名称，例如 上海 或 Asia/Shanghai。" in turn.edited[-1].plain
    await chat.press(LEI, "UTC")
    await chat.press(LEI, "不需要每日测验")
    turn = await chat.send(LEI, "2027年1月20日")
    assert turn.text.startswith("考试日期已设为 2027-01-20（")
    turn = await chat.send(LEI, "/exam 2027/2/3")
    assert turn.text.startswith("考试日期已设为 2027-02-03（")
    turn = await chat.send(LEI, "/exam ２０２７年２月３０日")  # full-width, and no such day
    assert turn.text.startswith("日历上没有 ２０２７年２月３０日 这一天。")


async def test_finishing_the_set_up_without_a_deck_says_where_to_pick_one(
    chat: ChatDriver, tutor: TutorService
) -> None:
    """Ada taps Continue without joining a deck: "All set! Send /quiz" and a Start a quiz
    button led to "You are not enrolled in any deck yet". Now the end of the set-up says to
    pick a deck with /decks first, and offers no quiz button."""
    await chat.send(ADA, "/start")
    await chat.press(ADA, "✓ English")
    await chat.press(ADA, "Continue ➡️")
    await chat.press(ADA, "UTC")
    await chat.press(ADA, "No daily quiz")
    turn = await chat.press(ADA, "Skip")
    [done] = turn.edited
    assert done.plain == (
        "All set! But you have not joined a deck yet: pick one with /decks, then send /quiz."
        " /help shows everything I can do."
    )
    assert done.buttons == []
    await chat.send(LEI, "/start")
    await chat.press(LEI, "✓ 简体中文")
    await chat.press(LEI, "继续 ➡️")
    await chat.press(LEI, "UTC")
    await chat.press(LEI, "不需要每日测验")
    turn = await chat.send(LEI, "2027-06-30")
    assert turn.text.startswith("考试日期没有保存：你还没有加入题库。")
    assert "设置完成！不过你还没有加入题库：请用 /decks 选一个，然后发送 /quiz。" in turn.text
    assert turn.new[-1].buttons == []
