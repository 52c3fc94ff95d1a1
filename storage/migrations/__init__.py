"""Versioned schema migrations: ``NNNN_name.sql`` files applied in order, each atomically."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import aiosqlite

from storage.dialect import POSTGRESQL, SQLITE, for_dialect, postgres_schema

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


VERSION_TABLE = "metatutor_schema"
"""PostgreSQL's stand-in for SQLite's ``user_version``: one row, the schema version."""


async def schema_version(connection: aiosqlite.Connection, dialect: str = SQLITE) -> int:
    """The schema version: ``PRAGMA user_version``, or PostgreSQL's version table (0 if none)."""
    if dialect == POSTGRESQL:
        exists = await connection.execute_fetchall(
            f"SELECT to_regclass('{VERSION_TABLE}') IS NOT NULL"
        )
        if not next(iter(exists))[0]:
            return 0
        rows = await connection.execute_fetchall(f"SELECT version FROM {VERSION_TABLE}")
    else:
        rows = await connection.execute_fetchall("PRAGMA user_version")
    row = next(iter(rows), None)
    return int(row[0]) if row else 0


def script_for(migration: Migration, dialect: str) -> str:
    """The migration's script as ``dialect`` runs it, with the version bump, in one transaction."""
    sql = for_dialect(migration.sql, dialect)
    if dialect == POSTGRESQL:
        create = (
            f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version INTEGER NOT NULL);\n"
            f"INSERT INTO {VERSION_TABLE} SELECT 0"
            f" WHERE NOT EXISTS (SELECT 1 FROM {VERSION_TABLE});"
        )
        bump = f"UPDATE {VERSION_TABLE} SET version = {migration.version};"
        return f"BEGIN;\n{create}\n{postgres_schema(sql)}\n{bump}\nCOMMIT;"
    bump = f"PRAGMA user_version = {migration.version};"
    return f"BEGIN IMMEDIATE;\n{sql}\n{bump}\nCOMMIT;"


async def apply_migrations(
    connection: aiosqlite.Connection, *, target: int | None = None, dialect: str = SQLITE
) -> tuple[int, int]:
    """Bring the schema to ``target`` (default: latest); returns (before, after).

    Each migration runs in its own transaction together with its version bump, so a crash
    leaves the database at a whole version.
    """
    before = await schema_version(connection, dialect)
    goal = latest_version() if target is None else target
    if before > latest_version():
        raise RuntimeError(
            f"database schema version {before} is newer than this program ({latest_version()})"
        )
    current = before
    for migration in migrations():
        if migration.version <= current or migration.version > goal:
            continue
        try:
            await connection.executescript(script_for(migration, dialect))
        except Exception:
            if connection.in_transaction:
                await connection.execute("ROLLBACK")
            raise
        current = migration.version
    return before, current
