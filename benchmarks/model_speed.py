"""Speed of the online learner model on one core: state update and scoring 5,000 candidates.

.venv/bin/python benchmarks/model_speed.py [--weights PATH] [--repeats 300] [--json FILE]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from tutor.items import ItemKind
from tutor.model.online import AttemptFeatures, CandidateBatch, CandidateFeatures, LearnerModel


def _candidates(n: int, rng: np.random.Generator) -> list[CandidateFeatures]:
    return [
        CandidateFeatures(
            item_id=i,
            tags=(f"tag{i % 40}", f"deck{i % 3}"),
            n_options=4 if i % 2 else 0,
            kind=ItemKind.MULTIPLE_CHOICE if i % 2 else ItemKind.FLASHCARD,
            item_attempts=(n := int(rng.integers(0, 500))),
            item_correct=0,
            tag_attempts=5_000,
            tag_correct=3_500,
            # residual sums of the ability-adjusted difficulty: about n / 5 in variance
            item_resid=float(rng.normal(0.0, 1.0 + n / 20)),
            item_var=n * float(rng.uniform(0.15, 0.25)),
            tag_resid=-40.0,
            tag_var=1_000.0,
        )
        for i in range(n)
    ]


def _quantiles(samples: list[tuple[float, float]]) -> dict[str, float]:
    wall = sorted(w * 1e3 for w, _ in samples)
    cpu = sorted(c * 1e3 for _, c in samples)
    p99 = min(len(wall) - 1, int(0.99 * len(wall)))
    return {
        "median_ms": statistics.median(wall),
        "p99_ms": wall[p99],
        "cpu_median_ms": statistics.median(cpu),
        "cpu_p99_ms": cpu[p99],
    }


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and this thread's CPU seconds of one call (CPU time is what one core spends,
    robust to other processes sharing the machine)."""
    w0, c0 = time.perf_counter(), time.thread_time()
    fn()
    return time.perf_counter() - w0, time.thread_time() - c0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--weights", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--candidates", type=int, default=5_000)
    parser.add_argument("--history", type=int, default=2_000, help="answers in the learner's state")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    model = LearnerModel.load(args.weights)
    rng = np.random.default_rng(0)
    cands = _candidates(args.candidates, rng)
    state = model.new_state()
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    # a learner who has answered `history` questions over many distinct items
    for i in range(args.history):
        item = cands[int(rng.integers(0, len(cands)))]
        state = model.update(
            state, AttemptFeatures(item, t0 + timedelta(minutes=i), bool(rng.random() < 0.7))
        )
    now = t0 + timedelta(days=30)
    update_s: list[tuple[float, float]] = []
    score_s: list[tuple[float, float]] = []
    for r in range(args.repeats):
        att = AttemptFeatures(cands[r % len(cands)], now + timedelta(seconds=r), r % 3 > 0, grade=3)
        update_s.append(_timed(functools.partial(model.update, state, att)))
    # columnar candidates: the fixed part once per deck, the tallies laid over it per request
    # (as tutor.candidates does), so each call scores a new batch, as the service's do
    fixed = model.prepare(
        [replace(c, item_attempts=0, item_correct=0, item_resid=0.0, item_var=0.0) for c in cands]
    )
    full = model.prepare(cands)

    def fresh_batch() -> CandidateBatch:
        cols = {k: v.copy() for k, v in full.cols.items()}
        return CandidateBatch(full.item_ids, cols, full.tag_owner, full.tag_keys, parts=(fixed,))

    model.predict(state, fresh_batch(), now)  # warm-up
    # the straightforward path (all raw columns, build_features, the torch network),
    # interleaved so both see the same load
    reference_s: list[tuple[float, float]] = []
    t_now = now.timestamp()
    for _ in range(args.repeats):
        batch = fresh_batch()
        score_s.append(_timed(functools.partial(model.predict, state, batch, now)))
        reference_s.append(_timed(functools.partial(model._reference, state, batch, t_now)))
    list_s: list[tuple[float, float]] = []
    for _ in range(max(args.repeats // 5, 10)):
        list_s.append(_timed(lambda: model.predict(state, cands, now)))
    # one answered item at 129 times (next_due's first call), and exam forecasts: 120 items
    # each answered right and wrong
    seen = [c for c in cands if c.item_id in set(state.item_ids.tolist())]
    times = t_now + np.r_[0.0, np.geomspace(60.0, 365 * 86400.0, 128)]
    first = np.zeros(times.shape[0], np.int64)
    one_s = [
        _timed(functools.partial(model.predict_at, state, [seen[r % len(seen)]], first, times))
        for r in range(args.repeats)
    ]
    shortlist = (seen * 120)[:120] * 2
    outcomes = [True] * 120 + [False] * 120
    grades: list[int | None] = [None] * 240
    later = now + timedelta(days=30)
    exam_s = [
        _timed(lambda: model.predict_after_answer(state, shortlist, outcomes, grades, now, later))
        for _ in range(max(args.repeats // 5, 10))
    ]
    rows = {
        "update (one answer)": _quantiles(update_s),
        f"score {args.candidates} (fixed part prepared, fresh tallies)": _quantiles(score_s),
        f"score {args.candidates} (list of CandidateFeatures)": _quantiles(list_s),
        f"score {args.candidates} (reference path, for comparison)": _quantiles(reference_s),
        "one item at 129 times (predict_at)": _quantiles(one_s),
        "120 items answered right and wrong (predict_after_answer)": _quantiles(exam_s),
    }
    print(f"learner state: {len(state.to_bytes()):,} bytes after {args.history} answers")
    print("| operation | median ms | p99 ms | CPU median ms | CPU p99 ms |")
    print("|---|---:|---:|---:|---:|")
    for name, q in rows.items():
        print(
            f"| {name} | {q['median_ms']:.3f} | {q['p99_ms']:.3f} | "
            f"{q['cpu_median_ms']:.3f} | {q['cpu_p99_ms']:.3f} |"
        )
    print(f"load average during the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    if args.json:
        machine = {
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "numpy": np.__version__,
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "load_average_1min": os.getloadavg()[0],
        }
        out = {
            "results": rows,
            "state_bytes": len(state.to_bytes()),
            "history": args.history,
            "repeats": args.repeats,
            "machine": machine,
            "weights": model.weights_id,
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
