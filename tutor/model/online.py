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

import functools
import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from tutor.items import ItemKind
from tutor.model.features import (
    EMA_RATE,
    SKILL_EMA_RATE,
    RawColumns,
    build_features,
    build_row,
    memory_step,
)
from tutor.model.scoring import (
    Groups,
    Head,
    StateStep,
    group_candidates,
    item_features,
    skill_rate,
    ui_features,
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
]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

# item table columns
_IC, _IW, _ILAST, _ISTEP, _ITIME, _IPREV, _IGRADE, _IFS, _IFD = range(9)
_ICOLS = 9
# tag table columns
_TC, _TW, _TLAST, _TSTEP, _TEMA, _TRUN = range(6)
_MAGIC = b"MTLS"
_STATE_VERSION = 1


@functools.lru_cache(maxsize=1 << 16)
def tag_key(tag: str) -> int:
    """Stable 63-bit integer key of a tag name."""
    return int.from_bytes(hashlib.blake2b(tag.encode("utf-8"), digest_size=8).digest(), "big") >> 1


def _check_utc(moment: datetime) -> float:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: pass a timezone-aware UTC datetime")
    return moment.timestamp()


@dataclass(frozen=True, slots=True)
class CandidateFeatures:
    """An item to score. Counts are over all learners (this one included)."""

    item_id: int
    tags: tuple[str, ...] = ()
    n_options: int = 0
    kind: ItemKind = ItemKind.MULTIPLE_CHOICE
    item_attempts: int = 0
    item_correct: int = 0
    tag_attempts: int = 0
    tag_correct: int = 0


@dataclass(frozen=True, slots=True)
class AttemptFeatures:
    """One answer to learn from. ``grade`` is the 1-4 self-grade of flashcards, else None."""

    item: CandidateFeatures
    timestamp: datetime
    correct: bool
    grade: int | None = None
    latency_ms: float | None = None

    def __post_init__(self) -> None:
        _check_utc(self.timestamp)
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

    def __len__(self) -> int:
        return int(self.item_ids.shape[0])

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
        }
        flat = [(i, k) for i, x in enumerate(cands) for k in dict.fromkeys(map(tag_key, x.tags))]
        return cls(
            item_ids=np.fromiter((x.item_id for x in cands), np.int64, n),
            cols=cols,
            tag_owner=np.fromiter((f[0] for f in flat), np.int64, len(flat)),
            tag_keys=np.fromiter((f[1] for f in flat), np.int64, len(flat)),
        )


Candidates = Sequence[CandidateFeatures] | CandidateBatch


