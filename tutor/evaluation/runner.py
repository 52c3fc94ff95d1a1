"""Run predictors on datasets under the evaluation protocol and score them per bucket of t."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tutor.evaluation.logs import Dataset, FloatArray, LearnerLog
from tutor.evaluation.metrics import (
    BUCKETS,
    BinKeys,
    bin_keys,
    bucket_of,
    concat_keys,
    scores,
    subset,
)
from tutor.evaluation.registry import Entry

Row = dict[str, Any]


@dataclass
class Timing:
    """Wall-clock seconds a model spent on one dataset."""

    dataset: str
    model: str
    fit_s: float
    predict_s: float
    n_predictions: int


@dataclass
class RunResult:
    """All metric rows and timings of one run."""

    rows: list[Row] = field(default_factory=list)
    timings: list[Timing] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Truth:
    """What the scoring needs about the test attempts, concatenated over test learners."""

    y: np.ndarray
    t: np.ndarray
    mask: np.ndarray
    keys: BinKeys


def _truth(test: Sequence[LearnerLog]) -> _Truth:
    ys, ts, masks, keys = [], [], [], []
    for log in test:
        ys.append(log.correct.astype(np.int64))
        ts.append(np.arange(len(log), dtype=np.int64))
        masks.append(log.eval_mask if log.eval_mask is not None else np.ones(len(log), bool))
        keys.append(bin_keys(log))
    if not ys:
        empty = np.zeros(0, dtype=np.int64)
        return _Truth(empty, empty, np.zeros(0, bool), concat_keys([]))
    return _Truth(np.concatenate(ys), np.concatenate(ts), np.concatenate(masks), concat_keys(keys))


def score_rows(dataset: str, model: str, truth: _Truth, p: FloatArray) -> list[Row]:
    """Metric rows (one per bucket of t, then ``all``) of the scored attempts."""
    rows: list[Row] = []
    bucket = bucket_of(truth.t)
    for index, (label, _, _) in [*enumerate(BUCKETS), (-1, ("all", 0, 0))]:
        sel = truth.mask if index < 0 else truth.mask & (bucket == index)
        n = int(sel.sum())
        row: Row = {"dataset": dataset, "model": model, "bucket": label, "n": n}
        if n:
            row.update(scores(truth.y[sel], p[sel], subset(truth.keys, sel)))
        else:
            row.update({"auc": float("nan"), "logloss": float("nan"), "rmse_bins": float("nan")})
        rows.append(row)
    return rows


def subsample(dataset: Dataset, *, max_train: int, max_test: int, seed: int) -> Dataset:
    """Keep a seeded random subset of the learners (for smoke runs)."""
    rng = random.Random(seed)

    def pick(logs: Sequence[LearnerLog], k: int) -> list[LearnerLog]:
        if len(logs) <= k:
            return list(logs)
        keep = sorted(rng.sample(range(len(logs)), k))
        return [logs[i] for i in keep]

    return Dataset(
        dataset.name,
        pick(dataset.train, max_train),
        pick(dataset.test, max_test),
        dataset.timestamped,
    )


def _check(model: str, learner: LearnerLog, p: np.ndarray) -> None:
    if p.shape != (len(learner),):
        raise ValueError(f"{model}: {p.shape} predictions for {len(learner)} attempts")
    if not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1:
        raise ValueError(f"{model}: predictions outside [0, 1] for learner {learner.user}")


def run_dataset(
    dataset: Dataset,
    entries: Sequence[Entry],
    *,
    seed: int,
    progress: Callable[[int], None] | None = None,
    on_model: Callable[[str], None] | None = None,
) -> RunResult:
    """Fit every applicable predictor on the training learners and score the test learners.

    ``progress`` is called with the number of test learners predicted so far by a model.
    """
    result = RunResult()
    truth = _truth(dataset.test)
    for entry in entries:
        if entry.timestamped_only and not dataset.timestamped:
            result.skipped.append(f"{dataset.name}/{entry.name}")
            continue
        if on_model is not None:
            on_model(entry.name)
        predictor = entry.factory()
        start = time.perf_counter()
        predictor.fit(dataset.train, seed=seed)
        fitted = time.perf_counter()
        parts = []
        for learner in dataset.test:
            p = np.asarray(predictor.predict(learner), dtype=np.float64)
            _check(entry.name, learner, p)
            parts.append(p)
            if progress is not None:
                progress(1)
        done = time.perf_counter()
        p_all = np.concatenate(parts) if parts else np.zeros(0)
        result.rows.extend(score_rows(dataset.name, entry.name, truth, p_all))
        result.timings.append(
            Timing(dataset.name, entry.name, fitted - start, done - fitted, len(p_all))
        )
    return result
