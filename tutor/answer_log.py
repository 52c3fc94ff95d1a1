"""Logging one marked answer: the steps every answer takes, in a private quiz or a group poll.

The learner model learns from it, the attempt is appended (exactly once per key) and counted
in the item, tag and student tallies, the memory row moves on, and the item's next due time
is computed from the model's predictions. :func:`log_answer` runs them inside the caller's
write transaction; the caller's own bookkeeping (the session's tally, the group's answer row)
rides in the last database trip.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from storage import Connection
from storage import attempts as attempt_rows
from storage.database import in_one_trip, run_sync
from storage.records import AttemptRecord, MemoryRecord
from tutor.clock import to_millis
from tutor.grading import Marked
from tutor.intervals import next_interval
from tutor.items import Item
from tutor.learner import MemoryModel, item_memory
from tutor.model_reads import Observed
from tutor.policy.due import next_due
from tutor.students import Student

T = TypeVar("T")

MAX_STRETCH = 2.0
"""How far past the interval rules' schedule the learner model may push a review."""


@dataclass(frozen=True, slots=True)
class Before:
    """The student's memory row of the item answered, as read in the answer's transaction
    (None: they never answered it)."""

    memory: MemoryRecord | None


@dataclass(frozen=True, slots=True)
class Logged(Generic[T]):
    """An answer logged: when the item is due again, and what the caller's last step gave."""

    due: datetime
    memory: MemoryRecord
    extra: T


async def ready(memory: MemoryModel) -> None:
    """Load the learner model now, off the event loop and outside any transaction (it takes
    seconds once): the write transaction that follows must never wait for it."""
    load = getattr(memory, "load", None)
    if callable(load):
        await asyncio.to_thread(load)


async def log_answer(
    conn: Connection,
    memory: MemoryModel,
    student: Student,
    item: Item,
    marked: Marked,
    *,
    key: str,
    latency_ms: int | None,
    now: datetime,
    finish: Callable[[Connection], Awaitable[T]],
    read: Observed | None = None,
    before: Before | None = None,
) -> Logged[T]:
    """Log ``marked`` as ``student``'s answer to ``item`` under the idempotency ``key``.

    Run inside a write transaction (after :func:`ready`). ``finish`` runs in the same trip
    to the database as the final memory row write: the caller's own rows (it must await
    only database calls, see :func:`storage.database.in_one_trip`). ``read``: what the memory
    model's ``observe_query`` read for this answer, if anything. ``before``: the item's
    memory row as read earlier in this transaction (then not read again with the insert).
    """
    user_id = student.id
    now_ms = to_millis(now)
    # The model learns before the tallies count this answer: its inputs are the world as it
    # was when the question was asked.
    await memory.observe(
        conn,
        user_id,
        item,
        correct=marked.correct,
        grade=marked.grade,
        latency_ms=latency_ms,
        at=now,
        read=read,
    )
    attempt = AttemptRecord(
        user_id=user_id,
        item_id=item.id,
        answered_ms=now_ms,
        response=marked.response,
        correct=marked.correct,
        grade=int(marked.grade) if marked.grade else None,
        latency_ms=latency_ms,
        idempotency_key=key,
    )

    async def log(c: Connection) -> tuple[bool, MemoryRecord]:
        """Log the answer and count it (the student is seen now): one round trip (the memory
        row is read with the insert, unless given; the tallies go with what follows). The
        memory row after the answer (due for now) is written once its due time is known."""
        logged, previous = await run_sync(
            c,
            lambda raw: attempt_rows.log_attempt(
                raw, attempt, read_memory=before is None, seen_ms=now_ms, tags=item.tags
            ),
        )
        if before is not None:
            previous = before.memory
        return logged, _provisional(previous, user_id, item.id, marked.correct, now_ms)

    counted, provisional = await in_one_trip(conn, log)
    due = await due_after(conn, memory, student, item, provisional, now, counted=counted)
    final = replace(provisional, due_ms=to_millis(due))

    async def store(c: Connection) -> T:
        """Store the due time, then the caller's rows."""
        await attempt_rows.put_memory(c, final)
        return await finish(c)

    extra = await in_one_trip(conn, store)
    return Logged(due, final, extra)


async def due_after(
    conn: Connection,
    memory: MemoryModel,
    student: Student,
    item: Item,
    provisional: MemoryRecord,
    now: datetime,
    *,
    counted: bool,
) -> datetime:
    """When ``item`` is due again, its memory row updated to ``provisional`` by the answer at
    ``now`` that ``memory`` learned (``counted``: and the tallies counted)."""
    predictor = await memory.predictor_after(
        conn, student.id, item, provisional, at=now, counted=counted
    )
    predicted = next_due(predictor, item.id, now, student.target_retention)
    rule_interval = timedelta(days=provisional.interval_days)
    if predicted <= now + timedelta(minutes=1):
        # Already below target right after this answer (a lapse, or an item the model
        # still doubts): asking again at once teaches little, so space it by the
        # interval rules (minutes after a lapse, a day after a first success).
        return now + rule_interval
    # The model may stretch or shorten the rules' interval, but not past
    # MAX_STRETCH times it: a forgetting curve learned from few long-term learners
    # must not send an item away for a year after three right answers.
    return min(predicted, now + rule_interval * MAX_STRETCH)


def _provisional(
    previous: MemoryRecord | None, user_id: int, item_id: int, correct: bool, now_ms: int
) -> MemoryRecord:
    """The memory row after this answer, due now until the due time is known."""
    return MemoryRecord(
        user_id=user_id,
        item_id=item_id,
        n_correct=(previous.n_correct if previous else 0) + int(correct),
        n_wrong=(previous.n_wrong if previous else 0) + int(not correct),
        last_ms=now_ms,
        last_correct=correct,
        due_ms=now_ms,
        interval_days=next_interval(item_memory(previous), correct, None),
        previous_ms=previous.last_ms if previous else None,
    )
