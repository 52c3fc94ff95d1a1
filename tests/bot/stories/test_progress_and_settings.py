"""Stories of checking progress, changing settings, exams, and chatting in the wrong place."""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import time

import matplotlib.image
import pytest

from bot import callbacks
from bot.fake_telegram.driver import ChatDriver
from bot.fake_telegram.objects import FakeChat
from tests.bot.stories.conftest import ADA, LEI, onboard
from tutor.service import TutorService
from tutor.students import QuietHours, StudentStatus

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def _answer_some(chat: ChatDriver, n: int) -> None:
    await chat.send(ADA, f"/quiz {n}")
    for _ in range(n):
        question = chat.fake.last_with_buttons(ADA.id)
        if question is None or "Question" not in question.plain:
            await chat.send(ADA, "Paris")
        elif question.button_texts == ["Show answer"]:
            await chat.press(ADA, "Show answer", message=question)
            await chat.press(ADA, "Good", message=question)
        else:
            await chat.press(ADA, question.button_data[0], message=question)


async def test_stats_text_and_chart(chat: ChatDriver) -> None:
    await onboard(chat, ADA)
    await _answer_some(chat, 4)
    turn = await chat.send(ADA, "/stats")
    text, photo = turn.new
    assert "Your progress" in text.plain
    assert "Answers today: 4" in text.plain and "No answers yet" not in text.plain
    assert photo.photo is not None and photo.photo.startswith(PNG_SIGNATURE)
    assert len(photo.photo) > 20_000  # three drawn panels, not an empty canvas
    pixels = matplotlib.image.imread(io.BytesIO(photo.photo), format="png")
    assert pixels.shape[0] >= 300 and pixels.shape[1] >= 1000
    assert pixels.std() > 0.05  # something was drawn


async def test_stats_before_any_answer_and_in_chinese(chat: ChatDriver) -> None:
    await onboard(chat, LEI)
    turn = await chat.send(LEI, "/stats")
    text, photo = turn.new
    assert "学习进度" in text.plain and "今天：0 题" in text.plain
    # all zeros used to be all it said: now where progress comes from
    assert text.plain.endswith("还没有答题记录：发送 /quiz 开始，你的进度会显示在这里。")
    assert photo.photo is not None and photo.photo.startswith(PNG_SIGNATURE)
    # without a deck, /quiz would say "not enrolled": the hint starts at /decks
    await chat.send(LEI, "/decks")
    await chat.press(LEI, "✅ Test <Deck> & Co")  # leaves the deck
    turn = await chat.send(LEI, "/stats")
    assert turn.new[0].plain.endswith(
        "还没有答题记录：先用 /decks 选一个题库，再发送 /quiz，你的进度会显示在这里。"
    )


async def test_changing_settings(chat: ChatDriver, tutor: TutorService) -> None:
    await onboard(chat, ADA)
    turn = await chat.send(ADA, "/settings")
    assert "Language: English" in turn.text and "Daily quiz: off" in turn.text

    await chat.press(ADA, "Language")
    turn = await chat.press(ADA, "简体中文")
    assert turn.answer is not None and turn.answer.text == "已保存。"
    assert "语言：简体中文" in turn.edited[-1].plain

    # The time zone menu also takes a typed name.
    await chat.press(ADA, "时区")
    turn = await chat.send(ADA, "Neverland/Nowhere")
    assert "我不认识时区“Neverland/Nowhere”" in turn.text
    turn = await chat.send(ADA, "Europe/Berlin")
    assert "时区：Europe/Berlin" in turn.text

    await chat.press(ADA, "每日测验时间")
    await chat.press(ADA, "21:00")
    await chat.press(ADA, "免打扰时段")
    await chat.press(ADA, "22:00–07:00")
    await chat.press(ADA, "每日目标")
    await chat.press(ADA, "s:goal:30")
    await chat.press(ADA, "每次题数")
    turn = await chat.press(ADA, "s:len:5")
    assert "每次题数：5 题" in turn.edited[-1].plain

    student = await tutor.student(ADA.id)
    assert student is not None
    assert student.language == "zh" and student.timezone == "Europe/Berlin"
    assert student.daily_quiz_time == time(21, 0)
    assert student.quiet_hours == QuietHours(time(22, 0), time(7, 0))
    assert (student.daily_goal, student.quiz_length) == (30, 5)

    # Back to the panel, and switch things off again.
    await chat.press(ADA, "免打扰时段")
    await chat.press(ADA, "s:quiet:none")
    student = await tutor.student(ADA.id)
    assert student is not None and student.quiet_hours is None


