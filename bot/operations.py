"""What each ``metatutor`` subcommand does, on one database and service."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from bot.preflight import BackgroundModel, StartupError, check_model
from bot.settings import Settings
from storage import Database, DatabaseMissing, SchemaMismatch
from tutor.content.export import FORMATS
from tutor.errors import ContentRejected, TutorError, UnknownDeck
from tutor.learner import MemoryModel, ModelMemory
from tutor.service import TutorConfig, TutorService

log = logging.getLogger("metatutor")


def tutor_config(settings: Settings, *, import_worker: bool = True) -> TutorConfig:
    """The service's defaults and limits from the settings.

    Without ``import_worker`` every file is imported in this process: right for the command
    line, a process of its own already (a worker would outlive a killed ``metatutor import``).
    """
    config = TutorConfig(
        default_timezone=settings.timezone,
        default_language=settings.language,
        default_daily_goal=settings.daily_goal,
        default_quiz_length=settings.quiz_length,
        max_import_bytes=settings.max_import_mb * 1024 * 1024,
        max_own_cards=settings.max_own_cards,
        max_card_picture_bytes=settings.max_card_picture_kb * 1024,
    )
    return config if import_worker else replace(config, worker_import_bytes=2**62)


@asynccontextmanager
async def open_service(
    settings: Settings,
    *,
    bundled: bool = True,
    model: bool = False,
    memory: MemoryModel | None = None,
    read_only: bool = False,
    import_worker: bool = True,
) -> AsyncIterator[TutorService]:
    """Open (and upgrade) the database and build the service on it.

    With ``read_only`` the database is opened read-only instead (SQLite refuses writes): no
    migrations and no bundled decks, and a missing file or another schema version raises
    ``DatabaseMissing`` or ``SchemaMismatch``. Otherwise the bundled decks are synced
    (only those whose content changed are written).

    The memory model is ``memory`` if given, else the learner model: with ``model`` it is
    loaded first (a broken weights file stops start-up with one line, before any student is
    served); otherwise it loads on first use.
    """
    if memory is None:
        learner = ModelMemory(settings.model_path)
        if model:
            check_model(settings, loader=lambda _path: learner.load())
        memory = learner
    if read_only:
        db = await Database.open_read_only(settings.database)
    else:
        db = await Database.open(settings.database)
    try:
        config = tutor_config(settings, import_worker=import_worker)
        service = TutorService(db, config=config, memory=memory)
        if bundled and not read_only:
            await service.install_bundled_decks()
        yield service
    finally:
        await db.close()


def database_problem(error: DatabaseMissing | SchemaMismatch) -> str:
    """What is wrong with the database file for a command that only reads, and what to do."""
    if isinstance(error, DatabaseMissing):
        return (
            f"no database at {error.path}. Check METATUTOR_DATABASE; `metatutor db upgrade`"
            " creates it (so does starting the bot)."
        )
    if error.found < error.expected:
        return (
            f"the database at {error.path} has schema version {error.found}; this metatutor"
            f" reads version {error.expected}. Run `metatutor db upgrade` (safe while the bot"
            " runs), then try again."
        )
    return (
        f"the database at {error.path} has schema version {error.found}, newer than this"
        f" metatutor ({error.expected}). Install the newer metatutor that wrote it."
    )


def error_message(error: TutorError) -> str:
    """A service error for the command line: what went wrong, and the next step."""
    params = error.params
    if isinstance(error, UnknownDeck):
        ref = params.get("deck", str(error))
        return f"no deck {str(ref)!r}. `metatutor decks` lists the decks."
    if isinstance(error, ContentRejected):
        reason = str(params.get("reason") or error)
        cause = params.get("cause")
        if cause == "unknown_format":
            return f"{reason}. Use a file ending in .csv, .tsv, .json or .apkg."
        if cause == "not_exportable":
            deck = params.get("deck", "")
            return (
                f"deck {deck!r} cannot be exported as {str(params.get('format')).upper()}:"
                f" {reason}. Export it to a .json file instead, which carries every item."
            )
        if "filename" in params:
            return (
                f"{params['filename']} was not imported: {reason}. Nothing was changed;"
                " correct the file and import it again."
            )
        return f"{reason}."
    return f"{error}."


CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
"""A container's CPU quota under cgroup v2 (``QUOTA PERIOD`` in microseconds, or ``max``):
``docker run --cpus 1`` and compose's ``cpus: 1`` set it, not the affinity mask."""


