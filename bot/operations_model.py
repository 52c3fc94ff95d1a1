"""``metatutor train --from-db``: refit the learner model on this deployment's students."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.settings import Settings
from storage import Database


def from_db_parser() -> argparse.ArgumentParser:
    """The options of ``metatutor train --from-db``."""
    parser = argparse.ArgumentParser(
        prog="metatutor train --from-db",
        description="Refit the learner model on the database's attempts: hold out a fifth of"
        " the students, compare the current and the new weights on them, and promote the new"
        " ones only if they are better.",
    )
    parser.add_argument("--from-db", action="store_true", required=True)
    parser.add_argument(
        "--out",
        type=Path,
        help="write the candidate weights here and change nothing else (for trials)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the split and training")
    parser.add_argument(
        "--from-scratch",
        action="store_true",
        help="train from a random start instead of fine-tuning the current weights",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


async def train_from_db(settings: Settings, argv: Sequence[str]) -> int:
    """Refit, print the figures, then write ``--out`` or promote a better candidate."""
    from tutor.model.weights import DEFAULT_WEIGHTS, TrainedWeights
    from tutor.model_store import weights_path
    from tutor.retrain import RefitError, read_logs, refit, table

    args = from_db_parser().parse_args(list(argv))
    current_path = weights_path(settings.database, settings.model_path) or DEFAULT_WEIGHTS
    current = TrainedWeights.load(current_path)
    db = await Database.open_read_only(settings.database)
    try:
        logs = await read_logs(db)
    finally:
        await db.close()
    try:
        result = await asyncio.to_thread(
            refit,
            logs,
            current,
            seed=args.seed,
            from_scratch=args.from_scratch,
            progress=not args.quiet,
        )
    except RefitError as error:
        print(f"metatutor: {error}", file=sys.stderr)
        return 1
    print(f"current weights: {current_path}")
    print(table(result))
    if args.out is not None:
        result.weights.save(args.out)
        print(f"candidate written to {args.out}; nothing else changed")
        return 0
    if not result.better:
        print("the candidate is not better on the held-out students: the current weights stay")
        return 0
    return await promote_and_replay(settings, result)


async def promote_and_replay(settings: Settings, result: object) -> int:
    """Placeholder replaced by the promotion step."""
    print("the candidate is better; promotion is not available yet: use --out")
    return 0
