"""``bench model``: run the learner-model benchmark from the command line.

Example::

    .venv/bin/python -m tutor.evaluation.cli --datasets assist2009,anki --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from tutor.evaluation.calibration import calibration_markdown
from tutor.evaluation.csv_logs import CsvLogError
from tutor.evaluation.datasets import DATASET_NAMES, N_FOLDS
from tutor.evaluation.folds import fold_markdown, summarize, summary_rows
from tutor.evaluation.leave_one_out import TRANSFER_MODEL, lodo_markdown
from tutor.evaluation.parallel import DatasetKey, LoadSpec, Unit, run_all
from tutor.evaluation.registry import Entry, available_predictors
from tutor.evaluation.report import _clean, machine_info, markdown, plot, write_json

MAX_AUTO_JOBS = 2
QUICK_TRAIN = 150
QUICK_TEST = 30


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of ``bench model``."""
    p = argparse.ArgumentParser(
        prog="bench model", description="Benchmark learner models on real learner logs."
    )
    p.add_argument("--datasets", default=",".join(DATASET_NAMES), help="comma-separated names")
    p.add_argument("--fold", type=int, default=1, help=f"learner fold 1-{N_FOLDS} (default 1)")
    p.add_argument(
        "--all-folds",
        action="store_true",
        help=f"run folds 1-{N_FOLDS} and print the mean and spread over folds",
    )
    p.add_argument(
        "--folds",
        help="comma-separated folds to run and aggregate, e.g. 1,2,3 (instead of --fold)",
    )
    p.add_argument(
        "--leave-one-out",
        action="store_true",
        help="also run metatutor_lodo: the network trained on the other datasets (the Anki "
        "views count as one) predicts each dataset, next to the models trained on it",
    )
    p.add_argument("--train", type=Path, help="training log (CSV); needs --test")
    p.add_argument("--test", type=Path, help="test log (CSV); needs --train")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path("..") / "shared" / "data",
        help="data folder (default: ../shared/data from the current directory)",
    )
    p.add_argument(
        "--models",
        help="comma-separated models (default: all but the experimental variants, which run "
        "only when named)",
    )
    p.add_argument("--json", type=Path, help="write rows, timings and machine details here")
    p.add_argument("--plot", type=Path, help="write a PNG of AUC and log loss against t")
    p.add_argument(
        "--reliability",
        type=Path,
        help="write reliability (10 bins, ECE) and forgetting rows (recall by time since the "
        "last attempt at the item) of the scored predictions here, and print their tables",
    )
    p.add_argument(
        "--reliability-models",
        help="models whose reliability and forgetting tables are printed "
        "(default: metatutor if run, else all)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: at most {QUICK_TRAIN} train and {QUICK_TEST} test learners",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.add_argument(
        "--jobs",
        type=int,
        default=0,
        help=f"worker processes (default: one per core, at most {MAX_AUTO_JOBS}; 1 = none)",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return p


def _select(models: str | None) -> list[Entry]:
    registry = available_predictors()
    if not models:
        return [e for e in registry.values() if e.in_default]
    names = [m.strip() for m in models.split(",") if m.strip()]
    unknown = [m for m in names if m not in registry]
    if unknown:
        raise SystemExit(f"unknown model(s) {unknown}; available: {', '.join(registry)}")
    return [registry[m] for m in names]


def _datasets(args: argparse.Namespace) -> list[DatasetKey]:
    if args.train or args.test:
        return [("csv", None)]
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    unknown = [n for n in names if n not in DATASET_NAMES]
    if unknown:
        raise SystemExit(f"unknown dataset(s) {unknown}; available: {', '.join(DATASET_NAMES)}")
    folds = _fold_list(args)
    return [(n, k) for k in folds for n in names if not (n == "anki_single" and k != folds[0])]


def _fold_list(args: argparse.Namespace) -> list[int]:
    """The folds to run: ``--all-folds``, ``--folds`` or ``--fold``."""
    if args.all_folds:
        return list(range(1, N_FOLDS + 1))
    if args.folds:
        try:
            folds = sorted({int(k) for k in args.folds.split(",") if k.strip()})
        except ValueError:
            raise SystemExit(f"--folds takes numbers 1-{N_FOLDS} separated by commas") from None
        if not folds or not all(1 <= k <= N_FOLDS for k in folds):
            raise SystemExit(f"--folds takes numbers 1-{N_FOLDS} separated by commas")
        return folds
    return [args.fold]


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
    if args.leave_one_out:
        if args.train or args.test:
            print(
                "error: --leave-one-out runs on the shared datasets, not --train/--test",
                file=sys.stderr,
            )
            return 2
        if TRANSFER_MODEL not in [e.name for e in entries]:
            entries.append(available_predictors()[TRANSFER_MODEL])
    spec = LoadSpec(
        data_dir=args.data_dir,
        train_csv=args.train,
        test_csv=args.test,
        all_folds=args.all_folds or bool(args.folds),
        quick=(QUICK_TRAIN, QUICK_TEST) if args.quick else None,
        seed=args.seed,
    )
    datasets = _datasets(args)
    jobs = args.jobs or min(os.cpu_count() or 1, MAX_AUTO_JOBS)
    tqdm.monitor_interval = 0  # no monitor thread: forked workers inherit no held lock
    started = time.perf_counter()
    with tqdm(
        total=len(datasets) * len(entries),
        desc="bench",
        unit="run",
        disable=args.no_progress,
        file=sys.stderr,
    ) as bar:

        def describe(unit: Unit) -> None:
            bar.set_description(f"{unit.model} on {','.join(n for n, _ in unit.datasets)}")

        try:
            total = run_all(
                [e.name for e in entries],
                datasets,
                spec,
                seed=args.seed,
                jobs=jobs,
                threads=args.threads,
                progress=bar.update,
                on_unit=describe,
            )
        except (CsvLogError, FileNotFoundError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    elapsed = time.perf_counter() - started
    print(markdown(total.rows, total.timings))
    summaries = summarize(total.rows) if spec.all_folds else []
    if summaries:
        print("## Mean over folds\n")
        print(fold_markdown(summaries))
    if TRANSFER_MODEL in [e.name for e in entries]:
        print("## Leave one dataset out\n")
        print(lodo_markdown(summaries or summarize(total.rows)))
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
            extra={"fold_summary": summary_rows(summaries)} if summaries else None,
        )
    if args.plot:
        plot(args.plot, total.rows)
    if args.reliability:
        names = [e.name for e in entries]
        shown = _shown(args.reliability_models, names)
        print(calibration_markdown(total.diagnostics, shown))
        payload = {
            "rows": [{k: _clean(v) for k, v in r.items()} for r in total.diagnostics],
            "settings": {"argv": sys.argv[1:] if argv is None else argv, "seed": args.seed},
        }
        args.reliability.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    return 0


def _shown(option: str | None, names: list[str]) -> list[str]:
    """Models of the detailed calibration tables."""
    if option:
        return [m.strip() for m in option.split(",") if m.strip() in names]
    return ["metatutor"] if "metatutor" in names else names


if __name__ == "__main__":
    raise SystemExit(main())
