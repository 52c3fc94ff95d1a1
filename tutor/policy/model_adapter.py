"""The learner model (``tutor.model.online``) seen through the policy's ``RecallPredictor``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from tutor.policy.types import FloatArray, IntArray

if TYPE_CHECKING:
    from tutor.model.online import CandidateBatch, CandidateFeatures, LearnerState


class OnlineModel(Protocol):
    """The part of ``tutor.model.online.LearnerModel`` the policy uses."""

    def predict(self, state: LearnerState, candidates: Any, now: datetime) -> Any: ...

    def update(self, state: LearnerState, attempt: Any) -> LearnerState: ...


def _at(t: float) -> datetime:
    return datetime.fromtimestamp(float(t), tz=UTC)


class LearnerModelPredictor:
    """Recall predictions for one learner from the learner model's current state.

    ``recall_at`` scores all candidates once per distinct time; ``recall_after_review``
    replays a hypothetical right and wrong answer per item through ``update`` (pure: the
    learner's state is not modified), so it costs two model updates per item: call it for
    the items that matter (exam decks), and cache per session.

    ``batch``, when given, is ``candidates`` already in columnar form (``LearnerModel.prepare``
    of them): it is scored whenever all candidates are, instead of converting them each time;
    ``candidates`` is then only indexed for the few that are scored on their own.
    """

    def __init__(
        self,
        model: OnlineModel,
        state: LearnerState,
        candidates: Sequence[CandidateFeatures],
        batch: CandidateBatch | None = None,
    ) -> None:
        self.model = model
        self.state = state
        self.candidates = candidates if batch is not None else list(candidates)
        self.batch = batch
        ids = batch.item_ids.tolist() if batch is not None else [c.item_id for c in candidates]
        self.index = {int(item_id): k for k, item_id in enumerate(ids)}

    def _rows(self, items: IntArray) -> list[int]:
        return [self.index[int(i)] for i in items]

    def recall_at(self, items: IntArray, at: FloatArray) -> FloatArray:
        """P(recall) of ``items`` at Unix times ``at`` with no study in between."""
        out = np.zeros(items.shape[0])
        rows = np.asarray(self._rows(items), dtype=np.int64)
        for t in np.unique(at):
            sel = np.flatnonzero(at == t)
            need = sorted(set(rows[sel].tolist()))
            scored: Any = (
                self.batch
                if self.batch is not None and len(need) == len(self.candidates)
                else [self.candidates[k] for k in need]
            )
            probs = self.model.predict(self.state, scored, _at(t))
            lookup = dict(zip(need, np.asarray(probs, dtype=np.float64), strict=True))
            out[sel] = [lookup[int(k)] for k in rows[sel]]
        return out

    def recall_after_review(
        self, items: IntArray, review_at: float, at: float
    ) -> tuple[FloatArray, FloatArray]:
        """Recall at ``at`` if each item were answered right / wrong at ``review_at``."""
        from tutor.model.online import AttemptFeatures

        right, wrong = np.zeros(items.shape[0]), np.zeros(items.shape[0])
        when, then = _at(review_at), _at(at)
        for j, k in enumerate(self._rows(items)):
            cand = self.candidates[k]
            graded = cand.kind.self_graded
            for correct, out in ((True, right), (False, wrong)):
                grade = (3 if correct else 1) if graded else None
                attempt = AttemptFeatures(cand, when, correct, grade)
                state = self.model.update(self.state, attempt)
                out[j] = float(np.asarray(self.model.predict(state, [cand], then))[0])
        return right, wrong
