"""``metatutor train``: the shipped weights, trained on the shared data folder's learner logs
(which datasets, and why, is in docs/model_card.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tutor.evaluation.datasets import load_dataset
from tutor.model.learner_log import LearnerLog
from tutor.model.train import TrainConfig, train

#: Datasets of the shipped weights and why (see docs/model_card.md).
SHIPPED_DATASETS: tuple[str, ...] = ("assist2009", "assist2015", "assist2017", "eedi", "anki")
#: Anki collections whose owners published them under a licence (MIT / WTFPL).
LICENSED_ANKI_USERS: tuple[str, ...] = ("user_06", "user_09")


def shipped_training_logs(
    data_dir: Path, *, include_unlicensed: bool = False
) -> list[tuple[str, list[LearnerLog]]]:
    """The training logs of the shipped weights: every learner of each shipped dataset.

    EdNet (CC BY-NC) is left out, and of the Anki collections only the licensed ones unless
    ``include_unlicensed``.
    """
    out: list[tuple[str, list[LearnerLog]]] = []
    for name in SHIPPED_DATASETS:
        ds = load_dataset(name, fold=1, data_dir=data_dir)
        logs = list(ds.train) + list(ds.test)
        if name == "anki" and not include_unlicensed:
            logs = [log for log in logs if log.user in LICENSED_ANKI_USERS]
        out.append((name, logs))
    return out


def train_main(argv: list[str] | None = None) -> int:
    """``metatutor train``: build the shipped weights from the shared data folder."""
    from tutor.model.weights import DEFAULT_WEIGHTS

    parser = argparse.ArgumentParser(prog="metatutor train", description=train_main.__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=TrainConfig().epochs)
    parser.add_argument("--max-minutes", type=float, default=TrainConfig().max_minutes)
    parser.add_argument(
        "--include-unlicensed",
        action="store_true",
        help="also train on Anki collections published without a licence (not for shipping)",
    )
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    logs = shipped_training_logs(args.data_dir, include_unlicensed=args.include_unlicensed)
    cfg = TrainConfig(epochs=args.epochs, max_minutes=args.max_minutes)
    weights = train(logs, cfg, seed=args.seed, progress=not args.quiet)
    weights.save(args.out)
    summary = {
        k: weights.meta[k] for k in ("datasets", "n_train_attempts", "best_val_logloss", "minutes")
    }
    print(
        json.dumps(summary | {"temperature": weights.temperature, "out": str(args.out)}, indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(train_main())
