"""Rebuild every student's learner-model state from the attempts log (after a model upgrade).

All attempts are replayed in the order they happened, with the item and tag tallies rebuilt
alongside, so each update sees the answers of all students as they stood at that moment, as
it did live. The tallies' residual sums (schema version 8) and each student's answer tally in
``users`` are written back as rebuilt: they are exact after a replay, whatever they were.
Each student's recall calibration is rebuilt with their state, and each memory row's previous
answer time (which rows from before schema version 7 lack) is set from the log. Memory grows
with the number of students and items answered (their states and item histories stay in
memory until the end); the log itself is streamed.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from storage import Connection, Database
from storage import attempts as attempt_rows
from storage import content as content_rows
from storage import learner_state as state_rows
from storage import model_weights as weights_rows
from storage import replay as replay_rows
from storage.database import run_sync
from storage.learner_state import StoredState
from storage.replay import AttemptRow
from tutor.clock import from_millis, to_millis, utc_now
from tutor.convert import item_from_record
from tutor.items import Item
from tutor.model.ability import ability
from tutor.model_reads import learn_answer
from tutor.policy.calibration import ItemHistory, RecallCalibration, after_answer

if TYPE_CHECKING:
    from tutor.model.online import LearnerModel, LearnerState

BATCH = 5000


async def replay_all(
    db: Database,
    weights: Path | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    switch: Callable[[int], None] | None = None,
    offload: bool = False,
) -> int:
    """Replay the whole log through the learner model; returns the number of students.

    The log is read in batches, each under a short read; the answers logged meanwhile are
    read inside the final write transaction, which stores the states: no answer is missed.
    ``switch`` runs in that transaction after the states are written, with their weights
    version (a running bot swaps its model there, so no request sees the new states with the
    old model or the reverse), and ``offload`` computes each batch in a worker thread, so a
    serving event loop stays free.

    The same transaction names the weights in ``model_weights`` (by :func:`weights_file`),
    with the next version when they are
    other weights than before: every process follows it (``bot.preflight``), and none
    overwrites a state of the new version with one of its old weights.
    """
    from tutor.model.online import LearnerModel

    model = LearnerModel.load(weights)
    async with db.read() as conn:  # the base rate the live model reads (tutor.model.base_rate)
        model.use_base_rate(*await run_sync(conn, attempt_rows.read_answer_totals))
    replay = _Replay(model)
    after = (-1, -1)
    while True:
        async with db.read() as conn:
            rows = await _batch(conn, after, replay.items)
        if not rows:
            break
        after = rows[-1][:2]
        if offload:
            await asyncio.to_thread(replay.consume, rows)
        else:
            replay.consume(rows)
        if progress is not None:
            progress(replay.done)
    async with db.transaction() as conn:
        while rows := await _batch(conn, after, replay.items):
            after = rows[-1][:2]
            replay.consume(rows)
        before = await weights_rows.current(conn)
        version = 0 if before is None else before[0]
        if before is None or before[1] != model.weights_id:
            version += 1
        await weights_rows.record(
            conn,
            version,
            model.weights_id,
            weights_file(weights),
            to_millis(utc_now()),
        )
        for user_id, state in replay.states.items():
            stored = StoredState(
                model.weights_id,
                state.to_bytes(),
                replay.calibrations[user_id].to_json(),
                version,
            )
            await state_rows.put_state(conn, user_id, stored, replay.last_ms[user_id])
        await replay_rows.set_previous_seen(
            conn,
            [
                (round(h.previous_seen * 1000), user_id, item_id)
                for (user_id, item_id), h in replay.histories.items()
                if h.previous_seen is not None
            ],
        )
        await replay_rows.write_tallies(
            conn,
            [(c[2], c[3], item_id) for item_id, c in replay.item_counts.items()],
            [(c[2], c[3], tag) for tag, c in replay.tag_counts.items()],
            [(n, right, user_id) for user_id, (n, right) in replay.students.items()],
        )
        if switch is not None:
            switch(version)
    return len(replay.states)


@dataclass(frozen=True, slots=True)
class ServingWeights:
    """The weights the stored learner states were built with, as the last rebuild named them."""

    version: int
    weights_id: str
    path: Path | None  # None: the bundled weights


async def serving_weights(conn: Connection) -> ServingWeights | None:
    """What ``model_weights`` says (one small read); None before the first rebuild."""
    found = await weights_rows.current(conn)
    if found is None:
        return None
    version, weights_id, file = found
    return ServingWeights(version, weights_id, Path(file) if file else None)


def weights_file(weights: Path | None) -> str:
    """How ``model_weights`` names ``weights`` for the other processes: '' for the bundled
    ones, else their absolute path (the processes of one deployment share a machine)."""
    return "" if weights is None else str(weights.resolve())


async def _batch(
    conn: Connection, after: tuple[int, int], items: dict[int, Item | None]
) -> list[AttemptRow]:
    """The next attempts after ``after`` (time, id), their unknown items read into ``items``."""
    rows = await replay_rows.attempts_after(conn, after, BATCH)
    for item_id in {row[3] for row in rows if row[3] not in items}:
        record = await content_rows.get_item(conn, item_id, live_only=False)
        items[item_id] = item_from_record(record) if record else None
    return rows


class _Replay:
    """The replay's running state: learner states, calibrations and the rebuilt tallies."""

    def __init__(self, model: LearnerModel) -> None:
        self.model = model
        self.calibrations: dict[int, RecallCalibration] = {}
        self.histories: dict[tuple[int, int], ItemHistory] = {}
        self.items: dict[int, Item | None] = {}
        # answers, correct, summed residual, summed variance (see storage.attempts)
        self.item_counts: dict[int, list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0])
        self.tag_counts: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0])
        # each student's answers and right answers so far, over the whole log
        self.students: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        self.states: dict[int, LearnerState] = {}
        self.last_ms: dict[int, int] = {}
        self.done = 0

    def consume(self, rows: list[AttemptRow]) -> None:
        """Learn the attempts ``rows`` in order."""
        from tutor.model.online import AttemptFeatures, CandidateFeatures

        model = self.model
        for answered_ms, _attempt_id, user_id, item_id, correct, grade, latency_ms in rows:
            tally = self.students[user_id]
            p = ability(tally[1], tally[0])
            tally[0] += 1
            tally[1] += int(correct)
            item = self.items[item_id]
            if item is None:
                continue
            counts = self.item_counts[item_id]
            tags = [self.tag_counts[t] for t in item.tags]
            candidate = CandidateFeatures(
                item_id=item_id,
                tags=item.tags,
                n_options=item.n_options,
                kind=item.kind,
                item_attempts=int(counts[0]),
                item_correct=int(counts[1]),
                tag_attempts=int(sum(t[0] for t in tags)),
                tag_correct=int(sum(t[1] for t in tags)),
                item_resid=counts[2],
                item_var=counts[3],
                tag_resid=sum(t[2] for t in tags),
                tag_var=sum(t[3] for t in tags),
            )
            attempt = AttemptFeatures(
                item=candidate,
                timestamp=from_millis(answered_ms),
                correct=bool(correct),
                grade=grade,
                latency_ms=float(latency_ms) if latency_ms is not None else None,
            )
            history = self.histories.get((user_id, item_id))
            self.states[user_id], self.calibrations[user_id] = learn_answer(
                model,
                self.states.get(user_id) or model.new_state(),
                self.calibrations.get(user_id) or RecallCalibration(),
                attempt,
                history,
            )
            self.histories[user_id, item_id] = after_answer(
                history, answered_ms / 1000, bool(correct)
            )
            self.last_ms[user_id] = answered_ms
            resid, var = int(correct) - p, p * (1.0 - p)
            for row in (counts, *(self.tag_counts[t] for t in set(item.tags))):
                row[0] += 1
                row[1] += int(correct)
                row[2] += resid
                row[3] += var
            self.done += 1