def usable_cores() -> int:
    """The CPU cores this process may run on: its affinity mask (so a container's cpuset
    counts, not the host's cores), and no more than its container's CPU quota, if any."""
    if hasattr(os, "sched_getaffinity"):
        cores = max(1, len(os.sched_getaffinity(0)))
    else:
        cores = os.cpu_count() or 1
    try:
        quota, period = CPU_MAX.read_text().split()[:2]
        allowed = int(quota) // int(period)
    except (OSError, ValueError, ZeroDivisionError):  # no quota ("max"), or no cgroup v2
        return cores
    return max(1, min(cores, allowed))


async def serve(
    settings: Settings, *, workers: int = 1, worker: int | None = None, worker_port: int = 0
) -> int:
    """Run the Telegram bot until SIGINT/SIGTERM; the local chat when no token is set.

    With ``workers`` above 1 this process is the webhook front of that many worker
    processes (:mod:`bot.workers`); ``worker`` is set in each of those.
    """
    if workers > 1 and not settings.webhook_url:
        raise StartupError(
            f"--workers {workers} needs a webhook: set METATUTOR_WEBHOOK_URL (long polling"
            " allows one process to fetch updates), or serve with one worker"
        )
    cores = usable_cores()
    if workers > cores:
        raise StartupError(
            f"--workers {workers} is more than the {cores} CPU"
            f" {'core' if cores == 1 else 'cores'} this process may use: each worker is a whole"
            " bot process that keeps one core busy under load (and holds its own learner"
            " model), so more would only share them; use --workers"
            f" {cores} or fewer"
        )
    if settings.token is None:
        print(
            "No TELEGRAM_BOT_TOKEN is set, so metatutor starts its local chat instead.\n"
            "Set the token (see README) to serve Telegram.",
            file=sys.stderr,
        )
        return await chat(settings)
    if workers > 1 and worker is None:
        from bot.workers import serve_workers

        # Migrations and the bundled decks once, before N workers could race to apply them.
        async with open_service(settings):
            pass
        return await serve_workers(settings, workers)
    from bot.app import build_application

    # Polling starts first; torch and the weights load meanwhile (model calls wait for them).
    from bot.operations_model import watches
    from bot.serving import run_worker, serve_forever

    # Several processes: each follows the weights the states were last rebuilt with.
    model = BackgroundModel(settings, follow=watches(settings))
    stop = asyncio.Event()

    def stop_if_failed(_task: asyncio.Task[None]) -> None:
        if model.failure is not None:
            log.error("stopping: %s", model.failure)
            stop.set()

    def load_model() -> None:
        model.start().add_done_callback(stop_if_failed)

    if worker is not None:
        from bot.workers import tag_logs, worker_settings

        tag_logs(worker)
        settings = worker_settings(settings, workers)
    once = worker in (None, 0)  # what must run once runs in worker 0 (see bot.workers)
    async with open_service(settings, memory=model) as service:
        from tutor.deliveries import UpdateLog

        # Telegram redelivers what a killed process took: each update is acted on once.
        updates = UpdateLog(service.db)
        application = build_application(settings, service, reminders=once, updates=updates)
        from bot.operations_model import schedule_weekly_refit, watch_weights

        watch_weights(application, settings, model, service.db)
        if once:
            schedule_weekly_refit(application, settings, service.db)
        else:
            application.post_init = None  # worker 0 publishes the command menus
        if worker is None:
            await serve_forever(application, settings, stop=stop, on_started=load_model)
        else:
            assert settings.webhook_secret is not None  # the front hands its secret down
            secret = settings.webhook_secret.get_secret_value()
            await run_worker(
                application, port=worker_port, secret=secret, stop=stop, on_started=load_model
            )
        # How this process shared the database's write lock (workers_throughput reads it).
        log.info("database: %s", service.db.write_stats.summary())
    if isinstance(model.failure, StartupError):
        raise model.failure
    return 0


async def chat(
    settings: Settings,
    *,
    user_id: int = 1,
    name: str = "Student",
    language: str = "en",
    http: bool = False,
    faults: tuple[tuple[str, int | str], ...] = (),
) -> int:
    """Chat with the tutor in the terminal through the offline Bot API (in process, or over
    a local socket with ``http``), optionally failing some Bot API calls once."""
    from bot.local_chat import run_local_chat

    # One person at a terminal (or a script piping lines in) is no flood to guard against.
    local = settings.model_copy(update={"flood_burst": 0})
    async with open_service(local, model=True) as service:
        await run_local_chat(
            local,
            service,
            user_id=user_id,
            name=name,
            language=language,
            http=http,
            faults=faults,
        )
    return 0


