"""Stories from a newcomer's walk through the bot, in English and Chinese: each is a reply
that once left the user stuck or misinformed, told as the user meets it now."""

from __future__ import annotations

import functools
import io
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import local_chat
from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver
from bot.fake_telegram.http_chat import HttpChat
from bot.fake_telegram.objects import FakeUser
from tests.bot.stories.conftest import ADA, LEI, onboard, story_settings
from tests.bot.stories.test_groups import CLASS, TEACHER, group_bot
from tests.conftest import FakeClock
from tutor.items import ItemKind
from tutor.service import TutorService

ROOT = FakeUser(9001, "Root", language_code="en")
WEI = FakeUser(9003, "Wei", language_code="zh-hans")
CSV = b"id,question,answer\ncap-fr,Capital of France?,Paris\n"


@pytest.fixture
async def admin_chat(tutor: TutorService, fake: FakeBotApi) -> AsyncIterator[ChatDriver]:
    """The bot as served, with Root (English) and Wei (Chinese) as its admins."""
    settings = story_settings().model_copy(update={"admin_ids": frozenset({ROOT.id, WEI.id})})
    async with ChatDriver(build_application(settings, tutor, request=fake)) as driver:
        yield driver


async def test_a_deck_name_typed_at_the_deck_step_shows_the_deck_buttons_again(
    chat: ChatDriver, tutor: TutorService
) -> None:
    # Li Lei, at the deck step, types "继续" (Continue) instead of tapping it. He used to be
    # sent back to the language question; now he reads that decks are tapped, with the decks.
    await chat.send(LEI, "/start")
    await chat.press(LEI, "✓ 简体中文")
    turn = await chat.send(LEI, "继续")
    assert turn.text.startswith("题库要点下面的按钮来选，打字选不了（你发的是“继续”）")
    assert "你想用哪种语言" not in turn.text
    assert chat.buttons(LEI) == ["➕ Test <Deck> & Co", "继续 ➡️"]
    # The buttons under the reply work: he enrols and carries on to the time zone.
    await chat.press(LEI, "➕ Test <Deck> & Co")
    turn = await chat.press(LEI, "继续 ➡️")
    assert "时区" in turn.edited[-1].plain
    assert [info.deck.slug for info in await tutor.decks(LEI.id) if info.enrolled] == ["test-deck"]

    # Ada does the same in English, typing the deck's name.
    await chat.send(ADA, "/start")
    await chat.press(ADA, "✓ English")
    turn = await chat.send(ADA, "Test Deck")
    assert turn.text.startswith(
        "Decks are picked with the buttons below, not by typing (you sent “Test Deck”)."
    )
    assert chat.buttons(ADA) == ["➕ Test <Deck> & Co", "Continue ➡️"]


async def test_a_language_typed_at_the_language_step_is_taken(
    chat: ChatDriver, tutor: TutorService
) -> None:
    # Ada's phone is in English, but she studies in Chinese: at the first question she types
    # "中文" instead of tapping. The question used to be asked again, without a word.
    await chat.send(ADA, "/start")
    turn = await chat.send(ADA, "中文")
    assert turn.text.startswith("你想学什么？")
    assert chat.buttons(ADA) == ["➕ Test <Deck> & Co", "继续 ➡️"]
    student = await tutor.student(ADA.id)
    assert student is not None and student.language == "zh"

    # Li Lei types a language the tutor does not speak: he reads so, with the buttons.
    await chat.send(LEI, "/start")
    turn = await chat.send(LEI, "Français")
    assert turn.text.startswith("“Français”不是我能用的语言。请点下面的 English 或 简体中文")
    assert chat.buttons(LEI) == ["English", "✓ 简体中文"]
    turn = await chat.send(LEI, "english")
    assert turn.text.startswith("What do you want to study?")


async def to_the_time_zone(chat: ChatDriver, user: FakeUser, language: str, go_on: str) -> None:
    """A newcomer's set-up up to the time zone question: language, the test deck, Continue."""
    await chat.send(user, "/start")
    await chat.press(user, language)
    await chat.press(user, "➕ Test <Deck> & Co")
    await chat.press(user, go_on)


