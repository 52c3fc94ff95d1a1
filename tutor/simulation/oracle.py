"""A reference, not a competitor: our planning code fed the simulated student's true memory.

``oracle`` ranks items exactly as ``metatutor`` does (``tutor.policy.scoring``: gain in
expected recall per second at the planning horizon, then due reviews, new items, extra
practice), but every prediction comes from the simulator's own memory state: recall now,
at the horizon without a review, and after a hypothetical review today (a right answer
rated by the student's own Hard/Good/Easy shares, or a wrong one with its relearning step).
Its exam-day recall is what a perfect predictor would give this planning rule, so the gap
between it and ``metatutor`` is the room left in our predictions, and the gap between it and
``in_order`` is the room the scenario leaves for this kind of planning at all.
``oracle_paced`` is the same with the exam pacing rules switched on
(``scoring.PACED_SPACING_SHARE``, ``scoring.PACED_COVERAGE_ANSWERS``), which the service
leaves off for now.
"""

from __future__ import annotations

import copy

import numpy as np
import numpy.typing as npt

from tutor.policy import scoring
from tutor.policy.scoring import (
    due_mask,
    exam_gain_per_second,
    exam_rank_key,
    planning_horizon_days,
)
from tutor.policy.types import StudySettings
from tutor.simulation.memory import FSRSMemory, Memory
from tutor.simulation.policies import DayContext, Plan
from tutor.simulation.population import Students
from tutor.simulation.runner import p_new_mask

F = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]
I = npt.NDArray[np.int64]  # noqa: E741

ORACLE = "oracle"
#: The same with the exam pacing rules on (spacing floor, new-item floor): the planning bound.
ORACLE_PACED = "oracle_paced"
MIN_EXAM_GAIN = 1e-6  # as in tutor.policy.next_item


class Oracle:
    """The study policy's exam planning on the true memory (see the module docstring).

    ``spacing_share`` and ``coverage_answers`` override the planning's
    ``scoring.MIN_SPACING_SHARE`` and ``scoring.COVERAGE_ANSWERS`` (``oracle_paced``).
    """

    def __init__(
        self,
        n_students: int,
        n_items: int,
        name: str = ORACLE,
        spacing_share: float | None = None,
        coverage_answers: float | None = None,
    ) -> None:
        self.name = name
        self.spacing_share = spacing_share
        self.coverage_answers = coverage_answers
        self.shape = (n_students, n_items)
        # Hard/Good/Easy shares among right answers, per student (until attached: always Good)
        self.shares: F = np.tile([0.0, 1.0, 0.0], (n_students, 1))
        self.memory: Memory | None = None
        self.last = np.zeros(self.shape)

    def attach(self, memory: Memory, students: Students) -> None:
        """Called by the runner: the memory the simulated students answer from, and their
        grade shares."""
        self.memory = memory
        self.shares = np.asarray(students.people.grade_shares[students.person], np.float64)

    def after_review(self, day: int, at: F) -> tuple[F, F]:
        """Recall at per-student day ``at`` after a review of every item on ``day``:
        (if right, if wrong)."""
        assert self.memory is not None
        full = np.ones(self.shape, bool)
        right = np.zeros(self.shape)
        # ACT-R memory does not depend on how a right answer was rated
        shares = self.shares if isinstance(self.memory, FSRSMemory) else np.eye(3)[[1]]
        for k, grade in enumerate((2, 3, 4)):
            w = shares[:, k : k + 1]
            if not np.any(w > 0):
                continue
            m = copy.deepcopy(self.memory)
            m.review(full, float(day), np.full(self.shape, grade, np.int64))
            right += w * m.recall(at)
        m = copy.deepcopy(self.memory)
        m.review(full, float(day), np.ones(self.shape, np.int64))
        return right, m.recall(at)

    def plan(self, day: int, ctx: DayContext) -> Plan:
        """Rank today's items from the true memory."""
        assert self.memory is not None, "the runner attaches the memory"
        seen = ~p_new_mask(self.memory, *self.shape)
        p_now = self.memory.p_success(float(day))
        settings = StudySettings(daily_goal_minutes=ctx.budget_seconds / 60.0)
        due = due_mask(np.where(seen, p_now, 0.0), ~seen, settings.target_retention)
        if ctx.exam_day is None:
            key = np.where(seen, p_now, 1e9 + np.arange(self.shape[1])[None, :])
            cap = np.array([settings.new_quota(float(a)) for a in ctx.answer_seconds])
            return Plan(key, due | ~seen, cap.astype(np.int64))
        days_left = float(ctx.exam_day - day)
        horizon = np.array(
            [
                planning_horizon_days(days_left, ctx.n_items, float(a), ctx.budget_seconds)
                for a in ctx.answer_seconds
            ]
        )
        at = day + horizon
        p_h = np.where(seen, self.memory.recall(at), 0.0)
        right, wrong = self.after_review(day, at)
        reviewed = p_now * right + (1.0 - p_now) * wrong
        secs = np.broadcast_to(ctx.answer_seconds[:, None], self.shape)
        gain = exam_gain_per_second(
            np.where(seen, p_now, 0.0),
            ~seen,
            p_h,
            reviewed,
            secs,
            days_left,
            settings.exam_new_cutoff_days,
        )
        since = np.where(seen, day - self.last, 0.0)
        gain = scoring.spaced_gain(gain, since, ~seen, horizon[:, None])
        share = scoring.MIN_SPACING_SHARE if self.spacing_share is None else self.spacing_share
        per_day = ctx.budget_seconds / (ctx.answer_seconds * scoring.ANSWERS_PER_REVIEW)
        floor = scoring.exam_new_floor(
            (~seen).sum(axis=1),
            ctx.n_items,
            days_left,
            per_day,
            settings.exam_new_cutoff_days,
            self.coverage_answers,
        )
        key = exam_rank_key(
            gain, due, ~seen, p_now, MIN_EXAM_GAIN, since, share * horizon[:, None], floor
        )
        cap = np.full(ctx.n_students, ctx.n_items, dtype=np.int64)
        return Plan(key, np.isfinite(gain), cap)

    def observe(self, mask: B, day: int, grade: I) -> None:
        """Only the day of each item's last answer is kept (the memory is read directly)."""
        self.last = np.where(mask, float(day), self.last)
