"""Admin commands through the real application and the offline Bot API."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver, Turn
from bot.fake_telegram.objects import FakeUser
from bot.handlers.admin import COMMANDS, register_admin_handlers
from bot.i18n import plain
from bot.settings import Settings
from storage import audit as audit_rows
from tests.tutor.conftest import sample_deck_bytes
from tutor.service import TutorService
from tutor.students import StudentStatus

ADMIN = FakeUser(9001, "Root", language_code="en")
MALLORY = FakeUser(9002, "Mallory", language_code="en")
CSV = b"id,question,answer\ncap-fr,Capital of France?,Paris\ncap-de,Capital of Germany?,Berlin\n"

# A plausible argument for each command, so the refusal is not just a usage message.
ARGS = {
    "admin": "",
    "import": "Geography",
    "admin_decks": "",
    "deck_rename": "sample | Renamed",
    "deck_delete": "sample",
    "item": "1",
    "add": "sample | 2+2? | 4",
    "export": "sample",
    "users": "",
    "admin_stats": "",
    "announce": "Exams are coming",
}


def admin_settings() -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=None,
        admin_ids=frozenset({ADMIN.id}),
        flood_burst=0,  # admins here type faster than people; floods are tested apart
        chat_rate=0,
    )


@pytest.fixture
async def tutor(service: TutorService) -> TutorService:
    await service.import_file(sample_deck_bytes(), "sample.json")
    return service


@pytest.fixture
async def chat(tutor: TutorService, fake_api: FakeBotApi) -> AsyncIterator[ChatDriver]:
    settings = admin_settings()
    application = build_application(settings, tutor, request=fake_api)
    register_admin_handlers(application, settings)
    async with ChatDriver(application) as driver:
        yield driver


async def audit(service: TutorService) -> list[tuple[int | None, str, str]]:
    async with service.db.read() as conn:
        rows = await audit_rows.recent(conn, 100)
    return [(row.actor_id, row.action, row.target) for row in reversed(rows)]


@pytest.mark.parametrize("command", COMMANDS)
async def test_every_admin_command_is_refused_for_others(
    chat: ChatDriver, tutor: TutorService, command: str
) -> None:
    before = await tutor.decks()
    turn = await chat.send(MALLORY, f"/{command} {ARGS[command]}".strip())
    # the same as a command that doesn't exist
    assert turn.text == f"I do not know the command /{command}. /help lists the ones I know."
    assert await audit(tutor) == [(MALLORY.id, "denied", command)]
    assert await tutor.decks() == before
    assert chat.fake.calls_of("sendDocument") == chat.fake.calls_of("sendPhoto") == []


async def test_a_non_admin_upload_captioned_import_is_refused(
    chat: ChatDriver, tutor: TutorService
) -> None:
    turn = await chat.upload(MALLORY, CSV, "geo.csv", caption="/import Geography")
    assert turn.text == "I do not know the command /import. /help lists the ones I know."
    assert chat.fake.calls_of("getFile") == []
    assert [info.deck.name for info in await tutor.decks()] == ["Sample"]
    assert await audit(tutor) == [(MALLORY.id, "denied", "import")]


async def test_a_non_admin_cannot_press_admin_buttons(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await chat.send(ADMIN, "/deck_delete sample")
    message = chat.message_with_button(ADMIN, "x:dd:1")
    turn = await chat.press_data(MALLORY, message, "x:dd:1")
    assert turn.answer is not None and turn.answer.text == plain("en", "callback.invalid")
    assert [info.deck.name for info in await tutor.decks()] == ["Sample"]
    assert (MALLORY.id, "denied", "button") in await audit(tutor)


async def test_import_a_csv_from_a_captioned_document(
    chat: ChatDriver, tutor: TutorService
) -> None:
    turn = await chat.upload(ADMIN, CSV, "geo.csv", caption="/import Geography")
    assert len(chat.fake.calls_of("getFile")) == 1
    [status] = turn.new
    assert "added 2 · updated 0 · unchanged 0 · skipped 0" in status.plain  # edited in place
    assert status.edited and "Geography" in status.plain
    deck = await tutor.find_deck("Geography")
    assert [info.n_items for info in await tutor.decks() if info.deck.id == deck.id] == [2]
    # what now: where students find it, and the link that enrols them (it said only counts)
    bot = chat.application.bot.username
    assert status.plain.splitlines()[-1] == (
        f"Students join it with /decks, or straight from the link t.me/{bot}?start=deck_{deck.id}."
    )
    actions = await audit(tutor)
    assert actions[-1][:2] == (ADMIN.id, "import")
    again = await chat.upload(ADMIN, CSV, "geo.csv", caption="/import Geography")
    assert "added 0 · updated 0 · unchanged 2" in again.new[0].plain


async def test_import_an_apkg_sent_after_the_command(
    chat: ChatDriver, tutor: TutorService, tmp_path: Path
) -> None:
    import genanki

    deck = genanki.Deck(2059400111, "Medieval kings")
    for number, (front, back) in enumerate(
        [("Crowned 1066?", "William"), ("Magna Carta?", "John")]
    ):
        deck.add_note(
            genanki.Note(model=genanki.BASIC_MODEL, fields=[front, back], guid=f"k{number}")
        )
    path = tmp_path / "kings.apkg"
    genanki.Package(deck).write_to_file(str(path))
    first = await chat.send(ADMIN, "/import")
    assert "Send the deck file" in first.text
    turn = await chat.upload(ADMIN, path.read_bytes(), "kings.apkg")
    assert "added 2" in turn.new[0].plain
    names = [info.deck.name for info in await tutor.decks()]
    assert any("Medieval kings" in name for name in names)


async def test_an_import_waiting_for_its_file_answers_text_and_can_be_cancelled(
    chat: ChatDriver, tutor: TutorService
) -> None:
    """After /import, a text got "No question is waiting for an answer" and /cancel "There
    is nothing to cancel", while the next file was still taken as the deck."""
    first = await chat.send(ADMIN, "/import Birds")
    assert first.text.endswith("or /cancel.")
    turn = await chat.send(ADMIN, "here it comes")
    assert turn.text == (
        "I am waiting for the deck file you announced with /import. Send it as a file"
        " (CSV, TSV, JSON, .apkg, .colpkg or Anki .txt), or /cancel."
    )
    turn = await chat.send(ADMIN, "/cancel")
    assert turn.text == (
        "Import cancelled: I am no longer waiting for a deck file. /import starts again."
    )
    turn = await chat.upload(ADMIN, sample_deck_bytes(), "sample.json")
    assert "needs the caption /import" in turn.text  # not imported: nothing awaits it now
    assert "Birds" not in [info.deck.name for info in await tutor.decks()]


