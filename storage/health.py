"""Read-only checks of the database for ``metatutor health`` (never creates or migrates)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from storage.migrations import latest_version


@dataclass(frozen=True, slots=True)
class DatabaseHealth:
    """What a read-only look at the database file found."""

    path: str
    ok: bool
    problem: str = ""
    schema_version: int | None = None
    expected_version: int = 0
    quick_check: str = ""
    size_bytes: int = 0
    wal_bytes: int = 0


def _version_problem(version: int, expected: int) -> str:
    if version < expected:
        return f"schema version {version} < {expected}: run `metatutor db upgrade` or start the bot"
    if version > expected:
        return f"schema version {version} is newer than this program ({expected})"
    return ""


def check_postgres(url: str, *, timeout_s: float = 5.0) -> DatabaseHealth:
    """Connect to the PostgreSQL database at ``url`` (read-only) and read its schema version."""
    import psycopg

    from storage.migrations import VERSION_TABLE
    from storage.postgres import redacted

    shown, expected = redacted(url), latest_version()
    try:
        with psycopg.connect(url, connect_timeout=max(1, int(timeout_s))) as connection:
            connection.read_only = True
            row = connection.execute(
                f"SELECT to_regclass('{VERSION_TABLE}') IS NOT NULL"
            ).fetchone()
            version = 0
            if row and row[0]:
                found = connection.execute(f"SELECT version FROM {VERSION_TABLE}").fetchone()
                version = int(found[0]) if found else 0
            size_row = connection.execute("SELECT pg_database_size(current_database())").fetchone()
            size = int(size_row[0]) if size_row else 0
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "no answer"
        return DatabaseHealth(shown, False, f"cannot connect: {reason}", None, expected)
    problem = _version_problem(version, expected)
    return DatabaseHealth(shown, not problem, problem, version, expected, "ok", size)


def check_database(path: Path, *, timeout_s: float = 5.0) -> DatabaseHealth:
    """Open ``path`` read-only and run ``PRAGMA quick_check``; report what is wrong, if anything."""
    expected = latest_version()
    if not path.exists():
        return DatabaseHealth(str(path), False, "the database file does not exist", None, expected)
    size = path.stat().st_size
    wal = path.with_name(path.name + "-wal")
    wal_size = wal.stat().st_size if wal.exists() else 0
    try:
        connection = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout_s
        )
    except sqlite3.Error as error:
        return DatabaseHealth(str(path), False, f"cannot open: {error}", None, expected, "", size)
    try:
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        rows = connection.execute("PRAGMA quick_check").fetchall()
        check = "; ".join(str(row[0]) for row in rows[:5])
    except sqlite3.Error as error:
        return DatabaseHealth(
            str(path), False, f"cannot read: {error}", None, expected, "", size, wal_size
        )
    finally:
        connection.close()
    problem = "quick_check found damage" if check != "ok" else _version_problem(version, expected)
    return DatabaseHealth(str(path), not problem, problem, version, expected, check, size, wal_size)
