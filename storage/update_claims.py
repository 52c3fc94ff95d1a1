"""An update recorded as begun in the first write transaction of its handling.

The record of handled updates (``processed_updates``, see :mod:`storage.processed_updates`)
needs a row per update before the update acts. A :class:`Claim` is that row waiting for the
handler's first write transaction: :meth:`storage.database.Database.transaction` runs
:func:`claim_in` right after BEGIN, so the record costs no transaction of its own. On
SQLite its statements run at once; on PostgreSQL they wait and go out with the transaction's
first statement, in the same round trip (:meth:`storage.postgres.PgRaw.defer_checked`). An
update that was handled already, or that a running process is handling, raises
:class:`UpdateHandled` there, and the transaction (its first statement too) rolls back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from storage.postgres import PgRaw

BEGIN_SQL = (
    "INSERT INTO processed_updates (update_id, digest, holder, done, at_ms)"
    " VALUES (?, ?, ?, 0, ?) ON CONFLICT (update_id) DO UPDATE SET"
    " digest = excluded.digest, holder = excluded.holder, done = 0, at_ms = excluded.at_ms"
    " WHERE processed_updates.digest <> excluded.digest RETURNING update_id"
)
"""Begin the update (or take over the row of another update that reused its id); a row
comes back unless the same update has a row already."""
_STATE = "SELECT holder, done FROM processed_updates WHERE update_id = ?"
_TAKE = (
    "UPDATE processed_updates SET holder = ?, at_ms = ?"
    " WHERE update_id = ? AND holder = ? AND done = 0 RETURNING update_id"
)
_PRUNE = "DELETE FROM processed_updates WHERE at_ms < ?"


class UpdateHandled(BaseException):
    """The update was handled already, or a running process is handling it.

    A BaseException, like a cancellation: a handler's ``except Exception`` must not take it
    for a failure of its own; the caller of the handler acknowledges and skips the update."""


@dataclass(eq=False)
class Claim:
    """An update to record as begun by ``holder`` in ``database``'s next write transaction.

    ``finished`` (the process's done marks not yet written, shared by its claims) and an
    overdue prune go in the same transaction; ``gone`` tells whether a holder's process is
    no longer running (its unfinished update is then taken over)."""

    database: object
    update_id: int
    digest: str
    holder: str
    now_ms: int
    gone: Callable[[str], bool]
    finished: list[int]
    prune_before_ms: int | None = None
    on_pruned: Callable[[], object] | None = None
    state: str = "pending"
    """pending; sent (in a transaction not yet committed); claimed; refused; closed (the
    handler ended without writing or sending anything: nothing to record)."""
    _marked: list[int] = field(default_factory=list)

    def wanted_by(self, database: object) -> bool:
        """True if a write transaction of ``database`` should record it now."""
        return self.state == "pending" and database is self.database

    def committed(self) -> None:
        """Its transaction committed: begun, and the marks it carried are written."""
        if self.state != "sent":
            return
        self.state = "claimed"
        marked = set(self._marked)
        self.finished[:] = [i for i in self.finished if i not in marked]
        self._marked = []
        if self.prune_before_ms is not None and self.on_pruned is not None:
            self.on_pruned()
        self.prune_before_ms = None

    def rolled_back(self) -> None:
        """Its transaction rolled back: nothing was written; the next one records it."""
        if self.state == "sent":
            self.state = "pending"
            self._marked = []


CLAIM: ContextVar[Claim | None] = ContextVar("metatutor_update_claim", default=None)
"""The claim of the update whose handler runs here (PTB handles each update in its own task)."""


def claim_in(raw: sqlite3.Connection, claim: Claim) -> None:
    """Record ``claim`` in the write transaction just begun on ``raw``.

    On SQLite at once; on PostgreSQL with the transaction's first statement. Raises
    :class:`UpdateHandled` (there) if the update is done, or begun by a running process.
    """
    claim.state = "sent"
    claim._marked = list(claim.finished)
    statements: list[tuple[str, tuple[Any, ...]]] = []
    if claim.prune_before_ms is not None:
        statements.append((_PRUNE, (claim.prune_before_ms,)))
    for start in range(0, len(claim._marked), 500):
        chunk = claim._marked[start : start + 500]
        marks = ",".join("?" * len(chunk))
        statements.append(
            (
                "UPDATE processed_updates SET done = 1"
                f" WHERE holder = ? AND update_id IN ({marks})",
                (claim.holder, *chunk),
            )
        )
    statements.append((BEGIN_SQL, (claim.update_id, claim.digest, claim.holder, claim.now_ms)))

    def check(rows: list[Any]) -> None:
        if not rows and not _take_over(raw, claim):
            claim.state = "refused"
            raise UpdateHandled(claim.update_id)

    if isinstance(raw, PgRaw):
        raw.defer_checked(statements, check)
        return
    for sql, values in statements[:-1]:
        raw.execute(sql, values)
    check(raw.execute(*statements[-1]).fetchall())


def _take_over(raw: sqlite3.Connection, claim: Claim) -> bool:
    """The update has a row: take it over if it is not done and its holder's process is gone."""
    found = raw.execute(_STATE, (claim.update_id,)).fetchall()
    if not found:
        return False  # pruned meanwhile: too old to come again
    holder, done = str(found[0][0]), bool(found[0][1])
    if done or not claim.gone(holder):
        return False
    taken = raw.execute(_TAKE, (claim.holder, claim.now_ms, claim.update_id, holder))
    return bool(taken.fetchall())


__all__ = ["BEGIN_SQL", "CLAIM", "Claim", "UpdateHandled", "claim_in"]