async def test_one_picture_is_counted_as_one_picture(
    chat: ChatDriver, tutor: TutorService, tmp_path: Path
) -> None:
    import genanki

    from tests.bot.demo_bot import tiny_png

    deck = genanki.Deck(2059400112, "Flags")
    deck.add_note(genanki.Note(model=genanki.BASIC_MODEL, fields=['<img src="f.png">?', "F"]))
    (tmp_path / "f.png").write_bytes(tiny_png())
    genanki.Package(deck, media_files=[str(tmp_path / "f.png")]).write_to_file(
        str(tmp_path / "flags.apkg")
    )
    turn = await chat.upload(
        ADMIN, (tmp_path / "flags.apkg").read_bytes(), "flags.apkg", caption="/import"
    )
    assert "· skipped 0 · 1 picture\n" in turn.new[0].plain


async def test_a_bad_file_reports_the_error(chat: ChatDriver, tutor: TutorService) -> None:
    turn = await chat.upload(ADMIN, b"\x00\x01garbage", "x.apkg", caption="/import")
    assert "was not imported" in turn.new[0].plain


async def test_a_file_without_questions_creates_no_deck_and_says_why(
    chat: ChatDriver, tutor: TutorService
) -> None:
    trivia = b"Which planet is red? Mars\nLargest ocean? Pacific\nSpider legs? Eight\n"
    before = await tutor.decks()
    turn = await chat.upload(ADMIN, trivia, "long.txt", caption="/import")
    reply = turn.new[0].plain
    assert "long.txt was not imported" in reply
    assert "all 3 entries were skipped" in reply
    assert "does not look like an Anki notes export" in reply
    assert await tutor.decks() == before