async def test_a_city_typed_for_the_time_zone_and_a_quiz_begun_before_the_set_up_ends(
    chat: ChatDriver, tutor: TutorService
) -> None:
    # Li Lei types 上海, as the button reads, for his time zone. He used to read
    # "我不认识时区 上海".
    await to_the_time_zone(chat, LEI, "✓ 简体中文", "继续 ➡️")
    turn = await chat.send(LEI, "上海")
    assert "我不认识时区" not in turn.text
    student = await tutor.student(LEI.id)
    assert student is not None and student.timezone == "Asia/Shanghai"

    # Ada leaves the set-up at the time zone for /quiz, and types the answer to a typed
    # question. It used to be read as a time zone ("I do not know the time zone ...").
    await to_the_time_zone(chat, ADA, "✓ English", "Continue ➡️")
    turn = await chat.send(ADA, "/quiz")
    for _ in range(10):
        question = await tutor.open_question(ADA.id)
        assert question is not None
        if question.item.kind in (ItemKind.TYPED, ItemKind.CLOZE):
            break
        turn = await chat.press(ADA, chat.buttons(ADA)[0])
    else:
        pytest.fail("the test deck asked no typed question in ten")
    turn = await chat.send(ADA, "Paris")
    assert "time zone" not in turn.text
    assert await tutor.open_question(ADA.id) != question


async def test_skip_typed_at_the_exam_step_and_a_zone_asked_by_settings_during_the_set_up(
    chat: ChatDriver, tutor: TutorService
) -> None:
    # Li Lei reaches the exam question, opens /settings and its time zone, and types 伦敦.
    # The set-up used to take it and ask for a date again.
    await to_the_time_zone(chat, LEI, "✓ 简体中文", "继续 ➡️")
    await chat.send(LEI, "上海")
    await chat.send(LEI, "20:00")
    await chat.send(LEI, "/settings")
    await chat.press(LEI, "时区")
    turn = await chat.send(LEI, "伦敦")
    assert "YYYY-MM-DD" not in turn.text
    student = await tutor.student(LEI.id)
    assert student is not None and student.timezone == "Europe/London"
    # Then he types 跳过 (Skip) at the exam question, as the button reads: the set-up ends.
    turn = await chat.send(LEI, "跳过")
    assert "YYYY-MM-DD" not in turn.text
    student = await tutor.student(LEI.id)
    assert student is not None and student.onboarded


async def test_forget_says_that_own_cards_go_too_and_how_to_keep_them(
    chat: ChatDriver, tutor: TutorService
) -> None:
    # Ada keeps two cards of her own. /forget used to list answers, progress, decks, settings
    # and reminders only; her cards were erased without a word.
    await onboard(chat, ADA)
    await chat.send(ADA, "Largest planet | Jupiter;")
    await chat.send(ADA, "Mitochondria | The powerhouse of the cell")
    turn = await chat.send(ADA, "/forget")
    assert turn.text.endswith(
        "Your 2 own cards go too, with their pictures and sounds. To keep a copy, send /export"
        " (or /export apkg for Anki) before you tap."
    )
    # She keeps her data, exports her cards, then erases.
    await chat.press(ADA, "Keep my data")
    export = await chat.send(ADA, "/export")
    assert [m.filename for m in export.new] == ["my-cards.csv"]
    await chat.send(ADA, "/forget")
    await chat.press(ADA, "Erase everything")
    assert await tutor.student(ADA.id) is None

    # Li Lei has no cards: nothing about cards is said; in Chinese otherwise.
    await onboard(chat, LEI)
    turn = await chat.send(LEI, "/forget")
    assert "卡片" not in turn.text and "这会删除我保存的关于你的一切" in turn.text
    await chat.send(LEI, "我的卡片 | My cards")
    turn = await chat.send(LEI, "/forget")
    assert turn.text.endswith(
        "你自己的 1 张卡片（连同图片和声音）也会一起删除。想留一份的话，先发送 /export"
        "（或 /export apkg 导出为 Anki 卡组）再点按钮。"
    )


async def test_a_deck_file_sent_without_the_import_caption_says_how_to_import_it(
    admin_chat: ChatDriver, tutor: TutorService
) -> None:
    # Root sends a CSV deck without a caption. He used to read "I can only read text and
    # button presses", as if the bot took no files at all.
    turn = await admin_chat.upload(ROOT, CSV, "capitals.csv")
    assert turn.text == (
        "I did not import capitals.csv: a deck file needs the caption /import (or /import DECK"
        " NAME to choose its deck). Send it again with that caption, or send /import and then"
        " the file."
    )
    assert not [d for d in await tutor.decks(None) if d.deck.slug == "capitals"]
    turn = await admin_chat.upload(ROOT, CSV, "capitals.csv", caption="/import")
    assert "added 1" in turn.edited[-1].plain

    # Wei reads it in Chinese, and /import then the file works as said.
    turn = await admin_chat.upload(WEI, CSV, "首都.csv")
    assert turn.text.startswith("首都.csv 没有导入：题库文件要在文件说明里写 /import")
    await admin_chat.send(WEI, "/import 首都")
    turn = await admin_chat.upload(WEI, CSV, "首都.csv")
    assert "新增 1" in turn.edited[-1].plain

    # A student's file is still answered as before: the bot reads text, buttons, photos, sounds.
    turn = await admin_chat.upload(ADA, CSV, "notes.csv")
    assert turn.text.startswith("I read text, button presses, photos and sounds")


