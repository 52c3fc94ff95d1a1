"""``metatutor train --from-db``: refit the learner model on this deployment's students."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.preflight import MODEL_SWAPPED, BackgroundModel
from bot.settings import Settings
from storage import Database

if TYPE_CHECKING:
    from tutor.retrain import Refit

STARTS = {
    "both": ("fine-tuned", "from scratch"),
    "fine-tune": ("fine-tuned",),
    "scratch": ("from scratch",),
}
log = logging.getLogger("bot.model")

WATCH_SECONDS = 60
"""How often a running bot looks for promoted weights."""
REBUILD_LEASE = timedelta(minutes=30)
"""How long one process keeps the rebuild of the learner states to itself (it gives the lease
up when done; a crashed holder on this machine loses it at once)."""
RUNNING_WITHIN = timedelta(minutes=3)
"""A heartbeat this recent means a bot serves the database (its reminder job beats each minute)."""


def from_db_parser() -> argparse.ArgumentParser:
    """The options of ``metatutor train --from-db``."""
    parser = argparse.ArgumentParser(
        prog="metatutor train",
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
        "--start",
        choices=["both", "fine-tune", "scratch"],
        default="both",
        help="fine-tune the current weights, train from a random start, or both and keep"
        " the one with the lower validation loss on the training students (default)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


async def train_from_db(settings: Settings, argv: Sequence[str]) -> int:
    """Refit, print the figures, then write ``--out`` or promote a better candidate."""
    from tutor.model.weights import DEFAULT_WEIGHTS, TrainedWeights
    from tutor.model_store import weights_path
    from tutor.retrain import RefitError, read_logs, refit, table

    args = from_db_parser().parse_args(list(argv))
    current_path = weights_path(settings.database_file, settings.model_path) or DEFAULT_WEIGHTS
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
            starts=STARTS[args.start],
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
    now = datetime.now(UTC)
    if not result.better:
        print("the candidate is not better on the held-out students: the current weights stay")
        print(f"model card: {_card(settings, now, result, promoted=False)}")
        return 0
    return await promote_and_replay(settings, result, now)


def _card(settings: Settings, now: datetime, result: Refit, *, promoted: bool) -> Path:
    """Append the run's section to the deployment's model card; returns the card's path."""
    from tutor.model_store import add_card_section, card_section

    return add_card_section(settings.database_file, card_section(now, summary(result), promoted))


def with_active_weights(settings: Settings) -> Settings:
    """``settings`` naming the weights this deployment serves: ``METATUTOR_MODEL`` if set,
    else those ``train --from-db`` promoted beside the database, else the bundled ones."""
    from tutor.model_store import weights_path

    path = weights_path(settings.database_file, settings.model_path)
    return (
        settings
        if path == settings.model_path
        else settings.model_copy(update={"model_path": path})
    )


def watches(settings: Settings) -> bool:
    """True when the served weights follow the promotions (METATUTOR_MODEL does not pin them)."""
    from tutor.model_store import models_dir

    path = settings.model_path
    return path is None or path.parent == models_dir(settings.database_file)


def watch_weights(
    application: Any, settings: Settings, model: BackgroundModel, db: Database
) -> None:
    """A repeating job: when ``train --from-db`` promoted other weights, the bot swaps them in
    (:meth:`BackgroundModel.swap`) while it serves.

    With several processes on the database, the one that takes the ``weights-rebuild`` lease
    rebuilds the learner states, once; the others follow the weights version it records
    (:class:`BackgroundModel` looks every second) and never rebuild themselves.
    """
    from tutor.leases import WEIGHTS_REBUILD, Lease
    from tutor.model_store import active_weights
    from tutor.replay import serving_weights, weights_file

    if not watches(settings):
        return
    lease = Lease(db, WEIGHTS_REBUILD, ttl=REBUILD_LEASE)

    async def check(_context: object) -> None:
        target = active_weights(settings.database_file)
        if target is None or not model.loaded:
            return
        if weights_file(target) == weights_file(model.memory.weights):
            return
        if not await lease.hold():
            return  # another process rebuilds the states: this one follows their version
        try:
            async with db.read() as conn:
                found = await serving_weights(conn)
            if found is None or weights_file(found.path) != weights_file(target):
                await model.swap(db, target)
        finally:
            await lease.release()

    application.job_queue.run_repeating(
        check,
        interval=WATCH_SECONDS,
        first=WATCH_SECONDS,
        name="model-watch",
        job_kwargs={"max_instances": 1},
    )


