"""/help and Telegram's command menus list every command a user may send; admins (and only
they) also see theirs, in a menu scoped to their own chat."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from telegram.ext import CommandHandler

from bot.app import AnyApplication, build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver
from bot.fake_telegram.objects import FakeUser
from bot.handlers.admin import ADMIN_GROUP
from bot.handlers.groups import GROUPS_GROUP
from bot.settings import Settings
from tutor.service import TutorService

ADMIN = FakeUser(9001, "Root", language_code="en")
ADMIN_ZH = FakeUser(9002, "管理员", language_code="zh-hans")
ADA = FakeUser(101, "Ada", language_code="en")
LEI = FakeUser(202, "李雷", language_code="zh-hans")


def _settings() -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token=None,
        admin_ids=frozenset({ADMIN.id, ADMIN_ZH.id}),
        flood_burst=0,
    )


def _commands(application: AnyApplication, *, admin: bool) -> set[str]:
    """Every command the application answers in private chats: the students' (or the admin
    group's); the group chat commands have their own menu."""
    found: set[str] = set()
    for group, handlers in application.handlers.items():
        if (group == ADMIN_GROUP) != admin or group == GROUPS_GROUP:
            continue
        for handler in handlers:
            if isinstance(handler, CommandHandler):
                found |= set(handler.commands)
    return found - ({"start"} if admin else set())  # /start is everyone's


@pytest.fixture
def fake() -> FakeBotApi:
    return FakeBotApi()


@pytest.fixture
async def chat(service: TutorService, fake: FakeBotApi) -> AsyncIterator[ChatDriver]:
    application = build_application(_settings(), service, request=fake)
    async with ChatDriver(application) as driver:
        yield driver


def _names(menu: list[tuple[str, str]]) -> list[str]:
    return [name for name, _ in menu]


async def test_the_menu_lists_every_student_command(chat: ChatDriver) -> None:
    students = _commands(chat.application, admin=False)
    assert {"mydata", "forget", "quiz", "help"} <= students
    for lang in ("", "zh"):
        menu = chat.fake.commands_for(lang)
        assert set(_names(menu)) == students, lang
        assert _names(menu)[-1] == "help"
        assert all(description for _, description in menu)
    assert dict(chat.fake.commands_for(""))["forget"] == "Erase everything stored about you"
    assert dict(chat.fake.commands_for("zh"))["mydata"] == "以 CSV 文件导出答题记录"


async def test_admins_have_their_own_menu_in_their_chat(chat: ChatDriver) -> None:
    students = _commands(chat.application, admin=False)
    admins = _commands(chat.application, admin=True)
    assert {"import", "item", "announce"} <= admins
    assert "export" in students  # everyone's own cards; an admin's /export DECK too
    for user in (ADMIN, ADMIN_ZH):
        for lang in ("", "zh"):
            menu = chat.fake.commands_for(lang, scope=f"chat:{user.id}")
            assert set(_names(menu)) == students | admins, (user.id, lang)
    assert dict(chat.fake.commands_for("zh", scope=f"chat:{ADMIN.id}"))["import"] == (
        "管理：导入题库文件"
    )
    # Nobody else's chat has a menu of its own: students get the default one.
    scoped = {scope for scope, _ in chat.fake.commands if scope.startswith("chat:")}
    assert scoped == {f"chat:{ADMIN.id}", f"chat:{ADMIN_ZH.id}"}


def _slash_commands(text: str) -> set[str]:
    return set(re.findall(r"/([a-z_]+)", text))


@pytest.mark.parametrize("user", [ADA, LEI])
async def test_help_lists_what_a_student_may_send(chat: ChatDriver, user: FakeUser) -> None:
    turn = await chat.send(user, "/help")
    listed = _slash_commands(turn.text)
    assert _commands(chat.application, admin=False) <= listed
    assert not listed & _commands(chat.application, admin=True)


@pytest.mark.parametrize(("user", "header"), [(ADMIN, "Admin commands"), (ADMIN_ZH, "管理命令")])
async def test_help_has_an_admin_section_for_admins(
    chat: ChatDriver, user: FakeUser, header: str
) -> None:
    turn = await chat.send(user, "/help")
    text = turn.text
    assert header in text
    student_part, admin_part = text.split(header, 1)
    assert _commands(chat.application, admin=False) <= _slash_commands(student_part)
    assert _commands(chat.application, admin=True) <= _slash_commands(admin_part)


async def test_an_admin_menu_refused_at_start_up_comes_with_their_start(
    service: TutorService,
) -> None:
    fake = FakeBotApi()
    # Telegram refuses a chat-scoped menu for someone who never wrote to the bot (here every
    # menu call at start-up fails: two default menus, then each admin's first).
    fake.fail_next("setMyCommands", 400, description="Bad Request: chat not found", times=4)
    application = build_application(_settings(), service, request=fake)
    async with ChatDriver(application) as chat:
        assert not fake.commands_for("", scope=f"chat:{ADMIN.id}")
        await chat.send(ADMIN, "/start")
        assert "import" in _names(fake.commands_for("", scope=f"chat:{ADMIN.id}"))
        assert "import" in _names(fake.commands_for("zh", scope=f"chat:{ADMIN.id}"))
        assert "Hi Root!" in chat.last(ADMIN).plain  # onboarding runs as for anyone
