"""Benchmark jobs give the same results in one process as in several."""

from __future__ import annotations

import os

from tutor.simulation.parallel import run_jobs

_BASE = [0]


def _init(base: int) -> None:
    _BASE[0] = base


def _work(a: int, b: int) -> tuple[int, int]:
    return _BASE[0] + a * b, os.getpid()


def _cost(a: int, b: int) -> float:
    return float(a * b)


def _run(workers: int) -> dict[tuple[int, int], tuple[int, int]]:
    results: dict[tuple[int, int], tuple[int, int]] = {}
    jobs = [(a, b) for a in range(4) for b in range(3)]

    def done(job: tuple[int, int], result: tuple[int, int]) -> None:
        results[job] = result

    run_jobs(jobs, _work, done, init=_init, init_args=(100,), workers=workers, cost=_cost)
    return results


def test_every_job_runs_once_after_init_in_one_process_or_several() -> None:
    one, two = _run(1), _run(2)
    assert {job: value for job, (value, _) in one.items()} == {
        (a, b): 100 + a * b for a in range(4) for b in range(3)
    }
    assert {job: v for job, (v, _) in two.items()} == {job: v for job, (v, _) in one.items()}
    assert {pid for _, pid in one.values()} == {os.getpid()}
    assert os.getpid() not in {pid for _, pid in two.values()}
