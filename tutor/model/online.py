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
  ``tag_attempts``/``tag_correct``.

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

from tutor.model.batch import (
    AttemptFeatures,
    CandidateBatch,
    CandidateFeatures,
    Candidates,
    as_batch,
    check_utc,
)
from tutor.model.features import EMA_RATE, RawColumns, build_features, build_row
from tutor.model.scoring import (
    Groups,
    Head,
    StateStep,
    group_candidates,
    item_features,
    skill_rate,
    ui_features,
)
from tutor.model.state import (
    IC,
    IFD,
    IFS,
    IGRADE,
    ILAST,
    IPREV,
    ISTEP,
    ITIME,
    IW,
    TC,
    TEMA,
    TLAST,
    TRUN,
    TSTEP,
    TW,
    LearnerState,
    lookup,
    tag_history,
    tag_key,
    upsert_item,
    upsert_tags,
)
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

F32 = npt.NDArray[np.float32]


class LearnerModel:
    """The trained network plus the feature logic, for one process (see the module docstring)."""

    def __init__(self, weights: TrainedWeights, weights_id: str) -> None:
        import torch

        from tutor.model.train import build_net

        self.weights = weights
        self.weights_id = weights_id
        self.net: LearnerNet = build_net(weights)
        self.temperature = weights.temperature
        self.prior_rate = weights.prior_rate
        self._torch = torch
        with torch.no_grad():
            self._h0 = self.net.h0.detach().numpy().astype(np.float32).copy()
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

    def new_state(self) -> LearnerState:
        """The state of a learner with no answers yet."""
        return LearnerState(weights_id=self.weights_id, h=self._h0.copy())

    def _check(self, state: LearnerState) -> None:
        if state.weights_id != self.weights_id:
            raise ValueError("learner state belongs to other weights: replay the attempts log")

    def _raw(self, state: LearnerState, cands: Candidates, now: float) -> RawColumns:
        batch = (
            cands if isinstance(cands, CandidateBatch) else CandidateBatch.from_candidates(cands)
        )
        n = len(batch)
        raw = RawColumns.empty(n)
        c = raw.cols
        ids = batch.item_ids
        for name, values in batch.cols.items():
            c[name] = values.copy()
        c["prior_rate"][:] = self.prior_rate
        pos, found = lookup(state.item_ids, ids)
        fidx = np.flatnonzero(found)
        if fidx.shape[0]:
            rows = state.items[pos[fidx]].T  # one row per column: contiguous reads
            c["ui_c"][fidx] = rows[IC]
            c["ui_w"][fidx] = rows[IW]
            c["ui_last"][fidx] = rows[ILAST]
            c["ui_gap"][fidx] = state.step - rows[ISTEP]
            c["ui_dt"][fidx] = now - rows[ITIME]
            c["ui_ivl"][fidx] = rows[ITIME] - rows[IPREV]
            c["ui_grade"][fidx] = rows[IGRADE]
            c["ui_fsrs_s"][fidx] = rows[IFS]
            c["ui_fsrs_d"][fidx] = rows[IFD]
        # others' answers: leave this learner's own out
        c["item_n"] -= c["ui_c"] + c["ui_w"]
        c["item_c"] -= c["ui_c"]
        c.update(tag_history(state, batch.tag_owner, batch.tag_keys, n))
        c["skill_n"] -= c["us_c"] + c["us_w"]
        c["skill_c"] -= c["us_c"]
        c["u_c"][:] = state.u_c
        c["u_w"][:] = state.u_w
        c["u_ema"][:] = state.u_ema
        return raw

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
        """Raw values of one candidate (the scalar twin of :meth:`_raw`)."""
        nan = float("nan")
        c: dict[str, float] = {
            "prior_rate": self.prior_rate,
            "n_skills": float(len(cand.tags)),
            "n_options": float(cand.n_options),
            "self_graded": 1.0 if cand.kind.self_graded else 0.0,
            "ui_c": 0.0, "ui_w": 0.0, "ui_last": -1.0, "ui_gap": 0.0, "ui_dt": nan,
            "ui_ivl": nan, "ui_grade": 0.0, "ui_fsrs_s": nan, "ui_fsrs_d": nan,
            "us_c": 0.0, "us_w": 0.0, "us_last": -1.0, "us_gap": 0.0, "us_ema": nan,
            "us_run": 0.0, "u_c": state.u_c, "u_w": state.u_w, "u_ema": state.u_ema,
        }  # fmt: skip
        pos = int(np.searchsorted(state.item_ids, cand.item_id))
        if pos < state.item_ids.shape[0] and state.item_ids[pos] == cand.item_id:
            r = state.items[pos].tolist()
            c["ui_c"], c["ui_w"], c["ui_last"] = r[IC], r[IW], r[ILAST]
            c["ui_gap"] = state.step - r[ISTEP]
            c["ui_dt"] = now - r[ITIME]
            c["ui_ivl"] = r[ITIME] - r[IPREV]
            c["ui_grade"], c["ui_fsrs_s"], c["ui_fsrs_d"] = r[IGRADE], r[IFS], r[IFD]
        c["item_n"] = cand.item_attempts - c["ui_c"] - c["ui_w"]
        c["item_c"] = cand.item_correct - c["ui_c"]
        seen = 0
        ema_sum = 0.0
        last_step = -1.0
        for key in dict.fromkeys(tag_key(t) for t in cand.tags):
            tpos = int(np.searchsorted(state.tag_ids, key))
            if tpos < state.tag_ids.shape[0] and state.tag_ids[tpos] == key:
                tr = state.tags[tpos].tolist()
                c["us_c"] += tr[TC]
                c["us_w"] += tr[TW]
                ema_sum += tr[TEMA]
                seen += 1
                if tr[TSTEP] > last_step:
                    last_step = tr[TSTEP]
                    c["us_last"], c["us_run"] = tr[TLAST], tr[TRUN]
        if seen:
            c["us_ema"] = ema_sum / seen
            c["us_gap"] = state.step - last_step
        c["skill_n"] = cand.tag_attempts - c["us_c"] - c["us_w"]
        c["skill_c"] = cand.tag_correct - c["us_c"]
        return c

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
        x, dt = build_features(self._raw(state, candidates, now))
        return self._probs(state, x, dt)

    def _score(self, state: LearnerState, batch: CandidateBatch, now: float) -> F32:
        """:meth:`predict` by blocks (see :mod:`tutor.model.scoring`); same outputs."""
        head = self._head
        assert head is not None
        if (head.prior_rate, head.temperature) != (self.prior_rate, self.temperature):
            head = self._head = Head(self.net, self.temperature, self.prior_rate)
        groups = _groups(batch)
        fixed = batch.cache.get(head)
        if fixed is None:
            raw = RawColumns.empty(len(batch))
            for name in ("n_options", "self_graded", "n_skills"):
                raw.cols[name] = batch.cols[name]
            raw.cols["prior_rate"][:] = self.prior_rate
            fixed = batch.cache[head] = head.static(raw)
        base, guess = fixed
        # per group of candidates: tags, the learner's history on them, user-level features
        n_groups = len(groups)
        graw = RawColumns.empty(n_groups)
        gc = graw.cols
        gc.update(tag_history(state, groups.owner, groups.keys, n_groups))
        gc["skill_n"] = groups.skill_n - (gc["us_c"] + gc["us_w"])
        gc["skill_c"] = groups.skill_c - gc["us_c"]
        gc["n_skills"] = groups.n_skills
        gc["prior_rate"][:] = self.prior_rate
        gc["u_c"][:] = state.u_c
        gc["u_w"][:] = state.u_w
        gc["u_ema"][:] = state.u_ema
        group = head.group_part(graw, state.h)
        # per answered candidate: the learner's history on the item
        item_n = batch.cols["item_n"].copy()
        item_c = batch.cols["item_c"].copy()
        dt = np.full(len(batch), -1.0, np.float32)
        pos, found = lookup(state.item_ids, batch.item_ids)
        fidx = np.flatnonzero(found)
        ui = None
        if fidx.shape[0]:
            rows = state.items[pos[fidx]].T
            item_n[fidx] -= rows[IC] + rows[IW]
            item_c[fidx] -= rows[IC]
            ui, dt[fidx] = ui_features(
                {
                    "ui_c": rows[IC],
                    "ui_w": rows[IW],
                    "ui_last": rows[ILAST],
                    "ui_gap": state.step - rows[ISTEP],
                    "ui_dt": now - rows[ITIME],
                    "ui_ivl": rows[ITIME] - rows[IPREV],
                    "ui_grade": rows[IGRADE],
                    "ui_fsrs_s": rows[IFS],
                    "ui_fsrs_d": rows[IFD],
                }
            )
        # per candidate: the item's smoothed rate and answer count
        rate = skill_rate(self.prior_rate, gc["skill_n"], gc["skill_c"])
        item = item_features(item_n, item_c, rate[groups.of])
        pre = head.first_layer(base, group, groups.of, item, fidx, ui)
        return head.probs(pre, dt, guess)

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
            x, dt = build_features(raw)
            out[:, j] = self._probs(state, x, dt)
        return out

    def update(self, state: LearnerState, attempt: AttemptFeatures) -> LearnerState:
        """A new state that has learned from ``attempt`` (the input state is not modified)."""
        self._check(state)
        now = check_utc(attempt.timestamp)
        cand = attempt.item
        row, dt_one = build_row(self._raw_one(state, cand, now))
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


def _groups(batch: CandidateBatch) -> Groups:
    """The batch's candidates grouped by tags and tag counts (cached on the batch)."""
    groups = batch.cache.get("groups")
    if groups is None:
        c = batch.cols
        groups = batch.cache["groups"] = group_candidates(
            batch.tag_owner, batch.tag_keys, c["skill_n"], c["skill_c"], c["n_skills"]
        )
    assert isinstance(groups, Groups)
    return groups
