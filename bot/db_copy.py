"""``metatutor db copy SQLITE_FILE POSTGRES_URL``: move a deployment to PostgreSQL."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from bot.settings import postgres_url_problem
from storage import DatabaseMissing, DatabaseUnreachable, SchemaMismatch
from storage.postgres import is_postgres_url, redacted
from storage.transfer import CopyError, copy_database


def _problem(error: Exception, source: Path, url: str) -> tuple[str, int]:
    """What went wrong, naming the argument it is about, and the exit status."""
    if isinstance(error, DatabaseUnreachable):
        from bot.cli import unreachable_problem

        return unreachable_problem(error, "POSTGRES_URL"), 2 if error.setting_wrong else 1
    if isinstance(error, DatabaseMissing):
        return f"SQLITE_FILE: no database file at {source}; check the path", 1
    if isinstance(error, SchemaMismatch) and error.path == source and error.found < error.expected:
        return (
            f"{source} has schema version {error.found}; this metatutor copies version"
            f" {error.expected}. Upgrade it first: METATUTOR_DATABASE={source} metatutor db"
            " upgrade (with the bot stopped), then copy again",
            1,
        )
    if isinstance(error, SchemaMismatch):
        return (
            f"{error.path} has schema version {error.found}, newer than this metatutor"
            f" ({error.expected}); copy with the metatutor that wrote it",
            1,
        )
    return f"{error}", 1


async def db_copy(source: Path, url: str) -> int:
    """Copy every row of the SQLite file into the empty PostgreSQL database, checked by counts."""
    if not is_postgres_url(url):
        print(
            f"metatutor: {url!r} is not a PostgreSQL URL; give one like"
            " postgresql://user:password@host/metatutor",
            file=sys.stderr,
        )
        return 2
    if problem := postgres_url_problem(url):
        print(f"metatutor: POSTGRES_URL: {problem}", file=sys.stderr)
        return 2
    try:
        counts = await copy_database(source, url)
    except (CopyError, DatabaseMissing, SchemaMismatch, sqlite3.Error) as error:
        message, status = _problem(error, source, url)
        print(f"metatutor: {message}", file=sys.stderr)
        return status
    width = max(len(count.table) for count in counts)
    print(f"{'table':<{width}}  {'SQLite':>10}    {'PostgreSQL':>10}")
    for count in counts:
        print(f"{count.table:<{width}}  {count.source:>10} -> {count.target:>10}")
    total = sum(count.target for count in counts)
    print(
        f"copied {total} rows of {len(counts)} tables from {source} to {redacted(url)};"
        " every count matches. Set METATUTOR_DATABASE to the URL and start the bot."
    )
    return 0
