"""Our policy with the trained learner model (``tutor.model.online``) in the loop.

The same scores as :class:`tutor.simulation.policies.MetaTutor`, but every prediction comes
from the learner model through :class:`tutor.policy.model_adapter.LearnerModelPredictor`, and
the model learns each student only from their simulated answers. It loops over students and
answers (about a millisecond per model update), so the benchmark runs it on a few students.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from tutor.items import ItemKind
from tutor.policy.model_adapter import LearnerModelPredictor
from tutor.policy.scoring import due_mask, exam_gain_per_second, planning_horizon_days
from tutor.simulation.policies import DayContext, Plan

F = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]
I = npt.NDArray[np.int64]  # noqa: E741

ORIGIN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
#: Exam gains are computed for this many seen items (the least recalled) and new items.
SHORTLIST = 60


class LearnerModelPolicy:
    """``metatutor`` with ``tutor.model``'s LearnerModel as the predictor."""

    name = "metatutor_lm"

    def __init__(
        self, model: Any, n_students: int, n_items: int, target_retention: float = 0.9
    ) -> None:
        self.model = model
        self.states = [model.new_state() for _ in range(n_students)]
        self.seen = np.zeros((n_students, n_items), dtype=bool)
        self.item_n = np.zeros(n_items)
        self.item_c = np.zeros(n_items)
        self.target = target_retention
        self.n_items = n_items

    def _candidates(self) -> list[Any]:
        from tutor.model.online import CandidateFeatures

        return [
            CandidateFeatures(
                item_id=i,
                kind=ItemKind.FLASHCARD,
                item_attempts=int(self.item_n[i]),
                item_correct=int(self.item_c[i]),
            )
            for i in range(self.n_items)
        ]

    def plan(self, day: int, ctx: DayContext) -> Plan:
        """Rank each student's items from the learner model's predictions."""
        cands = self._candidates()
        items = np.arange(self.n_items, dtype=np.int64)
        now = (ORIGIN + timedelta(days=day)).timestamp()
        key = np.full(self.seen.shape, np.inf)
        eligible = np.zeros(self.seen.shape, dtype=bool)
        caps = np.full(len(self.states), self.n_items, dtype=np.int64)
        for s, state in enumerate(self.states):
            pred = LearnerModelPredictor(self.model, state, cands)
            p_now = pred.recall_at(items, np.full(self.n_items, now))
            seen = self.seen[s]
            if ctx.exam_day is None:
                due = due_mask(p_now, ~seen, self.target)
                key[s] = np.where(seen, p_now, 1e9 + items)
                eligible[s] = due | ~seen
                goal = ctx.budget_seconds / ctx.answer_seconds[s]
                caps[s] = max(1, int(goal * 0.25))
                continue
            horizon = planning_horizon_days(
                ctx.exam_day - day, self.n_items, float(ctx.answer_seconds[s]), ctx.budget_seconds
            )
            t_h = now + horizon * 86_400.0
            p_h = np.where(seen, pred.recall_at(items, np.full(self.n_items, t_h)), 0.0)
            old = items[seen][np.argsort(p_h[seen], kind="stable")[:SHORTLIST]]
            short = np.concatenate([old, items[~seen][:SHORTLIST]])
            right, wrong = pred.recall_after_review(short, now, t_h)
            reviewed = p_now[short] * right + (1.0 - p_now[short]) * wrong
            gain = exam_gain_per_second(
                p_now[short],
                ~seen[short],
                p_h[short],
                reviewed,
                np.full(short.shape[0], float(ctx.answer_seconds[s])),
                float(ctx.exam_day - day),
                1.0,
            )
            ok = np.isfinite(gain) & (gain > 0)
            key[s, short[ok]] = -gain[ok]
            eligible[s, short[ok]] = True
            rest = seen.copy()
            rest[short] = False
            key[s, rest] = 1.0 + p_h[rest]  # after the shortlist, least recalled first
            eligible[s, rest] = True
        return Plan(key, eligible, caps)

    def observe(self, mask: B, day: int, grade: I) -> None:
        """Feed each answer (and the relearning step after a wrong one) to the model."""
        from tutor.model.online import AttemptFeatures

        cands = self._candidates()
        base = ORIGIN + timedelta(days=day)
        for s in range(len(self.states)):
            state = self.states[s]
            for k, i in enumerate(np.flatnonzero(mask[s])):
                g = int(grade[s, i])
                when = base + timedelta(seconds=30 * k)
                state = self.model.update(state, AttemptFeatures(cands[i], when, g > 1, g))
                if g == 1:
                    again = when + timedelta(minutes=10)
                    state = self.model.update(state, AttemptFeatures(cands[i], again, True, 3))
            self.states[s] = state
        self.item_n += mask.sum(axis=0)
        self.item_c += (mask & (grade > 1)).sum(axis=0)
        self.seen |= mask
