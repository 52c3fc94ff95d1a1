"""Bulk loads into a migrated, empty metatutor database, as a restore would do them.

The rows come as ``(table, columns, rows)``; the big tables' secondary indexes are dropped
during the load and built after it, all in one transaction (SQLite: ``executemany``;
PostgreSQL: COPY, then ``VACUUM ANALYZE``). ``benchmarks.generate_db`` feeds them.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from storage.postgres import redacted

Rows = Iterable[tuple[object, ...]]
Timings = dict[str, Any]


Tables = Iterable[tuple[str, tuple[str, ...], Rows]]
"""Each table to fill, in load order: its name, its columns, its rows."""


def _index_sql(conn: sqlite3.Connection, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    marks = ",".join("?" * len(tables))
    return conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({marks})",
        tables,
    ).fetchall()


def load_sqlite(out: Path, tables: Tables, big: tuple[str, ...]) -> Timings:
    """Fill the migrated file ``out`` with ``executemany`` in one transaction; the ``big``
    tables' secondary indexes are dropped for the load and built after it."""
    timings: Timings = {}
    conn = sqlite3.connect(out, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -262144")
    indexes = _index_sql(conn, big)
    t1 = time.perf_counter()
    conn.execute("BEGIN")
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    for name, columns, rows in tables:
        conn.executemany(
            f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            rows,
        )
    timings["insert_s"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    timings["index_s"] = time.perf_counter() - t2
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    return timings


def load_postgres(url: str, tables: Tables, big: tuple[str, ...]) -> Timings:
    """Fill the migrated, empty PostgreSQL database at ``url`` with COPY, in one transaction.

    The ``big`` tables' secondary indexes are dropped and built after the load, and their
    foreign keys are not checked row by row (``session_replication_role = replica`` while
    they load: the rows are generated consistent); then ``VACUUM ANALYZE``, so the planner
    has statistics and the visibility map is set, as on a database that has been running.
    """
    import psycopg

    timings: Timings = {}
    with psycopg.connect(url, autocommit=True) as pg:
        if pg.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None:
            raise SystemExit(f"{redacted(url)} already holds students: give an empty database")
        indexes = pg.execute(
            "SELECT indexname, indexdef FROM pg_indexes"
            " WHERE schemaname = current_schema() AND tablename = ANY(%s)"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            (list(big),),
        ).fetchall()
        t1 = time.perf_counter()
        with pg.transaction():
            for name, _ in indexes:
                pg.execute(f"DROP INDEX {name}")
            for name, columns, rows in tables:
                unchecked = name in big
                if unchecked:
                    pg.execute("SET LOCAL session_replication_role = replica")
                listed = ", ".join(columns)
                with pg.cursor().copy(f"COPY {name} ({listed}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                if unchecked:
                    pg.execute("SET LOCAL session_replication_role = origin")
                if "id" in columns:
                    # New rows (the benchmark's own answers) must number on from these.
                    pg.execute(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'),"
                        f" COALESCE(MAX(id), 0) + 1, false) FROM {name}"
                    )
            timings["insert_s"] = time.perf_counter() - t1
            t2 = time.perf_counter()
            pg.execute("SET LOCAL maintenance_work_mem = '512MB'")
            for _, sql in indexes:
                pg.execute(sql)
        timings["index_s"] = time.perf_counter() - t2
        t3 = time.perf_counter()
        pg.execute("VACUUM ANALYZE")
        timings["vacuum_s"] = time.perf_counter() - t3
        size = pg.execute("SELECT pg_database_size(current_database())").fetchone()
        timings["size_mb"] = int(size[0]) / 1e6 if size else float("nan")
        n_memory = pg.execute("SELECT COUNT(*) FROM memory").fetchone()
        timings["memory_rows"] = int(n_memory[0]) if n_memory else 0
        timings["server_version"] = str(pg.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    return timings
