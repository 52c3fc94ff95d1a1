"""Storage's SQLite statements as PostgreSQL runs them, and the same rows from both."""

from __future__ import annotations

from storage import Database
from storage.batch import in_chunks
from storage.database import fetch_all
from storage.dialect import postgres_call, postgres_statement


def test_placeholders_and_sqlite_words_become_postgresqls() -> None:
    assert postgres_statement("SELECT IFNULL(a, 0) FROM t WHERE b IS ? AND c = ?") == (
        "SELECT COALESCE(a, 0) FROM t WHERE b IS NOT DISTINCT FROM %s AND c = %s"
    )
    assert postgres_statement("INSERT OR IGNORE INTO t (a) VALUES (?)") == (
        "INSERT INTO t (a) VALUES (%s) ON CONFLICT DO NOTHING"
    )


def test_a_list_of_placeholders_is_one_array_parameter_in_place() -> None:
    sql = "SELECT a FROM t WHERE k = ? AND x IN (?,?,?) AND y NOT IN (?, ?) AND z = ?"
    statement, values = postgres_call(sql, (0, 1, 2, 3, 4, 5, 6))
    assert statement == "SELECT a FROM t WHERE k = %s AND x = ANY(%s) AND y <> ALL(%s) AND z = %s"
    assert values == (0, [1, 2, 3], [4, 5], 6)


def test_the_text_is_the_same_however_many_values_the_list_holds() -> None:
    texts = {
        postgres_call(f"SELECT a FROM t WHERE x IN ({marks})", tuple(chunk))[0]
        for n in (1, 2, 499)
        for chunk, marks in in_chunks(range(n))
    }
    assert texts == {"SELECT a FROM t WHERE x = ANY(%s)"}


def test_quoted_text_and_subqueries_are_left_as_written() -> None:
    sql = "SELECT 'IN (?)' FROM t WHERE x IN (SELECT y FROM u WHERE z = ?)"
    statement, values = postgres_call(sql, (7,))
    assert statement == "SELECT 'IN (?)' FROM t WHERE x IN (SELECT y FROM u WHERE z = %s)"
    assert values == (7,)


def test_too_few_values_are_left_for_the_driver_to_refuse() -> None:
    statement, values = postgres_call("SELECT a FROM t WHERE x IN (?, ?)", (1,))
    assert statement == "SELECT a FROM t WHERE x IN (%s, %s)"
    assert values == (1,)


async def test_in_lists_of_any_length_find_the_same_rows_on_both_databases(db: Database) -> None:
    async with db.transaction() as conn:
        for k in range(600):
            await conn.execute(
                "INSERT INTO decks (slug, name, created_ms, updated_ms) VALUES (?, ?, 0, 0)",
                (f"d{k}", f"Deck {k}"),
            )
    async with db.read() as conn:
        for n in (1, 3, 500):
            wanted = [f"d{k}" for k in range(0, 600, 600 // n)][:n]
            found = []
            for chunk, marks in in_chunks(wanted):
                found += await fetch_all(
                    conn, f"SELECT slug FROM decks WHERE slug IN ({marks}) ORDER BY id", chunk
                )
            assert sorted(row[0] for row in found) == sorted(wanted)
        rows = await fetch_all(
            conn,
            "SELECT COUNT(*) FROM decks WHERE slug NOT IN (?, ?) AND name <> ?",
            ("d0", "d1", "Deck 2"),
        )
        assert rows[0][0] == 597


async def test_rows_are_read_by_position_and_are_plain_tuples_on_postgresql(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO decks (slug, name, created_ms, updated_ms) VALUES ('a', 'A', 1, 2)"
        )
    async with db.read() as conn:
        (row,) = await fetch_all(conn, "SELECT slug, name, created_ms FROM decks")
    assert (row[0], row[1], row[2]) == ("a", "A", 1)
    if db.dialect == "postgresql":
        # a tuple subclass answering by name needs a Python call per column read
        assert type(row) is tuple
