"""``bench model``: run the learner-model benchmark from the command line.

Example::

    .venv/bin/python -m tutor.evaluation.cli --datasets assist2009,anki --json out.json
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tutor.evaluation.csv_logs import CsvLogError, load_csv_logs
from tutor.evaluation.datasets import DATASET_NAMES, N_FOLDS, load_dataset
from tutor.evaluation.logs import Dataset
from tutor.evaluation.registry import Entry, available_predictors
from tutor.evaluation.report import machine_info, markdown, plot, write_json
from tutor.evaluation.runner import RunResult, run_dataset, subsample

QUICK_TRAIN = 150
QUICK_TEST = 30


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of ``bench model``."""
    p = argparse.ArgumentParser(
        prog="bench model", description="Benchmark learner models on real learner logs."
    )
    p.add_argument("--datasets", default=",".join(DATASET_NAMES), help="comma-separated names")
    p.add_argument("--fold", type=int, default=1, help=f"learner fold 1-{N_FOLDS} (default 1)")
    p.add_argument("--all-folds", action="store_true", help=f"run folds 1-{N_FOLDS}")
    p.add_argument("--train", type=Path, help="training log (CSV); needs --test")
    p.add_argument("--test", type=Path, help="test log (CSV); needs --train")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path("..") / "shared" / "data",
        help="data folder (default: ../shared/data from the current directory)",
    )
    p.add_argument("--models", help="comma-separated subset of models (default: all)")
    p.add_argument("--json", type=Path, help="write rows, timings and machine details here")
    p.add_argument("--plot", type=Path, help="write a PNG of AUC and log loss against t")
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: at most {QUICK_TRAIN} train and {QUICK_TEST} test learners",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return p


def _select(models: str | None) -> list[Entry]:
    registry = available_predictors()
    if not models:
        return list(registry.values())
    names = [m.strip() for m in models.split(",") if m.strip()]
    unknown = [m for m in names if m not in registry]
    if unknown:
        raise SystemExit(f"unknown model(s) {unknown}; available: {', '.join(registry)}")
    return [registry[m] for m in names]


def _datasets(args: argparse.Namespace) -> list[tuple[str, int | None]]:
    if args.train or args.test:
        return [("csv", None)]
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    unknown = [n for n in names if n not in DATASET_NAMES]
    if unknown:
        raise SystemExit(f"unknown dataset(s) {unknown}; available: {', '.join(DATASET_NAMES)}")
    folds = range(1, N_FOLDS + 1) if args.all_folds else [args.fold]
    return [(n, k) for k in folds for n in names if not (n == "anki_single" and k != folds[0])]


def _load(args: argparse.Namespace, name: str, fold: int | None) -> Dataset:
    if fold is None:
        data = load_csv_logs(args.train, args.test)
    else:
        data = load_dataset(name, fold=fold, data_dir=args.data_dir)
        if args.all_folds:
            data = Dataset(f"{name}/{fold}", data.train, data.test, data.timestamped)
    if args.quick:
        data = subsample(data, max_train=QUICK_TRAIN, max_test=QUICK_TEST, seed=args.seed)
    return data


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print Markdown tables; return the exit status."""
    args = build_parser().parse_args(argv)
    if bool(args.train) != bool(args.test):
        print("error: --train and --test go together", file=sys.stderr)
        return 2
    if not 1 <= args.fold <= N_FOLDS:
        print(f"error: --fold must be 1-{N_FOLDS}", file=sys.stderr)
        return 2
    import torch
    from tqdm import tqdm

    torch.set_num_threads(args.threads)
    entries = _select(args.models)
    total = RunResult()
    started = time.perf_counter()
    for name, fold in _datasets(args):
        try:
            data = _load(args, name, fold)
        except (CsvLogError, FileNotFoundError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        runs = sum(1 for e in entries if data.timestamped or not e.timestamped_only)

        def describe(model: str, bar: tqdm[None], name: str = data.name) -> None:
            bar.set_description(f"{name} {model}")

        with tqdm(
            total=runs * len(data.test),
            desc=data.name,
            unit="learner",
            disable=args.no_progress,
            file=sys.stderr,
        ) as bar:
            result = run_dataset(
                data,
                entries,
                seed=args.seed,
                progress=bar.update,
                on_model=lambda m: describe(m, bar),
            )
        total.rows.extend(result.rows)
        total.timings.extend(result.timings)
        total.skipped.extend(result.skipped)
    elapsed = time.perf_counter() - started
    print(markdown(total.rows, total.timings))
    print(f"Total wall time: {elapsed:.0f} s")
    if args.json:
        settings = {
            "argv": sys.argv[1:] if argv is None else argv,
            "seed": args.seed,
            "quick": args.quick,
            "wall_s": round(elapsed, 1),
            "skipped": total.skipped,
        }
        write_json(
            args.json,
            total.rows,
            total.timings,
            machine=machine_info(args.threads),
            settings=settings,
        )
    if args.plot:
        plot(args.plot, total.rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
