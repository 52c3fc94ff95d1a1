"""Simulated students built from the per-person parameters fitted to real Anki logs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tutor.simulation.fit import PARAMS_FILE
from tutor.simulation.memory import ACTRMemory, FSRSMemory, Memory

F = npt.NDArray[np.float64]

FAMILIES = ("fsrs6", "actr")
#: Share of an item's difficulty (as a correlation) common to all students.
ITEM_SHARED = 0.8


@dataclass(frozen=True, slots=True)
class People:
    """The real people the students are modelled on: FSRS-6 vectors and answer-time quantiles."""

    users: tuple[str, ...]
    w: F  # (P, 21)
    time_quantiles: F  # (P, Q) seconds
    grade_shares: F  # (P, 3) Hard/Good/Easy among right answers
    first_success: F  # (P,) share of first sights answered right

    @classmethod
    def load(cls, path: Path = PARAMS_FILE) -> People:
        """Read the committed parameter file."""
        doc: dict[str, Any] = json.loads(path.read_text())
        people = doc["people"]
        return cls(
            users=tuple(p["user"] for p in people),
            w=np.array([p["fsrs6"] for p in people], dtype=np.float64),
            time_quantiles=np.array([p["answer_seconds_quantiles"] for p in people]),
            grade_shares=np.array([p["grade_shares_hge"] for p in people]),
            first_success=np.array([p.get("first_success", 0.6) for p in people]),
        )


@dataclass(frozen=True, slots=True)
class Students:
    """A population: which person each student copies, and their items' difficulty offsets.

    Students share one deck: an item's offset is mostly common to everyone, partly personal.
    """

    person: npt.NDArray[np.int64]
    offset: F  # (S, N) standard-normal item difficulty offsets
    people: People
    alpha: F  # ACT-R base decay per student
    tau: F  # ACT-R retrieval threshold per student

    @property
    def n(self) -> int:
        """Number of students."""
        return int(self.person.shape[0])

    def memory(self, family: str) -> Memory:
        """A fresh memory of the given family for every student."""
        p_first = np.clip(self.people.first_success[self.person], 0.05, 0.95)
        if family == "fsrs6":
            return FSRSMemory(self.people.w[self.person], self.offset, p_first)
        if family == "actr":
            return ACTRMemory(self.alpha, self.tau, self.offset, p_first)
        raise ValueError(f"unknown memory family {family!r}")

    def answer_seconds(self, u: F) -> F:
        """Answer times for uniform draws ``u`` (S, ...) from each student's real person."""
        q = self.people.time_quantiles[self.person]  # (S, Q), on an even grid of levels
        flat = u.reshape(self.n, -1) * (q.shape[1] - 1)
        lo = np.minimum(np.floor(flat).astype(np.int64), q.shape[1] - 2)
        frac = flat - lo
        a = np.take_along_axis(q, lo, axis=1)
        b = np.take_along_axis(q, lo + 1, axis=1)
        out: F = (a + frac * (b - a)).reshape(u.shape)
        return out

    def grades(self, right: npt.NDArray[np.bool_], u: F) -> npt.NDArray[np.int64]:
        """Grades 1-4: Again when wrong, else Hard/Good/Easy by the person's shares."""
        cum = np.cumsum(self.people.grade_shares[self.person], axis=1)  # (S, 3)
        g = 2 + (u[..., None] > cum[:, None, :-1]).sum(axis=-1)
        return np.where(right, g, 1).astype(np.int64)


def make_students(
    people: People, n_students: int, n_items: int, seed: int, spread: float = 1.0
) -> Students:
    """``n_students`` students cycling over the real people, with varied items; ``spread``
    scales every item's difficulty offset (2 = items twice as far from the average)."""
    rng = np.random.default_rng(seed)
    person = np.arange(n_students, dtype=np.int64) % len(people.users)
    # an item is hard or easy for everyone, with some personal variation (unit variance)
    common = rng.standard_normal(n_items)
    offset = ITEM_SHARED * common[None, :] + np.sqrt(1 - ITEM_SHARED**2) * rng.standard_normal(
        (n_students, n_items)
    )
    offset = offset * spread
    alpha = np.clip(rng.normal(0.177, 0.03, n_students), 0.1, 0.3)
    tau = rng.normal(-1.2, 0.25, n_students)
    return Students(person, offset, people, alpha, tau)