async def test_an_upload_telegram_is_slow_to_hand_over_is_not_said_to_be_on_its_way(
    admin_chat: ChatDriver, tutor: TutorService
) -> None:
    # Telegram does not answer getFile in time. The import used to end "(Telegram did not
    # confirm it in time, so it may still arrive)", words for a message the bot sends: here
    # nothing is on its way, and the admin must send the file again.
    admin_chat.fake.fail_next("getFile", "timeout")
    turn = await admin_chat.upload(ROOT, CSV, "capitals.csv", caption="/import")
    assert turn.edited[-1].plain == (
        "⚠️ capitals.csv was not imported: I could not fetch the file from Telegram (Telegram"
        " did not answer in time). Nothing was changed; send the file again with the caption"
        " /import."
    )
    assert not [d for d in await tutor.decks() if d.deck.slug == "capitals"]
    turn = await admin_chat.upload(ROOT, CSV, "capitals.csv", caption="/import")
    assert "added 1" in turn.edited[-1].plain
    # In Chinese.
    admin_chat.fake.fail_next("getFile", "timeout")
    turn = await admin_chat.upload(WEI, CSV, "首都.csv", caption="/import")
    assert "我没能从 Telegram 取到这个文件（Telegram 没有及时响应）" in turn.edited[-1].plain
    assert "可能稍后仍会送达" not in turn.edited[-1].plain


async def test_one_of_a_thing_is_said_in_the_singular(
    chat: ChatDriver, tutor: TutorService
) -> None:
    # Ada answers one question and stops: "Quiz stopped after 1 answers" it used to say.
    await onboard(chat, ADA)
    await chat.send(ADA, "/quiz 3")
    question = chat.last(ADA)
    if question.buttons:
        await chat.press_data(ADA, question, question.button_data[0])
    else:
        await chat.send(ADA, "Paris")
    turn = await chat.send(ADA, "/stop")
    assert turn.text.startswith("Quiz stopped after 1 answer (")
    # /mydata: "Your 1 answers" before.
    turn = await chat.send(ADA, "/mydata")
    assert [m.plain for m in turn.new] == ["Your 1 answer, as a CSV file."]
    # An exam tomorrow (the test clock says 2026-03-02) was "1 days from today".
    turn = await chat.send(ADA, "/exam 2026-03-03")
    assert turn.text == "Exam date set to 2026-03-03 (tomorrow) for: Test <Deck> & Co."
    turn = await chat.send(ADA, "/exam 2026-03-04")
    assert turn.text.startswith("Exam date set to 2026-03-04 (2 days from today)")
    # One own card, then /forget: "Your 1 own cards go too, with their pictures" before.
    await chat.send(ADA, "Largest planet | Jupiter;")
    turn = await chat.send(ADA, "/forget")
    assert turn.text.endswith(
        "Your own card goes too, with its picture and sound if it has them. To keep a copy, send"
        " /export (or /export apkg for Anki) before you tap."
    )
    # /exam with no date set said its usage twice; now once.
    await chat.send(ADA, "/exam off")
    turn = await chat.send(ADA, "/exam")
    assert turn.text == "No exam dates set. Use /exam YYYY-MM-DD [deck]."

    # Li Lei reads the same in Chinese, where one and many are written alike.
    await onboard(chat, LEI)
    turn = await chat.send(LEI, "/exam 2026-03-03")
    assert turn.text == "考试日期已设为 2026-03-03（明天），题库：Test <Deck> & Co。"
    turn = await chat.send(LEI, "/exam off")
    turn = await chat.send(LEI, "/exam")
    assert turn.text == "还没有设置考试日期。请使用 /exam YYYY-MM-DD [题库]。"


