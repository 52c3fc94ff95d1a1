"""``metatutor health``: database sound, reminder job running, model weights loading.

Runs as its own process (Docker's HEALTHCHECK, a monitoring probe) next to the running bot:
it opens the database read-only, reads the heartbeat file the bot's JobQueue writes
(:mod:`bot.heartbeat`), and loads the learner model's weights. Exit code 0 when every check
passes, 1 otherwise; ``--json`` prints the same report for machines.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.heartbeat import heartbeat_path, read_heartbeat
from bot.settings import Settings
from storage.health import check_database, check_postgres
from tutor.clock import Clock, require_utc, utc_now

REMINDER_JOB = "reminders"  # bot.reminders.JOB_NAME (kept here so health stays light)
DEFAULT_MAX_JOB_AGE = timedelta(minutes=3)
CHECKS = ("database", "scheduler", "model")


@dataclass
class Check:
    """One check's verdict and the facts behind it."""

    name: str
    ok: bool
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class HealthReport:
    """Every check; ``ok`` only if all that ran passed."""

    checks: list[Check]

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return all(check.ok for check in self.checks)

    def to_json(self) -> str:
        """The report as one JSON object."""
        return json.dumps(
            {"ok": self.ok, "checks": [asdict(check) for check in self.checks]}, sort_keys=True
        )

    def to_text(self) -> str:
        """One line per check, for people."""
        lines = [f"{'ok  ' if c.ok else 'FAIL'} {c.name}: {c.detail}" for c in self.checks]
        lines.append("healthy" if self.ok else "unhealthy")
        return "\n".join(lines)


def database_check(path: Path | str) -> Check:
    """Opens, schema version, quick_check, size (PostgreSQL: connects, schema version, size)."""
    if isinstance(path, str):
        found = check_postgres(path)
        if found.ok:
            detail = f"PostgreSQL, schema v{found.schema_version}, {found.size_bytes / 1e6:.1f} MB"
            return Check("database", True, detail, asdict(found))
        return Check("database", False, f"{found.path}: {found.problem}", asdict(found))
    found = check_database(path)
    data = asdict(found)
    if found.ok:
        detail = (
            f"schema v{found.schema_version}, quick_check ok, "
            f"{found.size_bytes / 1e6:.1f} MB (+{found.wal_bytes / 1e6:.1f} MB WAL)"
        )
    else:
        detail = f"{found.path}: {found.problem}"
    return Check("database", found.ok, detail, data)


def scheduler_check(path: Path, now: datetime, max_age: timedelta) -> Check:
    """The reminder job ran, without error, within ``max_age``."""
    jobs = read_heartbeat(path)
    entry = jobs.get(REMINDER_JOB)
    data: dict[str, Any] = {"heartbeat": str(path), "jobs": jobs}
    if entry is None:
        return Check("scheduler", False, "the reminder job has not run (is the bot running?)", data)
    try:
        at = require_utc(datetime.fromisoformat(str(entry["at"])))
    except (KeyError, ValueError):
        return Check("scheduler", False, "the heartbeat file is unreadable", data)
    age = now - at
    data["age_seconds"] = round(age.total_seconds(), 1)
    if age > max_age:
        return Check(
            "scheduler",
            False,
            f"the reminder job last ran {age.total_seconds():.0f} s ago (limit "
            f"{max_age.total_seconds():.0f} s)",
            data,
        )
    if not entry.get("ok", False):
        return Check(
            "scheduler", False, f"the last reminder run failed: {entry.get('error')}", data
        )
    return Check("scheduler", True, f"reminder job ran {age.total_seconds():.0f} s ago", data)


def model_check(path: Path | None, loader: Callable[[Path | None], Any] | None = None) -> Check:
    """The learner model's weights load (torch is imported only here)."""
    started = time.perf_counter()
    try:
        if loader is None:
            from tutor.model.online import LearnerModel

            loader = LearnerModel.load
        model = loader(path)
    except Exception as error:  # ModelLoadError, or anything a broken file provokes
        return Check("model", False, f"weights do not load: {error}", {"path": str(path or "")})
    seconds = time.perf_counter() - started
    weights_id = str(getattr(model, "weights_id", ""))
    return Check(
        "model",
        True,
        f"weights {weights_id or 'loaded'} in {seconds:.1f} s",
        {"path": str(path or "bundled"), "weights_id": weights_id, "load_seconds": seconds},
    )


def check_health(
    settings: Settings,
    *,
    skip: Iterable[str] = (),
    max_job_age: timedelta = DEFAULT_MAX_JOB_AGE,
    clock: Clock = utc_now,
    model_loader: Callable[[Path | None], Any] | None = None,
) -> HealthReport:
    """Run the checks not in ``skip``."""
    skipped = set(skip)
    unknown = skipped - set(CHECKS)
    if unknown:
        raise ValueError(f"unknown checks: {sorted(unknown)}")
    checks = []
    if "database" not in skipped:
        checks.append(database_check(settings.database))
    if "scheduler" not in skipped:
        now = require_utc(clock())
        checks.append(scheduler_check(heartbeat_path(settings.database_file), now, max_job_age))
    if "model" not in skipped:
        checks.append(model_check(settings.model_path, model_loader))
    return HealthReport(checks)
