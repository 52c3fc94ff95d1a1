"""Every error a user reads names the thing and the next step: the students' catalog texts
(in both languages) and the admins' replies (English, as every admin text)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver
from bot.handlers.common import error_plain, error_text
from bot.handlers.groups import COMMANDS as GROUP_COMMANDS
from bot.i18n import LANGUAGES
from bot.menus import STUDENT_COMMANDS
from tests.bot.test_admin import ADMIN, admin_settings
from tests.bot.test_reminders import sample_deck_bytes
from tutor.admin import AdminService
from tutor.errors import InvalidSetting, TutorError, UnknownDeck, UnknownItem
from tutor.service import TutorService


def _every_error() -> list[TutorError]:
    classes = [TutorError, *TutorError.__subclasses__()]
    return [cls("detail") for cls in classes]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("error", _every_error(), ids=lambda e: e.code)
def test_every_service_error_says_what_to_do_next(lang: str, error: TutorError) -> None:
    text = error_text(lang, error)
    commands = set(re.findall(r"/([a-z_]+)", text))
    # A command to send next: a group's errors are read in the group, with its commands.
    sendable = set(STUDENT_COMMANDS) | set(GROUP_COMMANDS)
    assert commands & sendable, text
    assert error_plain(lang, error) == text  # no markup to lose in a toast


@pytest.mark.parametrize(
    ("lang", "error", "named"),
    [
        ("en", UnknownDeck("Atlantis", deck="Atlantis"), "There is no deck “Atlantis”."),
        ("zh", UnknownDeck("Atlantis", deck="Atlantis"), "没有名为“Atlantis”的题库。"),
        ("en", UnknownDeck("17"), "There is no deck “17”."),
        ("en", UnknownItem("42"), "Question 42 no longer exists"),
        ("en", InvalidSetting("900", setting="daily_goal"), "not allowed for “Daily goal”"),
        ("zh", InvalidSetting("900", setting="daily_goal"), "“每日目标”不能设为这个值"),
        ("en", InvalidSetting("2020-01-01", setting="exam_date"), "for “Exam date”"),
        ("en", InvalidSetting("?"), "for “this setting”"),
    ],
)
def test_errors_name_what_they_are_about(lang: str, error: TutorError, named: str) -> None:
    assert named in error_text(lang, error)


@pytest.fixture
async def chat(service: TutorService, fake_api: FakeBotApi) -> AsyncIterator[ChatDriver]:
    await service.import_file(sample_deck_bytes(), "sample.json")
    application = build_application(admin_settings(), service, request=fake_api)
    async with ChatDriver(application) as driver:
        yield driver


@pytest.mark.parametrize(
    ("command", "reply"),
    [
        (
            "/item 999999",
            "⚠️ There is no item 999999. /add and /admin_stats show item ids;"
            " /admin_decks lists the decks.",
        ),
        ("/export nosuch", "⚠️ There is no deck 'nosuch'. /admin_decks lists the decks."),
        ("/export nosuch json", "⚠️ There is no deck 'nosuch'. /admin_decks lists the decks."),
        ("/deck_delete nosuch", "⚠️ There is no deck 'nosuch'. /admin_decks lists the decks."),
        (
            "/deck_rename nosuch | New",
            "⚠️ There is no deck 'nosuch'. /admin_decks lists the decks.",
        ),
        (
            "/announce deck:nosuch Exams soon",
            "⚠️ There is no deck 'nosuch'. /admin_decks lists the decks.",
        ),
        (
            f"/deck_rename sample | {'x' * 101}",
            "⚠️ Not renamed: a deck name has 1 to 100 characters.\n"
            "Usage: /deck_rename DECK | NEW NAME",
        ),
        (
            "/add sample | Which is a prime? | 7 | 7",
            "⚠️ Not added: multiple choice needs 2 to 12 different options.\n"
            "Usage: /add DECK | QUESTION | ANSWER | WRONG1; WRONG2  (multiple choice)\n"
            "/add DECK | QUESTION | ANSWER1; ANSWER2  (typed)\n"
            "/add DECK | STATEMENT | true  (or false)",
        ),
        (
            f"/announce {'x' * 3600}",
            "⚠️ Not sent: an announcement has at most 3500 characters.\n"
            "Usage: /announce [deck:DECK] TEXT",
        ),
    ],
)
async def test_admin_errors_name_the_thing_and_the_next_step(
    chat: ChatDriver, command: str, reply: str
) -> None:
    turn = await chat.send(ADMIN, command)
    assert turn.text == reply


async def test_a_failed_edit_says_why_and_how_to_send_it_again(
    chat: ChatDriver, service: TutorService
) -> None:
    added = await chat.send(ADMIN, "/add sample | 2+2? | 4")
    item_id = int(re.findall(r"item (\d+)", added.text)[0])
    await chat.send(ADMIN, f"/item {item_id}")
    await chat.press(ADMIN, "✏️ Edit")
    turn = await chat.send(ADMIN, "only a question")
    assert turn.text == (
        f"⚠️ Item {item_id} was not changed: the line does not have the fields of any form.\n"
        "Send the new version again as QUESTION | ANSWER | WRONG1; WRONG2"
        " (or QUESTION | ANSWER1; ANSWER2)."
    )
    # Deleted meanwhile (by another admin): said once, and the edit is over.
    await AdminService(service).delete_item(ADMIN.id, item_id)
    turn = await chat.send(ADMIN, "2+2? | 4")
    assert turn.text.startswith(f"⚠️ There is no item {item_id}.")
    turn = await chat.send(ADMIN, "2+2? | 4")
    assert turn.text == "Please send /start first."  # a plain message again, not an edit
