"""Per-student recalibration of the learner model's recall predictions, learned online.

The shared model is trained on other people; a given student may forget faster or slower than
it predicts, and the error grows with the time since the last review and shrinks as an item
is learned. Each student gets a small logistic correction fitted from their own answers::

    p' = sigmoid(a + b * logit(p) + c * log1p(gap) + d * log1p(right) + e * log1p(spacing))

starting at the identity (a, b, c, d, e) = (0, 1, 0, 0, 0) and updated after answers to seen
items by a Bayesian logistic regression (a Gaussian over the weights whose precision grows
with each answer's curvature, so early answers move it a lot, later ones little). ``gap`` is
the time in days since the student last answered the item, ``right`` how many times they
answered it right before, and ``spacing`` the days between their last two answers to it (0
after a single answer; after a hypothetical review now, the current gap), which lets the
correction learn how much this student gains from spaced reviews. The evidence fades slowly
(``FORGET`` per answer) back toward the identity, so the correction follows a student whose
memory of the deck changes, and the weights stay within bounds (``LOWER``, ``UPPER``) that
keep a correction from inverting the model or letting recall grow with time.
Predictions for items never seen (first-sight guesses) are left as they are.

Array functions work on any leading shape (one student, or a simulated population);
:class:`RecallCalibration` and :class:`CalibratedPredictor` wrap them for the service.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from tutor.policy.predictor import RecallPredictor
from tutor.policy.types import SECONDS_PER_DAY, BoolArray, FloatArray, IntArray

N_WEIGHTS = 5
IDENTITY = np.array([0.0, 1.0, 0.0, 0.0, 0.0])
#: Prior precision of (a, b, c, d): how many answers' worth of evidence the identity is worth.
PRIOR_PRECISION = np.full(N_WEIGHTS, 4.0)
#: Share of the evidence kept per answer learned from (about the last 1,000 answers count).
FORGET = 0.999
NEWTON_STEPS = 3
#: Bounds on (a, b, c, d, e): a correction may shift and flatten the model's confidence, but
#: never invert it (b > 0), never let recall rise with the time since the last answer
#: (c <= 0), and never push a prediction to certainty by its intercept alone.
LOWER = np.array([-4.0, 0.1, -np.inf, -np.inf, -np.inf])
UPPER = np.array([4.0, 2.0, 0.0, np.inf, np.inf])
_EPS = 1e-4


def _logit(p: FloatArray) -> FloatArray:
    q = np.clip(p, _EPS, 1.0 - _EPS)
    return np.asarray(np.log(q) - np.log1p(-q))


def features(
    p: FloatArray, gap_days: FloatArray, right_before: FloatArray, spacing_days: FloatArray
) -> FloatArray:
    """The regression inputs ``[1, logit(p), log1p(gap_days), log1p(right_before)]``,
    shape ``(..., 4)``."""
    p, gap, n, sp = np.broadcast_arrays(
        np.asarray(p, np.float64),
        np.asarray(gap_days, np.float64),
        np.asarray(right_before, np.float64),
        np.asarray(spacing_days, np.float64),
    )
    return np.stack(
        [
            np.ones_like(p),
            _logit(p),
            np.log1p(np.maximum(gap, 0.0)),
            np.log1p(np.maximum(n, 0.0)),
            np.log1p(np.maximum(np.nan_to_num(sp), 0.0)),
        ],
        axis=-1,
    )


def prior(shape: tuple[int, ...] = ()) -> tuple[FloatArray, FloatArray]:
    """The identity for ``shape`` students: ``(mean (..., 4), precision (..., 4, 4))``."""
    mean = np.broadcast_to(IDENTITY, (*shape, N_WEIGHTS)).copy()
    prec = np.broadcast_to(np.diag(PRIOR_PRECISION), (*shape, N_WEIGHTS, N_WEIGHTS)).copy()
    return mean, prec


def apply(
    mean: FloatArray,
    p: FloatArray,
    gap_days: FloatArray,
    right_before: FloatArray,
    spacing_days: FloatArray,
) -> FloatArray:
    """Calibrated recall. ``mean`` is ``(4,)`` (one student, inputs of any shape) or
    ``(S, 4)`` with inputs of shape ``(S, ...)`` (a population)."""
    x = features(p, gap_days, right_before, spacing_days)
    mean = np.asarray(mean, np.float64)
    m = mean.reshape(mean.shape[:-1] + (1,) * (x.ndim - mean.ndim) + (N_WEIGHTS,))
    z = (x * m).sum(axis=-1)
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


def observe(
    mean: FloatArray,
    prec: FloatArray,
    p: FloatArray,
    gap_days: FloatArray,
    right_before: FloatArray,
    spacing_days: FloatArray,
    correct: BoolArray,
    weight: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Learn from a batch of answers per student.

    Args:
        mean, prec: current weights ``(S, 5)`` and precision ``(S, 5, 5)``.
        p: the model's raw predictions made before each answer, ``(S, M)``.
        gap_days: days since the student last answered each item, ``(S, M)``.
        right_before: the student's right answers to each item before this one, ``(S, M)``.
        spacing_days: days between the student's last two answers to each item, ``(S, M)``.
        correct: outcomes ``(S, M)``.
        weight: 1 for real answers, 0 for padding, ``(S, M)`` (default: all 1).

    Returns:
        The updated ``(mean, prec)``: the old evidence faded by ``FORGET`` per answer toward
        the identity (:func:`fade`), then the most likely weights given it and the batch (a
        few Newton steps, clipped to ``LOWER``..``UPPER``), with the precision grown by the
        batch's curvature there.
    """
    x = features(p, gap_days, right_before, spacing_days)  # (S, M, 5)
    w = np.ones(x.shape[:-1]) if weight is None else np.asarray(weight, np.float64)
    y = np.asarray(correct, np.float64)
    mean, prec = fade(mean, prec, FORGET ** w.sum(axis=-1))
    m = mean
    for _ in range(NEWTON_STEPS):  # the batch's MAP estimate under the faded Gaussian
        q = 1.0 / (1.0 + np.exp(-np.einsum("smk,sk->sm", x, m)))
        grad = np.einsum("sm,smk->sk", w * (q - y), x) + np.einsum("skl,sl->sk", prec, m - mean)
        h = prec + np.einsum("sm,smk,sml->skl", w * q * (1.0 - q), x, x)
        m = m - np.linalg.solve(h, grad[..., None])[..., 0]
    m = np.clip(m, LOWER, UPPER)
    q = 1.0 / (1.0 + np.exp(-np.einsum("smk,sk->sm", x, m)))
    return m, prec + np.einsum("sm,smk,sml->skl", w * q * (1.0 - q), x, x)


