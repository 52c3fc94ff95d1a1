"""The tutor's memory model without torch: recall from expanding review intervals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from storage import Connection
from storage import attempts as attempt_rows
from storage.batch import Query, given
from storage.records import MemoryRecord
from tutor.intervals import ItemMemory, estimated_recall, next_interval
from tutor.items import Grade, Item
from tutor.policy.predictor import RecallPredictor
from tutor.policy.types import FloatArray, IntArray

if TYPE_CHECKING:
    from tutor.model_reads import Observed, Prefetched

DAY_SECONDS = 86_400.0


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
        read: Observed | None = None,
    ) -> None:
        """Nothing to learn beyond the memory row the service keeps."""

    def observe_query(self, user_id: int, item: Item, at: datetime) -> Query[Observed | None]:
        """Nothing to read."""
        return given(None)

    async def predictor(
        self,
        conn: Connection,
        user_id: int,
        items: Sequence[Item],
        memories: Sequence[MemoryRecord] | None = None,
        *,
        needed: Sequence[Item] | None = None,
        prefetched: Prefetched | None = None,
    ) -> RecallPredictor:
        if memories is None:
            memories = await attempt_rows.memory_of(conn, user_id, [item.id for item in items])
        return _RulePredictor({m.item_id: m for m in memories}, self.target)

    def choice_query(self, user_id: int) -> Query[Prefetched | None]:
        """The rules read only the memory rows, which a choice reads anyway."""
        return given(None)

    async def predictor_after(
        self,
        conn: Connection,
        user_id: int,
        item: Item,
        memory: MemoryRecord,
        *,
        at: datetime,
        counted: bool,
    ) -> RecallPredictor:
        """The rules read nothing: their predictions come from the memory row alone."""
        return await self.predictor(conn, user_id, [item], [memory])
