"""Question policies for the classes of :mod:`tutor.simulation.group_runner`.

``group`` is the service's group policy (:mod:`tutor.policy.group`) on the predictions of
the shipped learner model, per student recalibrated, exactly as the private benchmark's
``metatutor`` gets them (:class:`tutor.simulation.model_policy.LearnerModelPolicy`); each
member's weight is estimated from the quizzes they answered so far. The baselines ask the
deck in order or at random; ``group_oracle`` (a reference, not a competitor) runs the same
group policy on the students' true memory.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from tutor.policy.group import (
    GroupCandidates,
    GroupSettings,
    answer_probability,
    group_horizon_days,
    plan_group_quiz,
)
from tutor.policy.types import SECONDS_PER_DAY
from tutor.simulation.group_runner import ClassDay
from tutor.simulation.memory import Memory
from tutor.simulation.model_policy import ORIGIN, LearnerModelPolicy
from tutor.simulation.oracle import Oracle
from tutor.simulation.population import Students
from tutor.simulation.runner import p_new_mask

F = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]
I = npt.NDArray[np.int64]  # noqa: E741

GROUP = "group"
GROUP_ORACLE = "group_oracle"
#: Seconds between two polls of a quiz, for the learner model's answer times.
POLL_SECONDS = 30.0


class GroupInOrder:
    """The deck in order, ``per_day`` questions a day, around again at the end."""

    name = "in_order"

    def __init__(self, n_classes: int, class_size: int, n_items: int) -> None:
        self.pointer = np.zeros(n_classes, dtype=np.int64)
        self.n_items = n_items

    def choose(self, day: int, ctx: ClassDay) -> I:
        """The next ``per_day`` items of the deck."""
        asked = (self.pointer[:, None] + np.arange(ctx.per_day)[None, :]) % self.n_items
        self.pointer = (self.pointer + ctx.per_day) % self.n_items
        return np.asarray(asked, dtype=np.int64)

    def observe(self, day: int, asked: I, attended: B, right: B) -> None:
        """In order learns nothing."""


class GroupRandom:
    """``per_day`` different items drawn at random every day."""

    name = "random"

    def __init__(self, n_classes: int, class_size: int, n_items: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.shape = (n_classes, n_items)

    def choose(self, day: int, ctx: ClassDay) -> I:
        """A fresh random draw without repeats."""
        order = np.argsort(self.rng.random(self.shape), axis=1)
        return np.asarray(order[:, : ctx.per_day], dtype=np.int64)

    def observe(self, day: int, asked: I, attended: B, right: B) -> None:
        """Random learns nothing."""


def _settings(day: int, ctx: ClassDay) -> tuple[datetime, GroupSettings, float | None]:
    """The simulated clock on ``day`` (the quiz at 09:00 UTC), the group settings with the
    class exam, and the days left to it."""
    now = datetime.fromtimestamp(ORIGIN + day * SECONDS_PER_DAY, tz=UTC)
    if ctx.exam_day is None:
        return now, GroupSettings(), None
    exam_at = datetime.fromtimestamp(ORIGIN + ctx.exam_day * SECONDS_PER_DAY, tz=UTC)
    return now, GroupSettings(exam_at=exam_at), float(ctx.exam_day - day)


def _plan_classes(
    ctx: ClassDay,
    day: int,
    rng: np.random.Generator,
    p_now: F,
    seen: B,
    weight: F,
    p_h: F,
    reviewed: F,
) -> I:
    """Each class's quiz from its members' rows of the predictions (no tags: simulated
    items have none)."""
    now, settings, _ = _settings(day, ctx)
    ids = np.arange(ctx.n_items, dtype=np.int64)
    tags = np.full(ctx.n_items, -1, dtype=np.int64)
    out = np.full((ctx.n_classes, ctx.per_day), -1, dtype=np.int64)
    for k in range(ctx.n_classes):
        rows = slice(k * ctx.class_size, (k + 1) * ctx.class_size)
        c = GroupCandidates(
            ids,
            tags,
            p_now[rows],
            seen[rows],
            weight[rows],
            p_h[rows],
            reviewed[rows],
        )
        quiz = plan_group_quiz(c, ctx.per_day, settings, now, rng)
        out[k, : len(quiz)] = [q.item_id for q in quiz]
    return out


class GroupModelPolicy:
    """``group``: the group policy on the calibrated learner model (module docstring)."""

    def __init__(
        self,
        model: Any,
        n_classes: int,
        class_size: int,
        n_items: int,
        seed: int,
        name: str = GROUP,
    ) -> None:
        self.name = name
        self.lm = LearnerModelPolicy(model, n_classes * class_size, n_items)
        self.rng = np.random.default_rng([seed, 29])
        self.class_size = class_size
        self.n_items = n_items
        self._now = ORIGIN

    def choose(self, day: int, ctx: ClassDay) -> I:
        """Predict every member's recall, then plan each class's quiz."""
        self._now = ORIGIN + day * SECONDS_PER_DAY
        p_now = self.lm.predict_now(self._now)
        seen = self.lm.bm.seen
        _, _, left = _settings(day, ctx)
        horizon = group_horizon_days(left, ctx.n_items, ctx.per_day)
        p_h, reviewed = self.lm.forecast(self._now, p_now, np.full(p_now.shape[0], horizon))
        weight = answer_probability(ctx.attended)
        return _plan_classes(ctx, day, self.rng, p_now, seen, weight, p_h, reviewed)

    def observe(self, day: int, asked: I, attended: B, right: B) -> None:
        """Recalibrate from the answers to seen items, then let each attending student's
        model learn from their answers in the order asked."""
        per_student = np.where(
            attended[:, None], asked[np.arange(attended.shape[0]) // self.class_size], -1
        )
        valid = per_student >= 0
        mask = np.zeros((attended.shape[0], self.n_items), dtype=bool)
        correct = np.zeros_like(mask)
        r, t = np.nonzero(valid)
        mask[r, per_student[r, t]] = True
        correct[r, per_student[r, t]] = right[r, t]
        self.lm.recalibrate(mask, correct)
        # a quiz poll gives right or wrong, no self-grade: Good or Again for the model
        grades = np.where(right, 3, 1).astype(np.int64)
        # answered polls first, in order (the batched update wants -1 only at the end)
        order = np.argsort(~valid, axis=1, kind="stable")
        items = np.take_along_axis(per_student, order, axis=1)
        ok = np.take_along_axis(right & valid, order, axis=1)
        g = np.take_along_axis(grades, order, axis=1)
        at = self._now + np.arange(items.shape[1])[None, :] * POLL_SECONDS
        self.lm.bm.update_day(items, np.broadcast_to(at, items.shape).copy(), ok, g)


class GroupOracle:
    """``group_oracle``: the same group policy fed the students' true memory (recall now,
    at the horizon, and after a review now), with the same estimated weights."""

    name = GROUP_ORACLE

    def __init__(self, n_classes: int, class_size: int, n_items: int, seed: int) -> None:
        self.truth = Oracle(n_classes * class_size, n_items)
        self.rng = np.random.default_rng([seed, 29])
        self.shape = (n_classes * class_size, n_items)

    def attach(self, memory: Memory, students: Students) -> None:
        """Called by the runner: the memory the students answer from."""
        self.truth.attach(memory, students)

    def choose(self, day: int, ctx: ClassDay) -> I:
        """Plan each class's quiz from the true memory."""
        memory = self.truth.memory
        assert memory is not None, "the runner attaches the memory"
        seen = ~p_new_mask(memory, *self.shape)
        p_now = memory.p_success(float(day))
        _, _, left = _settings(day, ctx)
        at = np.full(self.shape[0], day + group_horizon_days(left, ctx.n_items, ctx.per_day))
        p_h = np.where(seen, memory.recall(at), 0.0)
        right, wrong = self.truth.after_review(day, at)
        reviewed = p_now * right + (1.0 - p_now) * wrong
        weight = answer_probability(ctx.attended)
        return _plan_classes(ctx, day, self.rng, p_now, seen, weight, p_h, reviewed)

    def observe(self, day: int, asked: I, attended: B, right: B) -> None:
        """The memory is read directly."""
