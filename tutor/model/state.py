"""A learner's model state: its tables of item and tag history, their updates and binary form.

The item table has one row per item the learner answered (columns :data:`IC` ... :data:`IV`),
the tag table one row per tag (:data:`TC` ... :data:`TV`); both are sorted by id. ``IR``/``IV``
and ``TR``/``TV`` are the learner's own shares of the item's and tag's residual sums (what the
service's tallies hold for all learners, see :func:`tutor.model.ability.ability_residuals`),
so the model can leave them out as it does the learner's own answer counts.
"""

from __future__ import annotations

import functools
import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tutor.model.ability import ability
from tutor.model.features import SKILL_EMA_RATE
from tutor.model.history import memory_step

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

# item table columns
IC, IW, ILAST, ISTEP, ITIME, IPREV, IGRADE, IFS, IFD, IR, IV = range(11)
ICOLS = 11
# tag table columns
TC, TW, TLAST, TSTEP, TEMA, TRUN, TR, TV = range(8)
TCOLS = 8
_MAGIC = b"MTLS"
_STATE_VERSION = 2


@functools.lru_cache(maxsize=1 << 16)
def tag_key(tag: str) -> int:
    """Stable 63-bit integer key of a tag name."""
    return int.from_bytes(hashlib.blake2b(tag.encode("utf-8"), digest_size=8).digest(), "big") >> 1


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
    items: F64 = field(default_factory=lambda: np.zeros((0, ICOLS), np.float64))
    tag_ids: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    tags: F64 = field(default_factory=lambda: np.zeros((0, TCOLS), np.float64))

    def residual(self, correct: float) -> tuple[float, float]:
        """This learner's residual ``correct - p`` and variance ``p (1 - p)`` of an answer
        now (``p``: :func:`tutor.model.ability.ability` from the answers so far)."""
        p = ability(self.u_c, self.u_c + self.u_w)
        return correct - p, p * (1.0 - p)

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
        sizes = [4 * n_h, 8 * n_i, 8 * ICOLS * n_i, 8 * n_t, 8 * TCOLS * n_t]
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
            items=np.frombuffer(parts[2], "<f8").reshape(n_i, ICOLS).astype(np.float64),
            tag_ids=np.frombuffer(parts[3], "<i8").astype(np.int64),
            tags=np.frombuffer(parts[4], "<f8").reshape(n_t, TCOLS).astype(np.float64),
        )


def lookup(ids: I64, keys: I64) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
    pos = np.searchsorted(ids, keys)
    pos_c = np.minimum(pos, max(ids.shape[0] - 1, 0))
    found = (
        (pos < ids.shape[0]) & (ids[pos_c] == keys) if ids.shape[0] else np.zeros(keys.shape, bool)
    )
    return pos_c, found


def tag_history(state: LearnerState, owner: I64, keys: I64, n: int) -> dict[str, F64]:
    """The learner's history on the tags of ``n`` rows (``keys[k]`` is a tag of row
    ``owner[k]``, ``owner`` sorted): the ``us_*`` raw columns, and ``us_r`` / ``us_v``, the
    learner's own shares of the tags' residual sums (to leave out of the tallies)."""
    c = {name: np.zeros(n, np.float64) for name in ("us_c", "us_w", "us_gap", "us_run")}
    c["us_r"] = np.zeros(n, np.float64)
    c["us_v"] = np.zeros(n, np.float64)
    c["us_last"] = np.full(n, -1.0)
    c["us_ema"] = np.full(n, np.nan)
    if not (keys.shape[0] and state.tag_ids.shape[0]):
        return c
    tpos, tfound = lookup(state.tag_ids, keys)
    tidx = np.flatnonzero(tfound)
    owner, rows = owner[tidx], state.tags[tpos[tidx]]
    if not owner.shape[0]:
        return c
    c["us_c"] = np.bincount(owner, rows[:, TC], n).astype(np.float64)
    c["us_w"] = np.bincount(owner, rows[:, TW], n).astype(np.float64)
    c["us_r"] = np.bincount(owner, rows[:, TR], n).astype(np.float64)
    c["us_v"] = np.bincount(owner, rows[:, TV], n).astype(np.float64)
    seen = np.bincount(owner, minlength=n).astype(np.float64)
    ema = np.bincount(owner, rows[:, TEMA], n)
    np.divide(ema, seen, out=c["us_ema"], where=seen > 0)
    # the latest tag per row decides last outcome, gap and streak; ties (tags answered
    # together): the first tag of the item wins, as offline (each row's tags are contiguous)
    steps = rows[:, TSTEP]
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    group = np.cumsum(np.r_[False, owner[1:] != owner[:-1]])
    at_max = np.flatnonzero(steps == np.maximum.reduceat(steps, starts)[group])
    last = at_max[np.r_[True, owner[at_max][1:] != owner[at_max][:-1]]]
    c["us_last"][owner[last]] = rows[last, TLAST]
    c["us_gap"][owner[last]] = state.step - rows[last, TSTEP]
    c["us_run"][owner[last]] = rows[last, TRUN]
    return c


def upsert_item(
    state: LearnerState, item_id: int, y: float, now: float, g: float
) -> tuple[I64, F64]:
    pos = int(np.searchsorted(state.item_ids, item_id))
    step = float(state.step)
    resid, var = state.residual(y)
    if pos < state.item_ids.shape[0] and state.item_ids[pos] == item_id:
        items = state.items.copy()
        r = items[pos]
        r[IFS], r[IFD] = memory_step(r.tolist(), now, g, int(y))
        r[IR] += resid
        r[IV] += var
        r[IC] += y
        r[IW] += 1.0 - y
        r[ILAST] = y
        r[ISTEP] = step
        r[IPREV] = r[ITIME]
        r[ITIME] = now
        r[IGRADE] = g
        return state.item_ids, items
    s_new, d_new = memory_step(None, now, g, int(y))
    row = np.array([y, 1.0 - y, y, step, now, np.nan, g, s_new, d_new, resid, var])
    return np.insert(state.item_ids, pos, item_id), np.insert(state.items, pos, row, axis=0)


def upsert_tags(state: LearnerState, tags: Sequence[str], y: float) -> tuple[I64, F64]:
    ids, table = state.tag_ids, state.tags.copy()
    resid, var = state.residual(y)
    for key in sorted({tag_key(t) for t in tags}):
        pos = int(np.searchsorted(ids, key))
        if pos < ids.shape[0] and ids[pos] == key:
            r = table[pos]
            r[TC] += y
            r[TW] += 1.0 - y
            r[TLAST] = y
            r[TSTEP] = float(state.step)
            r[TEMA] = (1 - SKILL_EMA_RATE) * r[TEMA] + SKILL_EMA_RATE * y
            r[TRUN] = (
                (r[TRUN] + 1 if r[TRUN] > 0 else 1.0)
                if y
                else (r[TRUN] - 1 if r[TRUN] < 0 else -1.0)
            )
            r[TR] += resid
            r[TV] += var
        else:
            row = np.array([y, 1.0 - y, y, float(state.step), y, 1.0 if y else -1.0, resid, var])
            ids = np.insert(ids, pos, key)
            table = np.insert(table, pos, row, axis=0)
    return ids, table
