"""Queries on ``processed_updates``: which Telegram updates a process began and finished.

An update is begun by the first write transaction of its handling
(:mod:`storage.update_claims`: one statement inserts its row, or takes over the row of
another update that reused the id; a row begun by a process that is gone is handed over).
Under PostgreSQL's ``ON CONFLICT`` and SQLite's write lock two processes never both begin
one update. :func:`finish` writes the done marks left at a clean stop.
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.database import Connection


async def finish(conn: Connection, update_ids: Sequence[int], holder: str) -> None:
    """Mark the updates done (those ``holder`` holds)."""
    ids = list(update_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        await conn.execute(
            f"UPDATE processed_updates SET done = 1 WHERE holder = ? AND update_id IN ({marks})",
            (holder, *chunk),
        )