async def test_an_export_format_the_bot_does_not_write_is_named_as_such(
    admin_chat: ChatDriver,
) -> None:
    # Root asks for the test deck as xml. He used to read "There is no deck 'test-deck xml'",
    # as if the deck were missing.
    turn = await admin_chat.send(ROOT, "/export test-deck xml")
    assert turn.text == (
        "I cannot write a deck as “xml”. The formats are csv, tsv, json, apkg: for example"
        " /export test-deck apkg. Nothing was sent."
    )
    turn = await admin_chat.send(ROOT, "/export test-deck apkg")
    assert [m.filename for m in turn.new] == ["test-deck.apkg"]
    # A deck that does not exist is still named as missing; Wei reads the format in Chinese.
    turn = await admin_chat.send(ROOT, "/export atlantis xml")
    assert "There is no deck" in turn.text and "atlantis xml" in turn.text
    turn = await admin_chat.send(WEI, "/export test-deck xlsx")
    assert turn.text == (
        "题库不能导出为“xlsx”格式。可用的格式有 csv、tsv、json、apkg：例如 /export test-deck"
        " apkg。这次没有发送文件。"
    )


class _Typist(io.StringIO):
    """Lines typed with a pause before each; what the screen showed just before each line
    (or the end) was typed is kept in ``seen``."""

    def __init__(self, lines: list[str], screen: io.StringIO, pause: float) -> None:
        super().__init__()
        self.lines, self.screen, self.pause = list(lines), screen, pause
        self.seen: list[str] = []

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        if self.seen:  # the first line comes at once
            time.sleep(self.pause)
        self.seen.append(self.screen.getvalue())
        return self.lines.pop(0) + "\n" if self.lines else ""