async def import_file(settings: Settings, path: Path, deck: str | None) -> int:
    """Import one deck file and print what changed."""
    try:
        data = path.read_bytes()
    except OSError as error:
        print(
            f"metatutor: cannot read {path}: {error.strerror}. Check the file's name and folder.",
            file=sys.stderr,
        )
        return 1
    async with open_service(settings, import_worker=False) as service:
        try:
            report = await service.import_file(data, path.name, deck_name=deck, actor_id=0)
        except TutorError as error:
            print(f"metatutor: {error_message(error)}", file=sys.stderr)
            return 1
    print(
        f"{report.deck.name} (id {report.deck.id}, {report.deck.slug}): "
        f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.skipped)} skipped"
    )
    for entry in report.skipped[:20]:
        print(f"  skipped {entry.where}: {entry.reason}")
    if len(report.skipped) > 20:
        print(f"  ... and {len(report.skipped) - 20} more")
    return 0


async def export_deck(settings: Settings, deck: str, path: Path) -> int:
    """Write a deck to a CSV, TSV, JSON or Anki package file (by the file's extension)."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        print(
            f"metatutor: cannot tell the format of {path.name}: the output file must end in"
            f" .csv, .tsv, .json or .apkg (e.g. `metatutor export {deck} {Path(deck).name}.csv`).",
            file=sys.stderr,
        )
        return 2
    async with open_service(settings, read_only=True) as service:
        try:
            _, data = await service.export_deck(deck, fmt)
        except TutorError as error:
            print(f"metatutor: {error_message(error)}", file=sys.stderr)
            return 1
    try:
        path.write_bytes(data)
    except OSError as error:
        print(
            f"metatutor: cannot write {path}: {error.strerror}. Check that the folder exists"
            " and that you may write there.",
            file=sys.stderr,
        )
        return 1
    print(f"wrote {path} ({len(data)} bytes)")
    return 0


async def list_decks(settings: Settings) -> int:
    """Print every deck with its counts."""
    async with open_service(settings, read_only=True) as service:
        infos = await service.decks()
    if not infos:
        print("no decks yet: `metatutor import FILE` adds one (see README, Deck formats)")
        return 0
    print(f"{'id':>4}  {'slug':<24} {'items':>6} {'students':>8}  name")
    for info in infos:
        deck = info.deck
        print(f"{deck.id:>4}  {deck.slug:<24} {info.n_items:>6} {info.n_students:>8}  {deck.name}")
    return 0


async def db_upgrade(settings: Settings) -> int:
    """Apply pending migrations, then sync the bundled decks that changed."""
    db = await Database.open(settings.database, migrate=False)
    try:
        before, after = await db.upgrade()
        synced = await TutorService(db, config=tutor_config(settings)).install_bundled_decks()
    finally:
        await db.close()
    print(f"{settings.database_shown}: schema version {before} -> {after}")
    names = ", ".join(report.deck.name for report in synced)
    print(f"bundled decks: {'synced ' + names if synced else 'up to date'}")
    return 0


async def db_backup(settings: Settings, target: Path) -> int:
    """Copy the live database to ``target``."""
    if not isinstance(settings.database, Path):
        print(
            "metatutor: db backup copies an SQLite file, and METATUTOR_DATABASE is the"
            f" PostgreSQL database {settings.database_shown}: back it up with"
            ' pg_dump -Fc (docs/operations.md, "Backups of either")',
            file=sys.stderr,
        )
        return 1
    db = await Database.open(settings.database, migrate=False)
    try:
        await db.backup(target)
    finally:
        await db.close()
    print(f"backed up {settings.database_shown} to {target}")
    return 0


async def model_replay(settings: Settings) -> int:
    """Rebuild every student's learner-model state from the attempts log."""
    from tutor.replay import replay_all

    db = await Database.open(settings.database)
    try:
        count = await replay_all(db, settings.model_path)
    finally:
        await db.close()
    print(f"rebuilt the learner state of {count} students")
    return 0


def health(settings: Settings, *, as_json: bool, skip: list[str], max_age: float) -> int:
    """Report database, scheduler and model state; 0 when healthy, 1 otherwise."""
    from datetime import timedelta

    from bot.health import check_health

    report = check_health(settings, skip=skip, max_job_age=timedelta(seconds=max_age))
    print(report.to_json() if as_json else report.to_text())
    return 0 if report.ok else 1