async def test_pause_and_resume(chat: ChatDriver, tutor: TutorService) -> None:
    await onboard(chat, ADA)
    turn = await chat.send(ADA, "/pause")
    assert "Reminders paused" in turn.text
    student = await tutor.student(ADA.id)
    assert student is not None and student.status is StudentStatus.PAUSED
    turn = await chat.send(ADA, "/resume")
    assert "Reminders are on again" in turn.text
    student = await tutor.student(ADA.id)
    assert student is not None and student.status is StudentStatus.ACTIVE


async def test_an_exam_for_several_decks_lists_them_as_each_language_writes_a_list(
    chat: ChatDriver, tutor: TutorService
) -> None:
    second = {
        "metatutor": 1,
        "deck": {"slug": "poems", "name": "唐诗", "language": "zh"},
        "items": [
            {"id": "q", "type": "typed", "question": "床前明月光？", "answer": ["疑是地上霜"]}
        ],
    }
    await tutor.import_file(json.dumps(second, ensure_ascii=False).encode(), "poems.json")
    for user in (ADA, LEI):
        await onboard(chat, user)
        await tutor.enrol(user.id, "poems")
    turn = await chat.send(LEI, "/exam 2026-04-10")
    assert "题库：Test &lt;Deck&gt; &amp; Co、唐诗。" in turn.new[-1].text
    turn = await chat.send(LEI, "/exam off")
    assert "Test &lt;Deck&gt; &amp; Co、唐诗" in turn.new[-1].text
    turn = await chat.send(ADA, "/exam 2026-04-10")
    assert "for: Test <Deck> & Co, 唐诗." in turn.text


async def test_exam_dates(chat: ChatDriver, tutor: TutorService) -> None:
    await onboard(chat, ADA)
    turn = await chat.send(ADA, "/exam")
    assert "No exam dates set" in turn.text
    turn = await chat.send(ADA, "/exam 2026-04-10")
    # The test clock says 2026-03-02.
    assert "Exam date set to 2026-04-10 (39 days from today) for: Test <Deck> & Co." in turn.text
    [info] = [d for d in await tutor.decks(ADA.id) if d.enrolled]
    assert info.exam_date is not None and info.exam_date.isoformat() == "2026-04-10"
    turn = await chat.send(ADA, "/exam")
    assert "• Test <Deck> & Co: 2026-04-10" in turn.text
    # /stats forecasts exam-day recall at the student's pace and at a higher one.
    await _answer_some(chat, 3)
    turn = await chat.send(ADA, "/stats")
    forecast = re.search(
        r"exam 2026-04-10: expected recall (\d+)% at (\d+) min/day; (\d+)% at (\d+) min/day",
        turn.text,
    )
    assert forecast is not None, turn.text
    recall, minutes, higher_recall, higher_minutes = map(int, forecast.groups())
    assert higher_minutes > minutes and higher_recall >= recall
    turn = await chat.send(ADA, "/exam 2026-01-01")
    assert "after today" in turn.text
    turn = await chat.send(ADA, "/exam soon")
    assert "/exam YYYY-MM-DD [deck]" in turn.text
    turn = await chat.send(ADA, "/exam 2026-05-01 Atlantis")
    assert "There is no deck “Atlantis”. /decks lists the decks" in turn.text
    turn = await chat.send(ADA, "/exam 2026-05-01 test-deck")
    assert "2026-05-01" in turn.text
    turn = await chat.send(ADA, "/exam off")
    assert "Exam date cleared for: Test <Deck> & Co." in turn.text
    [info] = [d for d in await tutor.decks(ADA.id) if d.enrolled]
    assert info.exam_date is None


async def test_decks_enrol_and_leave(chat: ChatDriver, tutor: TutorService) -> None:
    await onboard(chat, ADA)
    turn = await chat.send(ADA, "/decks")
    assert "✅ Test <Deck> & Co — 5 questions" in turn.text
    turn = await chat.press(ADA, "✅ Test <Deck> & Co")
    assert turn.answer is not None and "Left Test <Deck> & Co" in (turn.answer.text or "")
    assert chat.buttons(ADA) == ["➕ Test <Deck> & Co"]
    turn = await chat.send(ADA, "/quiz")
    assert "not enrolled in any deck" in turn.text
    await chat.press(ADA, "➕ Test <Deck> & Co")
    assert [d.enrolled for d in await tutor.decks(ADA.id)] == [True]


