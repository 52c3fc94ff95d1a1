"""A student meets a failure nobody foresaw (a bug, a database error): the apology says what
did not work (the command, the button, the message) and what to do, in her language."""

from __future__ import annotations

from typing import Any

import pytest

from bot.fake_telegram.driver import ChatDriver
from tests.bot.stories.conftest import ADA, LEI, onboard
from tutor.own_cards import OwnCards
from tutor.service import TutorService
from tutor.students import StudentStatus


async def _crash(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("a bug")


async def test_a_failed_command_is_named_with_the_next_step_in_english_and_chinese(
    chat: ChatDriver, tutor: TutorService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It used to say "Sorry, something went wrong. Please try again." to every failure."""
    await onboard(chat, ADA)
    await onboard(chat, LEI)
    monkeypatch.setattr(tutor, "stats", _crash)
    monkeypatch.setattr(tutor, "start_quiz", _crash)
    chat.raise_errors = False

    turn = await chat.send(ADA, "/stats")
    assert turn.text == (
        "Sorry, /stats could not be shown: something went wrong on my side. Send /stats again"
        " in a minute; if it fails again, /help lists what else I can do."
    )
    turn = await chat.send(LEI, "/stats")
    assert turn.text == (
        "抱歉，/stats 没能显示出来：我这边出了问题。请过一分钟再发一次 /stats；"
        "如果还是不行，/help 列出了我能做的其他事。"
    )
    turn = await chat.send(ADA, "/quiz 3")
    assert turn.text.startswith("Sorry, /quiz could not be started:")
    assert "Send /quiz again in a minute" in turn.text

    monkeypatch.undo()
    turn = await chat.send(ADA, "/stats")  # the bug is gone: it works again
    assert "Your progress" in turn.text and not turn.errors


async def test_a_failed_press_and_a_failed_message_say_which_and_what_to_do(
    chat: ChatDriver, tutor: TutorService, monkeypatch: pytest.MonkeyPatch
) -> None:
    await onboard(chat, ADA)
    await onboard(chat, LEI)
    chat.raise_errors = False
    question = (await chat.send(ADA, "/quiz 1")).new[-1]
    monkeypatch.setattr(tutor, "answer", _crash)
    turn = await chat.press(ADA, question.button_data[0], message=question)
    assert turn.answer is not None and turn.answer.text == (
        "Sorry, that button did not work: something went wrong on my side. Press it again in"
        " a minute, or send /help."
    )
    monkeypatch.setattr(OwnCards, "add", _crash)
    turn = await chat.send(LEI, "太阳系最大的行星 | 木星")
    assert turn.text == (
        "抱歉，你的消息没能处理：我这边出了问题。请过一分钟再发一次；/help 列出了我能做的事。"
    )
    monkeypatch.undo()
    turn = await chat.press(ADA, question.button_data[0], message=question)
    assert not turn.errors and turn.edited  # pressed again, the answer is marked
    assert any(word in turn.edited[-1].plain for word in ("Correct", "Not quite"))


async def test_a_lost_reply_says_what_was_asked_may_be_done_so_nothing_is_done_twice(
    chat: ChatDriver, tutor: TutorService
) -> None:
    """Telegram fails the reply after the card was saved. The apology used to say to send it
    again, and the card was then saved twice; a lost reply to /pause said the same."""
    await onboard(chat, ADA)
    await onboard(chat, LEI)
    chat.raise_errors = False
    chat.fake.fail_next("sendMessage", 502)
    turn = await chat.send(ADA, "Capital of Peru | Lima")
    assert [m.plain for m in turn.new] == [
        "Sorry, my reply to your message was lost on the way (Telegram did not take it). What"
        " you sent may already be done (a card saved: /mycards shows it), so check before you"
        " send it again."
    ]
    turn = await chat.send(ADA, "/mycards")
    assert "Your own cards: 1" in turn.text and "Capital of Peru → Lima" in turn.text

    chat.fake.fail_next("sendMessage", "timeout")
    turn = await chat.send(LEI, "/pause")
    assert [m.plain for m in turn.new] == [
        "抱歉，我对 /pause 的回复在路上丢了（Telegram 没有接收）。/pause 本身可能已经完成，"
        "请先确认再重新发送；/help 列出了在哪里查看。"
    ]
    lei = await tutor.student(LEI.id)
    assert lei is not None and lei.status is StudentStatus.PAUSED  # it was done
    # A command that only shows something is safe to send again, and says so.
    chat.fake.fail_next("sendMessage", 502)
    turn = await chat.send(ADA, "/help")
    assert turn.new[0].plain.startswith("Sorry, /help could not be shown:")
