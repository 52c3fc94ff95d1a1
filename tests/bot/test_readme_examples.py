"""Every ``scripts/run ...`` example in README.md works as written."""

from __future__ import annotations

import io
import re
import shlex
import shutil
import sys
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def readme_commands() -> list[list[str]]:
    """The ``scripts/run`` lines of README's ```sh blocks, as ``metatutor`` arguments."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", README.read_text("utf-8"), re.S):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == "scripts/run":
                # scripts/run with no arguments runs `metatutor serve`.
                commands.append(words[1:] or ["serve"])
    return commands


def _anki_export(path: Path) -> None:
    """Stands in for the reader's own Anki export (``my-export.apkg`` in the README)."""
    import genanki

    deck = genanki.Deck(2059400333, "Cells")
    for number, (front, back) in enumerate([("Powerhouse of the cell?", "Mitochondrion")]):
        deck.add_note(
            genanki.Note(model=genanki.BASIC_MODEL, fields=[front, back], guid=f"cell{number}")
        )
    genanki.Package(deck).write_to_file(str(path))


def test_the_readme_examples_run_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    commands = readme_commands()
    assert len(commands) >= 8 and ["decks"] in commands
    shutil.copytree(ROOT / "docs" / "examples", tmp_path / "docs" / "examples")
    _anki_export(tmp_path / "my-export.apkg")
    monkeypatch.chdir(tmp_path)  # the default database, data/metatutor.sqlite3, lands here
    for name in ("TELEGRAM_BOT_TOKEN", "METATUTOR_DATABASE", "METATUTOR_ADMIN_IDS"):
        monkeypatch.delenv(name, raising=False)
    outputs = {}
    for command in commands:
        # The local chat (`scripts/run` without a token): one student says /start, then leaves.
        monkeypatch.setattr(sys, "stdin", io.StringIO("/start\nquit\n"))
        assert main(command) == 0, (command, capsys.readouterr().err)
        outputs[shlex.join(command)] = capsys.readouterr().out
    assert (tmp_path / "data" / "metatutor.sqlite3").exists()
    assert "Which language should I speak?" in outputs["serve"]
    assert outputs["import rome.csv"].startswith(
        "Ancient Rome (id 4, ancient-rome): 0 added, 0 updated, 6 unchanged"
    )
    listed = outputs["decks"]
    assert "Biology" in listed and listed.count("Ancient Rome") == 1
    assert (tmp_path / "backup.sqlite3").exists()
