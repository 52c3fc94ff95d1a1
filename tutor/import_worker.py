"""Large imports in a process of their own, so the bot's process does none of their work.

Parsing and preparing 100,000 rows is seconds of CPU. In a thread of the bot's process that
CPU competes with the event loop for the GIL, and a student's request then waits for it in
5 ms slices at every step (a button press went from ~10 to ~150 ms at p99). A worker process
(``python -m tutor.import_worker``) instead parses and stores the file on its own database
connection, in the same short steps as ``metatutor import``; the bot serves on meanwhile and
only waits, between those steps, for SQLite's write lock. The job goes in and the report (or
the service error) comes back as a pickle over the worker's stdin and stdout. The worker
exits soon after its parent dies, so a killed bot leaves a hidden build (deleted by a later
import) rather than an import finished behind its back. ``metatutor import`` needs no worker:
it is a process of its own.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import sys
import threading
import time
import traceback
from dataclasses import dataclass

from storage import Database
from tutor import library
from tutor.clock import to_millis, utc_now
from tutor.errors import TutorError
from tutor.views import ImportReport

PARENT_CHECK_S = 0.2


@dataclass(frozen=True, slots=True)
class ImportJob:
    """One file to import into the database at ``database``."""

    database: str
    data: bytes
    filename: str
    deck_ref: str | None
    actor_id: int | None
    max_bytes: int


class WorkerFailed(RuntimeError):
    """The worker process died or failed with something other than a service error."""


async def run_job(job: ImportJob) -> ImportReport:
    """Parse and store ``job`` here (this is what the worker process does)."""
    db = await Database.open(job.database)
    try:
        parsed = library.parse_upload(job.data, job.filename, job.deck_ref, job.max_bytes)
        return await library.import_parsed(
            db,
            parsed,
            deck_ref=job.deck_ref,
            now_ms=lambda: to_millis(utc_now()),
            actor_id=job.actor_id,
            source=job.filename[:200],
        )
    finally:
        await db.close()


async def import_in_worker(job: ImportJob) -> ImportReport:
    """Run ``job`` in a worker process; its service errors (TutorError) are raised here.

    Cancelling stops the worker (whatever it built is deleted by a later import).

    Raises:
        TutorError: what the import raised (ContentRejected, UnknownDeck).
        WorkerFailed: the worker crashed.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tutor.import_worker",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        out, _ = await process.communicate(pickle.dumps(job))
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    try:
        outcome, value = pickle.loads(out)
    except Exception:
        raise WorkerFailed(f"the import worker exited with status {process.returncode}") from None
    if outcome == "report":
        assert isinstance(value, ImportReport)
        return value
    if outcome == "error":
        assert isinstance(value, TutorError)
        raise value
    raise WorkerFailed(f"the import worker failed: {value}")


def _exit_with_parent(parent: int) -> None:
    """End this process soon after its parent dies (a killed bot): no orphan finishes an
    import nobody waits for; what it built is deleted by a later import."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(3)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main() -> int:
    """The worker: a pickled :class:`ImportJob` on stdin, a pickled outcome on stdout."""
    _exit_with_parent(os.getppid())
    job = pickle.loads(sys.stdin.buffer.read())
    assert isinstance(job, ImportJob)
    try:
        outcome: tuple[str, object] = ("report", asyncio.run(run_job(job)))
    except TutorError as error:
        outcome = ("error", error)
    except Exception as error:  # reported to the parent, which raises WorkerFailed
        traceback.print_exc()
        outcome = ("failed", f"{type(error).__name__}: {error}")
    sys.stdout.buffer.write(pickle.dumps(outcome))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    # Through the module's own name, so the pickled classes are the ones the parent sends.
    from tutor.import_worker import main as worker_main

    sys.exit(worker_main())
