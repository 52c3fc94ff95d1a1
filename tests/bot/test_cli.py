"""The operator's command line: decks, import, export, database upgrade and backup."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

import psycopg
import pytest

from bot.cli import _parser, main

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


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
    # Each line stands alone in a log: the header used to be a line of its own.
    lines = err.splitlines()
    assert len(lines) == 2
    assert all(line.startswith("metatutor: configuration error: ") for line in lines), lines


@pytest.mark.parametrize(
    "value", ["sqlite:///tutor.db", "mysql://u:hunter2@db/tutor", "redis://localhost"]
)
@pytest.mark.parametrize(
    "command", [["db", "upgrade"], ["import", str(EXAMPLES / "silk-road.json")]]
)
def test_a_database_url_it_cannot_use_stops_it_before_any_file_is_written(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    value: str,
    command: list[str],
) -> None:
    # Once taken for a path: the command succeeded and wrote a SQLite file under "postgresql:".
    monkeypatch.setenv("METATUTOR_DATABASE", value)
    assert main(command) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "metatutor: configuration error: METATUTOR_DATABASE: expected a path to the SQLite"
    )
    assert "hunter2" not in lines[0]
    assert sorted(path.name for path in env.iterdir()) == []


def test_an_unreachable_postgresql_stops_with_one_line_and_no_password(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Port 1 on this machine: nothing listens there.
    monkeypatch.setenv("METATUTOR_DATABASE", "postgresql://tutor:hunter2@127.0.0.1:1/tutor")
    assert main(["db", "upgrade"]) == 1  # not 2: a server that is down may be up at the next try
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(
        "metatutor: METATUTOR_DATABASE: cannot connect to postgresql://tutor:***@127.0.0.1:1/tutor:"
    )
    assert "Connection refused; check that the PostgreSQL server is running" in err
    assert "if another program holds the database" not in err  # SQLite's advice
    assert "hunter2" not in err
    assert sorted(path.name for path in env.iterdir()) == []


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://tutor:hunter2@127.0.0.1:46000",
        "postgresql://tutor:hunter2@127.0.0.1:46000/",
        "postgres://tutor:hunter2@127.0.0.1:46000/?sslmode=disable",
    ],
)
def test_a_postgresql_url_without_a_database_name_stops_before_connecting(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    # It used to connect to the database named after the user (often the server's own
    # "postgres") and make the tutor's tables there.
    monkeypatch.setenv("METATUTOR_DATABASE", url)
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert "METATUTOR_DATABASE: the URL postgres" in err
    assert "names no database; add its name after the host" in err
    assert "hunter2" not in err


def test_a_malformed_postgresql_url_stops_with_status_2(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("METATUTOR_DATABASE", "postgresql://tutor:hunter2@127.0.0.1:5432x/tutor")
    assert main(["decks"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(
        "metatutor: METATUTOR_DATABASE: cannot connect to postgresql://tutor:***@"
    )
    assert "the URL is malformed" in err


def test_a_postgresql_user_or_database_that_does_not_exist_stops_with_status_2(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    postgres_server: str,
) -> None:
    # Retrying cannot help: exit 2, which the systemd unit does not restart on.
    base, _, _ = postgres_server.rpartition("/")
    scheme, _, rest = base.partition("://")
    host = rest.rpartition("@")[2]
    for url, words in (
        (f"{base}/no_such_database_here", "check the database name in the URL, or create it"),
        (f"{scheme}://no_such_role:pw@{host}/postgres", "check the user name"),
    ):
        monkeypatch.setenv("METATUTOR_DATABASE", url)
        assert main(["db", "upgrade"]) == 2, url
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1
        assert err.startswith("metatutor: METATUTOR_DATABASE: cannot connect to "), err
        assert words in err, err
    assert sorted(path.name for path in env.iterdir()) == []


def test_db_backup_of_postgresql_points_to_pg_dump_in_one_line(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Nothing to connect to: the command knows from the setting alone.
    monkeypatch.setenv("METATUTOR_DATABASE", "postgresql://tutor:hunter2@127.0.0.1:1/tutor")
    assert main(["db", "backup", "x.dump"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        "metatutor: db backup copies an SQLite file, and METATUTOR_DATABASE is the PostgreSQL"
        " database postgresql://tutor:***@127.0.0.1:1/tutor: back it up with pg_dump -Fc"
        ' (docs/operations.md, "Backups of either")'
    )


def test_db_upgrade_import_and_decks_on_postgresql(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    postgres_url: str,
) -> None:
    monkeypatch.setenv("METATUTOR_DATABASE", postgres_url)
    assert main(["db", "upgrade"]) == 0
    assert "schema version 0 ->" in capsys.readouterr().out
    assert main(["import", str(EXAMPLES / "silk-road.json")]) == 0
    assert "6 added" in capsys.readouterr().out
    assert main(["decks"]) == 0
    assert "silk" in capsys.readouterr().out.lower()
    assert main(["health", "--skip", "scheduler", "--skip", "model"]) == 0
    assert "PostgreSQL, schema v" in capsys.readouterr().out
    # Nothing was written in the working folder: no SQLite file under a folder "postgresql:".
    assert sorted(path.name for path in env.iterdir()) == []


def test_db_copy_moves_an_sqlite_deployment_to_postgresql_checked_by_counts(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    postgres_url: str,
) -> None:
    assert main(["import", str(EXAMPLES / "silk-road.json")]) == 0
    capsys.readouterr()
    assert main(["db", "copy", "nothing.sqlite3", postgres_url]) == 1
    err = capsys.readouterr().err
    # About the argument, not METATUTOR_DATABASE (which `db upgrade` would not fix).
    assert err == "metatutor: SQLITE_FILE: no database file at nothing.sqlite3; check the path\n"
    (env / "notes.txt").write_text("not a database\n" * 200)
    assert main(["db", "copy", str(env / "notes.txt"), postgres_url]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"metatutor: {env / 'notes.txt'}: not an SQLite database")
    assert str(env / "tutor.sqlite3") not in err and "METATUTOR_DATABASE;" not in err
    with psycopg.connect(postgres_url) as target:  # the target left as it was: no schema made
        tables = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'"
        assert target.execute(tables).fetchone() == (0,)
    assert main(["db", "copy", str(env / "tutor.sqlite3"), postgres_url + "_missing"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("metatutor: POSTGRES_URL: cannot connect to "), err
    assert "check the database name in the URL, or create it" in err
    assert main(["db", "copy", str(env / "tutor.sqlite3"), postgres_url.rpartition("/")[0]]) == 2
    assert "POSTGRES_URL: the URL" in capsys.readouterr().err
    assert main(["db", "copy", str(env / "tutor.sqlite3"), "mysql://x/y"]) == 2
    assert "is not a PostgreSQL URL" in capsys.readouterr().err
    assert main(["db", "copy", str(env / "tutor.sqlite3"), postgres_url]) == 0
    out = capsys.readouterr().out
    assert "every count matches" in out
    items = next(line.split() for line in out.splitlines() if line.startswith("items "))
    assert items[1] == items[3] and int(items[1]) >= 6  # the bundled decks' and silk-road's
    monkeypatch.setenv("METATUTOR_DATABASE", postgres_url)
    assert main(["decks"]) == 0
    assert "silk" in capsys.readouterr().out.lower()
    assert main(["db", "copy", str(env / "tutor.sqlite3"), postgres_url]) == 1
    assert "already holds rows" in capsys.readouterr().err


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


def _deck_rows(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT id, slug, name FROM decks ORDER BY id").fetchall()


def _item_rows(path: Path, deck_id: int) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT id, external_id, kind, payload, tags, image, position FROM items"
            " WHERE deck_id = ? ORDER BY id",
            (deck_id,),
        ).fetchall()


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "apkg"])
def test_export_then_import_updates_the_same_deck_in_place(
    env: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    database = env / "tutor.sqlite3"
    assert main(["import", str(EXAMPLES / "ancient-rome.csv")]) == 0
    assert main(["db", "upgrade"]) == 0
    decks = _deck_rows(database)
    (rome,) = [row for row in decks if row[1] == "ancient-rome"]
    items = _item_rows(database, int(str(rome[0])))
    capsys.readouterr()
    # The issue's own steps: export deck by id to a file of another name, import it back.
    assert main(["export", str(rome[0]), f"wh.{fmt}"]) == 0
    assert main(["import", f"wh.{fmt}"]) == 0
    out = capsys.readouterr().out.splitlines()[-1]
    assert (
        out
        == f"Ancient Rome (id {rome[0]}, ancient-rome): 0 added, 0 updated, 6 unchanged, 0 skipped"
    )
    assert _deck_rows(database) == decks
    assert _item_rows(database, int(str(rome[0]))) == items


def _snapshot(path: Path) -> tuple[bytes, bytes, list[object]]:
    """The database file's bytes, its WAL's bytes, and every table's rows."""
    wal = path.with_name(path.name + "-wal")
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1"
            )
        ]
        rows: list[object] = [
            (table, conn.execute(f'SELECT * FROM "{table}" ORDER BY 1').fetchall())
            for table in tables
        ]
    return path.read_bytes(), wal.read_bytes() if wal.exists() else b"", rows


