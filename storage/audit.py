"""The admin audit log: who changed what, when."""

from __future__ import annotations

from storage.database import Connection
from storage.records import AuditRecord


async def record(conn: Connection, entry: AuditRecord) -> None:
    """Append one entry."""
    await conn.execute(
        "INSERT INTO audit_log (at_ms, actor_id, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        (entry.at_ms, entry.actor_id, entry.action, entry.target, entry.detail),
    )


async def recent(conn: Connection, limit: int = 50) -> list[AuditRecord]:
    """The latest entries, newest first."""
    async with conn.execute(
        "SELECT at_ms, actor_id, action, target, detail FROM audit_log ORDER BY id DESC LIMIT ?",
        (limit,),
    ) as cur:
        return [AuditRecord(*row) for row in await cur.fetchall()]
