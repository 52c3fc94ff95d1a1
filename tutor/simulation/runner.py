"""Run policies on simulated students, day by day, and score them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tutor.policy.types import DEFAULT_ANSWER_SECONDS
from tutor.simulation.policies import DayContext, Policy
from tutor.simulation.population import Students

F = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Scenario:
    """A study plan: deck size, days, daily minutes, and an exam at the end (or maintenance)."""

    name: str
    n_items: int
    days: int
    minutes: float
    exam: bool
    new_cap: int
    #: Scale of the items' difficulty offsets (1 = the standard spread).
    spread: float = 1.0
    #: Chance that a student studies on a given day (1 = every day).
    attendance: float = 1.0

    @property
    def exam_day(self) -> int | None:
        """The exam is the morning after the last study day."""
        return self.days if self.exam else None


def exam_scenario(
    days: int,
    minutes: int,
    n_items: int = 300,
    spread: float = 1.0,
    attendance: float = 1.0,
) -> Scenario:
    """An exam in ``days`` days; classic schedulers may bring in the deck in half the time.

    The name says what differs from the standard exam (300 items, every day, the standard
    spread of item difficulty): ``exam_14d_10min_1000items``, ``..._spread2``, ``..._days50``.
    """
    cap = int(np.ceil(n_items / max(1.0, days / 2)))
    name = f"exam_{days}d_{minutes}min"
    if n_items != 300:
        name += f"_{n_items}items"
    if spread != 1.0:
        name += f"_spread{spread:g}"
    if attendance != 1.0:
        name += f"_days{round(100 * attendance)}"
    return Scenario(name, n_items, days, minutes, True, cap, spread, attendance)


def maintenance_scenario(days: int = 365, minutes: int = 20, n_items: int = 1000) -> Scenario:
    """Long-term study without an exam; classic schedulers get Anki's 20 new cards a day."""
    return Scenario(f"maintain_{days}d_{minutes}min", n_items, days, minutes, False, 20)


@dataclass(frozen=True, slots=True)
class Outcome:
    """Per-student results of one policy on one scenario."""

    exam_recall: F  # share of the deck recalled on exam day (NaN without an exam)
    mean_recall: F  # share recalled, averaged over the days
    reviews: F  # answers given (relearning steps included)
    minutes: F  # minutes studied
    recall_per_minute: F  # items known on an average day per minute of daily study
    introduced: F  # items seen at least once by the end


def run(
    scenario: Scenario,
    make_policy: Callable[[int, int], Policy],
    students: Students,
    family: str,
    seed: int,
    observer: Callable[[Policy, int, F, npt.NDArray[np.bool_]], None] | None = None,
) -> Outcome:
    """Simulate every student under one policy.

    Answers, grades and answer times come from a random stream that depends on the seed and
    the day only, so all policies face the same draws (common random numbers); so do the
    days each student skips (``scenario.attendance``: on a skipped day nothing is asked, the
    policy still plans the day and observes no answers). ``observer``
    (diagnostics) sees the policy, the day, the students' true chance of answering each item
    right and which items they answer, before anyone learns from the answers.
    """
    n_s, n_i = students.n, scenario.n_items
    memory = students.memory(family)
    policy = make_policy(n_s, n_i)
    attach = getattr(policy, "attach", None)
    if attach is not None:  # a reference policy that reads the true memory
        attach(memory, students)
    budget = scenario.minutes * 60.0
    reviews = np.zeros(n_s)
    seconds = np.zeros(n_s)
    known = np.zeros(n_s)
    spent_s = np.zeros(n_s)
    answers = np.zeros(n_s)
    rows = np.arange(n_s)[:, None]
    for day in range(scenario.days):
        day_rng = np.random.default_rng([seed, day])
        per_answer = np.where(answers > 0, spent_s / np.maximum(answers, 1), DEFAULT_ANSWER_SECONDS)
        ctx = DayContext(
            n_s, n_i, scenario.days, scenario.exam_day, budget, scenario.new_cap, per_answer
        )
        plan = policy.plan(day, ctx)
        p = memory.p_success(float(day))
        unseen = p_new_mask(memory, n_s, n_i)
        if not scenario.exam and day > 0:
            known += np.where(unseen, 0.0, p).mean(axis=1)
        right = day_rng.random((n_s, n_i)) < p
        grade = students.grades(right, day_rng.random((n_s, n_i)))
        t1 = students.answer_seconds(day_rng.random((n_s, n_i)))
        t2 = students.answer_seconds(day_rng.random((n_s, n_i)))
        cost = t1 + np.where(right, 0.0, t2)
        # a separate stream, so the answers' draws stay those of the every-day scenarios
        present = np.random.default_rng([seed, day, 1]).random(n_s) < scenario.attendance
        today = np.where(present, budget, 0.0)[:, None]
        order = np.argsort(np.where(plan.eligible, plan.key, np.inf), axis=1, kind="stable")
        elig = np.take_along_axis(plan.eligible, order, axis=1)
        was_new = np.take_along_axis(unseen, order, axis=1)
        new_rank = np.cumsum(elig & was_new, axis=1)
        elig &= ~(was_new & (new_rank > plan.new_cap[:, None]))
        c = np.where(elig, np.take_along_axis(cost, order, axis=1), 0.0)
        take_sorted = elig & (np.cumsum(c, axis=1) <= today)
        take = np.zeros((n_s, n_i), dtype=bool)
        take[rows, order] = take_sorted
        if observer is not None:
            observer(policy, day, p, take)
        memory.review(take, float(day), grade)
        policy.observe(take, day, grade)
        n_answers = take.sum(axis=1) + (take & ~right).sum(axis=1)
        reviews += n_answers
        day_secs = np.where(take, cost, 0.0).sum(axis=1)
        seconds += day_secs
        spent_s += np.where(take, t1, 0.0).sum(axis=1)
        answers += take.sum(axis=1)
    exam, mean_recall = final_recall(memory, scenario.exam, scenario.days, known)
    minutes = seconds / 60.0
    per_minute = mean_recall * n_i / np.maximum(minutes / scenario.days, 1e-9)
    introduced = (~p_new_mask(memory, n_s, n_i)).sum(axis=1).astype(np.float64)
    return Outcome(exam, mean_recall, reviews, minutes, per_minute, introduced)


def final_recall(memory: Any, exam: bool, days: int, known: F) -> tuple[F, F]:
    """Per student: recall on exam day (NaN without an exam), and the mean recall the run is
    scored on (exam-day recall, or ``known`` summed over the days averaged per day)."""
    if exam:
        on_exam_day = np.asarray(memory.recall(float(days)).mean(axis=1))
        return on_exam_day, on_exam_day
    return np.full(known.shape[0], np.nan), known / max(1, days - 1)


def p_new_mask(memory: object, n_s: int, n_i: int) -> npt.NDArray[np.bool_]:
    """Items the student has never seen (read from the memory's own bookkeeping)."""
    seen = getattr(memory, "seen", None)
    if seen is None:
        seen = getattr(memory, "count") > 0  # noqa: B009
    return ~np.asarray(seen, dtype=bool).reshape(n_s, n_i)
