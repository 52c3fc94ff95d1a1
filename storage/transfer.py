"""``metatutor db copy``: every row of an SQLite database into an empty PostgreSQL one.

The target gets its schema from the migrations (so both are at the same version), then each
table's rows through PostgreSQL's COPY, all in one transaction: a copy that fails leaves the
target empty. The source is read in one read transaction, a consistent snapshot even while
the bot writes. Afterwards each table's rows are counted on both sides.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from storage.database import Database, DatabaseMissing, SchemaMismatch
from storage.migrations import VERSION_TABLE, latest_version
from storage.postgres import redacted

BATCH = 5000
"""Rows read from SQLite at a time."""


class CopyError(Exception):
    """The copy cannot be made or did not come out whole; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class TableCount:
    """One table's rows in the source and, after the copy, in the target."""

    table: str
    source: int
    target: int


def _tables(source: sqlite3.Connection) -> list[str]:
    # decks last: the trigger on items would otherwise move their copied items_version.
    names = [
        str(row[0])
        for row in source.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
    ]
    return sorted(names, key=lambda name: name == "decks")


def _set_aside_indexes_and_foreign_keys(target: psycopg.Connection[Any]) -> list[str]:
    """Drop the secondary indexes and the foreign keys for the copy; returns the statements
    that make them again, to run after it, in the same transaction.

    Kept in place, every copied row updates each index and queues a foreign-key check
    (docs/performance.md has the times). A row the SQLite file let through against a
    foreign key or a unique index fails the whole copy, as before (nothing is copied).
    """
    indexes = target.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
        " AND indexname NOT IN (SELECT conname FROM pg_constraint)"
    ).fetchall()
    foreign_keys = target.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"
    ).fetchall()
    for table, name, _ in foreign_keys:
        target.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        target.execute(f'DROP INDEX "{name}"')
    return [str(definition) for _, definition in indexes] + [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        for table, name, definition in foreign_keys
    ]


def _copy(source_path: Path, url: str, progress: Callable[[str, int], None]) -> list[TableCount]:
    source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=ro", uri=True)
    source.execute("PRAGMA busy_timeout = 5000")
    try:
        source.execute("BEGIN")  # one snapshot for every table and every count
        version = int(source.execute("PRAGMA user_version").fetchone()[0])
        if version != latest_version():
            raise SchemaMismatch(source_path, version, latest_version())
        tables = _tables(source)
        with psycopg.connect(url) as target:  # one transaction, committed on leaving
            for table in tables:
                rows = target.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchall()
                if rows:
                    raise CopyError(
                        f"{redacted(url)} already holds rows in {table}: copy into an empty"
                        " database (create a new one with createdb)"
                    )
            target.execute("SET CONSTRAINTS ALL DEFERRED")
            rebuild = _set_aside_indexes_and_foreign_keys(target)
            counts = []
            for table in tables:
                columns = [str(row[1]) for row in source.execute(f"PRAGMA table_info('{table}')")]
                names = ", ".join(columns)
                cursor = source.execute(f"SELECT {names} FROM {table}")
                copied = 0
                with target.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    while batch := cursor.fetchmany(BATCH):
                        for row in batch:
                            copy.write_row(row)
                        copied += len(batch)
                        progress(table, copied)
                if "id" in columns:
                    # New rows must number on from the copied ones.
                    target.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" COALESCE(MAX(id), 0) + 1, false) FROM {table}"
                    )
                source_count = int(source.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                row = target.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
                counts.append(TableCount(table, source_count, int(row[0]) if row else 0))
            for statement in rebuild:
                target.execute(statement)
            wrong = [count for count in counts if count.source != count.target]
            if wrong:
                detail = ", ".join(f"{c.table} {c.source} -> {c.target}" for c in wrong)
                raise CopyError(f"the counts differ ({detail}); nothing was copied")
            target.execute(f"UPDATE {VERSION_TABLE} SET version = {version}")
        return counts
    finally:
        source.close()


async def copy_database(
    source: Path, url: str, progress: Callable[[str, int], None] = lambda table, rows: None
) -> list[TableCount]:
    """Copy every row of the SQLite database at ``source`` into the empty PostgreSQL database
    at ``url`` (its schema made by the migrations first); returns the per-table counts.

    Raises:
        DatabaseMissing: there is no file at ``source``.
        SchemaMismatch: ``source`` is not at this program's schema version (upgrade it first).
        CopyError: the target already holds rows, or the counts differ (nothing is copied).
        sqlite3.Error: PostgreSQL or SQLite refused (the target is left as it was).
    """
    if not source.is_file():
        raise DatabaseMissing(source)
    # The source first: a wrong file must not leave the schema made in the target.
    await asyncio.to_thread(_check_source, source)
    target = await Database.open(url)  # creates the schema; refuses a newer one
    await target.close()
    try:
        return await asyncio.to_thread(_copy, source, url, progress)
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "refused"
        raise sqlite3.OperationalError(f"{redacted(url)}: {reason}") from error


def _check_source(path: Path) -> None:
    """An SQLite database at this program's schema version, or CopyError / SchemaMismatch."""
    try:
        source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise CopyError(f"{path}: cannot open it ({error})") from error
    try:
        version = int(source.execute("PRAGMA user_version").fetchone()[0])
        source.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as error:
        raise CopyError(
            f"{path}: not an SQLite database ({error}); give the database file of the"
            " SQLite setup (its METATUTOR_DATABASE, data/metatutor.sqlite3 by default)"
        ) from error
    finally:
        source.close()
    if version != latest_version():
        raise SchemaMismatch(path, version, latest_version())
