"""Read-only checks of a database file for ``metatutor health`` (never creates or migrates)."""

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
    problem = ""
    if check != "ok":
        problem = "quick_check found damage"
    elif version < expected:
        problem = (
            f"schema version {version} < {expected}: run `metatutor db upgrade` or start the bot"
        )
    elif version > expected:
        problem = f"schema version {version} is newer than this program ({expected})"
    return DatabaseHealth(str(path), not problem, problem, version, expected, check, size, wal_size)
