"""The operator's command line: decks, import, export, database upgrade and backup."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

import pytest

from bot.cli import _parser, main

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An operator's working directory with the database setting pointing into it."""
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "METATUTOR_TIMEZONE", "METATUTOR_ADMIN_IDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("METATUTOR_DATABASE", str(tmp_path / "tutor.sqlite3"))
    return tmp_path


def test_decks_lists_the_bundled_decks(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert "bundled decks: synced" in capsys.readouterr().out
    assert main(["decks"]) == 0
    out = capsys.readouterr().out
    assert "world-history" in out and "chinese-history" in out and "demo" in out
    assert main(["db", "upgrade"]) == 0
    assert "bundled decks: up to date" in capsys.readouterr().out


def test_a_reading_command_without_a_database_says_how_to_make_one(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["decks"], ["export", "demo", "demo.json"], ["users"]):
        assert main(command) == 1
        err = capsys.readouterr().err
        assert f"no database at {env / 'tutor.sqlite3'}" in err
        assert "`metatutor db upgrade` creates it" in err
    assert not (env / "tutor.sqlite3").exists()


def test_every_example_file_imports_and_reimport_updates(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for example in sorted(EXAMPLES.iterdir()):
        assert main(["import", str(example)]) == 0, example.name
        assert "0 skipped" in capsys.readouterr().out
    assert main(["import", str(EXAMPLES / "silk-road.json")]) == 0
    assert "0 added, 0 updated, 6 unchanged" in capsys.readouterr().out


def test_export_round_trips(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(EXAMPLES / "ancient-rome.csv"), "--deck", "Rome"]) == 0
    assert main(["export", "Rome", "rome.json"]) == 0
    assert main(["import", "rome.json", "--deck", "Rome"]) == 0
    assert "0 added, 0 updated, 6 unchanged, 0 skipped" in capsys.readouterr().out.splitlines()[-1]


def test_a_bad_file_is_refused_with_its_reason(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (env / "bad.csv").write_text("question\nWhat?\n")
    assert main(["import", "bad.csv"]) == 1
    assert "missing required column(s): answer" in capsys.readouterr().err


def test_db_upgrade_and_backup(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert "schema version 0 ->" in capsys.readouterr().out
    assert main(["db", "backup", "copy.sqlite3"]) == 0
    with sqlite3.connect(env / "copy.sqlite3") as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_wrong_setting_stops_with_one_line_naming_it(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("METATUTOR_TIMEZONE", "Atlantis/Capital")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "not-a-real-token-at-all")
    assert main(["decks"]) == 2
    err = capsys.readouterr().err
    assert "METATUTOR_TIMEZONE: expected an IANA time zone name" in err
    assert "TELEGRAM_BOT_TOKEN: expected a bot token" in err
    assert "not-a-real-token-at-all" not in err


def _command_paths(parser: argparse.ArgumentParser) -> list[list[str]]:
    """Every subcommand path (``["db"]``, ``["db", "upgrade"]``, ...) of the parser."""
    paths: list[list[str]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths.append([name])
                paths += [[name, *rest] for rest in _command_paths(sub)]
    return paths


@pytest.mark.parametrize("path", _command_paths(_parser()), ids=" ".join)
def test_every_subcommand_answers_help(
    path: list[str], env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main([*path, "--help"])
    assert done.value.code == 0
    assert "usage:" in capsys.readouterr().out
    assert not (env / "tutor.sqlite3").exists()  # help touches no database
