"""The memory model's interface: what the quiz, the stats and the group quizzes ask of the
learner model (:class:`tutor.learner.ModelMemory`) or of the interval rules without it
(:class:`tutor.rule_memory.RuleMemory`); ``tutor.learner`` exports it as before."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from storage import Connection
from storage.batch import Query
from storage.records import MemoryRecord
from tutor.items import Grade, Item
from tutor.model_reads import Observed, Prefetched
from tutor.policy.predictor import RecallPredictor


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
        read: Observed | None = None,
    ) -> None:
        """Learn from one answer (called before the answer is counted in the tallies);
        ``read``: what :meth:`observe_query` read in this transaction, if anything."""
        ...

    def observe_query(self, user_id: int, item: Item, at: datetime) -> Query[Observed | None]:
        """What :meth:`observe` will read for the answer at ``at`` to ``item`` (the item as
        it was asked: :meth:`observe` checks it is the one answered), to go with the
        answer's look-up."""
        ...

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
        """Predictions for this student's ``items`` from what is stored now; ``memories``,
        when given, are the student's memory rows of them, already read. With ``needed`` (a
        selection of ``items``, in their order), predictions may be limited to those.
        ``prefetched``: what :meth:`choice_query` read in this transaction."""
        ...

    def choice_query(self, user_id: int) -> Query[Prefetched | None]:
        """What :meth:`predictor` is likely to read for this student's next choice, to go
        with the choice's other reads (None: nothing to guess, or nothing to read)."""
        ...

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
        """Predictions for ``item`` right after the answer at ``at`` that :meth:`observe`
        learned in this transaction, ``memory`` the item's memory row after it; ``counted``:
        whether the answer was counted in the item's and tags' tallies since."""
        ...