def bot_running(settings: Settings, now: datetime, within: timedelta = RUNNING_WITHIN) -> bool:
    """True when a bot on this database ran a job lately (its heartbeat file says so)."""
    from bot.heartbeat import heartbeat_path, read_heartbeat

    for job in read_heartbeat(heartbeat_path(settings.database_file)).values():
        try:
            at = datetime.fromisoformat(str(job.get("at")))
        except ValueError:
            continue
        if at.tzinfo is not None and now - at < within:
            return True
    return False


async def promote_and_replay(settings: Settings, result: Refit, now: datetime) -> int:
    """Make the better candidate the deployment's weights and rebuild every learner state."""
    from tutor.model_store import promote
    from tutor.replay import replay_all

    running = bot_running(settings, now)
    if running and not watches(settings):
        print(
            "metatutor: the candidate is better, but the bot running on this database serves"
            " METATUTOR_MODEL: keep the candidate with --out PATH and point METATUTOR_MODEL"
            " at it, or unset METATUTOR_MODEL and run this again",
            file=sys.stderr,
        )
        return 1
    path = promote(settings.database_file, result.weights, now, summary(result))
    print(f"model card: {_card(settings, now, result, promoted=True)}")
    if running:
        # the bot rebuilds the states and switches itself, without stopping (watch_weights)
        print(
            f"promoted {path}; the running bot loads it and rebuilds the learner states within"
            f" {WATCH_SECONDS} seconds (its log says '{MODEL_SWAPPED}')"
        )
        return 0
    db = await Database.open(settings.database)
    try:
        count = await replay_all(db, path)
    finally:
        await db.close()
    print(
        f"promoted {path} (it serves from the bot's next start);"
        f" rebuilt the learner state of {count} students"
    )
    return 0


def summary(result: Refit) -> dict[str, object]:
    """The refit's counts and figures, as recorded beside the promoted weights."""
    return {
        "train_students": result.train_students,
        "train_answers": result.train_attempts,
        "held_out_students": result.held_students,
        "held_out_answers": result.held_attempts,
        "current": {"log_loss": result.current.log_loss, "auc": result.current.auc},
        "candidate": {"log_loss": result.candidate.log_loss, "auc": result.candidate.auc},
        "fine_tuned": result.fine_tuned,
    }


WEEK = timedelta(days=7)


REFIT_LEASE = timedelta(days=6)
"""How long one process keeps the weekly refit to itself: the others' weekly runs, days
apart at most, find it held and skip."""


def schedule_weekly_refit(
    application: Any,
    settings: Settings,
    db: Database | None = None,
    *,
    refit: Callable[[Settings, datetime], Awaitable[bool]] | None = None,
) -> None:
    """With ``METATUTOR_RETRAIN_WEEKLY``, refit once a week a week after start (as
    ``train --from-db``); a better candidate is promoted and the model watch swaps it in.

    With ``db``, only the process holding the ``weekly-refit`` lease refits: several bot
    processes on one database refit once a week, not once each.
    """
    if not settings.retrain_weekly or not watches(settings):
        return
    from tutor.leases import WEEKLY_REFIT, Lease

    lease = Lease(db, WEEKLY_REFIT, ttl=REFIT_LEASE) if db is not None else None
    run_refit = refit or weekly_refit

    async def run(_context: object) -> None:
        if lease is not None and not await lease.hold():
            log.info("weekly refit: another process on this database ran it this week")
            return
        await run_refit(settings, datetime.now(UTC))

    application.job_queue.run_repeating(
        run, interval=WEEK, first=WEEK, name="weekly-refit", job_kwargs={"max_instances": 1}
    )


async def weekly_refit(settings: Settings, now: datetime) -> bool:
    """One scheduled refit on a read-only snapshot of its own connection (the bot's is not
    held); True when a candidate was promoted. Too small a database is logged and skipped."""
    from tutor.model.weights import DEFAULT_WEIGHTS, TrainedWeights
    from tutor.model_store import promote, weights_path
    from tutor.retrain import RefitError, read_logs, refit

    current_path = weights_path(settings.database_file, None) or DEFAULT_WEIGHTS
    current = await asyncio.to_thread(TrainedWeights.load, current_path)
    db = await Database.open_read_only(settings.database)
    try:
        logs = await read_logs(db)
    finally:
        await db.close()
    try:
        result = await asyncio.to_thread(refit, logs, current)
    except RefitError as error:
        log.info("weekly refit skipped: %s", error)
        return False
    _card(settings, now, result, promoted=result.better)
    log.info(
        "weekly refit: held-out log loss %.4f -> %.4f, AUC %.4f -> %.4f, %s",
        result.current.log_loss,
        result.candidate.log_loss,
        result.current.auc,
        result.candidate.auc,
        "promoted" if result.better else "not promoted",
    )
    if result.better:
        promote(settings.database_file, result.weights, now, summary(result))
    return result.better
