"""The ``metatutor`` command: run the bot, the local chat, and the operator's tools."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.logging_setup import configure_from_settings
from bot.preflight import StartupError
from bot.settings import Settings, SettingsError, load_settings
from storage import DatabaseMissing, DatabaseUnreachable, SchemaMismatch

log = logging.getLogger("metatutor")


def _fault(text: str) -> tuple[str, int | str]:
    """``METHOD:FAULT`` for ``chat --fail``: a status code, ``timeout`` or ``network``."""
    method, _, fault = text.partition(":")
    if not method or not (fault.isdigit() or fault in ("timeout", "network")):
        raise argparse.ArgumentTypeError(
            f"{text!r}: write METHOD:FAULT, e.g. getMe:502 or sendPhoto:timeout"
        )
    return method, int(fault) if fault.isdigit() else fault


MOST_WORKERS = 64
AUTO_WORKERS = 4
"""``--workers auto`` runs one worker per usable core, at most this many: each holds its own
learner model (about 280 MB of memory with the model, docs/performance.md), so a large host
does not give the bot its memory unasked; more are had by naming the number."""


def workers_wanted(text: str) -> int:
    """``serve --workers N``: a whole number from 1 to the CPU cores this process may use
    (and at most :data:`MOST_WORKERS`), or ``auto``: one per such core, at most
    :data:`AUTO_WORKERS` (what the compose file runs unless told otherwise).

    Raises:
        StartupError: anything else, in one line naming the option and what to give.
    """
    from bot.operations import usable_cores

    cores = usable_cores()
    if text.strip().lower() == "auto":
        return max(1, min(cores, AUTO_WORKERS))
    if text.isdigit() and 1 <= int(text) <= MOST_WORKERS:
        return int(text)  # above the cores: refused by serve, with its own line
    limit = min(cores, MOST_WORKERS)
    if limit == 1:
        what = "use --workers 1 (this process may use one CPU core)"
    else:
        what = (
            f"give a whole number from 1 to {limit} (at most one bot process per CPU core"
            " this process may use)"
        )
    what += f", or --workers auto (one per core, at most {AUTO_WORKERS})"
    raise StartupError(f"--workers {text}: {what}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="metatutor",
        description="A Telegram study tutor. Settings come from the environment and .env.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser(
        "serve", help="run the Telegram bot (the local chat if no token is set)"
    )
    serve.add_argument(
        "--workers",
        default="1",
        metavar="N",
        help="N bot processes on one database behind the webhook port (needs"
        " METATUTOR_WEBHOOK_URL; default 1), at most one per CPU core; auto: one per core,"
        f" at most {AUTO_WORKERS}",
    )
    # Set by the front of --workers N for each worker process it starts.
    serve.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    serve.add_argument("--worker-port", type=int, default=0, help=argparse.SUPPRESS)
    chat = commands.add_parser("chat", help="chat with the tutor in this terminal (no Telegram)")
    chat.add_argument("--user-id", type=int, default=1, help="the local student's id")
    chat.add_argument("--name", default="Student", help="the local student's first name")
    chat.add_argument("--language", default="en", help="the language Telegram would report")
    chat.add_argument(
        "--http",
        action="store_true",
        help="serve the offline Bot API on a local port and let the bot reach it over HTTP"
        " (its own HTTP client, start-up calls and long polling, as with Telegram)",
    )
    chat.add_argument(
        "--fail",
        action="append",
        default=[],
        metavar="METHOD:FAULT",
        type=_fault,
        help="the bot's next call of a Bot API method fails once (e.g. getMe:502,"
        " sendPhoto:timeout); repeatable; start-up calls included",
    )

    imp = commands.add_parser(
        "import", help="import a deck file (csv, tsv, json, apkg, colpkg, txt)"
    )
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--deck",
        help="the deck to import into: id, slug or name of a deck, or the name of a new one"
        " (default: the deck the file names, see README)",
    )

    exp = commands.add_parser(
        "export", help="export a deck to CSV, TSV, JSON or an Anki package (.apkg)"
    )
    exp.add_argument("deck", help="deck id, slug or name")
    exp.add_argument(
        "file", type=Path, help="output file; .csv, .tsv, .json or .apkg picks the format"
    )

    commands.add_parser("decks", help="list decks with item and student counts")
    commands.add_parser("users", help="student counts: total, active today and this week, blocked")
    commands.add_parser("groups", help="groups: members active this week, quizzes, accuracy")
    remind = commands.add_parser("remind", help="reminder tools")
    remind.add_argument(
        "--dry-run", action="store_true", required=True, help="show who would be reminded and why"
    )
    remind.add_argument("--hours", type=float, default=1.0, help="look-ahead (default 1 hour)")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply pending schema migrations")
    backup = db_commands.add_parser("backup", help="copy the live database (safe while running)")
    backup.add_argument("file", type=Path)
    # db copy: SQLite to PostgreSQL
    copy = db_commands.add_parser(
        "copy", help="copy an SQLite database into an empty PostgreSQL one, checked by counts"
    )
    copy.add_argument("source", type=Path, metavar="SQLITE_FILE")
    copy.add_argument("url", metavar="POSTGRES_URL", help="like postgresql://user:pw@host/db")

    health = commands.add_parser(
        "health", help="check the database, the reminder job and the model; exit 0 if healthy"
    )
    health.add_argument("--json", action="store_true", help="print a JSON report")
    health.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["database", "scheduler", "model"],
        help="leave a check out (repeatable), e.g. scheduler when the bot is not running",
    )
    health.add_argument(
        "--max-age",
        type=float,
        default=180.0,
        metavar="SECONDS",
        help="how long ago the reminder job may have last run (default 180)",
    )

    # --help after these goes to the tool itself.
    train = commands.add_parser("train", help="train the learner model's weights", add_help=False)
    train.add_argument("args", nargs=argparse.REMAINDER)

    model = commands.add_parser("model", help="learner-model maintenance")
    model_commands = model.add_subparsers(dest="model_command", metavar="ACTION", required=True)
    model_commands.add_parser("replay", help="rebuild every student's model state from the log")

    bench = commands.add_parser(
        "bench",
        help="benchmarks: model or schedule",
        description="Benchmarks. `metatutor bench SUITE --help` lists a suite's options.",
    )
    suites = bench.add_subparsers(dest="suite", metavar="SUITE", required=True)
    for suite, text in (
        ("model", "the learner model against the baselines on learner logs"),
        ("schedule", "study policies on simulated students"),
    ):
        # --help after the suite goes to the suite's own tool.
        tool = suites.add_parser(suite, help=text, add_help=False)
        tool.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``metatutor`` console script."""
    parser = _parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown and args.command not in ("bench", "train"):
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command in ("bench", "train"):
        args.args = [*unknown, *args.args]
    if args.command is None:
        _parser().print_help()
        return 0
    asked = str(getattr(args, "workers", ""))
    if args.command == "serve":
        try:  # checked here, not by argparse: one line, as for the settings below
            args.workers = workers_wanted(asked)
        except StartupError as error:
            print(f"metatutor: {error}", file=sys.stderr)
            return 2
    from_db = args.command == "train" and "--from-db" in args.args
    if args.command in ("bench", "train") and not from_db:
        # Benchmarks and training read no settings: they run on files.
        return _run_offline_tool(args)
    try:
        settings = load_settings()
    except SettingsError as error:
        # One line per wrong setting, each naming it (a log shows lines one by one).
        for line in str(error).splitlines():
            print(f"metatutor: configuration error: {line}", file=sys.stderr)
        return 2
    from bot.operations_model import with_active_weights

    settings = with_active_weights(settings)
    # One key=value line per event; the token and webhook secret are redacted everywhere.
    configure_from_settings(settings)
    if args.command == "serve" and args.worker is None and asked.strip().lower() == "auto":
        log.info(
            "--workers auto: %d (one per CPU core this process may use, at most %d)",
            args.workers,
            AUTO_WORKERS,
        )
    # A worker's lines reach the front's log among its siblings': say which one wrote them.
    worker = getattr(args, "worker", None)
    who = "metatutor" if worker is None else f"metatutor worker {worker}"
    try:
        return asyncio.run(_dispatch(args, settings)) or 0
    except StartupError as error:
        print(f"{who}: {error}", file=sys.stderr)
        return 2
    except DatabaseUnreachable as error:
        log.debug("command failed", exc_info=error)
        print(f"{who}: {unreachable_problem(error, 'METATUTOR_DATABASE')}", file=sys.stderr)
        # A setting that cannot work stops for good (systemd's unit does not restart on 2);
        # a server that did not answer may answer at the next start.
        return 2 if error.setting_wrong else 1
    except (DatabaseMissing, SchemaMismatch) as error:
        from bot.operations import database_problem

        print(f"{who}: {database_problem(error)}", file=sys.stderr)
        return 1
    except (OSError, sqlite3.Error) as error:
        # The database file or a path given: unreadable, unwritable, locked, not a database.
        log.debug("command failed", exc_info=error)  # the traceback, at METATUTOR_LOG_LEVEL=DEBUG
        print(f"{who}: {file_problem(error, settings)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def file_problem(error: OSError | sqlite3.Error, settings: Settings) -> str:
    """An error of the file system or SQLite, for people: the file, and what to check."""
    if isinstance(error, OSError):
        where = error.filename or settings.database_shown
        reason = error.strerror or str(error)
        return f"{where}: {reason}. Check the path, that its folder exists and its permissions."
    if not isinstance(settings.database, Path):
        return (
            f"{settings.database_shown}: {error}. Check that the PostgreSQL server is running"
            " and answering, then run the command again."
        )
    return (
        f"{settings.database_shown}: {error}. Check METATUTOR_DATABASE; if another program"
        " holds the database, try again when it is done."
    )


def unreachable_problem(error: DatabaseUnreachable, setting: str) -> str:
    """A PostgreSQL connection that failed, for people: the setting, the reason, the check."""
    return f"{setting}: cannot connect to {error.url}: {error.reason}; {error.hint}."


def _run_offline_tool(args: argparse.Namespace) -> int:
    extra = [arg for arg in args.args if arg != "--"]
    if args.command == "train":
        from tutor.evaluation.shipped_weights import train_main

        return train_main(extra)
    if args.suite == "model":
        from tutor.evaluation.cli import main as bench_model

        return bench_model(extra)
    from tutor.simulation.cli import main as bench_schedule

    return bench_schedule(extra)


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from bot import operations

    command: str = args.command
    if command == "serve":
        return await operations.serve(
            settings, workers=args.workers, worker=args.worker, worker_port=args.worker_port
        )
    if command == "chat":
        return await operations.chat(
            settings,
            user_id=args.user_id,
            name=args.name,
            language=args.language,
            http=args.http,
            faults=tuple(args.fail),
        )
    if command == "import":
        return await operations.import_file(settings, args.file, args.deck)
    if command == "export":
        return await operations.export_deck(settings, args.deck, args.file)
    if command == "decks":
        return await operations.list_decks(settings)
    if command == "db":
        if args.db_command == "upgrade":
            return await operations.db_upgrade(settings)
        if args.db_command == "copy":
            from bot.db_copy import db_copy

            return await db_copy(args.source, args.url)
        return await operations.db_backup(settings, args.file)
    if command == "model":
        return await operations.model_replay(settings)
    if command == "train":  # --from-db: the deployment's own database
        from bot.operations_model import train_from_db

        return await train_from_db(settings, [a for a in args.args if a != "--"])
    if command == "users":
        from bot.operations_admin import users_summary

        return await users_summary(settings)
    if command == "groups":
        from bot.operations_admin import groups_summary

        return await groups_summary(settings)
    if command == "remind":
        from bot.operations_admin import remind_dry_run

        return await remind_dry_run(settings, args.hours)
    if command == "health":
        return operations.health(settings, as_json=args.json, skip=args.skip, max_age=args.max_age)
    raise AssertionError(command)


if __name__ == "__main__":
    sys.exit(main())
