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


FEW_ON_THEIR_OWN = 16
"""Up to this many candidates of a larger batch are converted and scored on their own (a
single item's due time); more, and the whole batch is scored."""


def _at(t: float) -> datetime:
    return datetime.fromtimestamp(float(t), tz=UTC)


class LearnerModelPredictor:
    """Recall predictions for one learner from the learner model's current state.

    ``recall_at`` scores each candidate it is asked about once, whatever the number of
    distinct times (the model's ``predict_at``); ``recall_after_review`` asks the model for
    recall after a hypothetical right and wrong answer to each item, all items in one batch
    (``predict_after_answer``). Models without those (test doubles) are asked through
    ``predict`` per distinct time and ``update`` + ``predict`` per item and outcome; the
    learner's state is never modified.

    ``batch``, when given, is ``candidates`` already in columnar form (``LearnerModel.prepare``
    of them): it is scored whenever more than a few candidates are asked for, instead of
    converting them each time; ``candidates`` is then only indexed for the few that are
    scored on their own.
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
        self.ids: IntArray = (
            batch.item_ids
            if batch is not None
            else np.fromiter((c.item_id for c in self.candidates), np.int64, len(self.candidates))
        )
        self._order: IntArray | None = None
        self._whole = False  # the whole batch was scored

    def _rows(self, items: IntArray) -> IntArray:
        """Candidate index of each item (``KeyError`` for an item that is not a candidate)."""
        items = np.asarray(items, dtype=np.int64)
        if items.shape == self.ids.shape and np.array_equal(items, self.ids):
            return np.arange(items.shape[0])
        if self._order is None:
            self._order = np.argsort(self.ids, kind="stable")
        ordered = self.ids[self._order]
        pos = np.searchsorted(ordered, items, side="right") - 1  # the last of equal ids
        bad = (pos < 0) | (ordered[np.maximum(pos, 0)] != items) if ordered.size else items == items
        if np.any(bad):
            raise KeyError(int(items[np.flatnonzero(bad)[0]]))
        return np.asarray(self._order[pos], dtype=np.int64)

    def _scored(self, rows: IntArray) -> tuple[Any, IntArray]:
        """What to score for candidate ``rows``: the whole batch, unless they are a few of
        it (``FEW_ON_THEIR_OWN``) asked first; with each row's position in it."""
        wanted = np.zeros(len(self.candidates), dtype=bool)
        wanted[rows] = True
        asked = int(wanted.sum())
        if self.batch is not None and (
            self._whole or asked > FEW_ON_THEIR_OWN or 4 * asked >= len(self.candidates)
        ):
            # Scoring the whole batch (its fixed part cached) costs less than converting
            # more than a few candidates; once it has been scored, the model keeps its
            # outputs for this state, and another question about any of them costs little.
            self._whole = True
            return self.batch, rows
        need = np.flatnonzero(wanted)
        return [self.candidates[int(k)] for k in need], np.cumsum(wanted)[rows] - 1

    def recall_at(self, items: IntArray, at: FloatArray) -> FloatArray:
        """P(recall) of ``items`` at Unix times ``at`` with no study in between."""
        rows = self._rows(items)
        at = np.asarray(at, dtype=np.float64)
        if rows.shape[0] == 0:
            return np.zeros(0)
        predict_at = getattr(self.model, "predict_at", None)
        if predict_at is not None:
            scored, pos = self._scored(rows)
            return np.asarray(predict_at(self.state, scored, pos, at), dtype=np.float64)
        out = np.zeros(rows.shape[0])
        for t in np.unique(at):
            sel = np.flatnonzero(at == t)
            scored, pos = self._scored(rows[sel])
            out[sel] = np.asarray(self.model.predict(self.state, scored, _at(t)))[pos]
        return out

    def recall_after_review(
        self, items: IntArray, review_at: float, at: float
    ) -> tuple[FloatArray, FloatArray]:
        """Recall at ``at`` if each item were answered right / wrong at ``review_at``."""
        from tutor.model.online import AttemptFeatures

        rows = self._rows(items)
        n = rows.shape[0]
        when, then = _at(review_at), _at(at)
        after = getattr(self.model, "predict_after_answer", None)
        if after is not None:
            if n == 0:
                return np.zeros(0), np.zeros(0)
            both = np.r_[rows, rows]
            if self.batch is not None:
                scored: Any = self.batch.take(both)
                graded = (self.batch.cols["self_graded"][both] > 0).tolist()
            else:
                scored = [self.candidates[int(k)] for k in both]
                graded = [c.kind.self_graded for c in scored]
            grades = [(3 if k < n else 1) if g else None for k, g in enumerate(graded)]
            p = after(self.state, scored, [True] * n + [False] * n, grades, when, then)
            p = np.asarray(p, dtype=np.float64)
            return p[:n], p[n:]
        cands = [self.candidates[int(k)] for k in rows]
        right, wrong = np.zeros(n), np.zeros(n)
        for j, cand in enumerate(cands):
            for correct, out in ((True, right), (False, wrong)):
                grade = (3 if correct else 1) if cand.kind.self_graded else None
                attempt = AttemptFeatures(cand, when, correct, grade)
                state = self.model.update(self.state, attempt)
                out[j] = float(np.asarray(self.model.predict(state, [cand], then))[0])
        return right, wrong
