"""Run the benchmark's (model, datasets) work units in worker processes.

A work unit is one model on the datasets that share their training learners (the Anki new-user,
time-split and later-day views train on the same 19 users): the model is fitted once and a
pristine copy of the fitted model predicts each of those datasets, after checking that their
training learners are indeed identical (else it is fitted again). Units run on ``jobs`` worker
processes, largest first; the rows come back in the sequential order (datasets, then models).

Results do not depend on ``jobs`` or on the order: every fit seeds itself and each worker uses
the same number of torch threads. (Fits with a wall-clock budget, DKT's and the learner
model's, stop earlier on a slower or busier machine, as in a sequential run.)
"""

from __future__ import annotations

import copy
import functools
import hashlib
import multiprocessing
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from tutor.evaluation.csv_logs import load_csv_logs
from tutor.evaluation.datasets import load_dataset, training_group
from tutor.evaluation.leave_one_out import family, transfer_sources
from tutor.evaluation.logs import Dataset, LearnerLog, Predictor, TransferPredictor
from tutor.evaluation.registry import Entry, available_predictors
from tutor.evaluation.runner import Row, RunResult, Timing, fit_timed, predict_all, subsample

DatasetKey = tuple[str, int | None]  # (name, fold); fold None = the --train/--test CSV pair

#: Rough relative cost of a model and of a dataset, only to start the largest units first.
_MODEL_COST = {
    "metatutor": 10.0,
    "metatutor_noirt": 10.0,
    "metatutor_noadapt": 8.0,
    "metatutor_lodo": 30.0,
    "dkt": 4.0,
    "best_lr": 2.0,
}
_DATASET_COST = {"assist2017": 5.0, "assist2015": 4.0, "assist2009": 2.0, "ednet": 0.2, "eedi": 0.2}


@dataclass(frozen=True, slots=True)
class LoadSpec:
    """How to load a dataset (picklable, for the workers)."""

    data_dir: Path
    train_csv: Path | None = None
    test_csv: Path | None = None
    all_folds: bool = False
    quick: tuple[int, int] | None = None  # (max train, max test) learners of a smoke run
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Unit:
    """One model on datasets that share their training learners."""

    model: str
    datasets: tuple[DatasetKey, ...]

    @property
    def cost(self) -> float:
        """Rough relative run time."""
        data = sum(_DATASET_COST.get(name, 1.0) for name, _ in self.datasets)
        return _MODEL_COST.get(self.model, 0.5) * data


@dataclass(slots=True)
class UnitResult:
    """Rows and timings per dataset of one unit, and the skipped (dataset, model) pairs."""

    unit: Unit
    rows: dict[DatasetKey, list[Row]] = field(default_factory=dict)
    timings: dict[DatasetKey, Timing] = field(default_factory=dict)
    skipped: dict[DatasetKey, str] = field(default_factory=dict)
    diagnostics: dict[DatasetKey, list[Row]] = field(default_factory=dict)


def plan(
    models: Sequence[str], datasets: Sequence[DatasetKey], transfer: Collection[str] = ()
) -> list[Unit]:
    """Work units, largest first (a ``transfer`` model: one unit per dataset family, whose
    members share the weights learned from the other families)."""
    units: list[Unit] = []
    for model in models:
        groups: dict[tuple[str, int | None], list[DatasetKey]] = {}
        group = family if model in transfer else training_group
        for name, fold in datasets:
            key = (group(name) if fold is not None else name, fold)
            groups.setdefault(key, []).append((name, fold))
        units.extend(Unit(model, tuple(keys)) for keys in groups.values())
    return sorted(units, key=lambda u: -u.cost)


@functools.lru_cache(maxsize=2)
def load(spec: LoadSpec, key: DatasetKey) -> Dataset:
    """Load one dataset (the last two stay cached in this process)."""
    name, fold = key
    if fold is None:
        assert spec.train_csv is not None and spec.test_csv is not None
        data = load_csv_logs(spec.train_csv, spec.test_csv)
    else:
        data = load_dataset(name, fold=fold, data_dir=spec.data_dir)
        if spec.all_folds:
            data = Dataset(f"{name}/{fold}", data.train, data.test, data.timestamped)
    if spec.quick is not None:
        data = subsample(data, max_train=spec.quick[0], max_test=spec.quick[1], seed=spec.seed)
    return data


def fingerprint(logs: Sequence[LearnerLog]) -> str:
    """A digest of every field of ``logs`` (equal digests: the same training learners)."""
    digest = hashlib.blake2b(digest_size=16)
    for log in logs:
        digest.update(repr((log.user, log.skills, log.split_points)).encode())
        for arr in (log.items, log.correct, log.timestamps, log.grades, log.durations_ms):
            digest.update(b"-" if arr is None else arr.tobytes() + str(arr.dtype).encode())
        for extra in (log.n_options, log.eval_mask):
            digest.update(b"-" if extra is None else extra.tobytes() + str(extra.dtype).encode())
    return digest.hexdigest()