async def test_an_exported_csv_imports_back_into_its_deck(
    chat: ChatDriver, tutor: TutorService, fake_api: FakeBotApi
) -> None:
    turn = await chat.send(ADMIN, "/export sample tsv")
    assert "sample.tsv" in turn.text
    data = await tutor.export_deck("sample", "tsv")
    again = await chat.upload(ADMIN, data[1], "renamed by the admin.tsv", caption="/import")
    assert "Sample (id 1, sample)" in again.new[0].plain
    assert "added 0 · updated 0 · unchanged 6" in again.new[0].plain
    assert [info.deck.name for info in await tutor.decks()] == ["Sample"]


async def test_an_exported_anki_package_carries_its_sounds_and_imports_back(
    chat: ChatDriver, tutor: TutorService, tmp_path: Path
) -> None:
    from tests.bot.stories.test_sounds import french_package
    from tests.tutor.content.test_sounds import MP3, OGG

    data = french_package(tmp_path)
    imported = await chat.upload(ADMIN, data, "french.apkg", caption="/import")
    assert "added 1" in imported.new[-1].plain
    turn = await chat.send(ADMIN, "/export French words apkg")
    [document] = turn.new
    assert document.filename == "french-words.apkg" and document.document is not None
    with zipfile.ZipFile(io.BytesIO(document.document)) as package:
        media = json.loads(package.read("media"))
        files = {name: package.read(member) for member, name in media.items()}
    assert files == {"bonjour.mp3": MP3, "hello.ogg": OGG}
    again = await chat.upload(ADMIN, document.document, "french-words.apkg", caption="/import")
    assert "added 0 · updated 0 · unchanged 1" in again.new[-1].plain
    assert [info.deck.name for info in await tutor.decks()] == ["French words", "Sample"]
    assert ("export", "french-words") in [(a, t) for _, a, t in await audit(tutor)]


async def test_announce_needs_confirmation_and_reports_counts(
    chat: ChatDriver, tutor: TutorService, fake_api: FakeBotApi
) -> None:
    students = [FakeUser(501, "A"), FakeUser(502, "B"), FakeUser(503, "C")]
    for user in students:
        fake_api.register_user(user)
        await tutor.register(user.id, user.id, user.first_name, "en")
    fake_api.block(503)
    turn = await chat.send(ADMIN, "/announce Exams start on <Monday> & good luck")
    assert "Send this to every student (3)" in turn.text
    assert all(fake_api.messages(user.id) == [] for user in students)  # nothing yet
    done = await chat.press(ADMIN, "📣 Send")
    assert "delivered 2, blocked 1, failed 0" in done.text
    for user in students[:2]:
        [message] = fake_api.messages(user.id)
        assert message.plain == "📣 Exams start on <Monday> & good luck"
    blocked = await tutor.student(503)
    assert blocked is not None and blocked.status is StudentStatus.BLOCKED
    assert chat.buttons(ADMIN) == []  # the confirmation buttons are gone
    again = await chat.press_data(ADMIN, chat.last(ADMIN), "x:ay:1")
    assert "already sent" in again.text
    assert sum(len(fake_api.messages(user.id)) for user in students) == 2
    actions = [action for _, action, _ in await audit(tutor)]
    assert actions == ["announce_draft", "announce"]


async def test_an_announcement_to_one_student_says_student(
    chat: ChatDriver, tutor: TutorService, fake_api: FakeBotApi
) -> None:
    """It said "📣 Sending to 1 students…"."""
    fake_api.register_user(FakeUser(501, "A"))
    await tutor.register(501, 501, "A", "en")
    await chat.send(ADMIN, "/announce Hello")
    done = await chat.press(ADMIN, "📣 Send")
    assert "📣 Sending to 1 student…" in [m.plain for m in done.new]


async def test_announce_can_be_cancelled(chat: ChatDriver, tutor: TutorService) -> None:
    await tutor.register(601, 601, "A", "en")
    await tutor.enrol(601, "sample")
    await chat.send(ADMIN, "/announce deck:sample hello")
    turn = await chat.press(ADMIN, "Cancel")
    assert "cancelled" in turn.text
    assert chat.fake.messages(601) == []


async def test_an_announcement_nobody_would_get_is_not_offered_for_sending(
    chat: ChatDriver, tutor: TutorService
) -> None:
    """No student in the deck (or none at all): said so at once, no Send button, no draft
    left to confirm."""
    turn = await chat.send(ADMIN, "/announce deck:sample hello")
    assert turn.text == (
        "Nobody to send this to: no student studies Sample yet. Nothing was sent;"
        " /admin_decks shows each deck's students."
    )
    assert chat.buttons(ADMIN) == []
    turn = await chat.send(ADMIN, "/announce hello")
    assert turn.text.startswith("Nobody to send this to: no student has started the bot yet")
    actions = [action for _, action, _ in await audit(tutor)]
    assert actions == ["announce_draft", "announce_cancel"] * 2


