"""FSRS-6 formulas on numpy arrays (one parameter row per student, broadcast over items).

The same formulas as the ``fsrs`` package's Scheduler (v6), vectorised so that hundreds of
simulated students and thousands of items advance together; a test checks them against the
package. ``w`` has shape ``(S, 21)`` and every state array ``(S, N)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

F = npt.NDArray[np.float64]
I = npt.NDArray[np.int64]  # noqa: E741
A = npt.NDArray[Any]  # grades arrive as int or float arrays

S_MIN = 0.001
D_MIN, D_MAX = 1.0, 10.0

DEFAULT_W = np.array(
    [0.212, 1.2931, 2.3065, 8.2956, 6.4133, 0.8334, 3.0194, 0.001, 1.8722, 0.1666, 0.796,
     1.4835, 0.0614, 0.2629, 1.6483, 0.6014, 1.8729, 0.5425, 0.0912, 0.0658, 0.1542]
)  # fmt: skip


def col(w: F, k: int) -> F:
    """Parameter ``k`` as a column, to broadcast over items."""
    return w[:, k : k + 1]


def factor(w: F) -> F:
    """The curve's scale factor so that recall is 0.9 when elapsed time equals stability."""
    decay = -col(w, 20)
    return np.asarray(0.9 ** (1.0 / decay) - 1.0)


def retrievability(w: F, elapsed_days: F, stability: F) -> F:
    """Probability of recall after ``elapsed_days`` at ``stability`` (the FSRS-6 power curve)."""
    decay = -col(w, 20)
    t = np.maximum(elapsed_days, 0.0)
    return np.asarray((1.0 + factor(w) * t / np.maximum(stability, S_MIN)) ** decay)


def initial_stability(w: F, grade: A) -> F:
    """Stability after the first rating (1-4)."""
    return np.maximum(np.take_along_axis(w, grade - 1, axis=1), S_MIN)


def initial_difficulty(w: F, grade: A, clamp: bool = True) -> F:
    """Difficulty after the first rating."""
    d = col(w, 4) - np.exp(col(w, 5) * (grade - 1.0)) + 1.0
    return np.clip(d, D_MIN, D_MAX) if clamp else d


def next_difficulty(w: F, d: F, grade: A) -> F:
    """Difficulty after a review rated ``grade`` (linear damping, mean reversion to D0(Easy))."""
    delta = -col(w, 6) * (grade - 3.0)
    damped = d + (10.0 - d) * delta / 9.0
    target = initial_difficulty(w, np.full((w.shape[0], 1), 4.0), clamp=False)
    return np.clip(col(w, 7) * target + (1.0 - col(w, 7)) * damped, D_MIN, D_MAX)


def short_term_stability(w: F, s: F, grade: A) -> F:
    """Stability after a same-day review."""
    inc = np.exp(col(w, 17) * (grade - 3.0 + col(w, 18))) * s ** (-col(w, 19))
    inc = np.where(grade >= 2, np.maximum(inc, 1.0), inc)
    return np.maximum(s * inc, S_MIN)


def next_stability(w: F, d: F, s: F, r: F, grade: A) -> F:
    """Stability after a review on a later day (recall or lapse branch by ``grade``)."""
    hard = np.where(grade == 2, col(w, 15), 1.0)
    easy = np.where(grade == 4, col(w, 16), 1.0)
    recall = s * (
        1.0
        + np.exp(col(w, 8))
        * (11.0 - d)
        * s ** (-col(w, 9))
        * (np.exp((1.0 - r) * col(w, 10)) - 1.0)
        * hard
        * easy
    )
    forget_long = (
        col(w, 11) * d ** (-col(w, 12)) * ((s + 1.0) ** col(w, 13) - 1.0)
        * np.exp((1.0 - r) * col(w, 14))
    )  # fmt: skip
    forget = np.minimum(forget_long, s / np.exp(col(w, 17) * col(w, 18)))
    return np.maximum(np.where(grade == 1, forget, recall), S_MIN)


def review(
    w: F, d: F, s: F, elapsed_days: F, is_new: npt.NDArray[np.bool_], grade: A
) -> tuple[F, F]:
    """(difficulty, stability) after a review, for every entry (callers mask what applies).

    A first review sets the initial state; a review less than a day after the last uses the
    short-term formula; otherwise the long-term one, with recall computed at whole days as
    the package does.
    """
    whole = np.floor(np.maximum(elapsed_days, 0.0))
    d = np.clip(d, D_MIN, D_MAX)  # unseen entries hold placeholders
    r = retrievability(w, whole, s)
    s_same = short_term_stability(w, s, grade)
    s_long = next_stability(w, d, s, r, grade)
    s_new = np.where(is_new, initial_stability(w, grade), np.where(whole < 1, s_same, s_long))
    d_new = np.where(is_new, initial_difficulty(w, grade), next_difficulty(w, d, grade))
    return d_new, s_new


def interval_days(w: F, s: F, desired_retention: float, maximum: int = 36500) -> F:
    """Whole-day interval at which recall is predicted to reach ``desired_retention``."""
    decay = -col(w, 20)
    ivl = s / factor(w) * (desired_retention ** (1.0 / decay) - 1.0)
    return np.clip(np.round(ivl), 1, maximum)


def gather(mask: npt.NDArray[np.bool_], w: F, *arrays: A) -> tuple[tuple[I, I], F, list[A]]:
    """The masked entries as ``(K, 1)`` columns with their students' parameter rows.

    Updating only what was reviewed keeps a population's day cheap.
    """
    rows, cols = np.nonzero(mask)
    return (rows, cols), w[rows], [np.asarray(a)[rows, cols][:, None] for a in arrays]
