"""Scheduling policies under test, each advancing a whole population of students at once.

Every day a policy returns a priority key per (student, item) (lower first), which items are
eligible, and a cap on new items; the runner then walks each student's ranking until the
day's minutes are used. Policies see only the simulated answers, never the true memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from tutor.policy.scoring import due_mask, exam_gain_per_second, planning_horizon_days
from tutor.simulation import fsrs_math as fm
from tutor.simulation.online_model import OnlineFSRS

F = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]
I = npt.NDArray[np.int64]  # noqa: E741

NEW_KEY = 1e9  # new items rank after every review


@dataclass(frozen=True, slots=True)
class DayContext:
    """What every policy knows about the scenario."""

    n_students: int
    n_items: int
    days: int
    exam_day: int | None
    budget_seconds: float
    new_cap: int
    #: Each student's typical answer time so far (seconds), as a live tutor would measure it.
    answer_seconds: F


@dataclass(frozen=True, slots=True)
class Plan:
    """A day's ranking: ``key`` (lower first), ``eligible`` and per-student new-item caps."""

    key: F
    eligible: B
    new_cap: I


class Policy(Protocol):
    """A scheduling policy for the simulation."""

    name: str

    def plan(self, day: int, ctx: DayContext) -> Plan: ...

    def observe(self, mask: B, day: int, grade: I) -> None: ...


def _new_order(n_students: int, n_items: int) -> F:
    return np.broadcast_to(NEW_KEY + np.arange(n_items, dtype=np.float64), (n_students, n_items))


class DueDatePolicy:
    """Shared shape of the classic schedulers: due items by due day, then new items in order."""

    name = "due"

    def __init__(self, n_students: int, n_items: int) -> None:
        self.due = np.zeros((n_students, n_items))
        self.seen = np.zeros((n_students, n_items), dtype=bool)

    def plan(self, day: int, ctx: DayContext) -> Plan:
        """Overdue first, then new items (capped per day)."""
        is_due = self.seen & (self.due <= day)
        key = np.where(self.seen, self.due, _new_order(ctx.n_students, ctx.n_items))
        cap = np.full(ctx.n_students, ctx.new_cap, dtype=np.int64)
        return Plan(key, is_due | ~self.seen, cap)

    def observe(self, mask: B, day: int, grade: I) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class Leitner(DueDatePolicy):
    """Five boxes: right moves an item up, wrong back to box 1; box k waits 2**(k-1) days."""

    name = "leitner"

    def __init__(self, n_students: int, n_items: int, boxes: int = 5) -> None:
        super().__init__(n_students, n_items)
        self.box = np.zeros((n_students, n_items), dtype=np.int64)
        self.boxes = boxes

    def observe(self, mask: B, day: int, grade: I) -> None:
        """Move reviewed items between boxes."""
        box = np.where(grade > 1, np.minimum(self.box + 1, self.boxes), 1)
        self.box = np.where(mask, box, self.box)
        self.due = np.where(mask, day + 2.0 ** (self.box - 1), self.due)
        self.seen |= mask


class SM2(DueDatePolicy):
    """SuperMemo-2: intervals 1, 6, then times the E-factor; a lapse restarts the repetitions."""

    name = "sm2"

    def __init__(self, n_students: int, n_items: int) -> None:
        super().__init__(n_students, n_items)
        self.reps = np.zeros((n_students, n_items), dtype=np.int64)
        self.ef = np.full((n_students, n_items), 2.5)
        self.interval = np.zeros((n_students, n_items))

    def observe(self, mask: B, day: int, grade: I) -> None:
        """Apply the SM-2 update (grades 1-4 map to qualities 2, 3, 4, 5)."""
        q = grade + 1.0
        ok = q >= 3
        ivl = np.where(
            self.reps == 0, 1.0, np.where(self.reps == 1, 6.0, np.round(self.interval * self.ef))
        )
        ivl = np.where(ok, ivl, 1.0)
        ef = np.maximum(1.3, self.ef + 0.1 - (5 - q) * (0.08 + (5 - q) * 0.02))
        self.ef = np.where(mask & ok, ef, self.ef)
        self.reps = np.where(mask, np.where(ok, self.reps + 1, 0), self.reps)
        self.interval = np.where(mask, ivl, self.interval)
        self.due = np.where(mask, day + ivl, self.due)
        self.seen |= mask


