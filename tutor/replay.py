"""Rebuild every student's learner-model state from the attempts log (after a model upgrade).

All attempts are replayed in the order they happened, with the item and tag tallies rebuilt
alongside, so each update sees the answers of all students as they stood at that moment, as
it did live. Each student's recall calibration is rebuilt with their state, and each memory
row's previous answer time (which rows from before schema version 7 lack) is set from the log.
Memory grows with the number of students and items answered (their states and item histories
stay in memory until the end); the log itself is streamed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from storage import Database
from storage import content as content_rows
from storage import learner_state as state_rows
from storage.learner_state import StoredState
from tutor.clock import from_millis
from tutor.convert import item_from_record
from tutor.items import Item
from tutor.learner import learn_answer
from tutor.policy.calibration import ItemHistory, RecallCalibration, after_answer

BATCH = 5000


async def replay_all(
    db: Database, weights: Path | None = None, progress: Callable[[int], None] | None = None
) -> int:
    """Replay the whole log through the learner model; returns the number of students."""
    from tutor.model.online import AttemptFeatures, CandidateFeatures, LearnerModel, LearnerState

    model = LearnerModel.load(weights)
    calibrations: dict[int, RecallCalibration] = {}
    histories: dict[tuple[int, int], ItemHistory] = {}
    items: dict[int, Item | None] = {}
    item_counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    tag_counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    states: dict[int, LearnerState] = {}
    last_ms: dict[int, int] = {}
    after = (-1, -1)
    done = 0
    while True:
        async with db.read() as conn:
            async with conn.execute(
                "SELECT answered_ms, id, user_id, item_id, correct, grade, latency_ms"
                " FROM attempts WHERE (answered_ms, id) > (?, ?) ORDER BY answered_ms, id LIMIT ?",
                (*after, BATCH),
            ) as cur:
                rows = await cur.fetchall()
            missing = {row[3] for row in rows if row[3] not in items}
            for item_id in missing:
                record = await content_rows.get_item(conn, item_id, live_only=False)
                items[item_id] = item_from_record(record) if record else None
        if not rows:
            break
        for answered_ms, attempt_id, user_id, item_id, correct, grade, latency_ms in rows:
            after = (answered_ms, attempt_id)
            item = items[item_id]
            if item is None:
                continue
            counts = item_counts[item_id]
            candidate = CandidateFeatures(
                item_id=item_id,
                tags=item.tags,
                n_options=item.n_options,
                kind=item.kind,
                item_attempts=counts[0],
                item_correct=counts[1],
                tag_attempts=sum(tag_counts[t][0] for t in item.tags),
                tag_correct=sum(tag_counts[t][1] for t in item.tags),
            )
            attempt = AttemptFeatures(
                item=candidate,
                timestamp=from_millis(answered_ms),
                correct=bool(correct),
                grade=grade,
                latency_ms=float(latency_ms) if latency_ms is not None else None,
            )
            history = histories.get((user_id, item_id))
            states[user_id], calibrations[user_id] = learn_answer(
                model,
                states.get(user_id) or model.new_state(),
                calibrations.get(user_id) or RecallCalibration(),
                attempt,
                history,
            )
            histories[user_id, item_id] = after_answer(history, answered_ms / 1000, bool(correct))
            last_ms[user_id] = answered_ms
            counts[0] += 1
            counts[1] += int(correct)
            for tag in set(item.tags):
                tag_counts[tag][0] += 1
                tag_counts[tag][1] += int(correct)
            done += 1
        if progress is not None:
            progress(done)
    async with db.transaction() as conn:
        for user_id, state in states.items():
            stored = StoredState(
                model.weights_id, state.to_bytes(), calibrations[user_id].to_json()
            )
            await state_rows.put_state(conn, user_id, stored, last_ms[user_id])
        await conn.executemany(
            "UPDATE memory SET previous_ms = ? WHERE user_id = ? AND item_id = ?",
            [
                (round(h.previous_seen * 1000), user_id, item_id)
                for (user_id, item_id), h in histories.items()
                if h.previous_seen is not None
            ],
        )
    return len(states)
