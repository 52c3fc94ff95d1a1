"""A heartbeat file that tells ``metatutor health`` when each JobQueue job last ran.

:func:`install_heartbeat` adds an APScheduler listener to the application's JobQueue: after
every run of any job (the reminder job among them) it rewrites a small JSON file next to the
database, atomically and owner-only. ``metatutor health``, a separate process, reads it.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from tutor.clock import Clock, require_utc, utc_now

log = logging.getLogger("bot.heartbeat")

SUFFIX = ".heartbeat.json"


def heartbeat_path(database: Path) -> Path:
    """Where the heartbeat of the bot using ``database`` lives."""
    return database.with_name(database.name + SUFFIX)


def read_heartbeat(path: Path) -> dict[str, dict[str, Any]]:
    """Job name → {"at": ISO time, "ok": bool, "error": str}; empty if none or unreadable."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    jobs = data.get("jobs") if isinstance(data, dict) else None
    return jobs if isinstance(jobs, dict) else {}


class Heartbeat:
    """Records job runs in a JSON file (one entry per job name)."""

    def __init__(self, path: Path, clock: Clock = utc_now) -> None:
        self.path = path
        self._clock = clock
        self._jobs: dict[str, dict[str, Any]] = read_heartbeat(path)

    def beat(
        self, job: str, *, ok: bool = True, error: str = "", at: datetime | None = None
    ) -> None:
        """Record that ``job`` ran (now, unless ``at``), and rewrite the file."""
        moment = require_utc(at or self._clock())
        self._jobs[job] = {"at": moment.isoformat(), "ok": ok, "error": error[:200]}
        body = json.dumps({"pid": os.getpid(), "jobs": self._jobs}, sort_keys=True)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".heartbeat.", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp: mode 0600
                handle.write(body)
            os.replace(tmp, self.path)
        except OSError as exc:  # a full disk must not stop the job itself
            log.warning("cannot write the heartbeat %s: %s", self.path, exc.strerror)


def install_heartbeat(application: Any, database: Path, *, clock: Clock = utc_now) -> Heartbeat:
    """Record every JobQueue job run of ``application`` in :func:`heartbeat_path` of ``database``.

    PTB catches a job's exception and hands it to the error handlers, so the scheduler sees
    every run as a success: an error handler notes the failure, and the listener that runs
    when the job has finished writes it.

    Raises:
        RuntimeError: if the application has no JobQueue.
    """
    from apscheduler.events import (
        EVENT_JOB_ADDED,
        EVENT_JOB_ERROR,
        EVENT_JOB_EXECUTED,
        JobEvent,
        JobExecutionEvent,
    )

    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError("the application has no JobQueue")
    heartbeat = Heartbeat(heartbeat_path(database), clock)
    scheduler = job_queue.scheduler
    # A one-off job is removed before it runs: learn names when jobs are added.
    names: dict[str, str] = {job.id: job.name for job in scheduler.get_jobs()}
    failures: dict[str, str] = {}

    def added(event: JobEvent) -> None:
        job = scheduler.get_job(event.job_id)
        if job is not None:
            names[event.job_id] = job.name

    def finished(event: JobExecutionEvent) -> None:
        error = failures.pop(event.job_id, "")
        if event.exception is not None:
            error = type(event.exception).__name__
        name = names.get(event.job_id, str(event.job_id))
        if scheduler.get_job(event.job_id) is None:
            names.pop(event.job_id, None)
        heartbeat.beat(name, ok=not error, error=error)

    async def job_failed(update: object, context: Any) -> None:
        job = getattr(context, "job", None)
        if job is not None and context.error is not None:
            failures[job.id] = type(context.error).__name__

    scheduler.add_listener(added, EVENT_JOB_ADDED)
    scheduler.add_listener(finished, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    application.add_error_handler(job_failed)
    return heartbeat