class FSRSScheduler(DueDatePolicy):
    """FSRS at a desired retention with the ``fsrs`` package's default parameters.

    The package's Scheduler rules with no learning steps and no fuzz (the simulation handles
    the same-session relearning step itself); ``tests`` check the equivalence.
    """

    def __init__(self, n_students: int, n_items: int, desired_retention: float = 0.9) -> None:
        super().__init__(n_students, n_items)
        self.name = f"fsrs_{desired_retention:g}"
        self.retention = desired_retention
        self.w = np.repeat(fm.DEFAULT_W[None, :], n_students, axis=0)
        self.d = np.full((n_students, n_items), 5.0)
        self.s = np.ones((n_students, n_items))
        self.last = np.zeros((n_students, n_items))

    def observe(self, mask: B, day: int, grade: I) -> None:
        """Update stability/difficulty and the due day as the Scheduler does."""
        (r, c), w, (d0, s0, last, seen, g) = fm.gather(
            mask, self.w, self.d, self.s, self.last, self.seen, grade
        )
        d, s = fm.review(w, d0, s0, day - last, ~seen.astype(bool), g.astype(np.int64))
        self.d[r, c] = d[:, 0]
        self.s[r, c] = s[:, 0]
        self.last[r, c] = float(day)
        self.due[r, c] = day + fm.interval_days(w, s, self.retention)[:, 0]
        self.seen |= mask


class RandomOrder:
    """Every day, items in a random order until the time runs out."""

    name = "random"

    def __init__(self, n_students: int, n_items: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.shape = (n_students, n_items)

    def plan(self, day: int, ctx: DayContext) -> Plan:
        """A fresh random ranking of all items."""
        cap = np.full(self.shape[0], self.shape[1], dtype=np.int64)
        return Plan(self.rng.random(self.shape), np.ones(self.shape, bool), cap)

    def observe(self, mask: B, day: int, grade: I) -> None:
        """Random order learns nothing."""


class InOrder:
    """Through the deck in order, again and again, resuming where the last day stopped."""

    name = "in_order"

    def __init__(self, n_students: int, n_items: int) -> None:
        self.pointer = np.zeros(n_students, dtype=np.int64)
        self.shape = (n_students, n_items)

    def plan(self, day: int, ctx: DayContext) -> Plan:
        """Items ranked from the resume point, cyclically."""
        idx = np.arange(self.shape[1])[None, :]
        key = ((idx - self.pointer[:, None]) % self.shape[1]).astype(np.float64)
        cap = np.full(self.shape[0], self.shape[1], dtype=np.int64)
        return Plan(key, np.ones(self.shape, bool), cap)

    def observe(self, mask: B, day: int, grade: I) -> None:
        """Resume after the last item reached."""
        n = self.shape[1]
        rel = np.where(mask, (np.arange(n)[None, :] - self.pointer[:, None]) % n, -1)
        reached = rel.max(axis=1)
        self.pointer = np.where(reached >= 0, (self.pointer + reached + 1) % n, self.pointer)


class MetaTutor:
    """tutor.policy's scores on a stand-in FSRS-form model learning from answers (an extra row;
    ``metatutor`` itself runs the shipped learner model, see ``model_policy``).

    With an exam: rank by marginal gain in expected exam-day recall per second (new items stop
    ``new_cutoff_days`` before the exam). Without: reviews below the target retention, most
    at risk first, then new items paced to the daily goal (``tutor.policy.StudySettings``).
    """

    def __init__(
        self,
        n_students: int,
        n_items: int,
        target_retention: float = 0.9,
        new_share: float = 0.25,
        new_cutoff_days: float = 1.0,
        name: str = "metatutor_fsrs_form",
    ) -> None:
        self.name = name
        self.model = OnlineFSRS(n_students, n_items)
        self.target = target_retention
        self.new_share = new_share
        self.new_cutoff_days = new_cutoff_days

    def plan(self, day: int, ctx: DayContext) -> Plan:
        """Rank today's items from the model's current predictions."""
        m = self.model
        secs = np.broadcast_to(ctx.answer_seconds[:, None], m.s.shape)
        if ctx.exam_day is not None:
            horizon = np.array(
                [
                    planning_horizon_days(ctx.exam_day - day, ctx.n_items, a, ctx.budget_seconds)
                    for a in ctx.answer_seconds
                ]
            )
            p_now, p_exam, p_rev = m.exam_forecast(day, day + horizon[:, None])
            gain = exam_gain_per_second(
                p_now, ~m.seen, p_exam, p_rev, secs, float(ctx.exam_day - day), self.new_cutoff_days
            )
            cap = np.full(ctx.n_students, ctx.n_items, dtype=np.int64)
            return Plan(-gain, np.isfinite(gain) & (gain > 0), cap)
        p_now = m.recall(day)
        due = due_mask(p_now, ~m.seen, self.target)
        key = np.where(m.seen, p_now, _new_order(ctx.n_students, ctx.n_items))
        goal_items = np.floor(ctx.budget_seconds / ctx.answer_seconds)
        cap = np.maximum(1, np.floor(goal_items * self.new_share)).astype(np.int64)
        return Plan(key, due | ~m.seen, cap)

    def observe(self, mask: B, day: int, grade: I) -> None:
        """Feed the answers to the model."""
        self.model.observe(mask, float(day), grade)
