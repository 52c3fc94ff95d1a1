"""What the tutor believes each student remembers: the learner model, or rules without it.

Both implementations answer the policy's questions (``RecallPredictor``) for one student's
items and learn from each answer inside the service's transaction:

* :class:`ModelMemory` runs the meta-learned learner model (``tutor.model``); torch and the
  weights load once, on first use. Its per-student state is stored as bytes in SQLite.
* :class:`RuleMemory` uses expanding review intervals (``tutor.intervals``); it needs no
  torch and is what tests of the bot layer and a model-less deployment run on.
"""

from __future__ import annotations

import logging
import math
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from storage import Connection
from storage import attempts as attempt_rows
from storage import learner_state as state_rows
from storage.database import run_sync
from storage.records import MemoryRecord
from tutor.candidates import Candidates, FeatureCache
from tutor.clock import from_millis, to_millis
from tutor.intervals import ItemMemory, estimated_recall, next_interval
from tutor.items import Grade, Item
from tutor.policy.predictor import RecallPredictor
from tutor.policy.types import FloatArray, IntArray

if TYPE_CHECKING:
    from tutor.model.online import LearnerModel, LearnerState

log = logging.getLogger(__name__)

DAY_SECONDS = 86_400.0


class MemoryModel(Protocol):
    """A source of recall predictions that learns from answers."""

    name: str

    async def observe(
        self,
        conn: Connection,
        user_id: int,
        item: Item,
        *,
        correct: bool,
        grade: Grade | None,
        latency_ms: int | None,
        at: datetime,
    ) -> None:
        """Learn from one answer (called before the answer is counted in the tallies)."""
        ...

    async def predictor(
        self, conn: Connection, user_id: int, items: Sequence[Item]
    ) -> RecallPredictor:
        """Predictions for this student's ``items`` from what is stored now."""
        ...


class _RulePredictor:
    """Recall from each item's review interval; never-seen items have recall 0."""

    def __init__(self, memories: dict[int, MemoryRecord], target: float) -> None:
        self.memories = memories
        self.target = target

    def _memory(self, item_id: int) -> MemoryRecord | None:
        return self.memories.get(int(item_id))

    def recall_at(self, items: IntArray, at: FloatArray) -> FloatArray:
        out = np.zeros(items.shape[0])
        if items.shape[0] != at.shape[0]:
            raise ValueError("items and times differ in length")
        memories = self.memories
        # Python numbers: most items are unseen, and a dict probe with an int is cheap.
        for k, (item_id, when) in enumerate(zip(items.tolist(), at.tolist(), strict=True)):
            memory = memories.get(item_id)
            if memory is not None:
                elapsed = (when - memory.last_ms / 1000) / DAY_SECONDS
                out[k] = self._recall(memory.interval_days, memory.last_correct, elapsed)
        return out

    def _recall(self, interval: float, last_correct: bool, elapsed: float) -> float:
        recall = estimated_recall(interval, elapsed, self.target)
        # Just missed: the right answer was shown, but recall is far from certain.
        return recall if last_correct else min(recall, 0.5)

    def recall_after_review(
        self, items: IntArray, review_at: float, at: float
    ) -> tuple[FloatArray, FloatArray]:
        right, wrong = np.zeros(items.shape[0]), np.zeros(items.shape[0])
        elapsed = (at - review_at) / DAY_SECONDS
        for k, item_id in enumerate(items):
            memory = self._memory(item_id)
            state = (
                ItemMemory(
                    memory.n_correct, memory.n_wrong, memory.last_correct, memory.interval_days
                )
                if memory
                else ItemMemory()
            )
            right[k] = self._recall(next_interval(state, True, None), True, elapsed)
            wrong[k] = self._recall(next_interval(state, False, None), False, elapsed)
        return right, wrong


class RuleMemory:
    """Expanding intervals: the tutor's memory model without torch."""

    name = "rules"

    def __init__(self, target: float = 0.9) -> None:
        self.target = target

    async def observe(
        self,
        conn: Connection,
        user_id: int,
        item: Item,
        *,
        correct: bool,
        grade: Grade | None,
        latency_ms: int | None,
        at: datetime,
    ) -> None:
        """Nothing to learn beyond the memory row the service keeps."""

    async def predictor(
        self, conn: Connection, user_id: int, items: Sequence[Item]
    ) -> RecallPredictor:
        memories = await attempt_rows.memory_of(conn, user_id, [item.id for item in items])
        return _RulePredictor({m.item_id: m for m in memories}, self.target)


