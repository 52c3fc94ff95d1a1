"""``train --from-db`` on generated deployments whose students forget faster or slower than
the bundled weights assume.

    .venv/bin/python -m benchmarks.deployment_refit --json benchmarks/results/deployment_refit.json

For each forgetting speed, simulated students (:mod:`tutor.simulation.deployment`: FSRS-6
memories fitted to real Anki logs, their time running ``speed`` times faster) study a
generated deck through the real service into a database file. The refit is run twice, once
fine-tuning the bundled weights and once from scratch (``train --from-db`` trains both and
keeps the lower validation loss on the training students: the "chosen" column), and each
candidate is judged on the held-out fifth of the students against the bundled weights, in the
same run. Then a scripted probe student (every answer right on day 0, 1 and 3, target recall
0.97) studies a copy of the database under each set of weights: the review intervals the
service schedules for the same answers, and the recall the model predicts a day and a week
after them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import table, write_json
from storage import Database
from tutor.model.weights import DEFAULT_WEIGHTS, TrainedWeights
from tutor.retrain import Refit, read_logs, refit
from tutor.simulation.deployment import DeploymentConfig, Probe, generate, probe


def _probe_row(name: str, found: Probe) -> dict[str, Any]:
    return {
        "weights": name,
        "mean_interval_days": float(np.mean(found.intervals)),
        "median_interval_days": float(np.median(found.intervals)),
        "reviews": len(found.intervals),
        "at_cap": found.at_cap,
        "by_rules": found.by_rules,
        "recall_1d": found.recall_day,
        "recall_7d": found.recall_week,
    }


async def run_speed(config: DeploymentConfig, workdir: Path) -> dict[str, Any]:
    """One deployment: generate, refit both ways, probe each set of weights."""
    path = workdir / f"deployment-{config.speed}.sqlite3"
    began = time.perf_counter()
    service = await generate(path, config)
    await service.db.close()
    generated = time.perf_counter() - began
    db = await Database.open_read_only(path)
    try:
        logs = await read_logs(db)
    finally:
        await db.close()
    current = TrainedWeights.load(DEFAULT_WEIGHTS)
    results: dict[str, Refit] = {}
    seconds: dict[str, float] = {}
    for start in ("fine-tuned", "from scratch"):
        began = time.perf_counter()
        results[start] = await asyncio.to_thread(
            refit, logs, current, seed=config.seed, starts=(start,)
        )
        seconds[start] = time.perf_counter() - began
    chosen = min(results, key=lambda k: results[k].validation[k])
    probes = [_probe_row("bundled", await probe(path, None, workdir))]
    for start, result in results.items():
        out = workdir / f"candidate-{config.speed}-{start.replace(' ', '-')}.pt"
        result.weights.save(out)
        probes.append(_probe_row(start, await probe(path, out, workdir)))
    any_result = results["fine-tuned"]
    return {
        "speed": config.speed,
        "students": config.students,
        "answers": sum(len(log) for log in logs),
        "train": [any_result.train_students, any_result.train_attempts],
        "held_out": [any_result.held_students, any_result.held_attempts],
        "generate_s": generated,
        "bundled": {"log_loss": any_result.current.log_loss, "auc": any_result.current.auc},
        "candidates": {
            start: {
                "log_loss": r.candidate.log_loss,
                "auc": r.candidate.auc,
                "validation_log_loss": r.validation[start],
                "better": r.better,
                "train_s": seconds[start],
            }
            for start, r in results.items()
        },
        "chosen": chosen,
        "probe": probes,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the deployments and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speeds", default="8,1,0.15", help="forgetting speeds, comma-separated")
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--items", type=int, default=60)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for speed in (float(s) for s in args.speeds.split(",")):
            config = DeploymentConfig(
                students=args.students, items=args.items, days=args.days, speed=speed,
                seed=args.seed,
            )  # fmt: skip
            runs.append(asyncio.run(run_speed(config, Path(tmp))))
    rows = []
    for run in runs:
        rows.append([run["speed"], run["answers"], "bundled", f"{run['bundled']['log_loss']:.4f}",
                     f"{run['bundled']['auc']:.4f}", "", ""])  # fmt: skip
        for start, c in run["candidates"].items():
            mark = " (chosen)" if start == run["chosen"] else ""
            rows.append([run["speed"], "", start + mark, f"{c['log_loss']:.4f}",
                         f"{c['auc']:.4f}", f"{c['validation_log_loss']:.4f}",
                         "yes" if c["better"] else "no"])  # fmt: skip
    headers = ["speed", "answers", "weights", "held-out log loss", "held-out AUC",
               "validation log loss", "better"]  # fmt: skip
    print(table(headers, rows))
    print()
    probe_rows = [
        [run["speed"], p["weights"], p["mean_interval_days"], p["median_interval_days"],
         f"{p['at_cap']}/{p['reviews']}", f"{p['by_rules']}/{p['reviews']}",
         f"{p['recall_1d']:.3f}", f"{p['recall_7d']:.3f}"]
        for run in runs for p in run["probe"]
    ]  # fmt: skip
    print(table(["speed", "weights", "mean interval (d)", "median interval (d)", "at the cap",
                 "by the rules", "recall +1 d", "recall +7 d"], probe_rows))  # fmt: skip
    write_json(args.json, {"args": vars(args) | {"json": str(args.json)}, "runs": runs})
    return 0


if __name__ == "__main__":
    sys.exit(main())
