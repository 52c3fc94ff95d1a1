"""Simulated students' memory: FSRS-6 (fitted to real logs) and ACT-R (a second family).

Both advance many students at once: state arrays are ``(students, items)``. Time is in
whole days since the start; reviews happen on a day, and an item answered wrong is shown
again later in the same session (a relearning step), which the memory models as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from tutor.simulation import fsrs_math as fm

F = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]
I = npt.NDArray[np.int64]  # noqa: E741

GOOD = 3


class Memory(Protocol):
    """The true memory of a population of simulated students."""

    def recall(self, day: float | F) -> F: ...

    def p_success(self, day: float) -> F: ...

    def review(self, mask: B, day: float, grade: I) -> None: ...


def _first_success(p_first: F, offset: F) -> F:
    """Chance of knowing an item at first sight: the student's rate, shifted by item difficulty."""
    logit = np.log(p_first / (1.0 - p_first))[:, None] - 0.8 * offset
    return 1.0 / (1.0 + np.exp(-logit))


@dataclass
class FSRSMemory:
    """FSRS-6 memory with per-student parameters ``w`` (S, 21) and per-item difficulty offsets.

    An item's offset ``delta`` (standard normal) raises its initial difficulty by ``1.5*delta``
    and scales its initial stability by ``exp(-0.3*delta)``.
    """

    w: F
    offset: F
    p_first: F

    def __post_init__(self) -> None:
        shape = self.offset.shape
        self.d = np.full(shape, 5.0)
        self.s = np.ones(shape)
        self.last = np.zeros(shape)
        self.seen = np.zeros(shape, dtype=bool)
        self.first = _first_success(self.p_first, self.offset)

    def recall(self, day: float | F) -> F:
        """P(recall) of every item on ``day`` (0 for items never seen); ``day`` may be a
        per-student array."""
        at = np.asarray(day, np.float64)
        r = fm.retrievability(self.w, (at[:, None] if at.ndim == 1 else at) - self.last, self.s)
        return np.where(self.seen, r, 0.0)

    def p_success(self, day: float) -> F:
        """P(right answer) if asked on ``day``; for an unseen item, the chance of knowing it."""
        return np.where(self.seen, self.recall(day), self.first)

    def review(self, mask: B, day: float, grade: I) -> None:
        """Apply one review (rated ``grade``) to the masked items, plus the relearning step."""
        (r, c), w, (d0, s0, last, seen, g, off) = fm.gather(
            mask, self.w, self.d, self.s, self.last, self.seen, grade, self.offset
        )
        new = ~seen.astype(bool)
        g = g.astype(np.int64)
        d, s = fm.review(w, d0, s0, day - last, new, g)
        d = np.where(new, np.clip(d + 1.5 * off, fm.D_MIN, fm.D_MAX), d)
        s = np.where(new, s * np.exp(-0.3 * off), s)
        again = g == 1
        good = np.full_like(g, GOOD)
        d = np.where(again, fm.next_difficulty(w, d, good), d)
        s = np.where(again, fm.short_term_stability(w, s, good), s)
        self.d[r, c] = d[:, 0]
        self.s[r, c] = s[:, 0]
        self.last[r, c] = day
        self.seen |= mask


@dataclass
class ACTRMemory:
    """ACT-R declarative memory with activation-dependent decay (Pavlik & Anderson, 2005).

    Activation ``m = ln(sum_j (t - t_j) ** -d_j)``, each presentation's decay
    ``d_j = c * exp(m(t_j)) + alpha``; P(recall) = logistic((m - tau) / s). Time between days
    runs ``h`` times slower than within a session (psychological time). The last ``slots``
    presentations of each item are kept.
    """

    alpha: F
    tau: F
    offset: F
    p_first: F
    c: float = 0.217
    noise: float = 0.255
    h: float = 0.025
    slots: int = 16
    relearn_seconds: float = 60.0

    def __post_init__(self) -> None:
        shape = (*self.offset.shape, self.slots)
        self.times = np.full(shape, np.nan)
        self.decays = np.zeros(shape)
        self.count = np.zeros(self.offset.shape, dtype=np.int64)

    def _clock(self, day: float | F) -> F:
        t = np.asarray(day, np.float64) * 86_400.0 * self.h
        return t[:, None, None] if t.ndim == 1 else t

    def activation(self, t: float | F) -> F:
        """Activation of every item at psychological time ``t`` (-inf when never seen); ``t``
        may be per student, shaped ``(S, 1, 1)``."""
        age = t - self.times
        valid = np.isfinite(age) & (age > 0)
        terms = np.where(valid, np.maximum(age, 1e-9) ** -self.decays, 0.0)
        total = terms.sum(axis=2)
        with np.errstate(divide="ignore"):
            return np.where(total > 0, np.log(total), -np.inf)

    def _recall_at(self, t: float | F) -> F:
        z = (self.activation(t) - (self.tau[:, None] + 0.3 * self.offset)) / self.noise
        return 1.0 / (1.0 + np.exp(-z))

    def recall(self, day: float | F) -> F:
        """P(recall) of every item on ``day`` (0 for items never seen); ``day`` may be a
        per-student array."""
        return np.where(self.count > 0, self._recall_at(self._clock(day)), 0.0)

    def p_success(self, day: float) -> F:
        """P(right answer) if asked on ``day``; for an unseen item, the chance of knowing it."""
        seen = self.count > 0
        return np.where(seen, self.recall(day), _first_success(self.p_first, self.offset))

    def _present(self, mask: B, t: float) -> None:
        m = self.activation(t)
        decay = self.c * np.exp(np.minimum(m, 5.0)) + self.alpha[:, None]
        rows, cols = np.nonzero(mask)
        slot = self.count[rows, cols] % self.slots
        self.times[rows, cols, slot] = t
        self.decays[rows, cols, slot] = decay[rows, cols]
        self.count[rows, cols] += 1

    def review(self, mask: B, day: float, grade: I) -> None:
        """One presentation of the masked items, and a second one for those answered wrong."""
        t = float(self._clock(day))
        self._present(mask, t)
        self._present(mask & (grade == 1), t + self.relearn_seconds)
