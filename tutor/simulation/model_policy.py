"""Our policy as students get it: the study policy's scores on the shipped learner model.

Every prediction comes from ``tutor.model.online.LearnerModel`` (the shipped weights unless
told otherwise), evaluated for the whole population at once by
:class:`tutor.simulation.batched_model.BatchedLearnerModel` (the same numbers as the service's
``LearnerModelPredictor``, checked by a test). The model learns each student only from their
simulated answers, in the order they were asked; with ``calibrate`` the predictions for seen
items also go through the per-student online recalibration of
:mod:`tutor.policy.calibration`, fitted from the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from tutor.policy import calibration as cal
from tutor.policy import scoring
from tutor.policy.scoring import (
    due_mask,
    exam_gain_per_second,
    exam_rank_key,
    planning_horizon_days,
)
from tutor.policy.types import SECONDS_PER_DAY, StudySettings
from tutor.simulation.batched_model import BatchedLearnerModel
from tutor.simulation.policies import DayContext, Plan

F = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]
I = npt.NDArray[np.int64]  # noqa: E741

#: Day 0, 09:00 UTC: each simulated day's session starts at this time of day.
ORIGIN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC).timestamp()
#: The service's settings: relearning gap, new-item share, new-item cut-off before an exam.
SETTINGS = StudySettings()
MIN_EXAM_GAIN = 1e-6  # as in tutor.policy.next_item


@dataclass
class CalibrationBins:
    """Predicted vs true recall of the items our policy asks, by days since the last answer.

    Pass it as the runner's ``observer``: every day it adds, for each seen item answered, the
    model's raw prediction, the calibrated one (what the policy used) and the simulated
    student's true recall at that moment.
    """

    edges: tuple[float, ...] = (0.0, 1.0, 3.0, 7.0, 14.0, 30.0, 90.0, np.inf)
    sums: F = field(default_factory=lambda: np.zeros((4, 7)))  # n, raw, calibrated, true

    def __call__(self, policy: object, day: int, p_true: F, take: B) -> None:
        """Record one day (called before the answers are learned from)."""
        if not isinstance(policy, LearnerModelPolicy):
            return
        sel = take & policy.bm.seen
        gap = policy._gap(policy._now)[sel]
        b = np.clip(np.digitize(gap, self.edges) - 1, 0, len(self.edges) - 2)
        k = len(self.edges) - 1
        for row, values in enumerate(
            (np.ones(b.shape[0]), policy._p_raw[sel], policy._p_used[sel], p_true[sel])
        ):
            self.sums[row] += np.bincount(b, weights=values, minlength=k)

    def table(self) -> list[dict[str, float]]:
        """One row per non-empty bin: ``gap_from``, ``gap_to``, ``n``, mean ``raw``,
        ``calibrated`` and ``true`` recall."""
        out = []
        for j in range(len(self.edges) - 1):
            n = float(self.sums[0, j])
            if n > 0:
                raw, calib, true = (float(v) for v in self.sums[1:, j] / n)
                out.append(
                    {
                        "gap_from": self.edges[j],
                        "gap_to": self.edges[j + 1],
                        "n": n,
                        "raw": raw,
                        "calibrated": calib,
                        "true": true,
                    }
                )
        return out


class LearnerModelPolicy:
    """``metatutor``: the learner model's predictions (optionally calibrated) ranked by the
    policy's scores; see the module docstring."""

    def __init__(
        self,
        model: Any,
        n_students: int,
        n_items: int,
        calibrate: bool = True,
        name: str = "metatutor",
    ) -> None:
        self.name = name
        self.bm = BatchedLearnerModel(model, n_students, n_items)
        self.calibrate = calibrate
        self.mean, self.prec = cal.prior((n_students,))
        self.n_items = n_items
        self._key = np.zeros((n_students, n_items))
        self._p_raw = np.zeros((n_students, n_items))
        self._p_used = np.zeros((n_students, n_items))
        self._now = ORIGIN
        self._secs = np.full(n_students, 12.0)

    def _gap(self, at: F | float) -> F:
        """Days since each (student, item) was last answered at Unix time(s) ``at``."""
        t = np.asarray(at, np.float64)
        t = t[:, None] if t.ndim == 1 else t
        return np.asarray(np.nan_to_num((t - self.bm.time) / SECONDS_PER_DAY, nan=0.0))

    def _cal(self, p: F, gap: F) -> F:
        if not self.calibrate:
            return p
        return np.where(self.bm.seen, cal.apply(self.mean, p, gap, self.bm.c, self._spacing()), p)

    def _spacing(self) -> F:
        """Days between the last two answers to each item (0 if answered once)."""
        spacing: F = np.nan_to_num((self.bm.time - self.bm.prev) / SECONDS_PER_DAY, nan=0.0)
        return spacing

    def predict_now(self, now: float) -> F:
        """P(right answer) of every (student, item) at Unix time ``now``: calibrated for
        seen items, the model's first-sight guess for new ones. The raw predictions are
        kept for :meth:`recalibrate` of the answers that follow."""
        self._now = now
        self._p_raw = self.bm.predict_all(now)
        self._p_used = self._cal(self._p_raw, self._gap(now))
        return self._p_used

    def forecast(self, now: float, p_now: F, horizon: F) -> tuple[F, F]:
        """Recall ``horizon`` days (per student) after ``now``: without a review (0 for
        new items), and expected after a review now (averaged over a right and a wrong
        answer with the chances ``p_now``), both calibrated like the predictions now."""
        seen = self.bm.seen
        t_h = now + horizon * SECONDS_PER_DAY
        p_h = np.where(seen, self._cal(self.bm.predict_all(t_h), self._gap(t_h)), 0.0)
        right, wrong = self.bm.after_review(now, t_h)
        if self.calibrate:
            ahead = np.broadcast_to(horizon[:, None], right.shape)
            spacing = np.where(seen, self._gap(now), 0.0)
            right = cal.apply(self.mean, right, ahead, self.bm.c + 1.0, spacing)
            wrong = cal.apply(self.mean, wrong, ahead, self.bm.c, spacing)
        return p_h, p_now * right + (1.0 - p_now) * wrong

    def recalibrate(self, mask: B, correct: B) -> None:
        """Update each student's calibration from their answers to the ``mask``ed seen
        items, against the raw predictions of the last :meth:`predict_now` (call before the
        model learns from the same answers)."""
        old = mask & self.bm.seen
        if old.any() and self.calibrate:
            self.mean, self.prec = cal.observe(
                self.mean,
                self.prec,
                self._p_raw,
                self._gap(self._now),
                self.bm.c,
                self._spacing(),
                correct,
                old.astype(np.float64),
            )

    def plan(self, day: int, ctx: DayContext) -> Plan:
        """Rank today's items from the model's current predictions."""
        now = ORIGIN + day * SECONDS_PER_DAY
        self._secs = ctx.answer_seconds
        seen = self.bm.seen
        p_now = self.predict_now(now)
        settings = StudySettings(daily_goal_minutes=ctx.budget_seconds / 60.0)
        due = due_mask(p_now, ~seen, settings.target_retention)
        if ctx.exam_day is None:
            key = np.where(seen, p_now, 1e9 + np.arange(self.n_items)[None, :])
            cap = np.array([settings.new_quota(float(a)) for a in ctx.answer_seconds])
            self._key = key
            return Plan(key, due | ~seen, cap.astype(np.int64))
        days_left = float(ctx.exam_day - day)
        horizon = np.array(
            [
                planning_horizon_days(days_left, ctx.n_items, float(a), ctx.budget_seconds)
                for a in ctx.answer_seconds
            ]
        )
        p_h, reviewed = self.forecast(now, p_now, horizon)
        secs = np.broadcast_to(ctx.answer_seconds[:, None], p_now.shape)
        gain = exam_gain_per_second(
            np.where(seen, p_now, 0.0),
            ~seen,
            p_h,
            reviewed,
            secs,
            days_left,
            settings.exam_new_cutoff_days,
        )
        gain = scoring.spaced_gain(gain, self._gap(now), ~seen, horizon[:, None])
        # choose_next's precedence: exam gain, then due reviews, new items, extra practice
        allowed = np.isfinite(gain)
        spacing_floor = scoring.MIN_SPACING_SHARE * horizon[:, None]
        per_day = ctx.budget_seconds / (ctx.answer_seconds * scoring.ANSWERS_PER_REVIEW)
        floor = scoring.exam_new_floor(
            (~seen).sum(axis=1), ctx.n_items, days_left, per_day, settings.exam_new_cutoff_days
        )
        key = exam_rank_key(
            gain, due, ~seen, p_now, MIN_EXAM_GAIN, self._gap(now), spacing_floor, floor
        )
        cap = np.full(ctx.n_students, ctx.n_items, dtype=np.int64)
        self._key = key
        return Plan(key, allowed, cap)

    def observe(self, mask: B, day: int, grade: I) -> None:
        """Feed the day's answers to the model in the order asked (a wrong item comes back,
        answered right, after ``relearn_gap`` other answers) and update the calibration."""
        self.recalibrate(mask, grade > 1)
        events = [self._events(s, mask[s], grade[s]) for s in range(mask.shape[0])]
        t_n = max((e.shape[0] for e in events), default=0)
        items = np.full((mask.shape[0], t_n), -1, dtype=np.int64)
        grades = np.zeros((mask.shape[0], t_n), dtype=np.int64)
        for s, e in enumerate(events):
            items[s, : e.shape[0]] = e[:, 1]
            grades[s, : e.shape[0]] = e[:, 2]
        at = self._now + np.arange(t_n)[None, :] * self._secs[:, None]
        self.bm.update_day(items, at, grades > 1, grades)

    def _events(self, s: int, mask: B, grade: I) -> F:
        """``(position, item, grade)`` rows of one student's session, in time order."""
        items = np.flatnonzero(mask)
        items = items[np.argsort(self._key[s, items], kind="stable")]
        pos = np.arange(items.shape[0], dtype=np.float64)
        g = grade[items].astype(np.float64)
        wrong = g == 1
        gap = SETTINGS.relearn_gap + 0.5
        rows = np.concatenate(
            [
                np.stack([pos, items, g], axis=1),
                np.stack([pos[wrong] + gap, items[wrong], np.full(wrong.sum(), 3.0)], axis=1),
            ]
        )
        rows = rows[np.argsort(rows[:, 0], kind="stable")]
        rows[:, 0] = np.arange(rows.shape[0])  # one answer time apart
        return rows