def fade(mean: FloatArray, prec: FloatArray, keep: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The Gaussian ``(mean (..., 5), prec (..., 5, 5))`` with only ``keep`` (shape ``(...)``)
    of its evidence left, the rest given back to the prior (the identity).

    Fading happens in information form (precision, precision times mean), so what is
    forgotten returns the weights toward the identity rather than leaving them where the last
    answers put them with less confidence: without that anchor, a long run of answers the
    model already predicts well lets the weights drift without bound.
    """
    base = np.diag(PRIOR_PRECISION)
    k = np.asarray(keep, np.float64)[..., None]
    info0 = base @ IDENTITY
    info = np.einsum("...kl,...l->...k", prec, mean)
    faded_prec = base + k[..., None] * (prec - base)
    faded_info = info0 + k * (info - info0)
    return np.linalg.solve(faded_prec, faded_info[..., None])[..., 0], faded_prec


@dataclass(frozen=True, slots=True)
class ItemHistory:
    """What the calibration needs to know of a student's answers to one item."""

    last_seen: float  # Unix seconds of the last answer
    previous_seen: float | None = None  # Unix seconds of the answer before it
    right: int = 0  # right answers so far

    @property
    def spacing_days(self) -> float:
        """Days between the last two answers (0 after a single answer)."""
        if self.previous_seen is None:
            return 0.0
        return max(self.last_seen - self.previous_seen, 0.0) / SECONDS_PER_DAY


def after_answer(history: ItemHistory | None, at: float, correct: bool) -> ItemHistory:
    """An item's history after one more answer at Unix time ``at`` (``history`` None: the
    first answer)."""
    if history is None:
        return ItemHistory(at, None, int(correct))
    return ItemHistory(at, history.last_seen, history.right + int(correct))


@dataclass(frozen=True, slots=True)
class RecallCalibration:
    """One student's calibration (store it with the student; JSON via :meth:`to_json`)."""

    mean: tuple[float, ...] = tuple(IDENTITY.tolist())
    precision: tuple[tuple[float, ...], ...] = tuple(
        tuple(r) for r in np.diag(PRIOR_PRECISION).tolist()
    )
    answers: int = 0

    def apply(
        self,
        p: FloatArray,
        gap_days: FloatArray,
        right_before: FloatArray,
        spacing_days: FloatArray,
    ) -> FloatArray:
        """Calibrated recall of raw predictions ``p`` of seen items (1-D inputs).

        The same numbers as the module's :func:`apply`, without its stacked feature matrix:
        this runs on every prediction the service makes.
        """
        a, b, c, d, e = self.mean
        z = a + b * _logit(np.asarray(p, np.float64))
        z = z + c * np.log1p(np.maximum(gap_days, 0.0))
        z = z + d * np.log1p(np.maximum(right_before, 0.0))
        z = z + e * np.log1p(np.maximum(np.nan_to_num(spacing_days), 0.0))
        return np.asarray(1.0 / (1.0 + np.exp(-z)))

    def observe(
        self, p: float, history: ItemHistory, at: float, correct: bool
    ) -> RecallCalibration:
        """The calibration after one answer at Unix time ``at`` to a seen item: ``p`` is the
        model's raw prediction just before the answer, ``history`` the item's as it was
        before it. (The module's :func:`observe` for one student and one answer, on plain
        vectors: it runs on every answer.)"""
        q0 = min(max(p, _EPS), 1.0 - _EPS)
        spacing = history.spacing_days
        x = np.array(
            [
                1.0,
                math.log(q0) - math.log1p(-q0),
                math.log1p(max((at - history.last_seen) / SECONDS_PER_DAY, 0.0)),
                math.log1p(max(history.right, 0)),
                math.log1p(max(spacing, 0.0)) if math.isfinite(spacing) else 0.0,
            ]
        )
        y = float(correct)
        mean, prec = fade(np.asarray(self.mean), np.asarray(self.precision), np.asarray(FORGET))
        m = mean
        for _ in range(NEWTON_STEPS):
            q = 1.0 / (1.0 + np.exp(-float(x @ m)))
            grad = (q - y) * x + prec @ (m - mean)
            m = m - np.linalg.solve(prec + q * (1.0 - q) * np.outer(x, x), grad)
        m = np.clip(m, LOWER, UPPER)
        q = 1.0 / (1.0 + np.exp(-float(x @ m)))
        prec = prec + q * (1.0 - q) * np.outer(x, x)
        return RecallCalibration(
            tuple(m.tolist()), tuple(tuple(row) for row in prec.tolist()), self.answers + 1
        )

    def to_json(self) -> str:
        """Compact JSON form."""
        return json.dumps({"mean": self.mean, "precision": self.precision, "n": self.answers})

    @classmethod
    def from_json(cls, text: str) -> RecallCalibration:
        """Parse :meth:`to_json` output (``ValueError`` when malformed)."""
        try:
            doc = json.loads(text)
            mean = tuple(float(v) for v in doc["mean"])
            prec = tuple(tuple(float(v) for v in row) for row in doc["precision"])
            n = int(doc["n"])
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a recall calibration: {exc}") from exc
        if len(mean) != N_WEIGHTS or len(prec) != N_WEIGHTS:
            raise ValueError("recall calibration has the wrong shape")
        if any(len(row) != N_WEIGHTS for row in prec):
            raise ValueError("recall calibration has the wrong shape")
        return cls(mean, prec, n)


class CalibratedPredictor:
    """A ``RecallPredictor`` whose predictions for seen items go through a calibration.

    ``history`` maps item id to the student's :class:`ItemHistory`; items not in it are new,
    and their (first-sight) predictions pass through unchanged. :meth:`from_columns` builds
    one from arrays, which is what the service does for a whole deck.
    """

    def __init__(
        self,
        inner: RecallPredictor,
        calibration: RecallCalibration,
        history: Mapping[int, ItemHistory],
    ) -> None:
        hs = list(history.items())
        self._init(
            inner,
            calibration,
            np.array([i for i, _ in hs], dtype=np.int64),
            np.array([h.last_seen for _, h in hs], dtype=np.float64),
            np.array([h.spacing_days for _, h in hs], dtype=np.float64),
            np.array([h.right for _, h in hs], dtype=np.float64),
        )

    @classmethod
    def from_columns(
        cls,
        inner: RecallPredictor,
        calibration: RecallCalibration,
        item_ids: IntArray,
        last_seen: FloatArray,
        previous_seen: FloatArray,
        right: FloatArray,
    ) -> CalibratedPredictor:
        """The same as the constructor, from one array per :class:`ItemHistory` field
        (``previous_seen`` NaN where an item was answered once)."""
        spacing = np.where(np.isnan(previous_seen), 0.0, np.maximum(last_seen - previous_seen, 0.0))
        out = cls.__new__(cls)
        out._init(inner, calibration, item_ids, last_seen, spacing / SECONDS_PER_DAY, right)
        return out

    def _init(
        self,
        inner: RecallPredictor,
        calibration: RecallCalibration,
        ids: IntArray,
        last: FloatArray,
        spacing_days: FloatArray,
        right: FloatArray,
    ) -> None:
        order = np.argsort(ids, kind="stable")
        self.inner = inner
        self.calibration = calibration
        self._ids = np.asarray(ids, np.int64)[order]
        self._last = np.asarray(last, np.float64)[order]
        self._spacing = np.asarray(spacing_days, np.float64)[order]
        self._right = np.asarray(right, np.float64)[order]

    def _columns(self, items: IntArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Last answer time (NaN if never), right answers and spacing (days) per item."""
        ids = self._ids
        if ids.shape[0] == 0:
            n = items.shape[0]
            return np.full(n, np.nan), np.zeros(n), np.zeros(n)
        k = np.minimum(np.searchsorted(ids, items), ids.shape[0] - 1)
        found = ids[k] == items
        last = np.where(found, self._last[k], np.nan)
        right = np.where(found, self._right[k], 0.0)
        spacing = np.where(found, self._spacing[k], 0.0)
        return last, right, spacing

    def recall_at(self, items: IntArray, at: FloatArray) -> FloatArray:
        """Calibrated P(recall) of ``items`` at Unix times ``at``."""
        p = self.inner.recall_at(items, at)
        last, right, spacing = self._columns(items)
        seen = np.isfinite(last)
        gap = np.where(seen, (at - np.nan_to_num(last)) / SECONDS_PER_DAY, 0.0)
        return np.where(seen, self.calibration.apply(p, gap, right, spacing), p)

    def recall_after_review(
        self, items: IntArray, review_at: float, at: float
    ) -> tuple[FloatArray, FloatArray]:
        """Calibrated recall at ``at`` after a right / wrong answer at ``review_at``."""
        right, wrong = self.inner.recall_after_review(items, review_at, at)
        last, n, _ = self._columns(items)
        seen = np.isfinite(last)
        spacing = np.where(seen, (review_at - np.nan_to_num(last)) / SECONDS_PER_DAY, 0.0)
        gap = np.full(items.shape[0], (at - review_at) / SECONDS_PER_DAY)
        cal = self.calibration
        return cal.apply(right, gap, n + 1.0, spacing), cal.apply(wrong, gap, n, spacing)
