"""Fixtures shared by every test: an injected clock, a fresh database, the tutor service."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from storage import Database

if TYPE_CHECKING:
    from tutor.service import TutorService

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = START) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        """Move forward by ``timedelta(**delta)``."""
        self.current += timedelta(**delta)
        return self.current

    def set(self, moment: datetime) -> None:
        """Jump to ``moment``."""
        self.current = moment


def virtual_time(clock: FakeClock) -> tuple[Callable[[], float], Callable[[float], Any]]:
    """A monotonic clock and a sleep that moves the test clock instead of waiting."""

    def monotonic() -> float:
        return clock().timestamp()

    async def sleep(seconds: float) -> None:
        if seconds > 0:
            clock.advance(seconds=seconds)
        await asyncio.sleep(0)

    return monotonic, sleep


@pytest.fixture
def clock() -> FakeClock:
    """A clock starting on a Monday morning, 2026-03-02 09:00 UTC."""
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test's database file lives."""
    return tmp_path / "metatutor.sqlite3"


POSTGRES_SERVER = "METATUTOR_TEST_POSTGRES"
"""A PostgreSQL server's URL (``scripts/postgres`` sets it; ``scripts/test`` runs through it)."""


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL server the tests may use; skips (with the reason) when there is none."""
    url = os.environ.get(POSTGRES_SERVER)
    if not url:
        reason = os.environ.get("METATUTOR_TEST_POSTGRES_SKIP") or (
            f"{POSTGRES_SERVER} is not set (scripts/test and scripts/postgres set it)"
        )
        pytest.skip(f"no PostgreSQL: {reason}")
    return url


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say once, at the end, how many PostgreSQL runs were skipped and why."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        reason = str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else ""
        reason = reason.removeprefix("Skipped: ")
        if reason.startswith("no PostgreSQL: "):
            reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in reasons.items():
        terminalreporter.write_line(f"{count} PostgreSQL runs skipped, {reason}", yellow=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database of its own for the test, dropped after it."""
    import psycopg

    name = f"metatutor_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"'.encode())
    base, _, _ = postgres_server.rpartition("/")
    yield f"{base}/{name}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The database the test runs on: "sqlite" unless a folder's conftest parametrises it."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def database_location(backend: str, db_path: Path, request: pytest.FixtureRequest) -> Path | str:
    """Where the test's database is: the SQLite file, or a fresh PostgreSQL database."""
    if backend == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return db_path


@pytest.fixture
async def db(database_location: Path | str) -> AsyncIterator[Database]:
    """A fresh, migrated database."""
    database = await Database.open(database_location)
    yield database
    await database.close()


ServiceFactory = Callable[..., Awaitable["TutorService"]]


@pytest.fixture
async def service_factory(db: Database, clock: FakeClock) -> ServiceFactory:
    """Build a TutorService on the test database; keyword arguments go to TutorConfig."""

    from tutor.service import TutorConfig, TutorService

    async def build(*, bundled: bool = False, seed: int = 7, **config: object) -> TutorService:
        service = TutorService(db, config=TutorConfig(**config), clock=clock, seed=seed)  # type: ignore[arg-type]
        if bundled:
            await service.install_bundled_decks()
        return service

    return build


@pytest.fixture
async def service(service_factory: ServiceFactory) -> TutorService:
    """A TutorService with no decks."""
    return await service_factory()