READING_COMMANDS = [
    ["decks"],
    ["export", "world-history", "out.csv"],
    ["export", "demo", "out.json"],
    ["health", "--skip", "scheduler", "--skip", "model"],
    ["users"],
    ["remind", "--dry-run", "--hours", "48"],
    ["groups"],
]


def test_commands_that_only_read_leave_the_database_untouched(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = env / "tutor.sqlite3"
    assert main(["import", str(EXAMPLES / "silk-road.json")]) == 0
    # The bot runs meanwhile: its connection keeps the WAL, with a commit in it.
    bot = sqlite3.connect(database, isolation_level=None)
    try:
        bot.execute("PRAGMA wal_autocheckpoint = 0")
        bot.execute("UPDATE decks SET description = 'edited by the bot' WHERE slug = 'demo'")
        versions = [bot.execute("PRAGMA data_version").fetchone()[0]]
        for running in (True, False):
            if not running:
                bot.close()  # and once with the bot stopped (its WAL checkpointed away)
            before = _snapshot(database)
            for command in READING_COMMANDS:
                assert main(command) == 0, command
            assert _snapshot(database) == before
            if running:
                versions.append(bot.execute("PRAGMA data_version").fetchone()[0])
        assert versions[0] == versions[1]  # no other connection committed anything
    finally:
        bot.close()
    assert "world-history" in capsys.readouterr().out


def test_commands_that_only_read_do_not_migrate_an_old_schema(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    import aiosqlite

    from storage.migrations import apply_migrations, latest_version

    database = env / "tutor.sqlite3"

    async def old_schema() -> None:
        async with aiosqlite.connect(database, isolation_level=None) as conn:
            await apply_migrations(conn, target=latest_version() - 1)

    asyncio.run(old_schema())
    before = _snapshot(database)
    for command in READING_COMMANDS[:3] + READING_COMMANDS[4:]:
        assert main(command) == 1, command
        err = capsys.readouterr().err
        assert f"has schema version {latest_version() - 1}" in err
        assert "Run `metatutor db upgrade`" in err
    assert _snapshot(database) == before
    assert main(["db", "upgrade"]) == 0
    assert main(["decks"]) == 0


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["export", "sample", "out.json"], "no deck 'sample'. `metatutor decks` lists the decks."),
        (["export", "demo", "out.xml"], "the output file must end in .csv, .tsv, .json or .apkg"),
        (["export", "demo", "no/such/folder/out.csv"], "Check that the folder exists"),
        (["import", "missing.csv"], "cannot read missing.csv: No such file or directory."),
        (["import", "long.txt"], "does not look like an Anki notes export"),
        (["import", "bad.csv"], "bad.csv was not imported: line 1: missing required column"),
        (["import", str(EXAMPLES / "ancient-rome.csv"), "--deck", "deck_99"], "no deck 'deck_99'"),
        (["db", "backup", "bad.csv/copy.sqlite3"], "Check the path, that its folder exists"),
    ],
)
def test_every_error_names_the_thing_and_the_next_step(
    env: Path, command: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (env / "long.txt").write_text("Which planet is red? Mars\nLargest ocean? Pacific\n")
    (env / "bad.csv").write_text("prompt,reply\nA?,a\n")
    assert main(["db", "upgrade"]) == 0
    decks = _deck_rows(env / "tutor.sqlite3")
    assert main(command) != 0
    err = capsys.readouterr().err
    assert message in err
    assert err.startswith("metatutor: ") and err.count("\n") == 1
    assert _deck_rows(env / "tutor.sqlite3") == decks


def test_a_database_from_a_newer_metatutor_is_left_alone(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from storage.migrations import latest_version

    database = env / "tutor.sqlite3"
    assert main(["db", "upgrade"]) == 0
    with sqlite3.connect(database) as conn:
        conn.execute(f"PRAGMA user_version = {latest_version() + 1}")
    before = _snapshot(database)
    capsys.readouterr()
    for command in (["decks"], ["import", str(EXAMPLES / "ancient-rome.csv")], ["db", "upgrade"]):
        assert main(command) == 1, command
        err = capsys.readouterr().err
        assert f"has schema version {latest_version() + 1}, newer than this metatutor" in err
        assert "Install the newer metatutor" in err
    assert _snapshot(database) == before


def test_a_paid_broadcast_rate_without_the_setting_stops_with_one_line(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("METATUTOR_BROADCAST_RATE", "500")
    monkeypatch.delenv("METATUTOR_ALLOW_PAID_BROADCAST", raising=False)
    assert main(["db", "upgrade"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "metatutor: configuration error: METATUTOR_BROADCAST_RATE: 500 messages a second is above"
    )
    assert "METATUTOR_ALLOW_PAID_BROADCAST=true" in lines[0]
    assert sorted(path.name for path in env.iterdir()) == []