async def test_deck_rename_and_delete_keep_attempts(chat: ChatDriver, tutor: TutorService) -> None:
    await tutor.register(700, 700, "S", "en")
    await tutor.enrol(700, "sample")
    question = await tutor.start_quiz(700, 1)
    assert question is not None
    from tutor.views import Answer

    await tutor.answer(700, question.id, Answer(choice=0, text="x"))
    renamed = await chat.send(ADMIN, "/deck_rename sample | World <history>")
    assert "World <history>" in renamed.text
    ask = await chat.send(ADMIN, "/deck_delete sample")
    # one student: "1 students enrolled" was said before
    assert "students enrolled: 1." in ask.text and "1 students" not in ask.text
    await chat.press(ADMIN, "🗑 Delete")
    assert await tutor.decks() == []
    async with tutor.db.read() as conn, conn.execute("SELECT COUNT(*) FROM attempts") as cur:
        row = await cur.fetchone()
    assert row is not None and row[0] == 1
    actions = [action for _, action, _ in await audit(tutor)]
    assert actions == ["deck_rename", "deck_delete"]


async def test_add_show_edit_and_delete_an_item(chat: ChatDriver, tutor: TutorService) -> None:
    added = await chat.send(ADMIN, "/add sample | Largest planet? | Jupiter | Mars; Venus")
    item_id = int(added.text.split()[2])
    item = await tutor.item(item_id)
    assert item.options == ("Jupiter", "Mars", "Venus") and item.correct_option == 0
    shown = await chat.send(ADMIN, f"/item {item_id}")
    assert "Largest planet?" in shown.text and "Attempts: 0" in shown.text
    await chat.press(ADMIN, "✏️ Edit")
    saved = await chat.send(ADMIN, "Largest planet in the solar system? | Jupiter")
    assert "typed" in saved.text
    assert (await tutor.item(item_id)).accepted == ("Jupiter",)
    await chat.send(ADMIN, f"/item {item_id}")
    await chat.press(ADMIN, "🗑 Delete")
    await chat.press(ADMIN, "🗑 Yes, delete")
    missing = await chat.send(ADMIN, f"/item {item_id}")
    assert f"⚠️ There is no item {item_id}. /add and /admin_stats show item ids" in missing.text
    new_deck = await chat.send(ADMIN, "/add Space | The Sun is a star. | true")
    assert "true_false" in new_deck.text and "Space" in new_deck.text
    bad = await chat.send(ADMIN, "/add sample | only a question")
    assert "Not added: the line does not have the fields of any form" in bad.text
    assert "/add DECK | STATEMENT | true" in bad.text
    actions = [action for _, action, _ in await audit(tutor)]
    assert actions == ["item_add", "item_edit", "item_delete", "item_add"]


async def test_export_users_and_stats(chat: ChatDriver, tutor: TutorService) -> None:
    from tutor.views import Answer

    for user_id in (800, 801, 802):  # three students answer the same first question
        await tutor.register(user_id, user_id, "S", "en")
        await tutor.enrol(user_id, "sample")
        question = await tutor.start_quiz(user_id, 1)
        assert question is not None
        wrong = next(
            i for i, label in enumerate(question.choices) if label != question.item.correct_text
        )
        await tutor.answer(user_id, question.id, Answer(choice=wrong))
    export = await chat.send(ADMIN, "/export sample json")
    [document] = export.new
    assert document.filename == "sample.json"
    assert json.loads(document.document or b"{}")["deck"]["slug"] == "sample"
    users = await chat.send(ADMIN, "/users")
    assert "3 in all — 3 active, 0 paused, 0 blocked" in users.text
    assert "Answered today: 3" in users.text
    stats = await chat.send(ADMIN, "/admin_stats")
    assert "Sample: 0% of 3" in stats.text
    assert question is not None
    assert f"/item {question.item.id}: 0/3" in stats.text
    photos = [m for m in stats.new if m.photo]
    assert len(photos) == 1 and photos[0].photo is not None
    assert photos[0].photo.startswith(b"\x89PNG")
    decks = await chat.send(ADMIN, "/admin_decks")
    assert "sample</code>" not in decks.text and "sample · 6 · 3" in decks.text


