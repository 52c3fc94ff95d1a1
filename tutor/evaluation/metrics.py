"""Metrics of the benchmark: AUC, log loss and srs-benchmark's RMSE(bins), bucketed by t."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tutor.evaluation.logs import LearnerLog

# Buckets of t, the 0-based position of an attempt in its learner's sequence.
BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("0", 0, 0),
    ("1-2", 1, 2),
    ("3-5", 3, 5),
    ("6-10", 6, 10),
    ("11-20", 11, 20),
    ("21-50", 21, 50),
    ("51+", 51, 2**62),
)
BUCKET_NAMES: tuple[str, ...] = (*(b[0] for b in BUCKETS), "all")
EPS = 1e-15
DAY_S = 86_400.0
DAY_OFFSET_S = 4 * 3_600.0


def bucket_of(t: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Index into :data:`BUCKETS` of every position ``t``."""
    edges = np.array([b[2] for b in BUCKETS[:-1]])
    return np.searchsorted(edges, t, side="left").astype(np.int64)


def auc(y: npt.ArrayLike, p: npt.ArrayLike) -> float:
    """Area under the ROC curve (ties count one half); NaN when only one class is present."""
    ya = np.asarray(y, dtype=np.int64)
    pa = np.asarray(p, dtype=np.float64)
    n_pos = int(ya.sum())
    n_neg = len(ya) - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    order = np.argsort(pa, kind="mergesort")
    sorted_p = pa[order]
    ranks = np.empty(len(pa), dtype=np.float64)
    # average ranks over runs of equal scores
    starts = np.flatnonzero(np.r_[True, sorted_p[1:] != sorted_p[:-1]])
    ends = np.r_[starts[1:], len(pa)]
    avg = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(avg, ends - starts)
    return float((ranks[ya == 1].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def log_loss(y: npt.ArrayLike, p: npt.ArrayLike) -> float:
    """Mean negative log-likelihood; predictions are clipped to [1e-15, 1 - 1e-15]."""
    ya = np.asarray(y, dtype=np.float64)
    pa = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    if len(ya) == 0:
        return math.nan
    return float(-np.mean(ya * np.log(pa) + (1 - ya) * np.log(1 - pa)))


@dataclass(frozen=True, slots=True)
class BinKeys:
    """Per-attempt inputs of RMSE(bins): elapsed days, review number, lapses (see rmse_bins)."""

    elapsed_days: npt.NDArray[np.float64]
    reps: npt.NDArray[np.int64]
    lapses: npt.NDArray[np.int64]


def bin_keys(learner: LearnerLog) -> BinKeys:
    """Compute srs-benchmark's binning inputs for every attempt of ``learner``.

    ``elapsed_days``: whole days (Anki days starting 04:00 UTC) since the previous attempt on
    the same item; -1 on the first attempt of an item and whenever the log has no timestamps
    (then all repeats share one time bin). ``reps``: 1 + the number of attempts on the item so
    far (this one included) that came on a later day than the one before it (without
    timestamps every repeat counts). ``lapses``: earlier such attempts that were failed.
    """
    n = len(learner)
    elapsed = np.full(n, -1.0)
    reps = np.ones(n, dtype=np.int64)
    lapses = np.zeros(n, dtype=np.int64)
    days = (
        np.floor((learner.timestamps - DAY_OFFSET_S) / DAY_S).astype(np.int64)
        if learner.timestamps is not None
        else None
    )
    state: dict[int, tuple[int, int, int]] = {}  # item -> (last day, reps, lapses)
    for t, (item, ok) in enumerate(
        zip(learner.items.tolist(), learner.correct.tolist(), strict=True)
    ):
        day = int(days[t]) if days is not None else 0
        prev = state.get(item)
        if prev is None:
            state[item] = (day, 1, 0)
            continue
        last_day, r, lap = prev
        later = days is None or day > last_day
        if days is not None:
            elapsed[t] = day - last_day
        if later:
            r += 1
        reps[t] = r
        lapses[t] = lap
        state[item] = (day, r, lap + (1 if later and not ok else 0))
    return BinKeys(elapsed, reps, lapses)


def _log_bin(x: npt.NDArray[np.float64], base: float, scale: float, digits: int) -> np.ndarray:
    safe = np.maximum(x, 1e-6)
    out = np.round(scale * np.power(base, np.floor(np.log(safe) / np.log(base))), digits)
    return np.asarray(out)


def rmse_bins(y: npt.ArrayLike, p: npt.ArrayLike, keys: BinKeys) -> float:
    """RMSE(bins) as srs-benchmark defines it.

    Every prediction is put in a bin given by three rounded logarithmic keys: the days since
    the item's previous review (bucketed as ``2.48 * 3.62**floor(log_3.62 x)``), the review
    number ``i`` (``1.99 * 1.89**floor(log_1.89 i)``) and the number of lapses
    (``1.65 * 1.73**floor(log_1.73 x)``, 0 kept apart). In each bin the mean prediction is
    compared with the observed success rate; the result is the square root of the mean of
    the squared differences, each bin weighted by its number of predictions. Attempts with
    no elapsed time (first attempts, untimed logs) form their own time bin.
    """
    ya = np.asarray(y, dtype=np.float64)
    pa = np.asarray(p, dtype=np.float64)
    if len(ya) == 0:
        return math.nan
    el = keys.elapsed_days
    t_bin = np.where(el < 0, -1.0, _log_bin(el.astype(np.float64), 3.62, 2.48, 2))
    i_bin = _log_bin(keys.reps.astype(np.float64), 1.89, 1.99, 0)
    lap = keys.lapses.astype(np.float64)
    l_bin = np.where(lap == 0, 0.0, _log_bin(lap, 1.73, 1.65, 0))
    triples = np.stack([t_bin, i_bin, l_bin], axis=1)
    _, inverse = np.unique(triples, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    count = np.bincount(inverse).astype(np.float64)
    mean_y = np.bincount(inverse, weights=ya) / count
    mean_p = np.bincount(inverse, weights=pa) / count
    return float(np.sqrt(np.sum(count * (mean_y - mean_p) ** 2) / np.sum(count)))


def concat_keys(parts: list[BinKeys]) -> BinKeys:
    """Concatenate per-learner keys."""
    if not parts:
        return BinKeys(np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    return BinKeys(
        np.concatenate([k.elapsed_days for k in parts]),
        np.concatenate([k.reps for k in parts]),
        np.concatenate([k.lapses for k in parts]),
    )


def subset(keys: BinKeys, mask: npt.NDArray[np.bool_]) -> BinKeys:
    """Keys of the selected attempts."""
    return BinKeys(keys.elapsed_days[mask], keys.reps[mask], keys.lapses[mask])


def scores(y: npt.ArrayLike, p: npt.ArrayLike, keys: BinKeys) -> dict[str, float]:
    """AUC, log loss and RMSE(bins) of one set of predictions."""
    return {"auc": auc(y, p), "logloss": log_loss(y, p), "rmse_bins": rmse_bins(y, p, keys)}
