"""The attempts log as the learner model's training data: one consistent read of every answer.

:func:`training_attempts` streams every attempt with what the model sees of its item (kind,
tags, number of options), ordered by student and time, from one ``SELECT``: SQLite gives a
single statement one snapshot, so answers committed while it is read are not half-seen.
Students erased by ``/forget`` have no attempts left, so they are absent by construction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from storage.database import Connection

BATCH = 5000


@dataclass(frozen=True, slots=True)
class TrainingAttempt:
    """One logged answer with its item's model inputs."""

    user_id: int
    item_id: int
    answered_ms: int
    correct: bool
    grade: int | None
    latency_ms: int | None
    kind: str
    tags: tuple[str, ...]
    n_listed_options: int
    """Options stored with the item (0 when it has none; true/false items store none)."""


async def training_attempts(
    conn: Connection, batch: int = BATCH
) -> AsyncIterator[list[TrainingAttempt]]:
    """Every attempt, by student then time, in lists of up to ``batch`` rows (one snapshot)."""
    async with conn.execute(
        "SELECT a.user_id, a.item_id, a.answered_ms, a.correct, a.grade, a.latency_ms,"
        " i.kind, i.tags, coalesce(json_array_length(i.payload, '$.options'), 0)"
        " FROM attempts a JOIN items i ON i.id = a.item_id"
        " ORDER BY a.user_id, a.answered_ms, a.id"
    ) as cursor:
        while True:
            rows = await cursor.fetchmany(batch)
            if not rows:
                return
            yield [
                TrainingAttempt(
                    user_id=int(r[0]),
                    item_id=int(r[1]),
                    answered_ms=int(r[2]),
                    correct=bool(r[3]),
                    grade=None if r[4] is None else int(r[4]),
                    latency_ms=None if r[5] is None else int(r[5]),
                    kind=str(r[6]),
                    tags=tuple(str(r[7]).split()),
                    n_listed_options=int(r[8]),
                )
                for r in rows
            ]
