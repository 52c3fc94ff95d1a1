"""``metatutor chat``, ``metatutor groups`` and ``metatutor model replay`` as an operator runs
them: through ``main`` on a database file, with the settings from the environment."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import sys
from pathlib import Path

import pytest

from bot.cli import main
from storage import Database
from tutor.service import TutorService
from tutor.views import Answer

CHOICES = {
    "metatutor": 1,
    "deck": {"slug": "planets", "name": "Planets", "language": "en"},
    "items": [
        {
            "id": f"p{k}",
            "type": "multiple_choice",
            "question": f"Planet number {k + 1} from the Sun?",
            "options": [name, "Pluto"],
            "answer": name,
        }
        for k, name in enumerate(["Mercury", "Venus", "Earth"])
    ],
}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An operator's working directory; the database file lives in it."""
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "METATUTOR_TIMEZONE", "METATUTOR_ADMIN_IDS"):
        monkeypatch.delenv(name, raising=False)
    database = tmp_path / "tutor.sqlite3"
    monkeypatch.setenv("METATUTOR_DATABASE", str(database))
    assert main(["db", "upgrade"]) == 0
    return database


async def _with_service(path: Path, *students: int, groups: int = 0) -> None:
    """Students who answered two questions each, and groups the bot is in."""
    db = await Database.open(path)
    try:
        service = TutorService(db)
        report = await service.import_file(json.dumps(CHOICES).encode(), "planets.json")
        for user_id in students:
            await service.register(user_id, user_id, "S", "en")
            await service.enrol(user_id, "planets")
            question = await service.start_quiz(user_id, 2)
            for _ in range(2):
                assert question is not None
                await service.answer(user_id, question.id, Answer(choice=0))
                question = await service.next_question(user_id)
        for number in range(1, groups + 1):
            await service.groups.joined(-number, f"Class {number}", "en")
            await service.groups.add_deck(-number, report.deck.id)
    finally:
        await db.close()


def test_chat_talks_as_the_student_it_is_given(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("/start\nquit\n"))
    assert main(["chat", "--user-id", "7", "--name", "Kim", "--language", "zh"]) == 0
    out = capsys.readouterr().out
    assert "bot: 你好，Kim！" in out and "[1] English  [2] ✓ 简体中文" in out
    with sqlite3.connect(env) as conn:
        assert conn.execute("SELECT first_name, language FROM users WHERE id = 7").fetchall() == [
            ("Kim", "zh")
        ]


def test_groups_lists_the_groups_from_the_command_line(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["groups"]) == 0
    assert capsys.readouterr().out == "the bot is in no group yet\n"
    asyncio.run(_with_service(env, groups=2))
    assert main(["groups"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("groups 2 (2 with the bot in them)")
    assert [line.split(":")[0] for line in out[1:]] == ["Class 1", "Class 2"]


def test_model_replay_rebuilds_every_student(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(_with_service(env, 11, 12))
    with sqlite3.connect(env) as conn:
        assert conn.execute("SELECT COUNT(*) FROM attempts").fetchone() == (4,)
        conn.execute("DELETE FROM learner_state")
    assert main(["model", "replay"]) == 0
    assert capsys.readouterr().out == "rebuilt the learner state of 2 students\n"
    with sqlite3.connect(env) as conn:
        rows = conn.execute("SELECT user_id FROM learner_state ORDER BY user_id").fetchall()
    assert rows == [(11,), (12,)]
