"""A student's own data: their answer history, and erasing everything stored about them."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from storage.database import Connection, dialect_of
from storage.dialect import POSTGRESQL
from storage.own_cards import erase_personal_deck


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One answer with what it answered."""

    answered_ms: int
    deck: str
    item: str
    kind: str
    question: str
    response: str
    correct: bool
    grade: int | None
    latency_ms: int | None


async def answer_history(conn: Connection, user_id: int) -> list[HistoryRow]:
    """Every answer of the student, oldest first (deleted items and decks included)."""
    async with conn.execute(
        "SELECT a.answered_ms, d.name, i.external_id, i.kind, i.payload, a.response, a.correct,"
        " a.grade, a.latency_ms FROM attempts a"
        " JOIN items i ON i.id = a.item_id JOIN decks d ON d.id = i.deck_id"
        " WHERE a.user_id = ? ORDER BY a.answered_ms, a.id",
        (user_id,),
    ) as cursor:
        rows = await cursor.fetchall()
    history = []
    for at, deck, item, kind, payload, response, correct, grade, latency in rows:
        try:
            prompt = str(json.loads(payload).get("prompt", ""))
        except (ValueError, AttributeError):
            prompt = ""
        history.append(
            HistoryRow(at, deck, item, kind, prompt, response, bool(correct), grade, latency)
        )
    return history


async def tables_referencing_users(conn: Connection) -> list[tuple[str, str]]:
    """(table, column) of every foreign key to ``users`` (new tables are found, not listed)."""
    if dialect_of(conn) == POSTGRESQL:
        rows = await conn.execute_fetchall(
            "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c"
            " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
            " WHERE c.contype = 'f' AND c.confrelid = 'users'::regclass"
            " ORDER BY c.conrelid::regclass::text, a.attname"
        )
        return [(str(row[0]), str(row[1])) for row in rows]
    found = []
    async with conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ) as cursor:
        tables = [row[0] for row in await cursor.fetchall()]
    for table in tables:
        async with conn.execute(f"PRAGMA foreign_key_list('{table}')") as cursor:
            for row in await cursor.fetchall():
                if row[2] == "users":
                    found.append((table, row[3]))
    return found


async def erase_user(conn: Connection, user_id: int) -> dict[str, int]:
    """Delete the user's row and every row that refers to it; returns rows deleted per table.

    Run inside a write transaction. Foreign keys are deferred, so rows may go in any order,
    and checked before returning: a row left pointing at the user's rows (a table this does
    not know) raises ``sqlite3.IntegrityError``, so the transaction rolls back and nothing is
    erased. The audit log and the anonymous per-item answer counts (``item_stats``) are kept,
    except those of the student's own cards, which go with their personal deck.
    """
    postgres = dialect_of(conn) == POSTGRESQL
    # Foreign keys checked at the end (PostgreSQL's are made deferrable for this).
    await conn.execute(
        "SET CONSTRAINTS ALL DEFERRED" if postgres else "PRAGMA defer_foreign_keys = ON"
    )
    deleted: dict[str, int] = await erase_personal_deck(conn, user_id)
    for table, column in await tables_referencing_users(conn):
        cursor = await conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (user_id,))
        deleted[table] = deleted.get(table, 0) + cursor.rowcount
    cursor = await conn.execute("DELETE FROM users WHERE id = ?", (user_id,))
    deleted["users"] = cursor.rowcount
    # Check now rather than at COMMIT: a failed COMMIT would leave the transaction open.
    if postgres:
        try:
            await conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
        except sqlite3.IntegrityError as error:
            raise sqlite3.IntegrityError(f"erasure would leave rows behind: {error}") from error
        return {table: count for table, count in deleted.items() if count}
    async with conn.execute("PRAGMA foreign_key_check") as check:
        dangling = await check.fetchall()
    if dangling:
        tables = sorted({str(row[0]) for row in dangling})
        raise sqlite3.IntegrityError(f"erasure would leave rows behind in {tables}")
    return {table: count for table, count in deleted.items() if count}