class ModelMemory:
    """The meta-learned learner model, loaded lazily from ``weights`` (default: bundled)."""

    name = "model"

    def __init__(self, weights: Path | None = None) -> None:
        self.weights = weights
        self._model: LearnerModel | None = None
        self.features = FeatureCache()

    def load(self) -> LearnerModel:
        """Load torch and the weights once; raises ModelLoadError when they are unusable."""
        if self._model is None:
            import torch

            from tutor.model.online import LearnerModel

            # Scoring is small and latency-bound: one thread avoids contention.
            torch.set_num_threads(1)
            self._model = LearnerModel.load(self.weights)
        return self._model

    async def _read(
        self, conn: Connection, user_id: int, items: Sequence[Item]
    ) -> tuple[LearnerState, Candidates]:
        """The student's stored state and the items' candidate features, in one database trip."""
        runs = self.features.runs(items)
        ids = [item.id for item in items]
        tags = sorted({tag for run in runs for tag in run.tags})

        def read(raw: sqlite3.Connection) -> tuple[Any, Any, Any]:
            return (
                state_rows.read_state(raw, user_id),
                attempt_rows.read_item_stats(raw, ids),
                attempt_rows.read_tag_stats(raw, tags),
            )

        stored, tallies, tag_tallies = await run_sync(conn, read)
        return self._parse_state(user_id, stored), Candidates(runs, tallies, tag_tallies)

    def _parse_state(self, user_id: int, stored: tuple[str, bytes] | None) -> LearnerState:
        from tutor.model.online import LearnerState

        model = self.load()
        if stored is not None and stored[0] == model.weights_id:
            try:
                return LearnerState.from_bytes(stored[1])
            except ValueError:
                log.warning("learner state of user %s unreadable; starting afresh", user_id)
        elif stored is not None:
            log.warning("learner state of user %s is from other weights; run model replay", user_id)
        return model.new_state()

    async def _state(self, conn: Connection, user_id: int) -> LearnerState:
        """The student's stored state (a fresh one before the first answer)."""
        return self._parse_state(user_id, await state_rows.get_state(conn, user_id))

    async def _candidates(self, conn: Connection, items: Sequence[Item]) -> Candidates:
        """Candidate features of ``items`` with the current tallies."""
        ids = [item.id for item in items]
        runs = self.features.runs(items)
        tags = sorted({tag for run in runs for tag in run.tags})
        tallies = await attempt_rows.item_stats(conn, ids)
        return Candidates(runs, tallies, await attempt_rows.tag_stats(conn, tags))

    async def observe(
        self,
        conn: Connection,
        user_id: int,
        item: Item,
        *,
        correct: bool,
        grade: Grade | None,
        latency_ms: int | None,
        at: datetime,
    ) -> None:
        from tutor.model.online import AttemptFeatures

        model = self.load()
        state, candidates = await self._read(conn, user_id, [item])
        attempt = AttemptFeatures(
            item=candidates[0],
            timestamp=at,
            correct=correct,
            grade=int(grade) if grade is not None else None,
            latency_ms=float(latency_ms) if latency_ms is not None else None,
        )
        state = model.update(state, attempt)
        await state_rows.put_state(conn, user_id, model.weights_id, state.to_bytes(), to_millis(at))

    async def predictor(
        self, conn: Connection, user_id: int, items: Sequence[Item]
    ) -> RecallPredictor:
        from tutor.policy.model_adapter import LearnerModelPredictor

        model = self.load()
        state, candidates = await self._read(conn, user_id, items)
        return LearnerModelPredictor(model, state, candidates, candidates.batch)


def item_memory(record: MemoryRecord | None) -> ItemMemory:
    """The interval rules' view of a memory row (a fresh one for a never-seen item)."""
    if record is None:
        return ItemMemory()
    return ItemMemory(record.n_correct, record.n_wrong, record.last_correct, record.interval_days)


def last_seen_map(memories: Sequence[MemoryRecord]) -> dict[int, datetime]:
    """When each seen item was last answered."""
    return {m.item_id: from_millis(m.last_ms) for m in memories}


def finite_or(value: float, default: float) -> float:
    """``value`` unless it is NaN or infinite."""
    return value if math.isfinite(value) else default