def run_unit(unit: Unit, spec: LoadSpec, seed: int) -> UnitResult:
    """Fit the unit's model once per distinct training set and score each dataset."""
    entry = available_predictors()[unit.model]
    result = UnitResult(unit)
    fitted: tuple[str, Predictor] | None = None
    for k, key in enumerate(unit.datasets):
        data = load(spec, key)
        if entry.timestamped_only and not data.timestamped:
            result.skipped[key] = f"{data.name}/{entry.name}"
            continue
        transfer = entry.transfer
        digest = f"transfer {family(key[0])} {key[1]}" if transfer else fingerprint(data.train)
        last = k == len(unit.datasets) - 1
        if fitted is not None and fitted[0] == digest:
            predictor = fitted[1] if last else copy.deepcopy(fitted[1])
            fit_s = fit_cpu_s = 0.0  # shared: see the first dataset of the unit
            if transfer:
                cast(TransferPredictor, predictor).set_tallies(data.train)
        else:
            if transfer:
                predictor, fit_s, fit_cpu_s = _fit_transfer(entry, key, data, spec, seed)
            else:
                predictor, fit_s, fit_cpu_s = fit_timed(entry, data.train, seed=seed)
            if not last:
                fitted = (digest, copy.deepcopy(predictor))
        diagnostics: list[Row] = []
        rows, timing = predict_all(
            predictor,
            entry.name,
            data,
            fit_s=fit_s,
            fit_cpu_s=fit_cpu_s,
            diagnostics=diagnostics,
        )
        result.rows[key], result.timings[key] = rows, timing
        result.diagnostics[key] = diagnostics
    return result


def _fit_transfer(
    entry: Entry, key: DatasetKey, data: Dataset, spec: LoadSpec, seed: int
) -> tuple[Predictor, float, float]:
    """Fit a transfer model on the other families' training learners of the same fold."""
    name, fold = key
    if fold is None:
        raise ValueError(f"{entry.name} needs the shared datasets, not a --train/--test pair")
    sources = transfer_sources(name, lambda other: load(spec, (other, fold)), seed=seed)
    predictor = cast(TransferPredictor, entry.factory())
    start, cpu = time.perf_counter(), time.process_time()
    predictor.fit_transfer(sources, data.train, seed=seed)
    return predictor, time.perf_counter() - start, time.process_time() - cpu


def _worker_init(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def run_all(
    models: Sequence[str],
    datasets: Sequence[DatasetKey],
    spec: LoadSpec,
    *,
    seed: int,
    jobs: int,
    threads: int = 1,
    progress: Callable[[int], None] | None = None,
    on_unit: Callable[[Unit], None] | None = None,
) -> RunResult:
    """Run every model on every dataset with ``jobs`` processes (1 = in this process).

    ``progress`` is called with the number of (dataset, model) runs of each finished unit;
    ``on_unit`` when a unit starts (``jobs=1``) or ends (in workers).
    """
    registry = available_predictors()
    units = plan(models, datasets, {m for m in models if m in registry and registry[m].transfer})
    results: list[UnitResult] = []
    if jobs <= 1:
        for unit in units:
            if on_unit is not None:
                on_unit(unit)
            results.append(run_unit(unit, spec, seed))
            if progress is not None:
                progress(len(unit.datasets))
    else:
        import torch  # noqa: F401  (imported once here, inherited by the workers)

        context = multiprocessing.get_context("fork")  # workers inherit the registry
        with ProcessPoolExecutor(
            jobs, mp_context=context, initializer=_worker_init, initargs=(threads,)
        ) as pool:
            pending: set[Future[UnitResult]] = {
                pool.submit(run_unit, unit, spec, seed) for unit in units
            }
            try:
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        res = future.result()
                        results.append(res)
                        if on_unit is not None:
                            on_unit(res.unit)
                        if progress is not None:
                            progress(len(res.unit.datasets))
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    return _assemble(results, models, datasets)


def _assemble(
    results: Sequence[UnitResult], models: Sequence[str], datasets: Sequence[DatasetKey]
) -> RunResult:
    """Rows, timings and skips in the sequential order: by dataset, then by model."""
    by_model: dict[str, list[UnitResult]] = {}
    for res in results:
        by_model.setdefault(res.unit.model, []).append(res)
    total = RunResult()
    for key in datasets:
        for model in models:
            for res in by_model.get(model, []):
                if key in res.skipped:
                    total.skipped.append(res.skipped[key])
                if key in res.rows:
                    total.rows.extend(res.rows[key])
                    total.timings.append(res.timings[key])
                    total.diagnostics.extend(res.diagnostics.get(key, []))
    return total