@dataclass(slots=True)
class LearnerState:
    """One learner's model state (see the module docstring for what it holds)."""

    weights_id: str
    h: F32
    step: int = 0
    u_c: float = 0.0
    u_w: float = 0.0
    u_ema: float = float("nan")
    item_ids: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    items: F64 = field(default_factory=lambda: np.zeros((0, _ICOLS), np.float64))
    tag_ids: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    tags: F64 = field(default_factory=lambda: np.zeros((0, 6), np.float64))

    def to_bytes(self) -> bytes:
        """Compact binary form (versioned)."""
        wid = self.weights_id.encode("ascii")
        head = struct.pack(
            "<4sHH16sqdddII",
            _MAGIC,
            _STATE_VERSION,
            self.h.shape[0],
            wid[:16].ljust(16, b"\0"),
            self.step,
            self.u_c,
            self.u_w,
            self.u_ema,
            self.item_ids.shape[0],
            self.tag_ids.shape[0],
        )
        return b"".join(
            [
                head,
                self.h.astype("<f4").tobytes(),
                self.item_ids.astype("<i8").tobytes(),
                self.items.astype("<f8").tobytes(),
                self.tag_ids.astype("<i8").tobytes(),
                self.tags.astype("<f8").tobytes(),
            ]
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> LearnerState:
        """Parse :meth:`to_bytes` output; ``ValueError`` when it is not a valid state."""
        fmt = "<4sHH16sqdddII"
        size = struct.calcsize(fmt)
        if len(data) < size:
            raise ValueError("learner state too short")
        magic, version, n_h, wid, step, u_c, u_w, u_ema, n_i, n_t = struct.unpack_from(fmt, data)
        if magic != _MAGIC or version != _STATE_VERSION:
            raise ValueError("not a learner state of this version")
        sizes = [4 * n_h, 8 * n_i, 8 * _ICOLS * n_i, 8 * n_t, 48 * n_t]
        if len(data) != size + sum(sizes):
            raise ValueError("learner state has the wrong length")
        parts, off = [], size
        for n in sizes:
            parts.append(data[off : off + n])
            off += n
        return cls(
            weights_id=wid.rstrip(b"\0").decode("ascii"),
            h=np.frombuffer(parts[0], "<f4").astype(np.float32),
            step=step,
            u_c=u_c,
            u_w=u_w,
            u_ema=u_ema,
            item_ids=np.frombuffer(parts[1], "<i8").astype(np.int64),
            items=np.frombuffer(parts[2], "<f8").reshape(n_i, _ICOLS).astype(np.float64),
            tag_ids=np.frombuffer(parts[3], "<i8").astype(np.int64),
            tags=np.frombuffer(parts[4], "<f8").reshape(n_t, 6).astype(np.float64),
        )


def _lookup(ids: I64, keys: I64) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
    pos = np.searchsorted(ids, keys)
    pos_c = np.minimum(pos, max(ids.shape[0] - 1, 0))
    found = (
        (pos < ids.shape[0]) & (ids[pos_c] == keys) if ids.shape[0] else np.zeros(keys.shape, bool)
    )
    return pos_c, found


def _tag_history(state: LearnerState, owner: I64, keys: I64, n: int) -> dict[str, F64]:
    """The learner's history on the tags of ``n`` rows (``keys[k]`` is a tag of row
    ``owner[k]``, ``owner`` sorted): the ``us_*`` raw columns."""
    c = {name: np.zeros(n, np.float64) for name in ("us_c", "us_w", "us_gap", "us_run")}
    c["us_last"] = np.full(n, -1.0)
    c["us_ema"] = np.full(n, np.nan)
    if not (keys.shape[0] and state.tag_ids.shape[0]):
        return c
    tpos, tfound = _lookup(state.tag_ids, keys)
    tidx = np.flatnonzero(tfound)
    owner, rows = owner[tidx], state.tags[tpos[tidx]]
    if not owner.shape[0]:
        return c
    c["us_c"] = np.bincount(owner, rows[:, _TC], n).astype(np.float64)
    c["us_w"] = np.bincount(owner, rows[:, _TW], n).astype(np.float64)
    seen = np.bincount(owner, minlength=n).astype(np.float64)
    ema = np.bincount(owner, rows[:, _TEMA], n)
    np.divide(ema, seen, out=c["us_ema"], where=seen > 0)
    # the latest tag per row decides last outcome, gap and streak; ties (tags answered
    # together): the first tag of the item wins, as offline (each row's tags are contiguous)
    steps = rows[:, _TSTEP]
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    group = np.cumsum(np.r_[False, owner[1:] != owner[:-1]])
    at_max = np.flatnonzero(steps == np.maximum.reduceat(steps, starts)[group])
    last = at_max[np.r_[True, owner[at_max][1:] != owner[at_max][:-1]]]
    c["us_last"][owner[last]] = rows[last, _TLAST]
    c["us_gap"][owner[last]] = state.step - rows[last, _TSTEP]
    c["us_run"][owner[last]] = rows[last, _TRUN]
    return c


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
        pos, found = _lookup(state.item_ids, ids)
        fidx = np.flatnonzero(found)
        if fidx.shape[0]:
            rows = state.items[pos[fidx]].T  # one row per column: contiguous reads
            c["ui_c"][fidx] = rows[_IC]
            c["ui_w"][fidx] = rows[_IW]
            c["ui_last"][fidx] = rows[_ILAST]
            c["ui_gap"][fidx] = state.step - rows[_ISTEP]
            c["ui_dt"][fidx] = now - rows[_ITIME]
            c["ui_ivl"][fidx] = rows[_ITIME] - rows[_IPREV]
            c["ui_grade"][fidx] = rows[_IGRADE]
            c["ui_fsrs_s"][fidx] = rows[_IFS]
            c["ui_fsrs_d"][fidx] = rows[_IFD]
        # others' answers: leave this learner's own out
        c["item_n"] -= c["ui_c"] + c["ui_w"]
        c["item_c"] -= c["ui_c"]
        c.update(_tag_history(state, batch.tag_owner, batch.tag_keys, n))
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
            c["ui_c"], c["ui_w"], c["ui_last"] = r[_IC], r[_IW], r[_ILAST]
            c["ui_gap"] = state.step - r[_ISTEP]
            c["ui_dt"] = now - r[_ITIME]
            c["ui_ivl"] = r[_ITIME] - r[_IPREV]
            c["ui_grade"], c["ui_fsrs_s"], c["ui_fsrs_d"] = r[_IGRADE], r[_IFS], r[_IFD]
        c["item_n"] = cand.item_attempts - c["ui_c"] - c["ui_w"]
        c["item_c"] = cand.item_correct - c["ui_c"]
        seen = 0
        ema_sum = 0.0
        last_step = -1.0
        for key in dict.fromkeys(tag_key(t) for t in cand.tags):
            tpos = int(np.searchsorted(state.tag_ids, key))
            if tpos < state.tag_ids.shape[0] and state.tag_ids[tpos] == key:
                tr = state.tags[tpos].tolist()
                c["us_c"] += tr[_TC]
                c["us_w"] += tr[_TW]
                ema_sum += tr[_TEMA]
                seen += 1
                if tr[_TSTEP] > last_step:
                    last_step = tr[_TSTEP]
                    c["us_last"], c["us_run"] = tr[_TLAST], tr[_TRUN]
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
        t = _check_utc(now)
        if len(candidates) == 0:
            return np.zeros(0, np.float32)
        if self._head is not None:
            return self._score(state, _as_batch(candidates), t)
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
        gc.update(_tag_history(state, groups.owner, groups.keys, n_groups))
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
        pos, found = _lookup(state.item_ids, batch.item_ids)
        fidx = np.flatnonzero(found)
        ui = None
        if fidx.shape[0]:
            rows = state.items[pos[fidx]].T
            item_n[fidx] -= rows[_IC] + rows[_IW]
            item_c[fidx] -= rows[_IC]
            ui, dt[fidx] = ui_features(
                {
                    "ui_c": rows[_IC],
                    "ui_w": rows[_IW],
                    "ui_last": rows[_ILAST],
                    "ui_gap": state.step - rows[_ISTEP],
                    "ui_dt": now - rows[_ITIME],
                    "ui_ivl": rows[_ITIME] - rows[_IPREV],
                    "ui_grade": rows[_IGRADE],
                    "ui_fsrs_s": rows[_IFS],
                    "ui_fsrs_d": rows[_IFD],
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
        t = _check_utc(now)
        out = np.zeros((len(candidates), len(horizons)), np.float32)
        if len(candidates) == 0:
            return out
        if self._head is not None:
            # without study in between, recall at now + h is the prediction at now + h
            batch = _as_batch(candidates)
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
        now = _check_utc(attempt.timestamp)
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
        item_ids, items = _upsert_item(state, cand.item_id, y, now, g)
        tag_ids, tags = _upsert_tags(state, cand.tags, y)
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


def _as_batch(candidates: Candidates) -> CandidateBatch:
    if isinstance(candidates, CandidateBatch):
        return candidates
    return CandidateBatch.from_candidates(candidates)


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


def _upsert_item(
    state: LearnerState, item_id: int, y: float, now: float, g: float
) -> tuple[I64, F64]:
    pos = int(np.searchsorted(state.item_ids, item_id))
    step = float(state.step)
    if pos < state.item_ids.shape[0] and state.item_ids[pos] == item_id:
        items = state.items.copy()
        r = items[pos]
        r[_IFS], r[_IFD] = memory_step(r.tolist(), now, g, int(y))
        r[_IC] += y
        r[_IW] += 1.0 - y
        r[_ILAST] = y
        r[_ISTEP] = step
        r[_IPREV] = r[_ITIME]
        r[_ITIME] = now
        r[_IGRADE] = g
        return state.item_ids, items
    s_new, d_new = memory_step(None, now, g, int(y))
    row = np.array([y, 1.0 - y, y, step, now, np.nan, g, s_new, d_new])
    return np.insert(state.item_ids, pos, item_id), np.insert(state.items, pos, row, axis=0)


def _upsert_tags(state: LearnerState, tags: Sequence[str], y: float) -> tuple[I64, F64]:
    ids, table = state.tag_ids, state.tags.copy()
    for key in sorted({tag_key(t) for t in tags}):
        pos = int(np.searchsorted(ids, key))
        if pos < ids.shape[0] and ids[pos] == key:
            r = table[pos]
            r[_TC] += y
            r[_TW] += 1.0 - y
            r[_TLAST] = y
            r[_TSTEP] = float(state.step)
            r[_TEMA] = (1 - SKILL_EMA_RATE) * r[_TEMA] + SKILL_EMA_RATE * y
            r[_TRUN] = (
                (r[_TRUN] + 1 if r[_TRUN] > 0 else 1.0)
                if y
                else (r[_TRUN] - 1 if r[_TRUN] < 0 else -1.0)
            )
        else:
            row = np.array([y, 1.0 - y, y, float(state.step), y, 1.0 if y else -1.0])
            ids = np.insert(ids, pos, key)
            table = np.insert(table, pos, row, axis=0)
    return ids, table
