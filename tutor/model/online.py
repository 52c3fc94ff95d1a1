"""Online learner model for the tutor service: a small state per learner, cheap update and scoring.

Usage::

    model = LearnerModel.load()                      # shipped weights; torch is loaded here, once
    state = model.new_state()
    state = model.update(state, AttemptFeatures(...))  # after every answer
    p = model.predict(state, candidates, now)          # P(correct) per candidate item, now
    curve = model.recall_curve(state, candidates, now, [timedelta(days=d) for d in (1, 7, 21)])

What the service stores:

* per learner: ``state.to_bytes()`` (a few kB; it holds the learner's recurrent state and their
  history on every item and tag they answered: counts, last outcome, last time, last grade), so
  the service needs no per-(learner, item) table for the model;
* per item and per tag: the number of answers and of correct answers *by all learners, this one
  included* (the model subtracts the learner's own answers, which it knows from the state). Pass
  them as ``item_attempts``/``item_correct`` and, summed over the item's tags,
  ``tag_attempts``/``tag_correct``; likewise the residual sums ``item_resid``/``item_var`` and
  ``tag_resid``/``tag_var`` (see :class:`CandidateFeatures`), for the ability-adjusted
  difficulty inputs of weights that take them.

After a model upgrade, rebuild every state by replaying the attempts log in time order through
:meth:`LearnerModel.update` (``metatutor model replay``); states carry the weights' id and
:meth:`LearnerModel.update`/``predict`` reject states of other weights.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from tutor.model.ability import RAW_EXTRAS
from tutor.model.base_rate import deployment_rate
from tutor.model.batch import (
    AttemptFeatures,
    CandidateBatch,
    CandidateFeatures,
    Candidates,
    as_batch,
    check_utc,
)
from tutor.model.features import EMA_RATE, RawColumns, build_features, build_row
from tutor.model.head_outputs import cached_outputs, elapsed_days
from tutor.model.raw import raw_columns, raw_row
from tutor.model.recurrent import StateStep
from tutor.model.scoring import Head
from tutor.model.state import ITIME, LearnerState, lookup, tag_key, upsert_item, upsert_tags
from tutor.model.weights import DEFAULT_WEIGHTS, ModelLoadError, TrainedWeights

if TYPE_CHECKING:
    from tutor.model.network import LearnerNet

__all__ = [
    "AttemptFeatures",
    "CandidateBatch",
    "CandidateFeatures",
    "LearnerModel",
    "LearnerState",
    "ModelLoadError",
    "tag_key",
]

#: Replaced heads whose cache entries are still dropped (the rate moves a few times a day).
MAX_RETIRED = 16
F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


class LearnerModel:
    """The trained network plus the feature logic, for one process (see the module docstring)."""

    def __init__(self, weights: TrainedWeights, weights_id: str) -> None:
        import torch

        from tutor.model.train import build_net

        self.weights = weights
        self.weights_id = weights_id
        self.net: LearnerNet = build_net(weights)
        #: the weights' extra inputs, appended after the standard features
        self.extra: tuple[str, ...] = tuple(self.net.cfg.extra_features)
        if not RAW_EXTRAS.issuperset(self.extra):
            raise ValueError(f"extra inputs the service cannot compute: {self.extra}")
        self.temperature = weights.temperature
        self.prior_rate = weights.prior_rate
        self._torch = torch
        with torch.no_grad():
            self._h0 = self.net.h0.detach().numpy().astype(np.float32).copy()
        #: heads replaced after a change of the base rate, whose cache entries are dropped
        self._retired: dict[int, Head] = {}
        try:
            self._head: Head | None = Head(self.net, self.temperature, self.prior_rate)
        except ValueError:  # a network or feature set the fast path does not know
            self._head = None
        try:
            self._step: StateStep | None = StateStep(self.net)
        except ValueError:
            self._step = None

    @classmethod
    def load(cls, path: Path | None = None) -> LearnerModel:
        """Load weights (default: the shipped ones); :class:`ModelLoadError` if missing/corrupt."""
        target = path or DEFAULT_WEIGHTS
        try:
            data = target.read_bytes()
        except OSError as exc:
            raise ModelLoadError(f"cannot open weights {target}: {exc}") from exc
        weights = TrainedWeights.from_bytes(data)
        try:
            return cls(weights, hashlib.blake2b(data, digest_size=8).hexdigest())
        except (RuntimeError, TypeError, ValueError, KeyError) as exc:
            raise ModelLoadError(f"weights do not fit the network: {exc}") from exc

    def use_base_rate(self, answers: int, correct: int) -> None:
        """Relate the inputs to the deployment's own base rate, from its students' tallies
        (``answers`` in all, ``correct`` of them right; :mod:`tutor.model.base_rate`)."""
        self.prior_rate = deployment_rate(answers, correct, self.weights.prior_rate)

    def new_state(self) -> LearnerState:
        """The state of a learner with no answers yet."""
        return LearnerState(weights_id=self.weights_id, h=self._h0.copy())

    def _check(self, state: LearnerState) -> None:
        if state.weights_id != self.weights_id:
            raise ValueError("learner state belongs to other weights: replay the attempts log")

    def _raw(self, state: LearnerState, cands: Candidates, now: float) -> RawColumns:
        """Raw columns of the candidates (:func:`tutor.model.raw.raw_columns`)."""
        return raw_columns(state, cands, now, self.prior_rate)

    def _probs(self, state: LearnerState, x: F32, dt: F32) -> F32:
        torch = self._torch
        net = self.net
        with torch.inference_mode():
            xt = net.mask_user(torch.from_numpy(x))
            ht = torch.from_numpy(state.h if net.cfg.use_state else self._h0)
            out = net.mlp(net.fx(xt) + net.fh(ht))
            z = net.combine(out, torch.from_numpy(dt)) / self.temperature
            from tutor.model.network import GUESS_INDEX

            p = net.prob(z, xt[:, GUESS_INDEX])
        return p.numpy().astype(np.float32)

    def _raw_one(
        self, state: LearnerState, cand: CandidateFeatures, now: float
    ) -> dict[str, float]:
        """Raw values of one candidate (:func:`tutor.model.raw.raw_row`)."""
        return raw_row(state, cand, now, self.prior_rate)

    @staticmethod
    def prepare(candidates: Sequence[CandidateFeatures]) -> CandidateBatch:
        """Columnar candidates: build once per deck and reuse for fast scoring."""
        return CandidateBatch.from_candidates(candidates)

    def predict(self, state: LearnerState, candidates: Candidates, now: datetime) -> F32:
        """P(correct) of each candidate if asked at ``now`` (aware UTC)."""
        self._check(state)
        t = check_utc(now)
        if len(candidates) == 0:
            return np.zeros(0, np.float32)
        if self._head is not None:
            return self._score(state, as_batch(candidates), t)
        return self._reference(state, candidates, t)

    def _reference(self, state: LearnerState, candidates: Candidates, now: float) -> F32:
        """:meth:`predict` the straightforward way: all raw columns, features, the network."""
        x, dt = build_features(self._raw(state, candidates, now), self.extra)
        return self._probs(state, x, dt)

    def predict_at(self, state: LearnerState, candidates: Candidates, rows: I64, at: F64) -> F32:
        """P(correct) of candidate ``rows[k]`` if asked at Unix time ``at[k]``, for every ``k``.

        The same as :meth:`predict` per distinct time, but on the fast path each candidate's
        network head runs once whatever the number of times: only the forgetting term depends
        on the time asked (e.g. one item at many times costs about one prediction).
        """
        self._check(state)
        rows = np.asarray(rows, np.int64)
        at = np.asarray(at, np.float64)
        if rows.shape != at.shape or rows.ndim != 1:
            raise ValueError("rows and at must be 1-d arrays of the same length")
        if not rows.shape[0]:
            return np.zeros(0, np.float32)
        if not np.isfinite(at).all():
            raise ValueError("times must be finite Unix seconds")
        if self._head is None:
            out = np.zeros(rows.shape[0], np.float32)
            for t in np.unique(at):
                sel = np.flatnonzero(at == t)
                out[sel] = self._reference(state, candidates, float(t))[rows[sel]]
            return out
        head, out3, guess, last = self._outputs(state, as_batch(candidates), float(at[0]))
        return head.recall(out3[rows], elapsed_days(at, last[rows]), guess[rows])

    def _score(self, state: LearnerState, batch: CandidateBatch, now: float) -> F32:
        """:meth:`predict` by blocks (see :mod:`tutor.model.scoring`); same outputs."""
        head, out, guess, last = self._outputs(state, batch, now)
        return head.recall(out, elapsed_days(np.full(len(batch), now), last), guess)

    def _outputs(
        self, state: LearnerState, batch: CandidateBatch, now: float
    ) -> tuple[Head, F32, F32, F64]:
        """The fast path up to the head's outputs ``[n, 3]``, with the guess rates and the
        time of each candidate's last answer (NaN: never answered)."""
        head = self._head
        assert head is not None
        if (head.prior_rate, head.temperature) != (self.prior_rate, self.temperature):
            self._retired[id(head)] = head  # kept alive, so its id is not reused
            while len(self._retired) > MAX_RETIRED:
                del self._retired[next(iter(self._retired))]
            head = self._head = Head(self.net, self.temperature, self.prior_rate)
        return cached_outputs(head, state, batch, now, self.extra, self._retired)

    def recall_curve(
        self,
        state: LearnerState,
        candidates: Candidates,
        now: datetime,
        horizons: Sequence[timedelta],
    ) -> F32:
        """P(correct) ``[n_candidates, n_horizons]`` at ``now + h`` with no study in between."""
        self._check(state)
        t = check_utc(now)
        out = np.zeros((len(candidates), len(horizons)), np.float32)
        if len(candidates) == 0:
            return out
        if self._head is not None:
            # without study in between, recall at now + h is the prediction at now + h
            batch = as_batch(candidates)
            for j, h in enumerate(horizons):
                out[:, j] = self._score(state, batch, t + h.total_seconds())
            return out
        raw = self._raw(state, candidates, t)
        base_dt = raw.cols["ui_dt"].copy()
        for j, h in enumerate(horizons):
            raw.cols["ui_dt"] = base_dt + h.total_seconds()
            x, dt = build_features(raw, self.extra)
            out[:, j] = self._probs(state, x, dt)
        return out

    def predict_after_answer(
        self,
        state: LearnerState,
        candidates: Candidates,
        correct: Sequence[bool],
        grades: Sequence[int | None],
        answered_at: datetime,
        at: datetime,
    ) -> F32:
        """P(correct) of each candidate at ``at`` if it alone had been answered at
        ``answered_at`` (``correct[k]``, ``grades[k]``: 1-4 or None), the tallies unchanged:
        ``predict(update(state, answer_k), [candidate_k], at)`` for every ``k`` in one batch."""
        from tutor.model.whatif import recall_after_answers

        self._check(state)
        t0, t1 = check_utc(answered_at), check_utc(at)
        n = len(candidates)
        if len(correct) != n or len(grades) != n:
            raise ValueError("one outcome and one grade per candidate")
        if any(g is not None and not 1 <= g <= 4 for g in grades):
            raise ValueError("grades must be 1-4 or None")
        if n == 0:
            return np.zeros(0, np.float32)
        y = np.fromiter(correct, np.float64, n)
        g = np.fromiter((0.0 if x is None else float(x) for x in grades), np.float64, n)
        return recall_after_answers(self, state, as_batch(candidates), y, g, t0, t1)

    def update(self, state: LearnerState, attempt: AttemptFeatures) -> LearnerState:
        """A new state that has learned from ``attempt`` (the input state is not modified)."""
        self._check(state)
        now = check_utc(attempt.timestamp)
        row, dt_one = build_row(self._raw_one(state, attempt.item, now), self.extra)
        return self._learn(state, attempt, now, row, dt_one)

    def predict_and_update(
        self, state: LearnerState, attempt: AttemptFeatures
    ) -> tuple[float, LearnerState]:
        """P(correct) of ``attempt``'s item at its time, predicted before the answer, and the
        state after learning from it: :meth:`predict` then :meth:`update`, from one input row
        (what the per-learner calibration needs on every answer)."""
        self._check(state)
        now = check_utc(attempt.timestamp)
        row, dt_one = build_row(self._raw_one(state, attempt.item, now), self.extra)
        head = self._head
        if head is None or (head.prior_rate, head.temperature) != (
            self.prior_rate,
            self.temperature,
        ):
            p = float(self.predict(state, [attempt.item], attempt.timestamp)[0])
        else:
            x = np.array([row], np.float32)
            out = head.outputs(head.dense(x, state.h))
            pos, found = lookup(state.item_ids, np.array([attempt.item.item_id], np.int64))
            last = np.array([state.items[pos[0], ITIME] if found[0] else np.nan])
            elapsed = elapsed_days(np.array([now]), last)
            p = float(head.recall(out, elapsed, np.ascontiguousarray(x[:, head.guess_index]))[0])
        return p, self._learn(state, attempt, now, row, dt_one)

    def _learn(
        self,
        state: LearnerState,
        attempt: AttemptFeatures,
        now: float,
        row: list[float],
        dt_one: float,
    ) -> LearnerState:
        """:meth:`update` from the attempt's input row."""
        cand = attempt.item
        y = 1.0 if attempt.correct else 0.0
        g = float(attempt.grade) if attempt.grade is not None else 0.0
        new_h = state.h
        if self.net.cfg.use_state:
            step = [y, (g - 2.5) / 1.5 if g else 0.0]
            if self._step is not None:
                new_h = self._step(state.h, row, step, dt_one)
            else:
                new_h = self._torch_step(state.h, row, step, dt_one)
        item_ids, items = upsert_item(state, cand.item_id, y, now, g)
        tag_ids, tags = upsert_tags(state, cand.tags, y)
        ema = y if np.isnan(state.u_ema) else (1 - EMA_RATE) * state.u_ema + EMA_RATE * y
        return LearnerState(
            weights_id=state.weights_id,
            h=new_h,
            step=state.step + 1,
            u_c=state.u_c + y,
            u_w=state.u_w + 1.0 - y,
            u_ema=float(ema),
            item_ids=item_ids,
            items=items,
            tag_ids=tag_ids,
            tags=tags,
        )

    def _torch_step(self, h: F32, row: list[float], step: list[float], dt_one: float) -> F32:
        """The recurrent update by the torch network (the reference of :class:`StateStep`)."""
        torch = self._torch
        x = np.asarray([row], dtype=np.float32)
        dt = np.asarray([dt_one], dtype=np.float32)
        with torch.inference_mode():
            xt = self.net.mask_user(torch.from_numpy(x))
            st = torch.tensor([step], dtype=torch.float32)
            u = self.net.step_input(xt, st, torch.from_numpy(dt))
            _, out = self.net.gru(u.view(1, 1, -1), torch.from_numpy(h).view(1, 1, -1))
            new_h: F32 = out.view(-1).numpy().astype(np.float32).copy()
        return new_h

    def replay(self, attempts: Iterable[AttemptFeatures]) -> LearnerState:
        """A learner's state rebuilt from their attempts in time order (after a model upgrade).

        Pass each attempt's item counts as they stood right after that attempt.
        """
        state = self.new_state()
        for attempt in attempts:
            state = self.update(state, attempt)
        return state

    def describe(self) -> dict[str, Any]:
        """Configuration and training summary of the loaded weights."""
        return {"weights_id": self.weights_id, "config": self.weights.config} | self.weights.meta
