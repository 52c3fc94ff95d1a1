"""A teacher adds the bot to her class group: the group's daily quiz follows her own time zone
when the tutor knows it from their private chat, else the hello asks for one; either way it
says which zone is used and how to change it. (Groups used to start on UTC, unsaid.) And a
group command that fails gets an apology in the group's language."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver
from bot.fake_telegram.objects import FakeChat, FakeUser
from tests.bot.stories.test_groups import CAPITALS, group_bot
from tests.conftest import FakeClock
from tutor.service import TutorService

WANG = FakeUser(910, "王老师", language_code="zh-hans")
MS_LEE = FakeUser(911, "Ms Lee", language_code="en")
CLASS = FakeChat(-4101, "高一(3)班")
OTHER = FakeChat(-4102, "History 9B")


@pytest.fixture
async def tutor(service_factory: Any) -> TutorService:
    service: TutorService = await service_factory()
    await service.import_file(json.dumps(CAPITALS).encode(), "capitals.json")
    return service


@pytest.fixture
async def chat(tutor: TutorService, clock: FakeClock) -> AsyncIterator[ChatDriver]:
    async with ChatDriver(group_bot(tutor, FakeBotApi(clock=clock), clock)) as driver:
        yield driver


async def test_a_chinese_teacher_who_studies_gives_the_group_her_zone(
    chat: ChatDriver, tutor: TutorService, clock: FakeClock
) -> None:
    # Wang studies with the tutor herself: she said Shanghai when she started.
    await chat.send(WANG, "/start")
    await chat.press(WANG, "✓ 简体中文")
    await chat.press(WANG, "➕ Capitals")
    await chat.press(WANG, "o:deck:done")
    await chat.press(WANG, "o:tz:Asia/Shanghai")
    await chat.press(WANG, "o:time:none")
    await chat.press(WANG, "o:exam:skip")
    chat.fake.set_member(CLASS, WANG, "creator")
    turn = await chat.feed(chat.fake.bot_added(CLASS, WANG))
    now = clock().astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M")
    assert turn.text.splitlines()[-1] == (
        f"🕒 每日测验按 王老师 自己设置里的时区 Asia/Shanghai 进行（那里现在是 {now}）。"
        "要换成别的时区：/group_settings tz Asia/Shanghai。"
    )
    group = await tutor.groups.group(CLASS.id)
    assert group is not None and group.timezone == "Asia/Shanghai" and group.language == "zh"
    # Her 19:45 is Shanghai's, as the settings say.
    turn = await chat.send(WANG, "/group_settings time 19:45", chat=CLASS)
    assert "每日测验：19:45（Asia/Shanghai）" in turn.text


async def test_a_teacher_the_tutor_does_not_know_is_asked_for_the_zone(
    chat: ChatDriver, tutor: TutorService, clock: FakeClock
) -> None:
    chat.fake.set_member(OTHER, MS_LEE, "creator")
    turn = await chat.feed(chat.fake.bot_added(OTHER, MS_LEE))
    now = clock().strftime("%H:%M")
    assert turn.text.splitlines()[-1] == (
        "🕒 Which time zone is this group in? Until an admin sets it, daily quizzes follow"
        f" UTC (it is {now} there now). Set it like this: /group_settings tz Europe/Berlin"
        " (or Asia/Shanghai, America/New_York…)."
    )
    turn = await chat.send(MS_LEE, "/group_settings tz Europe/Berlin", chat=OTHER)
    group = await tutor.groups.group(OTHER.id)
    assert group is not None and group.timezone == "Europe/Berlin"
    # Removed and added again: the zone is kept, and the hello says so.
    await chat.feed(chat.fake.bot_removed(OTHER, MS_LEE))
    turn = await chat.feed(chat.fake.bot_added(OTHER, MS_LEE))
    assert "Daily quizzes still follow the time zone Europe/Berlin" in turn.text


async def test_a_teacher_types_the_groups_zone_as_a_city_as_in_her_private_chat(
    chat: ChatDriver, tutor: TutorService
) -> None:
    """A group zone typed as a city ("tz Paris") was refused ("I do not know the time
    zone"), while the same word sets the zone in a private chat; now a city does too."""
    chat.fake.set_member(OTHER, MS_LEE, "creator")
    await chat.feed(chat.fake.bot_added(OTHER, MS_LEE))
    turn = await chat.send(MS_LEE, "/group_settings tz Paris", chat=OTHER)
    assert "Daily quiz: off (Europe/Paris)" in turn.text
    await chat.send(MS_LEE, "/group_settings tz asia/shanghai", chat=OTHER)
    group = await tutor.groups.group(OTHER.id)
    assert group is not None and group.timezone == "Asia/Shanghai"
    turn = await chat.send(MS_LEE, "/group_settings tz Atlantis", chat=OTHER)
    assert turn.text.startswith("I do not know the time zone “Atlantis”.")
    group = await tutor.groups.group(OTHER.id)
    assert group is not None and group.timezone == "Asia/Shanghai"


async def test_a_chinese_teacher_types_the_class_exam_date_the_chinese_way(
    chat: ChatDriver, tutor: TutorService
) -> None:
    """A class exam date typed "2027年6月15日" was refused as "not a date after today"."""
    chat.fake.set_member(CLASS, WANG, "creator")
    await chat.feed(chat.fake.bot_added(CLASS, WANG))
    turn = await chat.send(WANG, "/group_settings exam 2027年6月15日", chat=CLASS)
    assert "考试日期：2027-06-15" in turn.text
    group = await tutor.groups.group(CLASS.id)
    assert group is not None and str(group.exam_date) == "2027-06-15"


async def test_a_group_command_that_fails_gets_an_apology_in_the_group(
    chat: ChatDriver, tutor: TutorService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure in a group used to get no reply at all: the class waited in silence."""
    chat.fake.set_member(CLASS, WANG, "creator")
    await chat.feed(chat.fake.bot_added(CLASS, WANG))  # a Chinese group (Wang's Telegram)

    async def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(tutor.groups, "ranking", crash)
    chat.raise_errors = False
    turn = await chat.send(WANG, "/top", chat=CLASS)
    [said] = chat.messages(CLASS)[-1:]
    assert [m.plain for m in turn.new] == [
        "抱歉，/top 没能显示出来：我这边出了问题。请过一分钟再发一次 /top；"
        "如果还是不行，/help 列出了我能做的其他事。"
    ]
    assert said.reply_to_message_id is not None  # a reply to the command, so in its topic
    monkeypatch.undo()
    turn = await chat.send(WANG, "/top", chat=CLASS)
    assert not turn.errors and "/quiz 5" in turn.text
