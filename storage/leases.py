"""Queries on ``leases``: a named lease taken, renewed and given up by one process at a time.

Each call is one statement: an upsert that only writes when the lease is free, expired or
already the caller's. SQLite runs it under the write lock; PostgreSQL's ``ON CONFLICT DO
UPDATE`` locks the row and checks the condition on its newest version, so at READ
COMMITTED two processes never both get the lease either.
"""

from __future__ import annotations

from storage.database import Connection, fetch_all, fetch_one


async def take(conn: Connection, name: str, holder: str, now_ms: int, until_ms: int) -> bool:
    """Take or renew the lease until ``until_ms`` if it is free, expired by ``now_ms`` or
    already ``holder``'s; True if ``holder`` now holds it."""
    rows = await fetch_all(
        conn,
        "INSERT INTO leases (name, holder, expires_ms) VALUES (?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
        " expires_ms = excluded.expires_ms"
        " WHERE leases.holder = excluded.holder OR leases.expires_ms <= ?"
        " RETURNING holder",
        (name, holder, until_ms, now_ms),
    )
    return bool(rows)


async def take_from(conn: Connection, name: str, gone: str, holder: str, until_ms: int) -> bool:
    """Take the lease from ``gone`` (a holder known to have stopped); False if it moved."""
    rows = await fetch_all(
        conn,
        "UPDATE leases SET holder = ?, expires_ms = ? WHERE name = ? AND holder = ?"
        " RETURNING holder",
        (holder, until_ms, name, gone),
    )
    return bool(rows)


async def holder_of(conn: Connection, name: str) -> tuple[str, int] | None:
    """(holder, expires_ms) of the lease, or None if nobody took it yet."""
    row = await fetch_one(conn, "SELECT holder, expires_ms FROM leases WHERE name = ?", (name,))
    return (str(row[0]), int(row[1])) if row else None


async def give_up(conn: Connection, name: str, holder: str) -> bool:
    """Free the lease if ``holder`` holds it (a clean stop): the next process takes it at once."""
    rows = await fetch_all(
        conn, "DELETE FROM leases WHERE name = ? AND holder = ? RETURNING name", (name, holder)
    )
    return bool(rows)