async def test_students_keep_their_commands(chat: ChatDriver, tutor: TutorService) -> None:
    turn = await chat.send(MALLORY, "/help")
    assert turn.text and turn.text != plain("en", "unknown_command")
    assert await audit(tutor) == []


async def test_admin_lists_the_admin_commands(chat: ChatDriver) -> None:
    turn = await chat.send(ADMIN, "/admin")
    assert turn.text.startswith("Admin commands (only admins see these)\n/admin — ")
    missing = [name for name in COMMANDS if name != "admin" and f"/{name}" not in turn.text]
    assert missing == []
    assert "/add syntax\nDECK | QUESTION | ANSWER | WRONG1; WRONG2" in turn.text


@pytest.mark.parametrize(
    ("command", "usage"),
    [
        ("/deck_rename", "Usage: /deck_rename DECK | NEW NAME"),
        ("/deck_rename sample", "Usage: /deck_rename DECK | NEW NAME"),
        ("/deck_delete", "Usage: /deck_delete DECK"),
        ("/item", "Usage: /item ID"),
        ("/item first", "Usage: /item ID"),
        ("/add", "Usage: /add DECK | QUESTION | ANSWER | WRONG1; WRONG2"),
        ("/announce", "Usage: /announce [deck:DECK] TEXT"),
        ("/announce deck:sample", "Usage: /announce [deck:DECK] TEXT"),
    ],
)
async def test_commands_without_their_arguments_say_how_to_use_them(
    chat: ChatDriver, tutor: TutorService, command: str, usage: str
) -> None:
    before = await tutor.decks()
    turn = await chat.send(ADMIN, command)
    assert turn.text.startswith(usage), turn.text
    assert chat.buttons(ADMIN) == [] and await tutor.decks() == before


async def test_cancel_keeps_the_deck_and_an_unknown_admin_button_says_so(
    chat: ChatDriver, tutor: TutorService
) -> None:
    await chat.send(ADMIN, "/deck_delete sample")
    turn = await chat.press(ADMIN, "Cancel")
    assert turn.text == "Cancelled." and chat.buttons(ADMIN) == []
    assert [info.deck.name for info in await tutor.decks()] == ["Sample"]
    added = await chat.send(ADMIN, "/add sample | 2+2? | 4")
    item_id = int(added.text.split()[2])
    await chat.send(ADMIN, f"/item {item_id}")
    await chat.press(ADMIN, "🗑 Delete")
    turn = await chat.press(ADMIN, "Cancel")
    assert turn.text == "Cancelled."
    assert (await tutor.item(item_id)).prompt == "2+2?"
    # A button of a kind this bot no longer has, and data that is no admin button at all.
    message = chat.last(ADMIN)
    turn = await chat.press_data(ADMIN, message, "x:zz:1")
    assert turn.text == "This button no longer works. Send the command again for fresh buttons."
    turn = await chat.press_data(ADMIN, message, "x:deck_delete:1")
    assert turn.answer is not None and turn.answer.text == (
        "This button no longer works. Send the command again for fresh buttons."
    )
    assert [info.deck.name for info in await tutor.decks()] == ["Sample"]


async def test_export_defaults_to_csv(chat: ChatDriver, tutor: TutorService) -> None:
    turn = await chat.send(ADMIN, "/export sample")
    [document] = [m for m in turn.new if m.document is not None]
    assert document.filename == "sample.csv"
    assert document.document is not None
    header = document.document.decode("utf-8-sig").splitlines()[0].split(",")
    assert {"question", "answer", "deck"} <= set(header)


# -- an admin who speaks Chinese ---------------------------------------------------------------

WEI = FakeUser(9003, "Wei", language_code="zh-hans")
_LATIN_PROSE = ("Usage", "Send", "Deleted", "Renamed", "Added", "Saved", "Cancel", "items,")


