"""Leases: with several bot processes on one database, one of them does each shared job.

The reminder, announcement and group quiz fan-outs run in the process that holds the
``fanout`` lease, so the bot as a whole sends at one process's rate (Telegram's limit is the
bot's, not each process's) and every other process stands by; the weekly refit runs in the
holder of ``weekly-refit``, and the learner states are rebuilt with promoted weights by the
holder of ``weights-rebuild`` (the other processes follow the weights version it records). A
holder renews its lease while it works (at the latest when half
of it is left); a process that stops cleanly gives it up, one that crashed loses it when it
expires, or at once to a process on the same machine that sees its process id gone.

Each row a fan-out sends is still claimed on its own (:mod:`storage.reminders`,
:mod:`storage.group_slots`, :mod:`storage.group_quizzes`), so even two holders (one whose
lease ran out while it was stuck) never send a row twice: the lease keeps the rate, the
claims keep "once".
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from storage import Database
from storage import leases as lease_rows
from tutor.clock import Clock, to_millis, utc_now
from tutor.processes import alive

FANOUT = "fanout"
"""Reminders, announcements and group quizzes: everything the bot sends to many."""
WEEKLY_REFIT = "weekly-refit"
"""The weekly refit of the learner model."""
WEIGHTS_REBUILD = "weights-rebuild"
"""The rebuild of every learner state with promoted weights (the others follow its version)."""
TTL = timedelta(seconds=30)
"""How long a lease lasts without renewal: a crashed holder's work waits at most this long
(on another machine; on the same machine it is taken over at once)."""


def process_holder() -> str:
    """A name for this process: host, process id, and a random part (a reused pid is new)."""
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


def holder_gone(holder: str) -> bool:
    """True if ``holder`` ran on this machine and its process is no longer there."""
    host, _, rest = holder.partition("/")
    pid_text = rest.partition("/")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another machine's: only its expiry tells
    pid = int(pid_text)
    return pid != os.getpid() and not alive(pid)


class Lease:
    """One named lease as this process sees it.

    :meth:`hold` is cheap while the lease has more than half of its time left (no database
    trip), so a fan-out may call it before every message.
    """

    def __init__(
        self,
        db: Database,
        name: str,
        *,
        clock: Clock = utc_now,
        ttl: timedelta = TTL,
        holder: str | None = None,
    ) -> None:
        self.db = db
        self.name = name
        self.clock = clock
        self.ttl = ttl
        self.holder = holder or process_holder()
        self.term = 0
        """Counts the times this process took the lease afresh (after someone else, or
        after losing it): work it finds claimed then belongs to a former holder."""
        self._until: datetime | None = None

    async def hold(self) -> bool:
        """Take or renew the lease if due; True while this process holds it."""
        now = self.clock()
        if self._until is not None and now < self._until - self.ttl / 2:
            return True
        until = now + self.ttl
        async with self.db.transaction() as conn:
            got = await lease_rows.take(
                conn, self.name, self.holder, to_millis(now), to_millis(until)
            )
            if not got:
                current = await lease_rows.holder_of(conn, self.name)
                if current is not None and holder_gone(current[0]):
                    got = await lease_rows.take_from(
                        conn, self.name, current[0], self.holder, to_millis(until)
                    )
        if got and (self._until is None or now >= self._until):
            self.term += 1
        self._until = until if got else None
        return got

    async def release(self) -> None:
        """Give the lease up (a clean stop), so another process takes it at once."""
        if self._until is None:
            return
        self._until = None
        async with self.db.transaction() as conn:
            await lease_rows.give_up(conn, self.name, self.holder)


class FanoutTurn:
    """A fan-out job's view of its turns at the lease: which claims are a former holder's.

    At the first run, and whenever the lease is taken afresh, every claim made before that
    moment belongs to a process that stopped; afterwards only claims older than the job's
    own lease time are stale.
    """

    def __init__(self, fanout: Lease | None, now: datetime) -> None:
        self.fanout = fanout
        self._began = now
        self._first = True
        self._term = 0

    async def hold(self, now: datetime) -> bool:
        """True if this process may fan out (it holds the lease, or there is none)."""
        if self.fanout is None:
            return True
        if not await self.fanout.hold():
            return False
        if self.fanout.term != self._term:
            self._term = self.fanout.term
            self._began = now
            self._first = True
        return True

    def stale_before(self, now: datetime, lease: timedelta) -> datetime:
        """Claims older than this are a stopped process's (call once per run)."""
        cutoff = self._began if self._first else now - lease
        self._first = False
        return cutoff
