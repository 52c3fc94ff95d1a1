"""Versioned schema migrations: ``NNNN_name.sql`` files applied in order, each atomically."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import aiosqlite

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step; ``version`` is the schema version after it."""

    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """All migrations shipped with the package, in order."""
    found = []
    for entry in resources.files(__package__).iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda migration: migration.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise RuntimeError(f"migration {migration.name} is out of sequence")
    return found


def latest_version() -> int:
    """The schema version this code expects."""
    return len(migrations())


async def apply_migrations(
    connection: aiosqlite.Connection, *, target: int | None = None
) -> tuple[int, int]:
    """Bring the schema to ``target`` (default: latest); returns (before, after).

    Each migration runs in its own transaction together with its ``user_version`` bump, so
    a crash leaves the database at a whole version.
    """
    async with connection.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    before = int(row[0]) if row else 0
    goal = latest_version() if target is None else target
    if before > latest_version():
        raise RuntimeError(
            f"database schema version {before} is newer than this program ({latest_version()})"
        )
    current = before
    for migration in migrations():
        if migration.version <= current or migration.version > goal:
            continue
        bump = f"PRAGMA user_version = {migration.version};"
        script = f"BEGIN IMMEDIATE;\n{migration.sql}\n{bump}\nCOMMIT;"
        try:
            await connection.executescript(script)
        except Exception:
            if connection.in_transaction:
                await connection.execute("ROLLBACK")
            raise
        current = migration.version
    return before, current
