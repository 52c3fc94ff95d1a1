"""The benchmark's stand-in learner model: FSRS-6 with default parameters, adapted online.

It learns each simulated student only from that student's answers, as the live model would:
a per-student stability scale (how much better or worse this student remembers than the
default curve says) and a per-student rate of knowing an item at first sight. Batched over
students so a whole population's day is a few numpy operations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tutor.simulation import fsrs_math as fm

F = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]
I = npt.NDArray[np.int64]  # noqa: E741

GOOD, AGAIN = 3, 1
LEARN_RATE = 0.5
#: Pseudo-answers pulling an item's first-sight rate toward the overall rate.
ITEM_PRIOR = 5.0
MAX_SCALE = 3.0


def _logit(p: F) -> F:
    q = np.clip(p, 1e-4, 1 - 1e-4)
    return np.asarray(np.log(q / (1.0 - q)))


@dataclass
class OnlineFSRS:
    """Per-(student, item) FSRS state from observed answers, plus per-student calibration."""

    n_students: int
    n_items: int
    w: F = field(default_factory=lambda: fm.DEFAULT_W[None, :].copy())

    def __post_init__(self) -> None:
        shape = (self.n_students, self.n_items)
        self.w = np.repeat(self.w, self.n_students, axis=0)
        self.d = np.full(shape, 5.0)
        self.s = np.ones(shape)
        self.last = np.zeros(shape)
        self.seen = np.zeros(shape, dtype=bool)
        self.log_scale = np.zeros((self.n_students, 1))
        self.first_right = np.ones(self.n_students)
        self.first_total = np.full(self.n_students, 2.0)
        # first-sight answers to each item by all students (the live model's item statistics)
        self.item_right = np.zeros(self.n_items)
        self.item_total = np.zeros(self.n_items)

    def _eff(self, s: F) -> F:
        return s * np.exp(self.log_scale)

    def recall(self, day: float | F, s: F | None = None, last: F | None = None) -> F:
        """Predicted P(recall) on ``day`` (0 where never seen)."""
        s = self.s if s is None else s
        last = self.last if last is None else last
        return np.where(self.seen, fm.retrievability(self.w, day - last, self._eff(s)), 0.0)

    @property
    def p_first(self) -> F:
        """Predicted chance of knowing an unseen item at first sight, ``(S, N)``.

        The student's own rate, shifted by how the item fared with all students (smoothed
        toward the overall rate), combined on the logit scale.
        """
        overall = (self.item_right.sum() + 1.0) / (self.item_total.sum() + 2.0)
        item = (self.item_right + ITEM_PRIOR * overall) / (self.item_total + ITEM_PRIOR)
        student = self.first_right / self.first_total
        z = _logit(student)[:, None] + _logit(item)[None, :] - _logit(np.asarray(overall))
        return np.asarray(1.0 / (1.0 + np.exp(-z)))

    def p_answer(self, day: float) -> F:
        """Predicted P(right answer) if asked on ``day``."""
        return np.where(self.seen, self.recall(day), self.p_first)

    @staticmethod
    def _after(w: F, d: F, s: F, elapsed: F, new: B, grade: I, log_scale: F) -> tuple[F, F]:
        """State after a review rated ``grade`` (with the relearning step if wrong)."""
        scale = np.exp(log_scale)
        d, s = fm.review(w, d, s * scale, elapsed, new, grade)
        s = s / scale
        again = grade == AGAIN
        if np.any(again):
            good = np.full_like(grade, GOOD)
            d = np.where(again, fm.next_difficulty(w, d, good), d)
            s = np.where(again, fm.short_term_stability(w, s, good), s)
        return d, s

    def exam_forecast(self, day: float, exam_day: float | F) -> tuple[F, F, F]:
        """(P(answer now), exam-day recall without review, expected exam-day recall if reviewed
        now), every ``(S, N)``."""
        p_now = self.p_answer(day)
        no_review = self.recall(exam_day)
        shape = self.s.shape
        outcomes = []
        for g in (GOOD, AGAIN):
            grade = np.full(shape, g, dtype=np.int64)
            _, s_g = self._after(
                self.w, self.d, self.s, day - self.last, ~self.seen, grade, self.log_scale
            )
            r = fm.retrievability(self.w, np.broadcast_to(exam_day - day, shape), self._eff(s_g))
            outcomes.append(r)
        reviewed = p_now * outcomes[0] + (1.0 - p_now) * outcomes[1]
        return p_now, no_review, reviewed

    def observe(self, mask: B, day: float, grade: I) -> None:
        """Learn from the answers given on ``day`` (``grade`` 1 = wrong) to the masked items."""
        right = grade > 1
        first = mask & ~self.seen
        self.first_right += (first & right).sum(axis=1)
        self.first_total += first.sum(axis=1)
        self.item_right += (first & right).sum(axis=0)
        self.item_total += first.sum(axis=0)
        old = mask & self.seen
        if old.any():
            # one gradient step per student on the log loss w.r.t. the log stability scale:
            # d log p / d log_scale = decay * x / (1 + x), d loss / d p = (p - y) / (p (1 - p))
            (r, c), w, (s_old, last, y) = fm.gather(old, self.w, self.s, self.last, right)
            scale = np.exp(self.log_scale[r])
            x = fm.factor(w) * np.maximum(day - last, 0.0) / (s_old * scale)
            p = np.clip((1.0 + x) ** -fm.col(w, 20), 1e-4, 1 - 1e-4)
            grad = ((p - y) / (1.0 - p) * fm.col(w, 20) * x / (1.0 + x))[:, 0]
            total = np.bincount(r, weights=grad, minlength=self.n_students)
            n = np.maximum(np.bincount(r, minlength=self.n_students), 1)
            step = -LEARN_RATE * total / np.sqrt(n)
            self.log_scale = np.clip(self.log_scale + step[:, None], -MAX_SCALE, MAX_SCALE)
        (r, c), w, (d0, s0, last, seen, g) = fm.gather(
            mask, self.w, self.d, self.s, self.last, self.seen, grade
        )
        d, s = self._after(
            w, d0, s0, day - last, ~seen.astype(bool), g.astype(np.int64), self.log_scale[r]
        )
        self.d[r, c] = d[:, 0]
        self.s[r, c] = s[:, 0]
        self.last[r, c] = day
        self.seen |= mask


class OnlineFSRSPredictor:
    """One student of an :class:`OnlineFSRS` seen through the policy's ``RecallPredictor``.

    Day 0 of the model is ``origin`` (Unix seconds); item ids are column indices.
    """

    def __init__(self, model: OnlineFSRS, student: int, origin: float) -> None:
        self.model = model
        self.student = student
        self.origin = origin

    def _day(self, t: F | float) -> F:
        return np.asarray((np.asarray(t, dtype=np.float64) - self.origin) / 86_400.0)

    def recall_at(self, items: I, at: F) -> F:
        """Predicted recall of ``items`` at the Unix times ``at``."""
        m, s = self.model, self.student
        w = m.w[s : s + 1]
        eff = m.s[s, items] * np.exp(m.log_scale[s, 0])
        r = fm.retrievability(w, (self._day(at) - m.last[s, items])[None, :], eff[None, :])[0]
        return np.where(m.seen[s, items], r, 0.0)

    def recall_after_review(self, items: I, review_at: float, at: float) -> tuple[F, F]:
        """Predicted recall at ``at`` after a right / wrong answer at ``review_at``."""
        m, s = self.model, self.student
        w = m.w[s : s + 1]
        day = float(self._day(review_at))
        out = []
        for g in (GOOD, AGAIN):
            grade = np.full((1, items.shape[0]), g, dtype=np.int64)
            _, s_g = m._after(
                w,
                m.d[s, items][None, :],
                m.s[s, items][None, :],
                day - m.last[s, items][None, :],
                ~m.seen[s, items][None, :],
                grade,
                m.log_scale[s : s + 1],
            )
            eff = s_g * np.exp(m.log_scale[s, 0])
            out.append(fm.retrievability(w, np.full_like(eff, float(self._day(at)) - day), eff)[0])
        return out[0], out[1]
