"""Each Telegram update acted on once, whichever process gets it and however often.

Telegram delivers an update again when it got no 200 for it: a webhook worker killed after
queueing an update makes the front answer 503, a polling process killed before confirming
its offset fetches it again after the restart. Answers are idempotent by their key, but a
``/quiz`` or any command that sends would run twice. So each update is begun in the
database (:mod:`storage.processed_updates`) before its handlers run and marked done after:

* a new update is begun and handled;
* one already done, or begun by a process that still runs (two workers got it at once), is
  acknowledged and skipped;
* one begun by a process that is gone (killed while handling it) is handled again: an
  update is never lost for a crash, and runs twice only if its holder died between acting
  and marking it done.

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

    async def begin(self, update_id: int, digest: str) -> bool:
        """True if this process should handle the update (it is now recorded as its own);
        False if it was handled, or is being handled, already."""
        now = self.clock()
        async with self.db.transaction() as conn:
            if self._pruned is None or now - self._pruned >= PRUNE_EVERY:
                await rows.prune(conn, to_millis(now - WINDOW))
                self._pruned = now
            if self._finished:
                await rows.finish(conn, self._finished, self.holder)
                self._finished = []
            if await rows.begin(conn, update_id, digest, self.holder, to_millis(now)):
                return True
            found = await rows.state_of(conn, update_id)
            if found is None or found[1] or not holder_gone(found[0]):
                return False
            return await rows.take_from(conn, update_id, found[0], self.holder, to_millis(now))

    def done(self, update_id: int) -> None:
        """Note the update handled (its handlers finished, whatever their outcome); written
        with the next update's begin."""
        self._finished.append(update_id)

    async def flush(self) -> None:
        """Write the done marks still waiting (at a clean stop)."""
        if not self._finished:
            return
        async with self.db.transaction() as conn:
            finished, self._finished = self._finished, []
            await rows.finish(conn, finished, self.holder)
