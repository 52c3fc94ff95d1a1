"""Stories of admins sending deck files that cannot be imported, or only in part: the reason,
with the line, item, note or member it is about, comes in the admin's own language."""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import build_application
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.driver import ChatDriver, Turn
from bot.fake_telegram.objects import FakeUser
from bot.handlers.admin import register_admin_handlers
from bot.settings import Settings
from tests.bot.flood_helpers import unlimited
from tutor.service import TutorService

WEI = FakeUser(9003, "Wei", language_code="zh-hans")
ROOT = FakeUser(9001, "Root", language_code="en")
LIMIT_MB = 5


@pytest.fixture
async def chat(tutor: TutorService, fake: FakeBotApi) -> AsyncIterator[ChatDriver]:
    """The student bot plus the admin commands, for a Chinese and an English admin."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token=None,
        admin_ids=frozenset({WEI.id, ROOT.id}),
        max_import_mb=LIMIT_MB,
        chat_rate=0,
    )
    application = build_application(settings, tutor, request=fake)
    unlimited(application)
    register_admin_handlers(application, settings)
    async with ChatDriver(application) as driver:
        yield driver


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _empty_collection(folder: Path) -> bytes:
    """An Anki collection (the legacy schema) that holds no note."""
    path = folder / "collection.anki2"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE col (models TEXT, decks TEXT);"
        "INSERT INTO col VALUES ('{}', '{}');"
        "CREATE TABLE notes (id INTEGER, guid TEXT, mid INTEGER, tags TEXT, flds TEXT);"
        "CREATE TABLE cards (id INTEGER, nid INTEGER, ord INTEGER, did INTEGER);"
    )
    db.commit()
    db.close()
    return path.read_bytes()


def _json(document: object) -> bytes:
    return json.dumps(document).encode()


def broken_files(folder: Path) -> list[tuple[str, bytes]]:
    """One broken file of each family an importer refuses."""
    many = "".join(f"Question {i}?,{i}\n" for i in range(100_001))
    return [
        ("empty.csv", b""),
        ("deck.exe", b"MZ\x90\x00" + b"\0" * 100),
        ("broken.apkg", b"this is not a zip archive"),
        ("quiz.csv", b"prompt,reply\nA?,a\n"),
        ("rows.csv", b"question,answer\nA?,a\nB?,b,c,d\n"),
        ("choice.csv", b"question,answer,options\nA?,a,a|b\nB?,c,a|b\n"),
        ("list.json", b"[1, 2]"),
        ("noq.json", _json({"metatutor": 1, "items": [{"id": "a1", "answer": "x"}]})),
        ("none.apkg", _zip({"collection.anki2": _empty_collection(folder)})),
        ("media.apkg", _zip({"collection.anki2": b"x", "media": b"{not json"})),
        ("notes.txt", b"#separator:tab\n#notetype:Basic\nonly a front\t\n"),
        ("many.csv", ("question,answer\n" + many).encode()),
    ]


ZH_REASONS = {
    "empty.csv": "empty.csv 是空文件",
    "deck.exe": "deck.exe：不支持 .exe 类型的文件（请使用 ",
    "broken.apkg": "broken.apkg 不是有效的 zip 压缩包（File is not a zip file）",
    "quiz.csv": "第 1 行：缺少必需的列：question、answer（找到的列：“prompt”、“reply”）",
    "rows.csv": "第 3 行：这一行有 4 个字段，但表头只有 2 个（请检查引号和分隔符）",
    "choice.csv": "第 3 行：答案 “c” 不在选项（a | b）之中",
    "list.json": "list.json 必须是一个包含 “deck” 和 “items” 的 JSON 对象",
    "noq.json": "第 1 项（id “a1”）：缺少字段 “question”",
    "none.apkg": "none.apkg 里没有笔记",
    "media.apkg": "media.apkg：媒体文件列表已损坏（Expecting property name enclosed in double",
    "notes.txt": (
        "notes.txt 里没有可用的题目：全部 1 条都被跳过了"
        "（第一条：第 3 行：卡片 “Card 1”：答案面是空的）"
    ),
    "many.csv": "文件里的题目超过 100000 道，超出了一次导入的上限",
}


def _said(turn: Turn) -> str:
    """What the progress message ends saying."""
    return [*turn.new, *turn.edited][-1].plain


async def test_a_chinese_admin_reads_why_each_broken_file_was_refused_in_chinese(
    chat: ChatDriver, tmp_path: Path
) -> None:
    for name, data in broken_files(tmp_path):
        said = _said(await chat.upload(WEI, data, name, caption="/import"))
        assert f"⚠️ {name} 没有导入：{ZH_REASONS[name]}" in said, said
        assert said.endswith("没有保存任何内容。请修改文件后重新发送，并在文件说明里写 /import。")
        print(said)


MIXED = (
    b"id,question,answer,type,audio\n"
    b"fr,Capital of France?,Paris,typed,\n"
    b"dog,Dog?,chien,flashcard,dog.wav\n"
    b"mc,The {{c1::Magna Carta}} was sealed in {{c2::}}.,,cloze,\n"
)
NOTES = b"#separator:tab\n#notetype:Basic\nfront\tback\nonly a front\t\n"


async def test_a_file_with_some_bad_entries_is_imported_with_the_skipped_list_in_chinese(
    chat: ChatDriver,
) -> None:
    said = _said(await chat.upload(WEI, MIXED, "mixed.csv", caption="/import"))
    assert "新增 3 · 更新 0 · 未变 0 · 跳过 2" in said, said
    said, next_step = said.rsplit("\n", 1)  # the last line: where students find the deck
    assert next_step.startswith("学生可以用 /decks 加入，或直接打开链接 t.me/"), next_step
    assert said.endswith(
        "• 第 3 行：声音文件 “dog.wav” 的格式 Telegram 无法播放"
        "（可以播放 M4A、MP3、OGA、OGG、OPUS）；这一条已保留，但不带这个声音\n"
        "• 第 4 行：id “mc” 的填空 c2 是空的"
    ), said
    said = _said(await chat.upload(WEI, NOTES, "cards.txt", caption="/import"))
    assert "新增 1 · 更新 0 · 未变 0 · 跳过 1" in said, said
    said = said.rsplit("\n", 1)[0]
    assert said.endswith("• 第 4 行：卡片 “Card 1”：答案面是空的"), said
    print(said)


EN_REASONS = {
    "empty.csv": "empty.csv is empty",
    "deck.exe": (
        "deck.exe: unsupported file type .exe (use .csv, .tsv, .json, .apkg, .colpkg, .txt)"
    ),
    "broken.apkg": "broken.apkg is not a valid zip archive (File is not a zip file)",
    "quiz.csv": "line 1: missing required column(s): question, answer (found: 'prompt', 'reply')",
    "rows.csv": "line 3: row has 4 fields but the header has 2 (check quoting and the delimiter)",
    "choice.csv": "line 3: answer 'c' is not among the options (a | b)",
    "list.json": "list.json must hold a JSON object with 'deck' and 'items'",
    "noq.json": "item 1 (id 'a1'): field 'question' is missing",
    "none.apkg": "none.apkg has no notes",
    "media.apkg": (
        "media.apkg: the media list is damaged"
        " (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"
    ),
    "notes.txt": (
        "notes.txt yields no questions: all 1 entries were skipped"
        " (first: line 3: card 'Card 1': the answer side is empty)"
    ),
    "many.csv": "the file has more than 100000 items, the import limit",
}
"""What an English admin read before reasons had codes (the text must not change)."""
EN_NEXT = "\nNothing was stored. Fix the file and send it again with the caption /import."


async def test_an_english_admin_reads_the_same_replies_as_before(
    chat: ChatDriver, tmp_path: Path
) -> None:
    for name, data in broken_files(tmp_path):
        said = _said(await chat.upload(ROOT, data, name, caption="/import"))
        assert said == f"⚠️ {name} was not imported: {EN_REASONS[name]}{EN_NEXT}"
    said = _said(await chat.upload(ROOT, MIXED, "mixed.csv", caption="/import"))
    assert said.startswith("✅ mixed (id ")
    said, next_step = said.rsplit("\n", 1)
    assert next_step.startswith("Students join it with /decks, or straight from the link t.me/")
    assert said.split("\n", 1)[1] == (
        "added 3 · updated 0 · unchanged 0 · skipped 2\n"
        "• line 3: sound 'dog.wav' is not a kind Telegram plays (M4A, MP3, OGA, OGG, OPUS);"
        " the entry is kept without it\n"
        "• line 4: cloze c2 of id 'mc' is empty"
    )
    said = _said(await chat.upload(ROOT, NOTES, "cards.txt", caption="/import"))
    said = said.rsplit("\n", 1)[0]
    assert said.endswith("skipped 1\n• line 4: card 'Card 1': the answer side is empty")
