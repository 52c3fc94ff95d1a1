"""Run predictors on datasets under the evaluation protocol and score them per bucket of t."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tutor.evaluation.calibration import diagnostic_rows, item_gaps
from tutor.evaluation.logs import Dataset, FloatArray, LearnerLog, Predictor
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
    """Seconds a model spent on one dataset: wall clock, and CPU time of the process (on a
    shared machine, CPU time is what the work costs; wall time depends on the other load)."""

    dataset: str
    model: str
    fit_s: float
    predict_s: float
    n_predictions: int
    fit_cpu_s: float = 0.0
    predict_cpu_s: float = 0.0


@dataclass
class RunResult:
    """All metric rows and timings of one run."""

    rows: list[Row] = field(default_factory=list)
    timings: list[Timing] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    #: reliability, ECE and forgetting rows (:mod:`tutor.evaluation.calibration`)
    diagnostics: list[Row] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Truth:
    """What the scoring needs about the test attempts, concatenated over test learners."""

    y: np.ndarray
    t: np.ndarray
    mask: np.ndarray
    keys: BinKeys
    gaps: np.ndarray  # seconds since the previous attempt at the item (see item_gaps)
    ratios: np.ndarray  # that gap over the item's previous interval


def _truth(test: Sequence[LearnerLog]) -> _Truth:
    ys, ts, masks, keys, gaps, ratios = [], [], [], [], [], []
    for log in test:
        ys.append(log.correct.astype(np.int64))
        ts.append(np.arange(len(log), dtype=np.int64))
        masks.append(log.eval_mask if log.eval_mask is not None else np.ones(len(log), bool))
        keys.append(bin_keys(log))
        gap, ratio = item_gaps(log)
        gaps.append(gap)
        ratios.append(ratio)
    if not ys:
        empty = np.zeros(0, dtype=np.int64)
        return _Truth(empty, empty, np.zeros(0, bool), concat_keys([]), np.zeros(0), np.zeros(0))
    return _Truth(
        np.concatenate(ys),
        np.concatenate(ts),
        np.concatenate(masks),
        concat_keys(keys),
        np.concatenate(gaps),
        np.concatenate(ratios),
    )


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


def predict_all(
    predictor: Predictor,
    model: str,
    dataset: Dataset,
    truth: _Truth | None = None,
    *,
    fit_s: float = 0.0,
    fit_cpu_s: float = 0.0,
    progress: Callable[[int], None] | None = None,
    diagnostics: list[Row] | None = None,
) -> tuple[list[Row], Timing]:
    """Score a fitted predictor on the test learners of ``dataset``: metric rows and timing.

    When ``diagnostics`` is given, the reliability and forgetting rows of the same scored
    predictions are appended to it.
    """
    truth = truth if truth is not None else _truth(dataset.test)
    start, cpu = time.perf_counter(), time.process_time()
    parts = []
    for learner in dataset.test:
        p = np.asarray(predictor.predict(learner), dtype=np.float64)
        _check(model, learner, p)
        parts.append(p)
        if progress is not None:
            progress(1)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    p_all = np.concatenate(parts) if parts else np.zeros(0)
    rows = score_rows(dataset.name, model, truth, p_all)
    if diagnostics is not None:
        sel = truth.mask
        diagnostics.extend(
            diagnostic_rows(
                dataset.name,
                model,
                truth.y[sel],
                p_all[sel],
                truth.gaps[sel],
                truth.ratios[sel],
            )
        )
    return rows, Timing(dataset.name, model, fit_s, wall, len(p_all), fit_cpu_s, cpu)


def fit_timed(
    entry: Entry, train: Sequence[LearnerLog], *, seed: int
) -> tuple[Predictor, float, float]:
    """A fresh predictor of ``entry`` fitted on ``train``, and the wall and CPU seconds the
    fit took."""
    if entry.transfer:
        raise ValueError(f"{entry.name} learns from other datasets: run it through run_all")
    predictor = entry.factory()
    start, cpu = time.perf_counter(), time.process_time()
    predictor.fit(train, seed=seed)
    return predictor, time.perf_counter() - start, time.process_time() - cpu


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
        predictor, fit_s, fit_cpu_s = fit_timed(entry, dataset.train, seed=seed)
        rows, timing = predict_all(
            predictor,
            entry.name,
            dataset,
            truth,
            fit_s=fit_s,
            fit_cpu_s=fit_cpu_s,
            progress=progress,
            diagnostics=result.diagnostics,
        )
        result.rows.extend(rows)
        result.timings.append(timing)
    return result
