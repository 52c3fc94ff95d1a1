"""What the learner model scores and learns from: candidate items, answers, columnar batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from tutor.items import ItemKind
from tutor.model.state import tag_key

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def check_utc(moment: datetime) -> float:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: pass a timezone-aware UTC datetime")
    return moment.timestamp()


@dataclass(frozen=True, slots=True)
class CandidateFeatures:
    """An item to score. Counts are over all learners (this one included); so are the
    residual sums ``item_resid``/``item_var`` (summed ``correct - p`` and ``p (1 - p)`` over the
    item's answers, ``p`` the answering learner's ability, see
    :func:`tutor.model.ability.ability_residuals`) and ``tag_resid``/``tag_var`` (the same
    over the answers to each of the item's tags, summed over its tags)."""

    item_id: int
    tags: tuple[str, ...] = ()
    n_options: int = 0
    kind: ItemKind = ItemKind.MULTIPLE_CHOICE
    item_attempts: int = 0
    item_correct: int = 0
    tag_attempts: int = 0
    tag_correct: int = 0
    item_resid: float = 0.0
    item_var: float = 0.0
    tag_resid: float = 0.0
    tag_var: float = 0.0


@dataclass(frozen=True, slots=True)
class AttemptFeatures:
    """One answer to learn from. ``grade`` is the 1-4 self-grade of flashcards, else None."""

    item: CandidateFeatures
    timestamp: datetime
    correct: bool
    grade: int | None = None
    latency_ms: float | None = None

    def __post_init__(self) -> None:
        check_utc(self.timestamp)
        if self.grade is not None and not 1 <= self.grade <= 4:
            raise ValueError(f"grade must be 1-4, got {self.grade}")


@dataclass(frozen=True, slots=True)
class CandidateBatch:
    """Candidates in columnar form (:meth:`LearnerModel.prepare`); reusable across learners."""

    item_ids: I64
    cols: dict[str, F64]
    tag_owner: I64
    tag_keys: I64
    #: derived data the fast scoring path keeps per batch (and per loaded weights)
    cache: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    #: batches whose concatenation this one is, but for the tallies (:data:`TALLY_COLS`):
    #: long-lived runs (one per deck) whose ``cache`` keeps what does
    #: not depend on the tallies across calls. Empty: the batch is its own single part.
    parts: tuple[CandidateBatch, ...] = field(default=(), compare=False, repr=False)

    def __len__(self) -> int:
        return int(self.item_ids.shape[0])

    def take(self, rows: npt.ArrayLike) -> CandidateBatch:
        """The candidates at ``rows`` (repeats allowed), in that order, as a new batch."""
        rows = np.asarray(rows, np.int64)
        bounds = np.searchsorted(self.tag_owner, np.arange(len(self) + 1))
        starts, counts = bounds[rows], bounds[rows + 1] - bounds[rows]
        total = int(counts.sum())
        first = np.cumsum(counts) - counts  # where each row's tags start in the result
        flat = np.arange(total) - np.repeat(first, counts) + np.repeat(starts, counts)
        return CandidateBatch(
            item_ids=self.item_ids[rows],
            cols={name: values[rows] for name, values in self.cols.items()},
            tag_owner=np.repeat(np.arange(rows.shape[0], dtype=np.int64), counts),
            tag_keys=self.tag_keys[flat],
        )

    @classmethod
    def from_candidates(cls, cands: Sequence[CandidateFeatures]) -> CandidateBatch:
        """Convert a sequence of candidates."""
        n = len(cands)

        def col(values: Any) -> F64:
            return np.fromiter(values, np.float64, n)

        cols = {
            "item_n": col(x.item_attempts for x in cands),
            "item_c": col(x.item_correct for x in cands),
            "skill_n": col(x.tag_attempts for x in cands),
            "skill_c": col(x.tag_correct for x in cands),
            "n_skills": col(len(x.tags) for x in cands),
            "n_options": col(x.n_options for x in cands),
            "self_graded": col(x.kind.self_graded for x in cands),
            "item_r": col(x.item_resid for x in cands),
            "item_v": col(x.item_var for x in cands),
            "skill_r": col(x.tag_resid for x in cands),
            "skill_v": col(x.tag_var for x in cands),
        }
        flat = [(i, k) for i, x in enumerate(cands) for k in dict.fromkeys(map(tag_key, x.tags))]
        return cls(
            item_ids=np.fromiter((x.item_id for x in cands), np.int64, n),
            cols=cols,
            tag_owner=np.fromiter((f[0] for f in flat), np.int64, len(flat)),
            tag_keys=np.fromiter((f[1] for f in flat), np.int64, len(flat)),
        )


Candidates = Sequence[CandidateFeatures] | CandidateBatch

#: The columns of a batch that come from the tallies of all learners' answers.
TALLY_COLS = ("item_n", "item_c", "skill_n", "skill_c", "item_r", "item_v", "skill_r", "skill_v")


def as_batch(candidates: Candidates) -> CandidateBatch:
    """``candidates`` in columnar form (converted when they are not)."""
    if isinstance(candidates, CandidateBatch):
        return candidates
    return CandidateBatch.from_candidates(candidates)
