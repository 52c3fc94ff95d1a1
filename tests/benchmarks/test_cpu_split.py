"""Exclusive CPU accounting by region on the event loop's thread."""

from __future__ import annotations

import asyncio
import time

import pytest

from benchmarks.cpu_split import BOT, REGION, CpuSplit

SLICE = 0.002


def burn(seconds: float) -> None:
    """Spend ``seconds`` of this thread's CPU."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


async def burning(seconds: float) -> None:
    burn(seconds)


async def worker(split: CpuSplit, name: str, slices: int) -> None:
    with split.region(name):
        for _ in range(slices):
            burn(SLICE)
            await asyncio.sleep(0)  # the other worker runs while this one waits


async def test_interleaved_tasks_are_charged_only_their_own_cpu() -> None:
    split = CpuSplit()
    split.install()
    split.reset()
    naive = time.thread_time()
    await asyncio.gather(worker(split, "a", 10), worker(split, "b", 30))
    naive = time.thread_time() - naive
    totals = split.snapshot()
    # Timing "a" across its awaits would have counted nearly all of "b" too.
    assert naive >= 40 * SLICE
    assert 10 * SLICE <= totals["a"] < 10 * SLICE + 0.01
    assert 30 * SLICE <= totals["b"] < 30 * SLICE + 0.01
    # Every slice of the thread's CPU went somewhere (the rest: the event loop's own work).
    assert split.total() == pytest.approx(naive, abs=0.003)


async def test_child_tasks_inherit_the_region_and_leaving_it_switches_back() -> None:
    split = CpuSplit()
    split.install()
    split.reset()

    async def parent() -> None:
        with split.region("service"):
            await asyncio.create_task(burning(5 * SLICE))  # a task made in the region
            assert REGION.get() == "service"
        assert REGION.get() == BOT
        burn(3 * SLICE)

    await asyncio.create_task(parent())
    totals = split.snapshot()
    assert totals["service"] >= 5 * SLICE
    assert 3 * SLICE <= totals[BOT] < 3 * SLICE + 0.01


async def test_an_inactive_split_counts_nothing_and_wraps_no_task() -> None:
    split = CpuSplit(active=False)
    split.install()
    task = asyncio.create_task(worker(split, "a", 2))
    assert "_Stepped" not in type(task.get_coro()).__name__
    await task
    assert split.snapshot() == {}