async def test_every_admin_reply_follows_the_admins_language(
    tutor: TutorService, fake_api: FakeBotApi
) -> None:
    """A Chinese-speaking admin goes through every admin command and button: every reply,
    button and toast is Chinese (commands, ids and the deck's own words aside)."""
    settings = admin_settings().model_copy(update={"admin_ids": frozenset({WEI.id})})
    application = build_application(settings, tutor, request=fake_api)
    fake_api.register_user(FakeUser(701, "S"))
    await tutor.register(701, 701, "S", "en")
    await tutor.enrol(701, "sample")
    said: list[str] = []
    async with ChatDriver(application) as chat:

        def heard(turn: Turn) -> str:
            mine = [m.plain for m in turn.new if m.chat_id == WEI.id]
            said.extend(mine)
            if turn.answer is not None and turn.answer.text:
                said.append(turn.answer.text)
            return "\n".join(mine)

        async def send(text: str) -> str:
            return heard(await chat.send(WEI, text))

        async def press(label: str) -> str:
            return heard(await chat.press(WEI, label))

        assert (await send("/admin")).startswith("管理命令")
        assert await send("/deck_rename sample") == "用法：/deck_rename 题库 | 新名称"
        assert await send("/deck_rename sample | 世界史") == "已重命名为 世界史（编号 1）。"
        assert (await send("/admin_decks")).startswith("题库（编号 · 标识 · 题数 · 学生数）")
        added = await send("/add sample | 2+2? | 4")
        assert added.startswith("已把题目 ") and added.endswith("（输入题）添加到 世界史。")
        item_id = int(added.split()[1].split("（")[0])
        shown = await send(f"/item {item_id}")
        assert f"题目 {item_id} · 世界史 · 输入题" in shown and "答案：4" in shown
        assert "作答 0 次，来自 0 名学生" in shown
        assert (await press("✏️ 编辑")).startswith(f"请用一行发送题目 {item_id} 的新版本")
        assert (await send("只有问题")).startswith(f"⚠️ 题目 {item_id} 没有修改：这一行不符合")
        assert await send("3+3? | 6") == f"已保存题目 {item_id}（输入题）。"
        await send(f"/item {item_id}")
        await press("🗑 删除")
        assert await press("🗑 确定删除") == f"已删除题目 {item_id}。学生的答题记录会保留。"
        assert (await send(f"/item {item_id}")).startswith(f"⚠️ 没有编号为 {item_id} 的题目")
        assert (await send("/add sample | only a question")).startswith("⚠️ 没有添加：")
        assert (await send("/export 没有这个")).startswith("⚠️ 没有名为 “没有这个” 的题库")
        export = await chat.send(WEI, "/export sample tsv")
        [document] = export.new
        assert document.filename == "sample.tsv" and document.plain.endswith("字节")
        assert await send("/import") == (
            "现在请发送题库文件（CSV、TSV、JSON、.apkg、.colpkg 或 Anki 的 .txt），"
            "或发送 /cancel 取消。"
        )
        upload = await chat.upload(WEI, CSV, "geo.csv")
        [status] = upload.new
        assert status.history[0] == "⏳ 正在导入 <b>geo.csv</b>……"
        assert "新增 2 · 更新 0 · 未变 0 · 跳过 0" in status.plain
        said.append(status.plain)
        assert (await send("/users")).startswith("学生：共 1 名")
        stats = await send("/admin_stats")
        assert stats.startswith("最近 ") and "各题库正确率" in stats and "最难的题" in stats
        assert "把这条通知发给所有学生（1 人）吗？" in await send("/announce 明天考试")
        assert (
            await press("📣 发送")
            == "📣 正在发给 1 名学生……\n📣 通知 1 已发完：送达 1，被屏蔽 0，失败 0"
        )
        await send("/announce deck:sample 加油")
        assert await press("取消") == "通知已取消。"
        assert "共 " in await send("/deck_delete sample")
        assert await press("取消") == "已取消。"
    for text in said:
        assert not any(word in text for word in _LATIN_PROSE), text


def test_an_items_numbers_count_one_student_in_the_singular() -> None:
    from bot.handlers.admin import _item_text
    from tutor.admin import ItemInfo
    from tutor.items import Item, ItemKind

    item = Item(ItemKind.TYPED, "Capital of France?", "fr-1", accepted=("Paris",), id=7)
    one = _item_text("en", ItemInfo(item, "Geography", 3, 2, 1, 0.5))
    assert "Attempts: 3 by 1 student · accuracy 67%" in one  # "1 students" before
    two = _item_text("en", ItemInfo(item, "Geography", 3, 2, 2, 0.5))
    assert "Attempts: 3 by 2 students · accuracy 67%" in two
