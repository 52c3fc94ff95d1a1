"""Each Telegram update acted on once, whichever process gets it and however often.

Telegram delivers an update again when it got no 200 for it: a webhook worker killed after
queueing an update makes the front answer 503, a polling process killed before confirming
its offset fetches it again after the restart. Answers are idempotent by their key, but a
``/quiz`` or any command that sends would run twice. So each update is begun in the
database (:mod:`storage.processed_updates`) before it acts, and marked done after:

* a new update is begun and handled;
* one already done, or begun by a process that still runs (two workers got it at once), is
  acknowledged and skipped;
* one begun by a process that is gone (killed while handling it) is handled again: an
  update is never lost for a crash, and runs twice only if its holder died between acting
  and marking it done.

Beginning costs no transaction of its own either: an update's :class:`Claim` is recorded by
the first write transaction of its handling (on PostgreSQL in that transaction's first round
trip), or, if a handler is about to call Telegram before it writes anything, by
:func:`settle` just before that call. Either way the row exists before the update acts on
anything outside the process; an update that writes and sends nothing records nothing (a
redelivery of it would do nothing either). One found handled raises :class:`UpdateHandled`
there, and the update is skipped.

Marking done costs no transaction of its own: the marks wait for the next update's begin
and go in its transaction (and at a clean stop, :meth:`UpdateLog.flush`). A process killed
while idle leaves its last updates begun but not done; one of them comes again only if its
acknowledgement was lost too (a worker answers the front before it handles an update, and
polling confirms what it fetched at its next poll), and it then runs twice.

Rows are kept :data:`WINDOW` (Telegram keeps an undelivered update at most 24 hours, so no
redelivery comes later) and pruned at most every :data:`PRUNE_EVERY`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from storage import Database
from storage import processed_updates as rows
from storage.update_claims import CLAIM, Claim, UpdateHandled
from tutor.clock import Clock, to_millis, utc_now
from tutor.leases import holder_gone, process_holder

WINDOW = timedelta(hours=25)
"""How long a handled update is remembered: Telegram's 24 hours, and an hour for clocks."""
PRUNE_EVERY = timedelta(minutes=10)


def digest_of(payload: str | bytes) -> str:
    """A short fingerprint of an update's content (a redelivery has the same)."""
    data = payload.encode() if isinstance(payload, str) else payload
    return hashlib.blake2b(data, digest_size=8).hexdigest()


class UpdateLog:
    """This process's view of the processed updates of every process on the database."""

    def __init__(self, db: Database, *, clock: Clock = utc_now, holder: str | None = None) -> None:
        self.db = db
        self.clock = clock
        self.holder = holder or process_holder()
        self._pruned: datetime | None = None
        self._finished: list[int] = []  # done, not yet marked in the database

    def claim(self, update_id: int, digest: str) -> Claim:
        """The update's claim, to be recorded by the first write transaction of its handling
        (set it as :data:`storage.update_claims.CLAIM` while the handlers run)."""
        now = self.clock()
        due = self._pruned is None or now - self._pruned >= PRUNE_EVERY

        def pruned() -> None:
            self._pruned = now

        return Claim(
            database=self.db,
            update_id=update_id,
            digest=digest,
            holder=self.holder,
            now_ms=to_millis(now),
            gone=holder_gone,
            finished=self._finished,
            prune_before_ms=to_millis(now - WINDOW) if due else None,
            on_pruned=pruned,
        )

    async def begin(self, update_id: int, digest: str) -> bool:
        """Record the update as begun now, in a transaction of its own: True if this process
        should handle it (it is now its own); False if it was handled, or is being handled,
        already."""
        token = CLAIM.set(self.claim(update_id, digest))
        try:
            await settle()
        except UpdateHandled:
            return False
        finally:
            CLAIM.reset(token)
        return True

    def done(self, update_id: int) -> None:
        """Note the update handled (its handlers finished, whatever their outcome); written
        with the next update's begin."""
        self._finished.append(update_id)

    async def flush(self) -> None:
        """Write the done marks still waiting (at a clean stop)."""
        if not self._finished:
            return
        async with self.db.transaction() as conn:
            finished = list(self._finished)  # the list is shared with claims in flight
            await rows.finish(conn, finished, self.holder)
        self._finished[:] = [i for i in self._finished if i not in set(finished)]


async def settle() -> None:
    """Record the running update's claim now, if nothing recorded it yet (before a call to
    Telegram: the row must exist before the update acts outside the process).

    Raises:
        UpdateHandled: it was handled already, or is being handled by a running process.
    """
    claim = CLAIM.get()
    if claim is None or claim.state != "pending" or not isinstance(claim.database, Database):
        return
    async with claim.database.transaction():
        pass  # the transaction records the claim at its BEGIN
    if claim.state == "refused":
        raise UpdateHandled(claim.update_id)


__all__ = [
    "CLAIM",
    "PRUNE_EVERY",
    "WINDOW",
    "Claim",
    "UpdateHandled",
    "UpdateLog",
    "digest_of",
    "settle",
]
