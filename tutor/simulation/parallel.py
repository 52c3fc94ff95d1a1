"""Running a benchmark's jobs in this process or in several forked ones, with the same results.

Each job is seeded and independent of the others, so ``workers`` processes give the same
outcomes as one; only the order they finish in differs.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, TypeVar

Job = TypeVar("Job", bound=tuple[Any, ...])
Result = TypeVar("Result")


def load_model(weights: Path | None) -> Any:
    """The learner model a worker's policies share, on one core (one core per worker)."""
    import torch

    from tutor.model.online import LearnerModel

    torch.set_num_threads(1)
    return LearnerModel.load(weights)


def run_jobs(
    jobs: Sequence[Job],
    work: Callable[..., Result],
    done: Callable[[Job, Result], None],
    *,
    init: Callable[..., None],
    init_args: tuple[Any, ...],
    workers: int,
    cost: Callable[..., float],
) -> None:
    """``done(job, work(*job))`` for every job, after ``init(*init_args)`` in each process.

    With more than one worker the jobs run in forked processes, the costliest first (by
    ``cost(*job)``), so the workers finish together.
    """
    if workers <= 1:
        init(*init_args)
        for job in jobs:
            done(job, work(*job))
        return
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, ctx, init, init_args) as pool:
        order = sorted(jobs, key=lambda job: -cost(*job))
        futures = {pool.submit(work, *job): job for job in order}
        for future in as_completed(futures):
            done(futures[future], future.result())