async def test_a_slow_reply_in_the_local_chat_over_http_shows_when_it_comes(
    tutor: TutorService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``metatutor chat --http``: Telegram answers /help's reply with 429 (retry after 3 s).
    The chat used to print "(cannot do that: updates [...] were not handled within 15.0 s)",
    and the reply only once the next line was typed; now it says the reply is coming, and
    the reply shows while the newcomer waits."""
    monkeypatch.setattr(local_chat, "HttpChat", functools.partial(HttpChat, timeout=0.5))
    screen = io.StringIO()
    typist = _Typist(["/help"], screen, pause=4.5)
    await local_chat.run_local_chat(
        story_settings().model_copy(update={"database": tmp_path / "metatutor.sqlite3"}),
        tutor,
        input_stream=typist,
        output_stream=screen,
        media_dir=tmp_path,
        log_file=tmp_path / "chat.log",
        http=True,
        faults=(("sendMessage", 429),),
    )
    before_the_next_line = typist.seen[-1]
    assert "(no reply yet: the bot is still waiting on Telegram, or busy" in before_the_next_line
    assert "cannot do that" not in before_the_next_line
    assert "bot: How it works" in before_the_next_line
    assert screen.getvalue().count("bot: How it works") == 1


async def test_a_deck_tap_whose_redraw_fails_once_is_not_answered_with_try_again(
    chat: ChatDriver, tutor: TutorService
) -> None:
    """Telegram fails the edit after a tap that already saved something (a 502, a refusal).
    The student used to read "Sorry, something went wrong. Please try again.": tapping the
    deck again then undid the enrolment, tapping 🗑 again said the card was already gone."""
    generic = "something went wrong"  # any apology after an unexpected failure
    await chat.send(LEI, "/start")
    await chat.press(LEI, "✓ 简体中文")
    chat.fake.fail_next("editMessageText", 502)
    turn = await chat.press(LEI, "➕ Test <Deck> & Co")
    assert turn.edited[-1].button_texts == ["✅ Test <Deck> & Co", "继续 ➡️"]
    assert turn.new == [] and turn.errors == []
    assert [i.enrolled for i in await tutor.decks(LEI.id)] == [True]
    # Continue's edit is refused for good (400): the time zone step comes as a new message.
    chat.fake.fail_next("editMessageText", 400)
    turn = await chat.press(LEI, "继续 ➡️")
    assert [m.plain.startswith("你在哪个时区") for m in turn.new] == [True]

    # Ada leaves the deck in /decks; the first redraw fails: the panel is redrawn anyway.
    await onboard(chat, ADA)
    await chat.send(ADA, "/decks")
    chat.fake.fail_next("editMessageText", 502)
    turn = await chat.press(ADA, "✅ Test <Deck> & Co")
    assert turn.answer is not None and turn.answer.text.startswith("Left Test <Deck> & Co.")
    assert turn.edited[-1].button_texts == ["➕ Test <Deck> & Co"]
    assert generic not in turn.text and turn.errors == []
    assert [i.enrolled for i in await tutor.decks(ADA.id)] == [False]
    # She deletes her only own card; the list's redraw fails once: no apology either.
    await chat.send(ADA, "Largest planet | Jupiter;")
    await chat.send(ADA, "/mycards")
    chat.fake.fail_next("editMessageText", 502)
    turn = await chat.press(ADA, "🗑 1")
    assert turn.answer is not None and turn.answer.text == "Deleted: Largest planet"
    assert turn.edited[-1].plain.startswith("You have no cards of your own yet.")
    assert generic not in turn.text and turn.errors == []


async def test_a_group_deck_tap_whose_redraw_fails_once_still_shows_the_deck_added(
    tutor: TutorService, fake: FakeBotApi, clock: FakeClock
) -> None:
    # Ms Lee taps ➕ on a deck in /group_settings; Telegram fails the panel's redraw once.
    # She used to see "Saved." over an unchanged panel, still offering ➕, and a second tap
    # removed the deck again.
    async with ChatDriver(group_bot(tutor, fake, clock)) as chat:
        fake.set_member(CLASS, TEACHER, "creator")
        await chat.feed(fake.bot_added(CLASS, TEACHER))
        await chat.send(TEACHER, "/group_settings", chat=CLASS)
        fake.fail_next("editMessageText", 502)
        turn = await chat.press(TEACHER, "➕ Test <Deck> & Co", chat=CLASS)
        assert turn.answer is not None and turn.answer.text == "Saved."
        assert "✅ Test <Deck> & Co" in turn.edited[-1].button_texts
        assert "Decks: Test <Deck> & Co" in turn.edited[-1].plain
        group = await tutor.groups.group(CLASS.id)
        assert group is not None and len(group.deck_ids) == 1


async def test_admin_replies_in_chinese_and_a_mistyped_deck_at_add(
    admin_chat: ChatDriver, tutor: TutorService
) -> None:
    # Wei's /admin_stats had one English line among the Chinese: "Students' own cards: …".
    turn = await admin_chat.send(WEI, "/admin_stats")
    numbers = turn.new[0].plain
    assert "学生自己的卡片：0 张，来自 0 名学生（内容保密，只统计数量）" in numbers
    assert "Students' own cards" not in numbers
    turn = await admin_chat.send(ROOT, "/admin_stats")
    assert "Students' own cards: 0 from 0 students (private: counts only)" in turn.new[0].plain

    # Root adds a question to "test-dek" (a slip for test-deck). A deck of that name was made
    # without a word about it; now the reply says so, and how to undo it.
    turn = await admin_chat.send(ROOT, "/add test-dek | Capital of Peru? | Lima")
    assert turn.text.endswith(
        "No deck was called “test-dek”, so I made one with this question in it. Not what you"
        " meant? /deck_delete test-dek hides it; /admin_decks lists the decks."
    )
    turn = await admin_chat.send(ROOT, "/add test-deck | Capital of Chile? | Santiago")
    assert turn.text.endswith("to Test <Deck> & Co.") and "No deck was called" not in turn.text
    turn = await admin_chat.send(WEI, "/add 首都 | 秘鲁的首都？ | 利马")
    assert turn.text.endswith(
        "之前没有叫“首都”的题库，所以我新建了一个，并把这道题放了进去。如果不是你想要的，"
        "发送 /deck_delete 首都 即可隐藏它；/admin_decks 列出所有题库。"
    )


async def test_a_chinese_admin_reads_the_command_forms_in_chinese(admin_chat: ChatDriver) -> None:
    # /admin's /add forms and the usage after a bare /add said "(multiple choice)",
    # "(typed)", "(or false)" and DECK | NEW NAME in English; /help's list was Chinese.
    turn = await admin_chat.send(WEI, "/admin")
    assert turn.text.endswith(
        "/add 的写法\n题库 | 问题 | 答案 | 错误选项1; 错误选项2（选择题）\n"
        "题库 | 问题 | 答案1; 答案2（输入题）\n题库 | 陈述 | true（或 false，判断题）"
    )
    assert "multiple choice" not in turn.text
    turn = await admin_chat.send(WEI, "/add")
    assert turn.text.startswith("用法：/add 题库 | 问题 | 答案 | 错误选项1; 错误选项2（选择题）")
    for command, form in [
        ("/deck_rename", "/deck_rename 题库 | 新名称"),
        ("/item", "/item 编号"),
        ("/announce", "/announce [deck:题库] 内容"),
    ]:
        turn = await admin_chat.send(WEI, command)
        assert turn.text == f"用法：{form}", command
    # Root reads them in English, as before.
    turn = await admin_chat.send(ROOT, "/add")
    assert turn.text.startswith("Usage: /add DECK | QUESTION | ANSWER | WRONG1; WRONG2")
