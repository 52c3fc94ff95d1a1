"""A Chinese-speaking admin adds, renames and announces with a line the tutor refuses: the
reason comes in Chinese, with the usage to send it again (it used to be English)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver
from bot.fake_telegram.objects import FakeUser
from bot.settings import Settings
from tutor.service import TutorService

WEI = FakeUser(9003, "Wei", language_code="zh-hans")
ROOT = FakeUser(9001, "Root", language_code="en")


@pytest.fixture
async def chat(tutor: TutorService, fake: FakeBotApi) -> AsyncIterator[ChatDriver]:
    """The bot with a Chinese and an English admin."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token=None,
        admin_ids=frozenset({WEI.id, ROOT.id}),
        flood_burst=0,
        chat_rate=0,
    )
    async with ChatDriver(build_application(settings, tutor, request=fake)) as driver:
        yield driver


LONG = "x" * 1001
REFUSED = [
    ("/add 生物 | 哪个是质数？ | 7 | 7", "⚠️ 没有添加：选择题需要 2 到 12 个互不相同的选项。"),
    ("/add 生物 | 哪个是质数？ | 7; 5 | 4", "⚠️ 没有添加：选择题只能有一个正确答案。"),
    (f"/add 生物 | {LONG} | 7", "⚠️ 没有添加：问题超过了 1000 个字符。"),
    (f"/add 生物 | 问题 | {'y' * 301}", "⚠️ 没有添加：有一个答案超过了 300 个字符。"),
    (f"/deck_rename 生物 | {'z' * 101}", "⚠️ 没有重命名：题库名称需要 1 到 100 个字符。"),
    (f"/announce {'w' * 3600}", "⚠️ 没有发送：通知最多 3500 个字符。"),
]


@pytest.mark.parametrize(("line", "first"), REFUSED, ids=[f"{i}" for i in range(len(REFUSED))])
async def test_a_refused_line_says_why_in_chinese(chat: ChatDriver, line: str, first: str) -> None:
    turn = await chat.send(WEI, line)
    said = turn.text.splitlines()
    assert said[0] == first
    assert said[1].startswith("用法：")  # how to send it again, in Chinese too
    assert not re.search(r"characters|options|answer|announcement|deck name", turn.text)


async def test_an_english_admin_still_reads_the_reason_in_english(chat: ChatDriver) -> None:
    turn = await chat.send(ROOT, "/add Biology | Which is a prime? | 7; 5 | 4")
    assert turn.text.splitlines()[0] == (
        "⚠️ Not added: a multiple-choice question has one correct answer."
    )


async def test_a_refused_edit_of_an_item_says_why_in_chinese(chat: ChatDriver) -> None:
    added = await chat.send(WEI, "/add 生物 | 2+2？ | 4")
    item_id = int(re.findall(r"已把题目 (\d+)", added.text)[0])
    await chat.send(WEI, f"/item {item_id}")
    [edit] = [label for label in chat.buttons(WEI) if label.startswith("✏️")]
    await chat.press(WEI, edit)
    turn = await chat.send(WEI, "哪个是质数？ | 7 | 7")
    assert "选择题需要 2 到 12 个互不相同的选项" in turn.text
    assert "options" not in turn.text
