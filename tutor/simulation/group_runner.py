"""Classes of simulated students answering shared daily group quizzes, and their scores.

Every day each class is asked the same ``per_day`` questions (a daily group quiz of quiz
polls). Each student attends with their own probability, drawn once per student between
``ATTEND_LOW`` and ``ATTEND_HIGH``; an attending student answers every question, and their
memory learns from it (a wrong answer is followed by the right one, as a quiz poll shows
it: the memory's relearning step). Policies see which students answered and whether they
were right, never the memory. Attendance and answers come from random streams that depend
on the seed and the day only, so every policy faces the same draws.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from tutor.simulation.population import Students
from tutor.simulation.runner import final_recall, p_new_mask

F = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]
I = npt.NDArray[np.int64]  # noqa: E741

#: Each student attends a day's quiz with a probability drawn uniformly from this range.
ATTEND_LOW, ATTEND_HIGH = 0.5, 0.95


@dataclass(frozen=True, slots=True)
class ClassScenario:
    """Classes of ``class_size`` sharing a deck of ``n_items``, ``per_day`` questions a day
    for ``days`` days, and a class exam the morning after the last day (or none)."""

    name: str
    n_items: int
    days: int
    per_day: int
    exam: bool
    class_size: int = 20

    @property
    def exam_day(self) -> int | None:
        """The exam is the morning after the last quiz day."""
        return self.days if self.exam else None


def class_exam_scenario(days: int, per_day: int, n_items: int) -> ClassScenario:
    """A class exam in ``days`` days."""
    return ClassScenario(f"class_exam_{days}d_{per_day}q_{n_items}", n_items, days, per_day, True)


def class_keep_scenario(days: int, per_day: int, n_items: int) -> ClassScenario:
    """Daily quizzes without an exam (retention)."""
    return ClassScenario(f"class_keep_{days}d_{per_day}q_{n_items}", n_items, days, per_day, False)


@dataclass(frozen=True, slots=True)
class ClassDay:
    """What every group policy knows about the scenario on a day."""

    n_classes: int
    class_size: int
    n_items: int
    per_day: int
    days: int
    exam_day: int | None
    #: ``(students, days so far)``: who answered each earlier quiz (students by class).
    attended: B


class GroupPolicy(Protocol):
    """A question policy for group quizzes, advancing every class at once."""

    name: str

    def choose(self, day: int, ctx: ClassDay) -> I:
        """Today's questions per class, ``(classes, per_day)`` item indices in order."""
        ...

    def observe(self, day: int, asked: I, attended: B, right: B) -> None:
        """The answers: ``attended`` ``(students,)``, ``right`` ``(students, per_day)``."""
        ...


@dataclass(frozen=True, slots=True)
class ClassOutcome:
    """Per-class results of one policy (each the mean over the class's students)."""

    exam_recall: F  # share of the deck recalled on exam day (NaN without an exam)
    mean_recall: F  # share of the deck recalled, averaged over the days
    answers: F  # answers given per student
    recall_per_answer: F  # items recalled on an average day per daily answer
    introduced: F  # items seen at least once by the end, per student


def attendance(n_students: int, seed: int) -> F:
    """Each student's chance of answering a day's quiz."""
    rng = np.random.default_rng([seed, 1_000_003])
    return rng.uniform(ATTEND_LOW, ATTEND_HIGH, n_students)


def run_classes(
    scenario: ClassScenario,
    make_policy: Callable[[int, int, int], GroupPolicy],
    students: Students,
    family: str,
    seed: int,
) -> ClassOutcome:
    """Simulate every class under one policy (``make_policy(classes, class_size, items)``).

    ``students`` are the classes' students, class by class (``students.n`` a multiple of
    the class size).
    """
    size, n_i = scenario.class_size, scenario.n_items
    n_s = students.n
    if n_s % size:
        raise ValueError("the students do not fill whole classes")
    n_c = n_s // size
    memory = students.memory(family)
    policy = make_policy(n_c, size, n_i)
    attach = getattr(policy, "attach", None)
    if attach is not None:  # a reference policy that reads the true memory
        attach(memory, students)
    p_attend = attendance(n_s, seed)
    cls = np.arange(n_s) // size
    history = np.zeros((n_s, 0), dtype=bool)
    known = np.zeros(n_s)
    answers = np.zeros(n_s)
    for day in range(scenario.days):
        day_rng = np.random.default_rng([seed, day])
        came = day_rng.random(n_s) < p_attend
        ctx = ClassDay(n_c, size, n_i, scenario.per_day, scenario.days, scenario.exam_day, history)
        asked = np.asarray(policy.choose(day, ctx), dtype=np.int64)
        if asked.shape != (n_c, scenario.per_day):
            raise ValueError(f"{policy.name} asked {asked.shape}, not {(n_c, scenario.per_day)}")
        p = memory.p_success(float(day))
        if not scenario.exam and day > 0:
            known += np.where(p_new_mask(memory, n_s, n_i), 0.0, p).mean(axis=1)
        right_all = day_rng.random((n_s, n_i)) < p
        grade = students.grades(right_all, day_rng.random((n_s, n_i)))
        per_student = asked[cls]  # (students, per_day)
        valid = per_student >= 0
        mask = np.zeros((n_s, n_i), dtype=bool)
        rows = np.repeat(np.arange(n_s), scenario.per_day).reshape(n_s, -1)
        mask[rows[valid], per_student[valid]] = True
        mask &= came[:, None]
        memory.review(mask, float(day), grade)
        right = np.take_along_axis(right_all, np.maximum(per_student, 0), axis=1) & valid
        policy.observe(day, asked, came, right & came[:, None])
        answers += mask.sum(axis=1)
        history = np.concatenate([history, came[:, None]], axis=1)
    exam, mean_recall = final_recall(memory, scenario.exam, scenario.days, known)
    per_answer = mean_recall * n_i / np.maximum(answers / scenario.days, 1e-9)
    introduced = (~p_new_mask(memory, n_s, n_i)).sum(axis=1).astype(np.float64)

    def by_class(x: F) -> F:
        return np.asarray(x.reshape(n_c, size).mean(axis=1))

    return ClassOutcome(
        by_class(exam),
        by_class(mean_recall),
        by_class(answers),
        by_class(per_answer),
        by_class(introduced),
    )