async def test_group_chat(chat: ChatDriver) -> None:
    group = FakeChat(-1001, "Study group")
    # personal commands point to the private chat; /quiz is a group quiz (see test_groups.py)
    turn = await chat.send(ADA, "/stats", chat=group)
    assert turn.text == (
        "/stats is not a group command. Here I know /quiz, /top, /stop, /group_settings and"
        " /help; everything else is in our private chat (tap my name, then Start)."
    )
    turn = await chat.send(ADA, "/frobnicate@metatutor_test_bot", chat=group)
    assert turn.text.startswith("/frobnicate is not a group command.")
    turn = await chat.send(ADA, "/quiz", chat=group)
    assert turn.text == "This group has no decks yet. An admin picks them with /group_settings."
    turn = await chat.send(ADA, "what's up, everyone?", chat=group)
    assert turn.new == []
    turn = await chat.send(ADA, "/quiz@some_other_bot", chat=group)
    assert turn.new == []


async def test_commands_before_start(chat: ChatDriver) -> None:
    turn = await chat.send(ADA, "/quiz")
    assert "Please send /start first." in turn.text
    turn = await chat.send(ADA, "/help")
    assert "/quiz [n]" in turn.text


async def test_a_failure_is_reported_and_the_bot_keeps_running(
    chat: ChatDriver,
    tutor: TutorService,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await onboard(chat, ADA)

    private = "".join(["secret", " user", " text"])  # stands for text a user sent

    async def broken(user_id: int) -> None:
        raise RuntimeError(private)

    monkeypatch.setattr(tutor, "stats", broken)
    chat.raise_errors = False
    with caplog.at_level(logging.ERROR, logger="bot.app"):
        turn = await chat.send(ADA, "/stats")
    assert "Sorry, /stats could not be shown: something went wrong on my side." in turn.text
    [record] = [r for r in caplog.records if r.name == "bot.app"]
    logged = record.getMessage()
    assert f"(user {ADA.id})" in logged and "RuntimeError" in logged
    assert str(turn.updates[0]["update_id"]) in logged
    assert "secret user text" not in logged
    assert chat.fake.token not in logged
    # Still alive.
    turn = await chat.send(ADA, "/help")
    assert "How it works" in turn.text


async def test_target_recall_is_explained_and_changes_the_schedule(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await onboard(chat, ADA)
    turn = await chat.send(ADA, "/settings")
    assert "Target recall: 90%" in turn.text
    turn = await chat.press(ADA, "Target recall")
    explanation = turn.edited[-1].plain
    assert "more reviews a day" in explanation and "fewer reviews" in explanation
    turn = await chat.press(ADA, "95%")
    assert "Target recall: 95%" in turn.edited[-1].plain
    student = await tutor.student(ADA.id)
    assert student is not None and student.target_retention == 0.95
    # A forged value outside the offered ones changes nothing.
    await chat.press(ADA, "Target recall")
    await chat.press_data(ADA, chat.last(ADA), callbacks.setting("ret", "99"))
    student = await tutor.student(ADA.id)
    assert student is not None and student.target_retention == 0.95


async def test_zone_buttons_offsets_and_back_in_settings(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await onboard(chat, ADA)
    await chat.send(ADA, "/settings")
    # Back from a menu shows the panel again, unchanged.
    await chat.press(ADA, "Language")
    turn = await chat.press(ADA, "⬅️ Back")
    assert (
        "Language: English" in turn.edited[-1].plain and "Time zone: UTC" in turn.edited[-1].plain
    )
    # A zone button saves the zone.
    turn = await chat.press(ADA, "Time zone")
    assert turn.edited[-1].plain.startswith("Which time zone are you in?")
    assert "or type a city or a zone name, like Berlin or Europe/Berlin." in turn.edited[-1].plain
    turn = await chat.press(ADA, "Tokyo")
    assert turn.answer is not None and turn.answer.text == "Saved."
    assert "Time zone: Asia/Tokyo" in turn.edited[-1].plain
    # Other UTC offset…: the offsets, as people read them (UTC-5 is Etc/GMT+5 underneath).
    await chat.press(ADA, "Time zone")
    turn = await chat.press(ADA, "Other UTC offset…")
    assert turn.edited[-1].plain.startswith("Pick your UTC offset")
    turn = await chat.press(ADA, "UTC-5")
    assert "Time zone: UTC-5" in turn.edited[-1].plain
    student = await tutor.student(ADA.id)
    assert student is not None and student.timezone == "Etc/GMT+5"
    # Typing after a button was tapped is not taken as a zone any more.
    turn = await chat.send(ADA, "Europe/Berlin")
    student = await tutor.student(ADA.id)
    assert student is not None and student.timezone == "Etc/GMT+5"
