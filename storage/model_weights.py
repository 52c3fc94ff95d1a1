"""Queries on ``model_weights``: the one row naming the weights the learner states were built
with, and its version, which the rebuild advances in its last transaction."""

from __future__ import annotations

from storage.database import Connection, fetch_one


async def current(conn: Connection) -> tuple[int, str, str] | None:
    """(version, weights_id, file) of the deployment's weights; None before any rebuild."""
    row = await fetch_one(conn, "SELECT version, weights_id, file FROM model_weights WHERE id = 1")
    return (int(row[0]), str(row[1]), str(row[2])) if row else None


async def record(conn: Connection, version: int, weights_id: str, file: str, now_ms: int) -> None:
    """Name the weights the states are now built with, as ``version``."""
    await conn.execute(
        "INSERT INTO model_weights (id, version, weights_id, file, switched_ms)"
        " VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version,"
        " weights_id = excluded.weights_id, file = excluded.file,"
        " switched_ms = excluded.switched_ms",
        (version, weights_id, file, now_ms),
    )
